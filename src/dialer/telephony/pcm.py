"""PCM on a phone line: 8 kHz mono signed 16-bit little-endian, and WAV files turned into it.

espeak-ng speaks at 22,050 Hz and a play node's file may be anything from 8-bit mono to 48 kHz
stereo float; the line carries 8 kHz, so audio is low-pass filtered and resampled (``resample``:
a Kaiser-windowed sinc, polyphase) rather than decimated, which would fold everything above
4 kHz back into the band as hiss.
"""

import functools
import struct
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
Samples = npt.NDArray[np.float64]


class SpeechError(Exception):
    """Speech that cannot be rendered, or audio that cannot be read."""


def pcm_duration(pcm: bytes) -> timedelta:
    """How long 8 kHz s16le ``pcm`` plays."""
    return timedelta(seconds=(len(pcm) // 2) / SAMPLE_RATE)


# --- WAV and resampling ---------------------------------------------------------------------


def parse_wav(data: bytes) -> tuple[int, Samples]:
    """(sample rate, mono samples scaled to 16-bit range) of a RIFF WAV: integer PCM of 8-32
    bits, 32/64-bit float, mu-law or A-law, any number of channels (averaged).

    Chunk sizes are trusted only as far as the data goes: espeak-ng writing to a pipe cannot seek
    back, so its header claims a 2 GB data chunk.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechError("not a RIFF WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise SpeechError("WAV fmt chunk too short")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag follows
                tag = struct.unpack_from("<H", body, 24)[0]
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise SpeechError("WAV data chunk before its fmt chunk")
            return fmt[2], _decode(body, *fmt)
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    raise SpeechError("WAV has no data chunk")


_ENCODINGS = {(1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64), (6, 8), (7, 8)}


def _decode(body: bytes, tag: int, channels: int, rate: int, bits: int) -> Samples:
    if (tag, bits) not in _ENCODINGS:
        raise SpeechError(f"unsupported WAV encoding (format tag {tag}, {bits} bits)")
    if channels < 1 or rate < 1:
        raise SpeechError(f"WAV with {channels} channels at {rate} Hz")
    width = bits // 8
    raw = body[: len(body) - len(body) % (width * channels)]
    samples: Samples
    if tag == 1 and bits == 8:  # 8-bit PCM is unsigned
        samples = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    elif tag == 1 and bits in (16, 32):
        kind = np.dtype(f"<i{width}")
        samples = np.frombuffer(raw, kind).astype(np.float64) / 2.0 ** (bits - 16)
    elif tag == 1:  # 24-bit
        triples = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        samples = (np.where(value >= 1 << 23, value - (1 << 24), value) / 256.0).astype(np.float64)
    elif tag == 3:
        samples = np.frombuffer(raw, np.dtype(f"<f{width}")).astype(np.float64) * 32768.0
    elif tag == 7:
        samples = ulaw_decode(np.frombuffer(raw, np.uint8))
    else:
        samples = alaw_decode(np.frombuffer(raw, np.uint8))
    mono: Samples = samples.reshape(-1, channels).mean(axis=1)
    return mono


def ulaw_decode(codes: npt.NDArray[np.uint8]) -> Samples:
    """G.711 mu-law bytes to linear 16-bit-range samples."""
    u = ~codes.astype(np.int32) & 0xFF
    magnitude = ((((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.float64)


def alaw_decode(codes: npt.NDArray[np.uint8]) -> Samples:
    """G.711 A-law bytes to linear 16-bit-range samples."""
    a = codes.astype(np.int32) ^ 0x55
    exponent, mantissa = (a >> 4) & 0x07, a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.float64)


def resample(samples: Samples, rate_in: int, rate_out: int = SAMPLE_RATE) -> Samples:
    """``samples`` at ``rate_out``: band-limited to 0.45 of the lower rate, then interpolated.

    A polyphase windowed-sinc filter: rate_out/rate_in = L/M in lowest terms, and the output
    samples that share a fractional offset (one in L) share a kernel, so each of the L phases is
    one strided matrix product. The Kaiser window (beta 8, about 80 dB) is about 40 zero crossings
    long, so 22.05 kHz to 8 kHz passes up to ~3.2 kHz and stops above ~4.05 kHz.
    """
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.float64)
    up, down, half, kernels = _polyphase(rate_in, rate_out)
    n_out = -(-samples.size * up // down)
    padded = np.concatenate([np.zeros(half), samples, np.zeros(half + down + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half)
    out = np.empty(n_out)
    for phase in range(min(up, n_out)):
        base = phase * down // up
        count = len(range(phase, n_out, up))
        out[phase::up] = windows[base + 1 : base + 1 + count * down : down] @ kernels[phase]
    return out


@functools.lru_cache(maxsize=16)
def _polyphase(rate_in: int, rate_out: int) -> tuple[int, int, int, Samples]:
    """(L, M, taps each side, one kernel per phase) for resampling by L/M."""
    ratio = Fraction(rate_out, rate_in)
    up, down = ratio.numerator, ratio.denominator
    cutoff = 0.45 * min(rate_in, rate_out) / rate_in  # cycles per input sample
    half = int(np.ceil(20 / (2 * cutoff)))  # taps each side, in input samples
    taps = np.arange(-half + 1, half + 1)
    kernels = np.empty((up, 2 * half))
    for phase in range(up):
        # Input sample times relative to the output sample, which falls ``frac`` past ``base``.
        offset = taps - (phase * down % up) / up
        window = np.i0(8.0 * np.sqrt(1.0 - np.clip(offset / half, -1.0, 1.0) ** 2)) / np.i0(8.0)
        kernels[phase] = 2 * cutoff * np.sinc(2 * cutoff * offset) * window
    return up, down, half, kernels


def to_pcm(samples: Samples) -> bytes:
    """Samples in 16-bit range to s16le bytes, clipped rather than wrapped."""
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def wav_to_pcm8k(data: bytes) -> bytes:
    rate, samples = parse_wav(data)
    return to_pcm(resample(samples, rate))


def read_wav_8k(path: Path) -> bytes:
    """An audio file for the line: any PCM (or G.711) WAV, mixed to mono, as 8 kHz s16le.

    Blocking (file read and filter): call it from a thread in async code.
    """
    return wav_to_pcm8k(Path(path).read_bytes())


# --- phrases ---------------------------------------------------------------------------------

"""Sounds of the broad corpus (bench/amd_corpus2.py): speech from espeak-ng at a chosen rate and
pitch, melodies, background noises (white, pink, street, fan and mains hum, babble, people
talking), the line (band-limiting) and codecs (G.711 here; GSM 06.10 and AMR-NB through sox).

Everything is 8 kHz float samples in the 16-bit range (``Audio``); levels are dBFS RMS.
"""

import subprocess

import numpy as np
import numpy.typing as npt

from amd_corpus import RATE, Audio, active_level_db, alaw_encode, noise, ulaw_encode
from amd_corpus2_pools import POOLS, voices
from dialer.telephony.pcm import alaw_decode, ulaw_decode, wav_to_pcm8k

FRAME = 40  # 5 ms: the resolution of the speech trimming, so labels are exact to 5 ms


def speak(text: str, voice: str, rate: int, pitch: int) -> Audio:
    """espeak-ng's rendering at 8 kHz, trimmed to its first and last sound (5 ms frames within
    45 dB of the loudest), so the labels' speech start and end are where the audio says."""
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-b", "1", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    x = np.frombuffer(wav_to_pcm8k(done.stdout), "<i2").astype(np.float64)
    frames = x[: x.size // FRAME * FRAME].reshape(-1, FRAME)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-9)
    loud = np.flatnonzero(level > level.max() - 45)
    return x[loud[0] * FRAME : (loud[-1] + 1) * FRAME]


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * RATE))


def dbfs_gain(db: float) -> float:
    return float(10 ** (db / 20))


def set_level(x: Audio, dbfs: float) -> Audio:
    return x * dbfs_gain(dbfs - active_level_db(x))


def tone(
    hz: float, seconds: float, dbfs: float, ramp_ms: float = 5.0, harmonic: float = 0.0
) -> Audio:
    """A beep: a sine at ``dbfs`` RMS with ``ramp_ms`` ramps; ``harmonic`` adds a second
    harmonic that many dB below (0: none), as cheap beepers have."""
    t = np.arange(round(seconds * RATE)) / RATE
    out = np.sin(2 * np.pi * hz * t)
    if harmonic and 2 * hz < 3800:
        out = out + dbfs_gain(-harmonic) * np.sin(4 * np.pi * hz * t)
    out *= 32768 * dbfs_gain(dbfs) * np.sqrt(2) / max(np.sqrt(2 * np.mean(out**2)), 1e-9)
    ramp = min(round(ramp_ms * RATE / 1000), out.size // 2)
    if ramp:
        out[:ramp] *= np.linspace(0, 1, ramp)
        out[-ramp:] *= np.linspace(1, 0, ramp)
    return out


def note(hz: float, seconds: float, dbfs: float, chime: bool) -> Audio:
    """A note of a melody: a chime (partials at 1, 2 and 3 times with a decay) or a plain,
    steady tone (which a beep detector can mistake for a beep)."""
    if not chime:
        return tone(hz, seconds, dbfs, ramp_ms=10)
    t = np.arange(round(seconds * RATE)) / RATE
    partials = sum(
        a * np.sin(2 * np.pi * k * hz * t)
        for k, a in ((1, 1.0), (2, 0.5), (3, 0.25))
        if k * hz < 3800
    )
    return scaled(np.asarray(partials) * np.exp(-t * 4.0), dbfs)


SCALE = [262, 294, 330, 392, 440, 523, 587, 659, 784, 880, 1047, 1175, 1319]  # pentatonic-ish


def melody(rng: np.random.Generator, seconds: float, dbfs: float) -> Audio:
    """Notes of 0.12-0.45 s: plain tones, chimes, or three-note chords (music, which is no
    single tone)."""
    style = str(rng.choice(["plain", "chime", "chord"]))
    parts: list[Audio] = []
    total = 0.0
    while total < seconds:
        length = float(rng.uniform(0.12, 0.45))
        root = int(rng.integers(len(SCALE) - 4))
        if style == "chord":
            played = sum(note(SCALE[root + k], length, dbfs - 5, True) for k in (0, 2, 4))
        else:
            played = note(float(SCALE[root + int(rng.integers(4))]), length, dbfs, style == "chime")
        parts += [np.asarray(played), silence(0.02)]
        total += length + 0.02
    return np.concatenate(parts)


# background noises (each ``n`` samples at ``dbfs`` RMS)


def scaled(x: Audio, dbfs: float) -> Audio:
    return x / max(float(np.sqrt(np.mean(x**2))), 1e-9) * 32768 * dbfs_gain(dbfs)


def shaped_noise(rng: np.random.Generator, n: int, shape: npt.NDArray[np.float64] | None) -> Audio:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    if shape is not None:
        spectrum *= shape
    return np.fft.irfft(spectrum, n)


def street(rng: np.random.Generator, n: int, dbfs: float) -> Audio:
    """Traffic: a low rumble (1/f^2 above 100 Hz) swelling as cars pass (every 2-6 s)."""
    f = np.fft.rfftfreq(n, 1 / RATE)
    rumble = shaped_noise(rng, n, 1 / np.maximum(f, 100.0))
    t = np.arange(n) / RATE
    swell = np.full(n, 0.3)
    at = float(rng.uniform(-2, 2))
    while at < n / RATE + 2:
        width = float(rng.uniform(0.8, 2.0))
        swell += float(rng.uniform(0.5, 2.0)) * np.exp(-(((t - at) / width) ** 2))
        at += float(rng.uniform(2, 6))
    return scaled(rumble * swell, dbfs)


def fan(rng: np.random.Generator, n: int, dbfs: float) -> Audio:
    """Mains hum (50 or 60 Hz and its harmonics, a buzz) under a fan's low whoosh."""
    mains = float(rng.choice([50.0, 60.0]))
    t = np.arange(RATE // 10) / RATE  # 0.1 s: a whole number of periods at 50 and 60 Hz
    period = sum(
        np.sin(2 * np.pi * k * mains * t + rng.uniform(0, 2 * np.pi)) / k
        for k in range(1, int(3000 / mains))
    )
    hum = np.resize(np.asarray(period), n)
    f = np.fft.rfftfreq(n, 1 / RATE)
    whoosh = shaped_noise(rng, n, 1 / (1 + (f / 600) ** 2))
    mix = float(rng.uniform(0.2, 0.8))
    return scaled(mix * scaled(np.asarray(hum), 0) + (1 - mix) * scaled(whoosh, 0), dbfs)


BED_SECONDS = 60
BEDS: dict[tuple[str, int, int], Audio] = {}  # filled by prepare_beds before the item workers fork


def talk_bed(half: str, seed: int, talkers: int) -> Audio:
    """``talkers`` people of ``half``'s voices (never the other half's) saying its babble
    sentences with gaps, for BED_SECONDS; 5 or more make babble, 1-2 are people talking."""
    key = (half, seed, talkers)
    if key not in BEDS:
        BEDS[key] = make_bed(half, seed, talkers)
    return BEDS[key]


def make_bed(half: str, seed: int, talkers: int) -> Audio:
    rng = np.random.default_rng([seed, talkers, HALF_SEEDS[half]])
    pool = POOLS[half]
    women, men = voices(pool)
    n = BED_SECONDS * RATE
    bed = np.zeros(n)
    longest_gap = 0.8 if talkers > 2 else 2.0
    for _ in range(talkers):
        voice = str(rng.choice(women + men))
        rate = int(rng.integers(130, 210))
        pitch = int(rng.integers(25, 75))
        said: dict[int, Audio] = {}  # each sentence rendered once per talker
        track: list[Audio] = [silence(float(rng.uniform(0, 1.5)))]
        length = track[0].size
        while length < n:
            k = int(rng.integers(len(pool.babble)))
            if k not in said:
                said[k] = set_level(speak(pool.babble[k], voice, rate, pitch), -20)
            gap = silence(float(rng.uniform(0.1, longest_gap)))
            track += [said[k], gap]
            length += said[k].size + gap.size
        bed += np.concatenate(track)[:n] * dbfs_gain(float(rng.uniform(-6, 0)))
    return bed


HALF_SEEDS = {"tune": 1, "held-out": 2, "train": 3}
BED_TALKERS = (1, 2, 6)


def background(
    rng: np.random.Generator, half: str, seed: int, kind: str, n: int, dbfs: float
) -> Audio:
    if kind in ("white", "pink"):
        return noise(rng, n, kind, dbfs)
    if kind == "street":
        return street(rng, n, dbfs)
    if kind == "fan":
        return fan(rng, n, dbfs)
    bed = talk_bed(half, seed, 6 if kind == "babble" else int(rng.integers(1, 3)))
    start = int(rng.integers(0, bed.size))
    piece = np.resize(np.roll(bed, -start), n)
    return piece * dbfs_gain(dbfs - active_level_db(bed))


# the line


BANDS = {"full": None, "300-3400": (300, 3400), "400-3000": (400, 3000), "500-2500": (500, 2500)}


def band_limit(x: Audio, band: str) -> Audio:
    """A telephone channel's pass band: 4th-order Butterworth-like slopes (magnitude only,
    applied in the frequency domain, no delay) at each edge, so tones at the edge are weakened
    rather than removed."""
    edges = BANDS[band]
    if edges is None or x.size == 0:
        return x
    low, high = edges
    f = np.maximum(np.fft.rfftfreq(x.size, 1 / RATE), 1e-3)
    gain = 1 / np.sqrt(1 + (low / f) ** 8) / np.sqrt(1 + (f / high) ** 8)
    return np.fft.irfft(np.fft.rfft(x) * gain, x.size)


AMR_MODES = ["4.75", "5.15", "5.9", "6.7", "7.4", "7.95", "10.2", "12.2"]  # kbit/s, sox -C 0-7


def through_codec(x: Audio, codec: str) -> Audio:
    """``x`` encoded and decoded: "linear", "ulaw", "alaw", "gsm" or "amr-nb-<kbit/s>"."""
    if codec == "ulaw":
        return ulaw_decode(ulaw_encode(x))
    if codec == "alaw":
        return alaw_decode(alaw_encode(x))
    if codec == "linear":
        return x
    raw = np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()
    pcm = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1"]
    if codec == "gsm":
        fmt = ["-t", "gsm"]
    else:
        fmt = ["-t", "amr-nb", "-C", str(AMR_MODES.index(codec.removeprefix("amr-nb-")))]
    encoded = subprocess.run(
        ["sox", *pcm, "-", *fmt, "-"], input=raw, capture_output=True, check=True
    ).stdout
    decoded = subprocess.run(
        ["sox", *fmt[:2], "-", "-t", "raw", "-e", "signed", "-b", "16", "-"],
        input=encoded,
        capture_output=True,
        check=True,
    ).stdout
    y = np.frombuffer(decoded, "<i2").astype(np.float64)
    y = np.concatenate([y, np.zeros(max(x.size - y.size, 0))])[: x.size + 400]
    lag = codec_lag(x, y)
    return np.concatenate([y[lag:], np.zeros(lag)])[: x.size]


def codec_lag(x: Audio, y: Audio, most: int = 400) -> int:
    """The codec's delay in samples (0-``most``), from the cross-correlation: taken out so the
    labels' times stay true."""
    n = 1 << int(np.ceil(np.log2(x.size + y.size)))
    corr = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)
    return int(np.argmax(corr[: most + 1]))

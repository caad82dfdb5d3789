"""The PCM side of text to speech: resampling to 8 kHz, reading WAV files, splitting phrases."""

import io
import struct
import wave
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from dialer.telephony.pcm import (
    SpeechError,
    alaw_decode,
    parse_wav,
    pcm_duration,
    read_wav_8k,
    resample,
    ulaw_decode,
)
from dialer.telephony.speech import split_phrases

Audio = npt.NDArray[np.float64]


def sine(hz: float, rate: int, seconds: float = 1.0, amplitude: float = 10_000) -> Audio:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(round(seconds * rate)) / rate)


def power_at(x: Audio, hz: float, rate: int = 8000) -> float:
    """Mean power of ``x`` at ``hz`` (a single-bin DFT over the whole signal)."""
    t = np.arange(x.size) / rate
    return float(np.abs(np.dot(x, np.exp(-2j * np.pi * hz * t))) ** 2 * 2 / x.size**2)


def db(ratio: float) -> float:
    return 10 * float(np.log10(ratio))


def wav_bytes(samples: npt.NDArray[np.int16], rate: int, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


# resampling


def test_a_1khz_tone_keeps_its_energy_at_1khz() -> None:
    x = sine(1000, 22050)
    y = resample(x, 22050)
    assert y.size == 8000
    inner = y[200:-200]  # away from the edges, where the filter sees zeros
    assert abs(db(power_at(inner, 1000) / power_at(x, 1000, 22050))) < 0.1
    # and nothing else: the rest is far below it
    assert db(np.mean(inner**2) / power_at(inner, 1000)) < 0.01


def test_a_6khz_tone_is_filtered_out_not_folded_to_2khz() -> None:
    x = sine(6000, 22050)
    y = resample(x, 22050)[200:-200]
    reference = float(np.mean(x**2))
    assert db(power_at(y, 2000) / reference) < -30  # 6 kHz would alias to 8 - 6 = 2 kHz
    assert db(float(np.mean(y**2)) / reference) < -30


def test_resampling_keeps_timing_for_other_rates() -> None:
    for rate in (8000, 11025, 16000, 44100, 48000):
        y = resample(sine(440, rate, 0.5), rate)
        assert y.size == 4000
        assert abs(db(power_at(y[200:-200], 440) / (10_000**2 / 2))) < 0.1


# WAV files


def test_parse_wav_reads_16_bit_and_mixes_channels_to_mono() -> None:
    left = np.array([1000, 2000, -3000], dtype=np.int16)
    right = np.array([3000, 0, -1000], dtype=np.int16)
    stereo = np.column_stack([left, right]).ravel()
    rate, samples = parse_wav(wav_bytes(stereo, 16000, channels=2))
    assert rate == 16000
    assert samples.tolist() == [2000.0, 1000.0, -2000.0]


def test_parse_wav_trusts_the_data_not_a_pipes_bogus_length() -> None:
    # espeak-ng writing to a pipe cannot go back to fill in the sizes.
    body = np.array([5, -5, 7], dtype="<i2").tobytes()
    header = struct.pack("<4sI4s", b"RIFF", 0x7FFFF024, b"WAVE")
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 22050, 44100, 2, 16)
    data = struct.pack("<4sI", b"data", 0x7FFFF000) + body
    rate, samples = parse_wav(header + fmt + data)
    assert (rate, samples.tolist()) == (22050, [5.0, -5.0, 7.0])


def test_parse_wav_reads_8_and_24_bit_float_and_g711() -> None:
    def wav(tag: int, bits: int, body: bytes) -> bytes:
        block = bits // 8
        fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, tag, 1, 8000, 8000 * block, block, bits)
        data = struct.pack("<4sI", b"data", len(body)) + body
        return struct.pack("<4sI4s", b"RIFF", 4 + len(fmt) + len(data), b"WAVE") + fmt + data

    assert parse_wav(wav(1, 8, bytes([128, 255, 0])))[1].tolist() == [0.0, 127 * 256.0, -32768.0]
    three_bytes = bytes([0x56, 0x34, 0x12, 0xFF, 0xFF, 0xFF])  # 0x123456 and -1
    assert parse_wav(wav(1, 24, three_bytes))[1].tolist() == [0x1234 + 0x56 / 256, -1 / 256]
    floats = np.array([0.5, -0.25], dtype="<f4").tobytes()
    assert parse_wav(wav(3, 32, floats))[1].tolist() == [16384.0, -8192.0]
    assert parse_wav(wav(7, 8, bytes([0x80, 0xFF])))[1].tolist() == [32124.0, 0.0]
    assert parse_wav(wav(6, 8, bytes([0xD5, 0x2A])))[1].tolist() == [8.0, -32256.0]


def test_g711_decoding_matches_the_reference_tables() -> None:
    # Values from ITU-T G.711's tables (16-bit scaled): the ends and a middle code of each law.
    assert ulaw_decode(np.array([0x00, 0x7F, 0x80, 0xFF, 0x90], np.uint8)).tolist() == [
        -32124.0,
        0.0,
        32124.0,
        0.0,
        15996.0,
    ]
    assert alaw_decode(np.array([0x55, 0xD5, 0xAA, 0x2A], np.uint8)).tolist() == [
        -8.0,
        8.0,
        32256.0,
        -32256.0,
    ]


def test_parse_wav_rejects_what_it_cannot_read() -> None:
    with pytest.raises(SpeechError, match="not a RIFF WAVE"):
        parse_wav(b"ID3 this is an mp3")
    adpcm = struct.pack("<4sIHHIIHH", b"fmt ", 16, 2, 1, 8000, 4000, 1, 4)
    riff = struct.pack("<4sI4s", b"RIFF", 40, b"WAVE")
    with pytest.raises(SpeechError, match="unsupported WAV encoding"):
        parse_wav(riff + adpcm + struct.pack("<4sI", b"data", 2) + b"\0\0")


def test_read_wav_8k_gives_8khz_mono_s16le(tmp_path: Path) -> None:
    rate = 44100
    tone = np.round(sine(1000, rate, 0.5)).astype(np.int16)
    path = tmp_path / "prompt.wav"
    path.write_bytes(wav_bytes(np.column_stack([tone, tone]).ravel(), rate, channels=2))
    pcm = read_wav_8k(path)
    assert len(pcm) == 2 * 4000
    assert pcm_duration(pcm) == timedelta(seconds=0.5)
    y = np.frombuffer(pcm, "<i2").astype(np.float64)
    assert abs(db(power_at(y[200:-200], 1000) / (10_000**2 / 2))) < 0.1


def test_pcm_duration_counts_whole_samples() -> None:
    assert pcm_duration(b"\0" * 16_000) == timedelta(seconds=1)
    assert pcm_duration(b"\0" * 3) == timedelta(microseconds=125)


# phrases


def test_split_phrases_splits_sentences_and_long_sentences_at_clauses() -> None:
    text = (
        "Hello John. This is a reminder from Doctor Smith's office about your appointment"
        " tomorrow, Tuesday the fourth of March, at ten thirty in the morning, at the clinic"
        " on Main Street; please arrive early!  Press one to confirm?"
    )
    phrases = split_phrases(text)
    assert phrases[0] == "Hello John."
    assert phrases[-1] == "Press one to confirm?"
    assert len(phrases) >= 4
    assert all(len(p) <= 120 for p in phrases)
    assert " ".join(phrases) == " ".join(text.split())


def test_split_phrases_cuts_a_run_on_without_punctuation_at_spaces() -> None:
    text = " ".join(["word"] * 100)
    phrases = split_phrases(text, max_chars=50)
    assert all(len(p) <= 50 for p in phrases)
    assert " ".join(phrases) == text
    assert split_phrases("   ") == []

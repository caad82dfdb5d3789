"""Special information tones on synthetic signals: every code of the ANSI table, through mu-law
and noise, fed in odd chunk sizes; and what must never pass for one (speech, beeps, ringback)."""

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from dialer.telephony.pcm import ulaw_decode
from dialer.telephony.sit import SIT_CLASSES, SIT_UNASSIGNED, SitDetector

RATE = 8000
Audio = npt.NDArray[np.float64]
Segment = tuple[float, int]

NC: tuple[Segment, Segment] = ((985.2, 380), (1428.5, 380))
IC: tuple[Segment, Segment] = ((913.8, 274), (1370.6, 274))
VC: tuple[Segment, Segment] = ((985.2, 380), (1370.6, 274))
RO: tuple[Segment, Segment] = ((913.8, 274), (1428.5, 380))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * RATE))


def tone(hz: float | tuple[float, ...], seconds: float, dbfs: float = -24.0) -> Audio:
    """One tone, or several summed at the same level (``dbfs`` each, as RMS)."""
    t = np.arange(round(seconds * RATE)) / RATE
    freqs = hz if isinstance(hz, tuple) else (hz,)
    return sum(
        (np.sin(2 * np.pi * f * t) * 32768 * np.sqrt(2) * 10 ** (dbfs / 20) for f in freqs),
        start=np.zeros(len(t)),
    )


def sit(first: Segment, second: Segment, *, gap_ms: float = 0.0, scale: float = 1.0) -> Audio:
    """Three segments; ``scale`` stretches the durations (the standard allows +-5 %)."""
    gap = silence(gap_ms / 1000)
    return np.concatenate(
        [
            tone(first[0], first[1] * scale / 1000),
            gap,
            tone(second[0], second[1] * scale / 1000),
            gap,
            tone(1776.7, 0.380 * scale),
        ]
    )


def noise(rng: np.random.Generator, seconds: float, dbfs: float) -> Audio:
    return rng.standard_normal(round(seconds * RATE)) * 32768 * 10 ** (dbfs / 20)


def ulaw(x: Audio) -> Audio:
    """Through G.711 mu-law and back (the companding curve, 8-bit codes)."""
    value = np.clip(np.round(x), -32768, 32767).astype(np.int32)
    sign = (value < 0).astype(np.int32)
    magnitude = np.minimum(np.abs(value), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes = (~((sign << 7) | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return ulaw_decode(codes)


def syllables(rng: np.random.Generator, seconds: float) -> Audio:
    """Speech-like sound: harmonics of a wandering pitch under formant weights, 200 ms syllables
    with short pauses (as in test_detection)."""
    parts: list[Audio] = []
    while sum(len(p) for p in parts) < seconds * RATE:
        n = round(rng.uniform(0.15, 0.4) * RATE)
        t = np.arange(n) / RATE
        f0 = rng.uniform(100, 240) * (1 + 0.04 * np.sin(2 * np.pi * rng.uniform(3, 6) * t))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        formants = rng.uniform(400, 900), rng.uniform(1100, 2400)
        x = np.zeros(n)
        for h in range(1, 21):
            hz = h * float(np.mean(f0))
            weight = sum(np.exp(-(((hz - f) / 250) ** 2)) for f in formants) + 0.05
            x += weight * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
        x *= np.sin(np.pi * np.arange(n) / n) ** 0.5
        parts += [x / np.sqrt(np.mean(x**2)) * 32768 * 10 ** (-20 / 20), silence(0.08)]
    return np.concatenate(parts)


def pcm(*parts: Audio) -> bytes:
    return np.clip(np.round(np.concatenate(parts)), -32768, 32767).astype("<i2").tobytes()


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def detect(data: bytes, size: int = 320) -> SitDetector:
    detector = SitDetector()
    for chunk in chunks(data, size):
        detector.feed(chunk)
    return detector


@pytest.mark.parametrize(("segments", "code"), list(SIT_CLASSES.items()), ids=str)
def test_every_code_of_the_table(segments: tuple[Segment, Segment], code: str) -> None:
    detector = detect(pcm(silence(0.3), sit(*segments), silence(1.0)))
    assert detector.result == code
    # Decided within the third segment, not after the announcement.
    assert detector.after_ms is not None
    assert detector.after_ms <= 300 + sum(ms for _, ms in segments) + 380


@pytest.mark.parametrize(
    ("segments", "code"), [(NC, "NC"), (IC, "IC"), (VC, "VC"), (RO, "RO")], ids=str
)
@pytest.mark.parametrize("scale", [0.95, 1.0, 1.05])
def test_through_mu_law_with_noise(
    rng: np.random.Generator, segments: tuple[Segment, Segment], code: str, scale: float
) -> None:
    signal = np.concatenate([silence(0.5), sit(*segments, scale=scale), silence(2.0)])
    heard = ulaw(signal + noise(rng, len(signal) / RATE, -45.0))
    assert detect(pcm(heard), size=160 * 3 + 7).result == code


def test_a_short_gap_between_segments_is_allowed() -> None:
    assert detect(pcm(sit(*VC, gap_ms=4), silence(0.5))).result == "VC"
    assert detect(pcm(sit(*NC, gap_ms=30), silence(0.5))).result == "NC"


def test_repeated_sits_with_an_announcement_between(rng: np.random.Generator) -> None:
    # As a network plays them: the SIT, the spoken announcement, again.
    loop = [sit(*IC), silence(0.2), syllables(rng, 3.0), silence(1.0)]
    assert detect(pcm(*loop, *loop)).result == "IC"


def test_a_reserved_code_is_still_a_sit() -> None:
    assert detect(pcm(sit((985.2, 274), (1428.5, 274)), silence(0.5))).result == SIT_UNASSIGNED


@pytest.mark.parametrize("size", [1, 2, 158, 320, 4001])
def test_the_result_does_not_depend_on_chunk_sizes(size: int) -> None:
    reference = detect(pcm(silence(0.21), sit(*RO), silence(0.5)))
    detector = detect(pcm(silence(0.21), sit(*RO), silence(0.5)), size=size)
    assert (detector.result, detector.after_ms) == (reference.result, reference.after_ms)


def test_the_result_stays() -> None:
    detector = SitDetector()
    assert detector.feed(pcm(sit(*NC))) == "NC"
    assert detector.feed(pcm(silence(1.0))) == "NC"


def test_speech_is_not_a_sit(rng: np.random.Generator) -> None:
    assert detect(pcm(syllables(rng, 20.0))).result is None


def test_noise_and_silence_are_not_a_sit(rng: np.random.Generator) -> None:
    assert detect(pcm(silence(1.0), ulaw(noise(rng, 5.0, -30.0)))).result is None


def test_a_beep_is_not_a_sit() -> None:
    assert detect(pcm(silence(2.0), tone(1000, 0.4, -12.0), silence(3.0))).result is None


@pytest.mark.parametrize("freqs", [(400.0, 450.0), (440.0, 480.0)], ids=str)
def test_ringback_is_not_a_sit(freqs: tuple[float, float]) -> None:
    # UK ringback (400+450 Hz, 0.4 on, 0.2 off, 0.4 on, 2 off) and US (440+480, 2 on, 4 off).
    if freqs[0] == 400.0:
        cycle = [tone(freqs, 0.4), silence(0.2), tone(freqs, 0.4), silence(2.0)]
    else:
        cycle = [tone(freqs, 2.0), silence(4.0)]
    assert detect(pcm(*cycle, *cycle, *cycle)).result is None


def test_sit_tones_in_the_wrong_order_are_not_a_sit() -> None:
    backwards = [tone(1776.7, 0.38), tone(1428.5, 0.38), tone(985.2, 0.38)]
    assert detect(pcm(*backwards, silence(0.5))).result is None


def test_the_third_segment_must_follow_at_once() -> None:
    late = [tone(985.2, 0.38), tone(1428.5, 0.38), silence(0.5), tone(1776.7, 0.38)]
    assert detect(pcm(*late, silence(0.5))).result is None


def test_segments_too_short_are_not_a_sit() -> None:
    blips = [tone(985.2, 0.1), tone(1428.5, 0.1), tone(1776.7, 0.38)]
    assert detect(pcm(*blips, silence(0.5))).result is None

"""Answering-machine and fax detection on synthetic signals: silence, noise, tones, and speech-like
bursts (harmonics of a wavering pitch under formant-like weights, syllable by syllable)."""

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from dialer.domain.call import AnsweredBy
from dialer.telephony.detection import (
    AmdSettings,
    AnswerDetector,
    Detection,
    GreetingEnd,
    GreetingEndDetector,
)
from dialer.telephony.pcm import ulaw_decode
from dialer.telephony.tones import FrameAnalyser

RATE = 8000
Audio = npt.NDArray[np.float64]


# The detector's two ways of judging speech: app_amd's rules, and the trained classifier (the
# default). Tests of a verdict run both; app_amd's reason strings and times belong to the rules.
RULES = AmdSettings(classifier=False)
CLASSIFIER = AmdSettings(classifier=True)
BOTH = pytest.mark.parametrize("settings", [RULES, CLASSIFIER], ids=["rules", "classifier"])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(5)


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * RATE))


def tone(hz: float, seconds: float, dbfs: float = -12.0) -> Audio:
    t = np.arange(round(seconds * RATE)) / RATE
    return np.sin(2 * np.pi * hz * t) * 32768 * np.sqrt(2) * 10 ** (dbfs / 20)


def noise(rng: np.random.Generator, seconds: float, dbfs: float) -> Audio:
    return rng.standard_normal(round(seconds * RATE)) * 32768 * 10 ** (dbfs / 20)


def syllable(rng: np.random.Generator, seconds: float, dbfs: float = -20.0) -> Audio:
    """A voiced syllable: 20 harmonics of a pitch wandering around 110-220 Hz, weighted by two
    formant bumps, under a rise-and-fall envelope, with a little breath noise."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    f0 = rng.uniform(110, 220) * (1 + 0.04 * np.sin(2 * np.pi * rng.uniform(3, 6) * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    formants = rng.uniform(400, 900), rng.uniform(1100, 2400)
    x = np.zeros(n)
    for h in range(1, 21):
        hz = h * float(np.mean(f0))
        weight = sum(np.exp(-(((hz - f) / 250) ** 2)) for f in formants) + 0.05
        x += weight * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
    x += 0.05 * rng.standard_normal(n)
    x *= np.sin(np.pi * np.arange(n) / n) ** 0.5
    return x / np.sqrt(np.mean(x**2)) * 32768 * 10 ** (dbfs / 20)


def words(rng: np.random.Generator, count: int, length: float, gap: float) -> Audio:
    parts: list[Audio] = []
    for _ in range(count):
        parts += [syllable(rng, length), silence(gap)]
    return np.concatenate(parts[:-1])


def pcm(*parts: Audio) -> bytes:
    x = np.concatenate(parts)
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def detect(data: bytes, size: int = 320, settings: AmdSettings | None = None) -> Detection:
    detector = AnswerDetector(settings)
    for chunk in chunks(data, size):
        found = detector.feed(chunk)
        if found is not None:
            return found
    raise AssertionError("no verdict")


def ulaw(x: Audio) -> Audio:
    """Through G.711 mu-law and back (the companding curve, 8-bit codes)."""
    value = np.clip(np.round(x), -32768, 32767).astype(np.int32)
    sign = (value < 0).astype(np.int32)
    magnitude = np.minimum(np.abs(value), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes = (~((sign << 7) | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return ulaw_decode(codes)


# the state machine


@BOTH
def test_short_hello_then_silence_is_a_human(
    rng: np.random.Generator, settings: AmdSettings
) -> None:
    hello = np.concatenate([syllable(rng, 0.2), silence(0.04), syllable(rng, 0.3)])
    found = detect(pcm(silence(0.4), hello, silence(3)), settings=settings)
    assert found.by is AnsweredBy.HUMAN
    assert found.after_ms <= 2000
    if settings is RULES:
        assert found.reason == "HUMAN-800-800"


@BOTH
def test_long_continuous_greeting_is_a_machine(
    rng: np.random.Generator, settings: AmdSettings
) -> None:
    found = detect(pcm(silence(0.3), syllable(rng, 4.0), silence(1)), settings=settings)
    assert found.by is AnsweredBy.MACHINE
    if settings is RULES:
        # app_amd: voice past ``greeting`` (1500 until h-amd8, 2500 since) is a machine.
        assert found.reason.startswith(f"LONGGREETING-{settings.greeting}")
        assert found.after_ms < 300 + settings.greeting + 500


@BOTH
def test_many_words_with_short_gaps_are_a_machine(
    rng: np.random.Generator, settings: AmdSettings
) -> None:
    found = detect(pcm(silence(0.3), words(rng, 10, 0.22, 0.1), silence(1)), settings=settings)
    assert found.by is AnsweredBy.MACHINE
    if settings is RULES:
        # app_amd: more than maximum_number_of_words (4 until h-amd8, 6 since).
        limit = settings.maximum_number_of_words
        assert found.reason == f"MAXWORDS-{limit + 1}-{limit}"
        assert found.after_ms < 300 + (limit + 1) * 320 + 100  # words of 0.22 s, 0.1 s apart


def test_three_seconds_of_silence_is_a_machine() -> None:
    found = detect(pcm(silence(3)))
    assert (found.by, found.reason, found.after_ms) == (
        AnsweredBy.MACHINE,
        "INITIALSILENCE-2500-2500",
        2500,
    )


def test_nothing_decided_in_the_analysis_time_is_a_human(rng: np.random.Generator) -> None:
    # A word every 0.7 s never leaves 800 ms of silence; with the word and voice limits out of
    # the way, only total_analysis_time ends it: app_amd's NOTSURE, taken as a person.
    settings = AmdSettings(maximum_number_of_words=50, greeting=10_000, classifier=False)
    found = detect(pcm(silence(0.2), words(rng, 12, 0.2, 0.5)), settings=settings)
    assert (found.by, found.reason, found.after_ms) == (AnsweredBy.HUMAN, "TOOLONG-5000", 5000)


def test_a_beep_during_the_analysis_is_a_machine(rng: np.random.Generator) -> None:
    found = detect(pcm(silence(0.3), syllable(rng, 0.6), silence(0.3), tone(1400, 0.4)))
    assert found.by is AnsweredBy.MACHINE
    assert found.reason == "BEEP-1400"


def test_a_human_in_a_noisy_room_is_still_a_human(rng: np.random.Generator) -> None:
    hello = np.concatenate([syllable(rng, 0.25), silence(0.05), syllable(rng, 0.3)])
    clean = np.concatenate([silence(0.6), hello, silence(3)])
    found = detect(pcm(clean + noise(rng, clean.size / RATE, -42)))
    assert found.by is AnsweredBy.HUMAN


def test_a_callee_who_speaks_at_once_is_heard(rng: np.random.Generator) -> None:
    found = detect(pcm(syllable(rng, 0.3), silence(3)))
    assert found.by is AnsweredBy.HUMAN


def test_mu_law_does_not_change_the_verdicts(rng: np.random.Generator) -> None:
    human = np.concatenate([silence(0.5), syllable(rng, 0.4), silence(3)])
    machine = np.concatenate([silence(0.3), words(rng, 12, 0.25, 0.08), silence(1)])
    noisy = human + noise(rng, human.size / RATE, -55)
    assert detect(pcm(ulaw(human))).by is AnsweredBy.HUMAN
    assert detect(pcm(ulaw(noisy))).by is AnsweredBy.HUMAN
    assert detect(pcm(ulaw(machine))).by is AnsweredBy.MACHINE


# fax


def test_ced_answer_tone_is_a_fax() -> None:
    found = detect(pcm(silence(0.5), tone(2100, 3.0), silence(1)))
    assert found.by is AnsweredBy.FAX
    assert found.reason.startswith("CED-")
    assert 1000 <= found.after_ms <= 1100  # 500 ms into the tone


def test_ced_with_phase_reversals_is_a_fax() -> None:
    t = np.arange(3 * RATE) / RATE
    ansam = np.sin(2 * np.pi * 2100 * t + np.pi * (t // 0.45 % 2)) * 8000
    found = detect(pcm(silence(0.3), ansam))
    assert found.by is AnsweredBy.FAX


def test_cng_cadence_is_a_fax() -> None:
    cadence = np.concatenate([tone(1100, 0.5), silence(3.0)] * 2)
    found = detect(pcm(silence(0.7), cadence))
    assert found.by is AnsweredBy.FAX
    assert found.reason.startswith("CNG-")
    assert found.after_ms <= 1200


def test_a_fax_tone_wins_over_speech(rng: np.random.Generator) -> None:
    # Speech then CED: the 2100 Hz tone is not counted as voice, so no LONGGREETING first.
    found = detect(pcm(silence(0.2), syllable(rng, 0.3), silence(0.1), tone(2100, 3.0)))
    assert found.by is AnsweredBy.FAX


def test_a_fax_tone_late_in_the_initial_silence_is_still_a_fax() -> None:
    # The tone is not silence: INITIALSILENCE (at 2.5 s) must not cut the CED short.
    found = detect(pcm(silence(2.3), tone(2100, 3.0)))
    assert (found.by, found.after_ms) == (AnsweredBy.FAX, 2800)


def test_a_short_beep_at_the_fax_calling_frequency_is_a_beep() -> None:
    found = detect(pcm(silence(0.5), tone(1100, 0.2), silence(3)))
    assert (found.by, found.reason) == (AnsweredBy.MACHINE, "BEEP-1100")


# the greeting's end


def greeting_end(detector: AnswerDetector, rest: bytes, size: int = 320) -> GreetingEnd:
    waiting = detector.greeting_end()
    for chunk in chunks(rest, size):
        if waiting.feed(chunk):
            assert waiting.result is not None
            return waiting.result
    raise AssertionError("the greeting never ended")


def test_the_beep_ends_the_greeting(rng: np.random.Generator) -> None:
    greeting = pcm(silence(0.3), words(rng, 8, 0.3, 0.1))  # 3.4 s
    detector = AnswerDetector()
    found = detect_with(detector, greeting)
    assert found.by is AnsweredBy.MACHINE
    rest = greeting[found.after_ms * 16 :] + pcm(silence(0.4), tone(1000, 0.3), silence(3))
    end = greeting_end(detector, rest)
    assert end.reason == "BEEP-1000"
    beep_end = 3400 + 400 + 300
    # Reported once beep_settle has passed with no second tone (two-tone beeps, pips) and no
    # more speech, within the 300 ms a message may start after the greeting's end.
    settle = AmdSettings().beep_settle
    assert beep_end + settle <= found.after_ms + end.after_ms <= beep_end + settle + 60
    assert settle + 60 <= 300


def test_silence_after_speech_ends_the_greeting(rng: np.random.Generator) -> None:
    greeting = pcm(silence(0.3), syllable(rng, 3.0))
    detector = AnswerDetector()
    found = detect_with(detector, greeting)
    rest = greeting[found.after_ms * 16 :] + pcm(silence(3))
    end = greeting_end(detector, rest)
    wait = AmdSettings().greeting_end_silence
    assert end.reason == f"SILENCE-{wait}"
    # The syllable fades out over its last few hundred ms, below the voice threshold.
    assert 3000 + wait <= found.after_ms + end.after_ms <= 3300 + wait


def test_a_greeting_after_a_long_initial_silence_ends_after_its_speech(
    rng: np.random.Generator,
) -> None:
    audio = pcm(silence(3), syllable(rng, 1.0), silence(2))
    detector = AnswerDetector()
    found = detect_with(detector, audio)
    assert found.reason == "INITIALSILENCE-2500-2500"
    end = greeting_end(detector, audio[found.after_ms * 16 :])
    wait = AmdSettings().greeting_end_silence
    assert end.reason == f"SILENCE-{wait}"
    assert 3900 + wait <= found.after_ms + end.after_ms <= 4000 + wait


def test_the_wait_for_the_greeting_end_is_bounded(rng: np.random.Generator) -> None:
    waiting = GreetingEndDetector(AmdSettings(greeting_end_max_wait=3000))
    chatter = pcm(words(rng, 30, 0.3, 0.2))
    done = [waiting.feed(chunk) for chunk in chunks(chatter, 320)]
    assert done.index(True) == 3000 // 20 - 1
    assert waiting.result == GreetingEnd("MAXWAIT-3000", 3000)


def detect_with(detector: AnswerDetector, data: bytes) -> Detection:
    for chunk in chunks(data, 320):
        found = detector.feed(chunk)
        if found is not None:
            return found
    raise AssertionError("no verdict")


# chunking


@pytest.mark.parametrize("size", [1, 7, 333, 4001])
def test_verdicts_do_not_depend_on_chunk_sizes(rng: np.random.Generator, size: int) -> None:
    signals = [
        pcm(silence(0.4), syllable(rng, 0.45), silence(3), noise(rng, 1, -60)),
        pcm(silence(0.2), words(rng, 10, 0.2, 0.1)),
        pcm(silence(0.5), tone(2100, 2.0)),
    ]
    for data in signals:
        whole = AnswerDetector().feed(data)
        assert whole is not None
        assert detect(data, size) == whole


@pytest.mark.parametrize("size", [1, 333])
def test_the_greeting_end_does_not_depend_on_chunk_sizes(
    rng: np.random.Generator, size: int
) -> None:
    audio = pcm(silence(0.3), syllable(rng, 2.5), silence(0.3), tone(1400, 0.25), silence(1))
    ends = []
    for step in (len(audio), size):
        detector = AnswerDetector()
        found = None
        position = 0
        while found is None:
            found = detector.feed(audio[position : position + step])
            position += step
        # Whatever of the last chunk came after the verdict is the greeting detector's.
        waiting = detector.greeting_end()
        rest = audio[position:]
        for chunk in [b"", *list(chunks(rest, step))]:
            if waiting.feed(chunk):
                break
        ends.append((found, waiting.result))
    assert ends[0] == ends[1]
    assert ends[0][1] is not None
    assert ends[0][1].reason == "BEEP-1400"


# the frame analysis


def test_a_tone_is_tonal_at_its_frequency_and_speech_is_not(rng: np.random.Generator) -> None:
    for hz in (440.0, 1000.0, 1387.0, 2100.0):
        measured = FrameAnalyser().feed(pcm(tone(hz, 0.2)))
        assert all(f is not None and abs(f - hz) < 8 for _, f in measured[2:])
    speech = FrameAnalyser().feed(pcm(syllable(rng, 1.0, -15)))
    assert sum(f is not None for _, f in speech) <= 1


def test_levels_ignore_a_dc_offset() -> None:
    ((level, hz),) = FrameAnalyser().feed(pcm(silence(0.02) + 3000))
    assert level < -100
    assert hz is None

"""The answer classifier (answer_features, answer_model, AmdSettings.classifier): its features
from known frame sequences, its decision thresholds, and the rules it leaves in charge (dead air,
fax tones, the time limit), on the synthetic signals of test_detection.py."""

import numpy as np
import pytest

from dialer.domain.amd_mode import AmdMode
from dialer.domain.call import AnsweredBy
from dialer.telephony import answer_model, answer_weights
from dialer.telephony.answer_features import NAMES, Timeline
from dialer.telephony.detection import AmdSettings
from tests.unit.test_detection import detect, noise, pcm, silence, syllable, tone

ON = AmdSettings(classifier=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(16)


def feed(timeline: Timeline, pattern: str) -> dict[str, float]:
    """``pattern``: one character a frame, ``v`` voice, ``.`` silence, ``t`` a tone."""
    for c in pattern:
        timeline.step(c == "v", -20.0 if c != "." else -60.0, -60.0, c == "t")
    return dict(zip(NAMES, timeline.vector().tolist(), strict=True))


def test_the_features_count_utterances_pauses_and_words() -> None:
    # 200 ms of voice, 400 ms pause (a new utterance), 300 ms of voice with a 60 ms gap (a
    # second word, same utterance), then 500 ms of silence: 1.4 s in all.
    features = feed(Timeline(), "v" * 10 + "." * 20 + "v" * 5 + "..." + "v" * 10 + "." * 25)
    assert features["time_s"] == pytest.approx(1.46)
    assert features["voice_s"] == pytest.approx(0.5)
    assert features["first_voice_s"] == 0.0
    assert features["utterances"] == 2
    assert features["first_utterance_s"] == pytest.approx(0.2)
    assert features["longest_utterance_s"] == pytest.approx(0.3)
    assert features["current_utterance_s"] == 0.0
    assert features["current_silence_s"] == pytest.approx(0.5)
    assert features["longest_pause_s"] == pytest.approx(0.5)
    assert features["words"] == 2  # as app_amd, the first word needs silence before it
    assert features["voice_last_1s"] == pytest.approx(0.3)


def test_a_tone_is_neither_voice_nor_an_utterance() -> None:
    timeline = Timeline()
    features = feed(timeline, "." * 10 + "t" * 30)
    assert features["tone_s"] == pytest.approx(0.6)
    assert features["voice_s"] == 0.0
    assert not timeline.spoke


def test_a_word_is_what_lets_the_classifier_speak() -> None:
    timeline = Timeline()
    feed(timeline, "vvvv")
    assert not timeline.spoke  # 80 ms: a click, a burst of noise
    feed(timeline, "v")
    assert timeline.spoke


def test_the_thresholds_wait_between_them_and_follow_the_mode_at_the_end() -> None:
    machine, human, last = (
        answer_weights.MACHINE_AT,
        answer_weights.HUMAN_AT,
        answer_weights.MACHINE_LAST,
    )
    assert answer_model.verdict(machine, 1000) is True
    assert answer_model.verdict(human, 1000) is False
    assert answer_model.verdict((machine + human) / 2, 1000) is None
    assert answer_model.verdict(last, answer_model.LAST_MS) is True
    # At the end a person-like margin is "not sure", for the mode to decide, not a verdict.
    assert answer_model.verdict(human, answer_model.LAST_MS) is None


def test_the_weights_are_the_features_model() -> None:
    assert answer_weights.FEATURES == NAMES
    assert len(answer_weights.SIDE) == 2 * len(answer_weights.ROOT)
    assert len(answer_weights.LEAF) == 4 * len(answer_weights.ROOT)
    assert max(answer_weights.ROOT + answer_weights.SIDE) < len(NAMES)


def test_dead_air_is_still_a_machine(rng: np.random.Generator) -> None:
    found = detect(pcm(noise(rng, 4, -70.0)), settings=ON)
    assert found.by is AnsweredBy.MACHINE
    assert found.reason.startswith("INITIALSILENCE-2500")


def test_a_fax_tone_after_a_quiet_start_is_a_fax() -> None:
    # Regression: the classifier counted the tone as initial silence and called it dead air at
    # 2.5 s, before the CED tone had its 500 ms.
    found = detect(pcm(silence(2.3), tone(2100, 1.5)), settings=ON)
    assert found.by is AnsweredBy.FAX


def test_a_hello_then_silence_is_decided_by_the_classifier(rng: np.random.Generator) -> None:
    hello = np.concatenate([syllable(rng, 0.2), silence(0.04), syllable(rng, 0.3)])
    found = detect(pcm(silence(0.4), hello, silence(4.6)), settings=ON)
    assert found.reason.startswith("CLASSIFIER-")
    assert found.by is AnsweredBy.HUMAN
    assert found.after_ms <= answer_model.LAST_MS


@pytest.mark.parametrize(("size"), [160, 320, 1000])
def test_the_verdict_does_not_depend_on_chunking(rng: np.random.Generator, size: int) -> None:
    audio = pcm(silence(0.3), syllable(rng, 0.6), silence(0.2), syllable(rng, 0.9), silence(4))
    assert detect(audio, size, ON) == detect(audio, 320, ON)


@pytest.mark.parametrize(
    ("mode", "by"), [(AmdMode.PREFER_PEOPLE, AnsweredBy.HUMAN), (AmdMode.PREFER_AGENTS, None)]
)
def test_no_word_by_the_end_is_not_sure(
    rng: np.random.Generator, mode: AmdMode, by: AnsweredBy | None
) -> None:
    # Voice frames too short to be a word, every 2 s: no dead air, and nothing to classify.
    blip = syllable(rng, 0.06)
    audio = pcm(*([blip, silence(1.94)] * 3))
    found = detect(audio, settings=AmdSettings(classifier=True, mode=mode))
    assert found.reason == f"TOOLONG-{answer_model.LAST_MS}"
    assert found.by is (by or AnsweredBy.MACHINE)

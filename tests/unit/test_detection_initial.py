"""The start of the line: a person too quiet for the voice gate, or whose "Hello?" the line
turned into a steady tone, is not dead air (INITIALSILENCE took them for machines on the broad
corpus, issue 16), while dead air with a passing car behind the line still is."""

import numpy as np
import pytest

from dialer.domain.call import AnsweredBy
from dialer.telephony.detection import AmdSettings
from tests.unit.test_detection import RATE, Audio, detect, noise, pcm, silence, syllable, tone


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(16)


def test_a_hello_below_the_silence_threshold_is_not_dead_air(rng: np.random.Generator) -> None:
    # As on the corpus (h-level, mu-law, no noise): "Hello?" at -44 dBFS, under app_amd's
    # -40 dBFS silence, on a line 30 dB quieter still, then the person waits.
    line = noise(rng, 5.5, -75.0)
    hello = np.concatenate([syllable(rng, 0.2, -44.0), silence(0.04), syllable(rng, 0.3, -44.0)])
    callee = np.concatenate([silence(0.4), hello, silence(5.5 - 0.4 - hello.size / RATE)])
    found = detect(pcm(line + callee))
    assert not found.reason.startswith("INITIALSILENCE"), found
    assert found.by is AnsweredBy.HUMAN, found


def tonal_hello(rng: np.random.Generator) -> Audio:
    """ "Hello?" on a band-limited line: the vowel's one strong harmonic holds still for 100 ms,
    too short for a beep, and the voice gate hears only the consonants either side."""
    return np.concatenate(
        [syllable(rng, 0.04, -22.0), tone(620, 0.1, -20.0), syllable(rng, 0.04, -22.0)]
    )


def test_a_hello_whose_vowel_the_line_made_tonal_is_a_word(rng: np.random.Generator) -> None:
    found = detect(pcm(silence(0.3), tonal_hello(rng), silence(4.5)))
    assert found.by is AnsweredBy.HUMAN, found
    assert found.reason.startswith("HUMAN-"), found  # a word, then the person's silence


def test_without_the_tone_counted_the_tonal_hello_was_dead_air(rng: np.random.Generator) -> None:
    # The same audio, the tone left out of the voice (as before): no word, INITIALSILENCE.
    settings = AmdSettings(tones_as_voice=False, initial_sound_margin=0.0)
    found = detect(pcm(silence(0.3), tonal_hello(rng), silence(4.5)), settings=settings)
    assert found.reason.startswith("INITIALSILENCE"), found


def test_dead_air_with_a_passing_car_is_still_dead_air(rng: np.random.Generator) -> None:
    # Line noise at -55 dBFS, swelling 12 dB over 3 s as a car passes: sound for longer than
    # a word, so nobody is there.
    seconds = 4.0
    t = np.arange(round(seconds * RATE)) / RATE
    swell = 12.0 * np.clip(np.sin(np.pi * (t - 0.5) / 3.0), 0.0, None)
    line = noise(rng, seconds, -55.0) * 10 ** (swell / 20)
    found = detect(pcm(line))
    assert found.reason.startswith("INITIALSILENCE"), found
    assert found.by is AnsweredBy.MACHINE

"""MessageStart on synthetic greetings: the message starts after a short quiet, stops when the
greeting speaks again or beeps, and its last start is at the beepless greeting's end or the
beep's end, so the recording (which starts there) holds all of it."""

import numpy as np
import pytest

from dialer.telephony.detection import AmdSettings, AnswerDetector, MessageStart
from tests.unit.test_detection import chunks, detect_with, pcm, silence, tone, words

QUIET = AmdSettings().message_quiet


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def moves(starter: MessageStart, audio: bytes) -> list[tuple[str, int]]:
    """Each start and stop, with the time of the audio fed when it was said."""
    out = []
    for chunk in chunks(audio, 320):
        move = starter.feed(chunk)
        if move is not None:
            out.append((move, starter.at_ms))
    return out


def test_a_pause_inside_the_greeting_starts_the_message_and_the_greeting_stops_it(
    rng: np.random.Generator,
) -> None:
    first = pcm(words(rng, 4, 0.3, 0.1))  # 1.5 s of talk
    second = pcm(words(rng, 4, 0.3, 0.1))
    audio = first + pcm(silence(0.8)) + second + pcm(silence(3))
    starter = MessageStart(quiet_ms=QUIET)
    said = moves(starter, audio)
    assert [m for m, _ in said] == ["start", "stop", "start"]
    (_, first_start), (_, stop), (_, last_start) = said
    # Started a short quiet after the first part, stopped within a word of the second.
    assert 1500 + QUIET <= first_start <= 1500 + QUIET + 100
    assert 2300 <= stop <= 2300 + AmdSettings().min_word_length + 60
    # The last start is within 300 ms of the greeting's end (3.8 s): a beepless recorder
    # starts recording there, so the message is on it whole.
    assert 3800 <= last_start <= 3800 + 300
    assert not starter.final  # a beepless end is never sure: it keeps listening


def test_a_beep_after_the_quiet_stops_the_message_and_its_end_starts_it_for_good(
    rng: np.random.Generator,
) -> None:
    greeting = pcm(silence(0.3), words(rng, 8, 0.3, 0.1))  # ends at 3.4 s
    detector = AnswerDetector()
    found = detect_with(detector, greeting)
    starter = detector.message_start()
    rest = greeting[found.after_ms * 16 :] + pcm(silence(0.45), tone(1000, 0.3), silence(3))
    said = [(m, found.after_ms + at) for m, at in moves(starter, rest)]
    assert [m for m, _ in said] == ["start", "stop", "start"]
    assert said[0][1] <= 3850  # in the quiet before the beep (it came at 3.85 s)
    assert 3850 <= said[1][1] <= 3850 + 60  # the beep stops it at once
    beep_end = 3850 + 300
    assert beep_end <= said[2][1] <= beep_end + 300
    assert starter.final
    assert starter.starts[-1].reason == "BEEP-1000"
    assert starter.feed(pcm(words(rng, 3, 0.3, 0.1))) is None  # for good: nothing undoes it


def test_talk_well_under_the_greeting_does_not_stop_the_message(
    rng: np.random.Generator,
) -> None:
    greeting = pcm(words(rng, 6, 0.3, 0.1))
    behind = words(rng, 6, 0.3, 0.1) * 10 ** (-25 / 20)  # someone 25 dB under, after the end
    starter = MessageStart(quiet_ms=QUIET)
    said = moves(starter, greeting + pcm(silence(0.5), behind, silence(1)))
    assert [m for m, _ in said] == ["start"]


def test_off_means_the_greeting_end_finder_alone(rng: np.random.Generator) -> None:
    greeting = pcm(words(rng, 4, 0.3, 0.1))  # 1.5 s
    wait = AmdSettings().greeting_end_silence
    starter = MessageStart(quiet_ms=wait)
    said = moves(starter, greeting + pcm(silence(0.8)) + greeting + pcm(silence(3)))
    assert [m for m, _ in said] == ["start"]  # no pause of 2 s inside: one start, at the end
    assert said[0][1] >= 3800 + wait

"""The voice gate's phrase hold and melody test (vad.py, issue 16 h-ear), through the ear as the
detectors hear a line: each fixes what the tests show with it on against the ear without it (OFF:
the ear before h-amd8, which made them the defaults)."""

import dataclasses

import numpy as np
import pytest

from dialer.domain.call import AnsweredBy
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.answer_features import NAMES
from dialer.telephony.detection import AnswerDetector, GreetingEndDetector
from dialer.telephony.ear import Ear, Frame
from dialer.telephony.vad import GateSettings
from tests.unit.test_detection import Audio, detect, noise, pcm, silence, syllable

# Each part off, as the defaults were before h-amd8: the comparisons below are against it.
OFF = AmdSettings(
    voice_hold=0, voice_hold_margin=10.0, melody_frames=0, melody_notes=0, foreground_lock=0.0
)
HOLD = dataclasses.replace(OFF, voice_hold=300, voice_hold_margin=6.0, voice_hold_range=30.0)
MELODY = dataclasses.replace(OFF, melody_frames=4)
RATE = 8000
FRAMES_PER_S = 50


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(16)


def heard(audio: bytes, settings: AmdSettings) -> list[bool]:
    """Each 20 ms frame's voice verdict (the ear holds its first frames back: padded here)."""
    ear = Ear(settings)
    out: list[bool] = []
    padded = audio + bytes(320 * 5)
    for at in range(0, len(padded), 320):
        out += [frame.voice for frame in ear.hear(padded[at : at + 320])]
    return out[: len(audio) // 320]


def frames(seconds: float) -> int:
    return round(seconds * FRAMES_PER_S)


def note(hz: float, seconds: float, dbfs: float = -20.0) -> Audio:
    """A held note with a few harmonics (an instrument's, not a pure tone's, so the tone tracker
    leaves it to the gate), at one pitch from start to end."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * hz * h * t) / h for h in (1, 2, 3, 4, 5))
    return x / np.sqrt(np.mean(x**2)) * 32768 * 10 ** (dbfs / 20)


def test_the_ear_of_h_amd8_is_the_default_and_the_gate_alone_keeps_each_part_off() -> None:
    # h-amd8 made h-ear's hold and melody test and h-amd7's lock the detector's defaults (the
    # verdict retuned and retrained on them); the gate's own defaults stay off (OFF's gate).
    gate = AmdSettings().gate()
    assert (gate.voice_hold, gate.voice_hold_margin, gate.melody_frames) == (300, 6.0, 4)
    assert (gate.foreground_lock, AmdSettings().melody_notes) == (12.0, 200)
    assert OFF.gate() == GateSettings()


def test_every_gate_field_is_carried_from_the_detectors_settings() -> None:
    # Each GateSettings field set away from its default in AmdSettings reaches the gate: a
    # field added to the gate but not carried would silently keep its default.
    changed = {
        f.name: getattr(GateSettings(), f.name) + (7 if f.type in (int, "int") else 1.5)
        for f in dataclasses.fields(GateSettings)
    }
    gate = dataclasses.replace(AmdSettings(), **changed).gate()
    assert {name: getattr(gate, name) for name in changed} == changed


def test_a_phrases_soft_sound_is_held_as_voice(rng: np.random.Generator) -> None:
    # A syllable, 200 ms of soft unvoiced sound (a fricative at -46 dBFS: under the -40 dBFS
    # threshold, unvoiced past the 100 ms hangover), another syllable: one phrase.
    audio = pcm(
        silence(0.4),
        syllable(rng, 0.3),
        noise(rng, 0.2, -46.0),
        syllable(rng, 0.3),
        silence(0.6),
    )
    soft = slice(frames(0.7) + 1, frames(0.9) - 1)
    assert not any(heard(audio, OFF)[soft])  # without the hold: cut into two words
    assert all(heard(audio, HOLD)[soft])


def test_the_hold_ends_with_the_phrases_sound_and_after_its_time(
    rng: np.random.Generator,
) -> None:
    # Silence after the phrase is not held; nor is soft sound beyond voice_hold.
    audio = pcm(silence(0.4), syllable(rng, 0.3), silence(0.6), syllable(rng, 0.3))
    voice = heard(audio, HOLD)
    assert not any(voice[frames(0.72) : frames(1.3)])
    long_soft = pcm(silence(0.4), syllable(rng, 0.3), noise(rng, 0.8, -46.0), silence(0.4))
    voice = heard(long_soft, HOLD)
    assert voice[frames(0.75)]
    assert not any(voice[frames(0.7) + frames(0.3) + 1 : frames(1.5)])


def test_the_hold_does_not_make_noise_alone_voice(rng: np.random.Generator) -> None:
    # Before any voice there is nothing to hold: a soft noise burst is not a word.
    audio = pcm(silence(0.4), noise(rng, 0.5, -46.0), silence(0.4))
    assert not any(heard(audio, HOLD))


def test_a_melodys_held_notes_are_not_voice() -> None:
    notes = [note(hz, 0.3) for hz in (392.0, 440.0, 523.3, 440.0)]
    parts: list[Audio] = [silence(0.4)]
    for played in notes:
        parts += [played, silence(0.02)]
    audio = pcm(*parts)
    before = heard(audio, OFF)
    after = heard(audio, MELODY)
    assert sum(before) >= frames(0.8)  # without the test: most of the melody is voice
    # With the test on, only each note's first frames are left: its onset (the 40 ms window
    # still holds the silence before it) and the frames before its pitch has held.
    assert sum(after) <= 4 * MELODY.melody_frames


def test_a_voice_whose_pitch_glides_is_still_voice(rng: np.random.Generator) -> None:
    audio = pcm(silence(0.4), syllable(rng, 0.4), silence(0.1), syllable(rng, 0.4), silence(0.4))
    assert sum(heard(audio, MELODY)) >= sum(heard(audio, OFF)) - 2


def test_the_ear_marks_a_melodys_held_notes() -> None:
    # A held note is neither voice nor a beep, but a timing cue: music before a greeting.
    audio = pcm(silence(0.4), note(440.0, 0.4), silence(0.2))
    marked = [f.note for f in _frames(audio, MELODY)]
    assert sum(marked) >= frames(0.4) - 2 * MELODY.melody_frames
    assert not any(f.note for f in _frames(audio, OFF))


def _frames(audio: bytes, settings: AmdSettings) -> list[Frame]:
    ear = Ear(settings)
    padded = audio + bytes(320 * 5)
    return [f for at in range(0, len(padded), 320) for f in ear.hear(padded[at : at + 320])]


def test_a_melody_before_a_short_hello_is_a_machine(rng: np.random.Generator) -> None:
    # Music before a greeting (melody_notes, h-amd6): people do not answer with a tune. A short
    # "Hello?" after it would otherwise be a person; without the melody it still is.
    tune = [note(hz, 0.3) for hz in (392.0, 440.0, 523.3)]
    hello = [syllable(rng, 0.2), silence(0.04), syllable(rng, 0.3)]
    played = pcm(silence(0.3), *tune, silence(0.3), *hello, silence(3))
    rules = dataclasses.replace(MELODY, melody_notes=200, classifier=False)
    for settings in (rules, dataclasses.replace(rules, classifier=True)):
        found = detect(played, settings=settings)
        assert found.by is AnsweredBy.MACHINE, found
        assert "MELODY" in found.reason, found
        person = detect(pcm(silence(0.3), *hello, silence(3)), settings=settings)
        assert person.by is AnsweredBy.HUMAN, person
    # Off (melody_notes 0, the default before h-amd8), the notes are no verdict.
    off = detect(played, settings=MELODY)
    assert "MELODY" not in off.reason, off


def test_the_classifier_counts_a_melodys_notes_as_tone_time() -> None:
    # A held note is no voice and no room: the classifier's timeline counts it with the tones
    # (its tone_s feature), as h-amd6 trained it; before, the notes counted as loud non-voice.
    detector = AnswerDetector(dataclasses.replace(MELODY, classifier=True))
    detector.feed(pcm(silence(0.3), note(440.0, 0.6), silence(0.2)))
    timeline = detector._timeline
    assert timeline is not None
    vector = timeline.vector()
    assert vector[NAMES.index("tone_s")] >= 0.6 - 2 * MELODY.melody_frames * 0.02
    assert vector[NAMES.index("loud_unvoiced_share")] < 0.5


def _loud_then_14_db_under(rng: np.random.Generator) -> tuple[bytes, int]:
    """A 0.4 s syllable at -20 dBFS, 2.5 s of silence, then 1.45 s of syllables at -34 dBFS
    (a callee and the talk behind them, or a greeting's loud and quiet sentences); and the
    frame where the quiet part begins."""
    loud = syllable(rng, 0.4, -20.0)
    quiet = [syllable(rng, 0.25, -34.0) if n % 2 == 0 else silence(0.1) for n in range(9)]
    return pcm(silence(0.3), loud, silence(2.5), *quiet, silence(0.3)), frames(0.3 + 0.4 + 2.5)


def test_the_foreground_lock_keeps_talk_behind_a_waiting_callee_out(
    rng: np.random.Generator,
) -> None:
    # The callee's "Hello?" at -20 dBFS, then 3 s of waiting while someone behind them talks at
    # -34 dBFS. Without the lock the callee's level falls 2 dB a second while they wait, and
    # after a few seconds the talk behind is within 10 dB of it: heard as the callee.
    audio, start = _loud_then_14_db_under(rng)
    off = heard(audio, OFF)
    locked = heard(audio, dataclasses.replace(OFF, foreground_lock=12.0))
    assert sum(off[start:]) >= 10
    assert sum(locked[start:]) == 0
    assert locked[:start] == off[:start]  # the callee is heard as before


def test_the_greeting_end_finder_hears_a_quieter_sentence_of_the_greeting(
    rng: np.random.Generator,
) -> None:
    # A machine's greeting: a loud sentence, a pause, a sentence 14 dB quieter. The lock is for
    # a person waiting with talk behind them; the greeting-end finder unlocks the gate, or the
    # quieter sentence is silence and the greeting "ends" early (a tune m-long item, h-amd8).
    audio, start = _loud_then_14_db_under(rng)
    locked = dataclasses.replace(OFF, foreground_lock=12.0)
    assert sum(heard(audio, locked)[start:]) == 0
    ear = Ear(locked)
    ear.gate.unlock()
    padded = audio + bytes(320 * 5)
    voice = [f.voice for at in range(0, len(padded), 320) for f in ear.hear(padded[at : at + 320])]
    assert sum(voice[start : len(audio) // 320]) >= 10
    assert GreetingEndDetector(locked)._ear.gate._locking is False

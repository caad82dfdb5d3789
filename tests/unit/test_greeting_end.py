"""The greeting-end detector on the voicemail that issue 16 found it failing on: pauses inside
a greeting, soft speech, a vowel's steady harmonic, a melody before the greeting, and a line so
noisy the voice gate never hears a word. Each must end at the beep (or the greeting's clear
end), never before it."""

import numpy as np
import pytest

from dialer.telephony.detection import AmdSettings, AnswerDetector, GreetingEndDetector
from dialer.telephony.tones import FrameAnalyser
from tests.unit.test_detection import (
    RATE,
    Audio,
    chunks,
    detect_with,
    noise,
    pcm,
    silence,
    syllable,
    tone,
    words,
)

LATE_MS = 300  # the message must start within this of the greeting's end


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(16)


def ms(*parts: Audio) -> int:
    return round(sum(part.size for part in parts) * 1000 / RATE)


def ended(audio: Audio, *, heard_speech: bool = True) -> tuple[str, int]:
    waiting = GreetingEndDetector(AmdSettings(), heard_speech=heard_speech)
    for chunk in chunks(pcm(audio), 320):
        if waiting.feed(chunk):
            assert waiting.result is not None
            return waiting.result.reason, waiting.result.after_ms
    raise AssertionError("the greeting never ended")


def test_a_pause_of_one_and_a_half_seconds_inside_a_greeting_is_not_its_end(
    rng: np.random.Generator,
) -> None:
    first, pause, second = words(rng, 8, 0.25, 0.08), silence(1.5), words(rng, 8, 0.25, 0.08)
    reason, at = ended(np.concatenate([first, pause, second, silence(4)]))
    assert reason == f"SILENCE-{AmdSettings().greeting_end_silence}"
    assert at >= ms(first, pause, second)


def test_soft_speech_before_a_pause_is_still_the_greeting(rng: np.random.Generator) -> None:
    # A sentence trailing off 12 dB below the greeting's loudest, where the voice gate (which
    # takes quieter voices for talk behind the callee) hears no words, then a pause.
    loud = words(rng, 8, 0.25, 0.08)
    soft = np.concatenate([syllable(rng, 0.25, -32.0), silence(0.06)] * 4)
    pause = silence(1.2)
    rest = words(rng, 6, 0.25, 0.08)
    gap, beep = silence(0.4), tone(1000, 0.3)
    audio = np.concatenate([loud, soft, pause, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-1000"
    assert 0 <= at - ms(loud, soft, pause, rest, gap, beep) <= LATE_MS


def test_a_vowels_steady_harmonic_is_not_a_pip(rng: np.random.Generator) -> None:
    # A word ending on a vowel whose one harmonic holds still for 80 ms, then a short pause.
    word = syllable(rng, 0.3)
    harmonic = tone(450, 0.08, -20.0)
    pause = silence(0.35)
    rest = words(rng, 6, 0.25, 0.08)
    gap, beep = silence(0.3), tone(800, 0.25)
    audio = np.concatenate([word, harmonic, pause, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-800"
    assert 0 <= at - ms(word, harmonic, pause, rest, gap, beep) <= LATE_MS


def test_a_melody_of_chords_and_notes_before_the_greeting_is_not_its_end(
    rng: np.random.Generator,
) -> None:
    # A chord sounds like a voice to the voice gate; the note after it is steady, as a beep is.
    chord = sum(tone(hz, 0.35, -20.0) for hz in (262.0, 330.0, 392.0))
    notes = [chord, silence(0.02), tone(659, 0.3, -16.0), silence(0.02)] * 2
    melody = np.concatenate(notes)
    lead, greeting = silence(0.4), words(rng, 10, 0.25, 0.08)
    gap, beep = silence(0.5), tone(1400, 0.3)
    audio = np.concatenate([melody, lead, greeting, gap, beep, silence(3)])
    reason, at = ended(audio, heard_speech=False)
    assert reason == "BEEP-1400"
    assert 0 <= at - ms(melody, lead, greeting, gap, beep) <= LATE_MS


def test_pips_after_a_greeting_the_voice_gate_could_not_hear(rng: np.random.Generator) -> None:
    # A whispered (unvoiced) greeting: the voice gate hears no word, but it is plainly sound.
    whisper = np.concatenate([noise(rng, 0.3, -24.0), silence(0.1)] * 5)
    gap = silence(0.5)
    parts: list[Audio] = []
    for hz in (900.0, 1100.0, 1300.0):
        parts += [tone(hz, 0.1), silence(0.1)]
    pips = np.concatenate(parts[:-1])
    reason, at = ended(np.concatenate([whisper, gap, pips, silence(3)]), heard_speech=False)
    assert reason == "BEEP-1300"
    assert 0 <= at - ms(whisper, gap, pips) <= LATE_MS


def test_a_two_tone_beep_with_no_gap_ends_after_its_second_tone(
    rng: np.random.Generator,
) -> None:
    greeting, gap = words(rng, 10, 0.25, 0.08), silence(0.3)
    beep = np.concatenate([tone(1400, 0.15), tone(1000, 0.2)])
    reason, at = ended(np.concatenate([greeting, gap, beep, silence(3)]))
    assert reason == "BEEP-1000"
    assert 0 <= at - ms(greeting, gap, beep) <= LATE_MS


def steady_vowel(pitch: float, seconds: float, dbfs: float = -20.0) -> Audio:
    """A vowel held on one pitch whose second harmonic carries nearly all its power (a formant
    on it, the line cutting the fundamental): steady, as a beep is, but with its neighbouring
    harmonics 20 dB down."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = (
        np.sin(2 * np.pi * 2 * pitch * t)
        + 0.1 * np.sin(2 * np.pi * pitch * t)
        + 0.1 * np.sin(2 * np.pi * 3 * pitch * t)
    )
    return x / np.sqrt(np.mean(x**2)) * 32768 * 10 ** (dbfs / 20)


def test_a_held_vowel_with_its_neighbouring_harmonics_is_not_a_beep(
    rng: np.random.Generator,
) -> None:
    # "... Oh." said after a breath: it starts out of quiet and is steady for 200 ms.
    first, breath, vowel = words(rng, 8, 0.25, 0.08), silence(0.15), steady_vowel(205, 0.2)
    pause, rest = silence(0.6), words(rng, 6, 0.25, 0.08)
    gap, beep = silence(0.3), tone(1000, 0.3)
    audio = np.concatenate([first, breath, vowel, pause, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-1000"
    assert 0 <= at - ms(first, breath, vowel, pause, rest, gap, beep) <= LATE_MS


def test_a_held_vowel_is_voiced_and_a_beep_with_an_overtone_is_not() -> None:
    vowel = [f for f in FrameAnalyser().feed_frames(pcm(steady_vowel(205, 0.3))) if f.hz]
    overtone = tone(1000, 0.3) + tone(2000, 0.3, -27.0)  # its own second harmonic, 15 dB down
    beep = [f for f in FrameAnalyser().feed_frames(pcm(overtone)) if f.hz]
    assert vowel
    assert beep
    # The first frame holds the onset, which spreads power everywhere.
    assert all(f.voiced for f in vowel[1:])
    assert not any(f.voiced for f in beep[1:])


def test_a_melody_inside_a_greeting_is_not_its_end(rng: np.random.Generator) -> None:
    # "Hi, you've reached Sam" | a jingle of plain notes | "please leave a message" | beep.
    hello, lead = words(rng, 6, 0.25, 0.08), silence(0.3)
    notes = np.concatenate(
        [np.concatenate([tone(hz, 0.2, -18.0), silence(0.02)]) for hz in (523, 659, 784, 1047)]
    )
    after, rest = silence(0.4), words(rng, 8, 0.25, 0.08)
    gap, beep = silence(0.4), tone(1400, 0.3)
    audio = np.concatenate([hello, lead, notes, after, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-1400"
    assert 0 <= at - ms(hello, lead, notes, after, rest, gap, beep) <= LATE_MS


def test_a_beep_whose_pitch_a_codec_moves_by_15_hz_is_still_the_end(
    rng: np.random.Generator,
) -> None:
    # GSM and AMR-NB shift a beep's measured pitch by up to 17 Hz over its length.
    greeting, gap = words(rng, 10, 0.25, 0.08), silence(0.4)
    t = np.arange(round(0.4 * RATE)) / RATE
    beep = np.sin(2 * np.pi * (1400 * t + 20 * t**2)) * 32768 * 0.2  # 1400 -> 1416 Hz
    reason, at = ended(np.concatenate([greeting, gap, beep, silence(3)]))
    assert reason.startswith("BEEP-14")
    assert 0 <= at - ms(greeting, gap, beep) <= LATE_MS


def test_a_beep_still_playing_at_the_verdict_ends_the_greeting(rng: np.random.Generator) -> None:
    # The answer detector judges a machine by a beep once it has been steady 200 ms, and hands
    # over while it plays: its end is still the greeting's.
    greeting, gap, beep = words(rng, 3, 0.25, 0.3), silence(0.5), tone(1000, 0.8)
    audio = pcm(greeting, gap, beep, silence(3))
    detector = AnswerDetector()
    found = detect_with(detector, audio)
    assert found.reason == "BEEP-1000"
    assert found.after_ms < ms(greeting, gap, beep)
    waiting = detector.greeting_end()
    for chunk in chunks(audio[found.after_ms * 16 :], 320):
        if waiting.feed(chunk):
            break
    assert waiting.result is not None
    assert waiting.result.reason == "BEEP-1000"
    at = found.after_ms + waiting.result.after_ms
    assert 0 <= at - ms(greeting, gap, beep) <= LATE_MS


def babble(rng: np.random.Generator, seconds: float, dbfs: float) -> Audio:
    """Talk behind the machine: syllables with short gaps, at ``dbfs``."""
    parts: list[Audio] = []
    while sum(part.size for part in parts) < seconds * RATE:
        parts += [syllable(rng, rng.uniform(0.15, 0.3), dbfs), silence(rng.uniform(0.02, 0.08))]
    return np.concatenate(parts)[: round(seconds * RATE)]


@pytest.mark.parametrize("seed", range(5))
def test_a_beep_heard_through_talk_behind_the_machine_is_the_end(seed: int) -> None:
    # Someone talks in the room 12 dB under the beep, all through the call: just after the
    # beep the voice gate hears them as voice, but they are not the greeting going on.
    rng = np.random.default_rng(seed)
    greeting, gap, beep = words(rng, 10, 0.25, 0.08), silence(0.4), tone(1000, 0.8, -23.0)
    audio = np.concatenate([greeting, gap, beep, silence(3)])
    audio += babble(rng, audio.size / RATE, -35.0)
    reason, at = ended(audio)
    assert reason.startswith("BEEP-")
    assert abs(int(reason.removeprefix("BEEP-")) - 1000) <= 5  # the talk moves its pitch a little
    assert 0 <= at - ms(greeting, gap, beep) <= LATE_MS


def test_pips_with_talk_behind_them_between_are_still_a_row(rng: np.random.Generator) -> None:
    # Talk 12 dB under the pips from just before them on: the voice gate hears it between
    # them, which is no voice at the pips' level, so the row of three holds.
    greeting, gap = words(rng, 10, 0.25, 0.08), silence(0.4)
    pip, gaps = tone(1050, 0.08, -16.0), (silence(0.14), silence(0.1))
    pips = np.concatenate([pip, gaps[0], pip[:560], gaps[1], tone(1050, 0.14, -16.0)])
    head = ms(greeting, gap)
    audio = np.concatenate([greeting, gap, pips, silence(3)])
    audio[round(head * RATE / 1000) - 800 :] += babble(rng, ms(pips) / 1000 + 3.1, -28.0)
    reason, at = ended(audio)
    assert reason == "BEEP-1050"
    assert 0 <= at - ms(greeting, gap, pips) <= LATE_MS


def test_a_beep_broken_for_a_moment_by_a_sound_on_the_line_is_one_beep(
    rng: np.random.Generator,
) -> None:
    # A voiced burst as loud as the beep masks it for 40 ms (a codec in fan noise): its rest
    # comes back at the same pitch, and its end is the greeting's.
    greeting, gap = words(rng, 10, 0.25, 0.08), silence(0.4)
    beep = tone(1430, 0.9, -22.0)
    cut = round(0.3 * RATE)
    beep[cut : cut + round(0.04 * RATE)] = syllable(rng, 0.04, -22.0)
    reason, at = ended(np.concatenate([greeting, gap, beep, silence(3)]))
    assert reason == "BEEP-1430"
    assert 0 <= at - ms(greeting, gap, beep) <= LATE_MS


def test_three_pips_of_50_ms_are_a_beep(rng: np.random.Generator) -> None:
    # The 40 ms window hears a 50 ms pip as two tonal frames (here, the last one).
    greeting, gap = words(rng, 10, 0.25, 0.08), silence(0.41)
    parts: list[Audio] = []
    for hz in (690.0, 960.0, 1220.0):
        parts += [tone(hz, 0.05), silence(0.1)]
    pips = np.concatenate(parts[:-1])
    reason, at = ended(np.concatenate([greeting, gap, pips, silence(3)]))
    assert reason == "BEEP-1220"
    assert 0 <= at - ms(greeting, gap, pips) <= LATE_MS


def test_pips_at_one_pitch_joined_by_a_short_gap_are_still_three(
    rng: np.random.Generator,
) -> None:
    # The first two pips' 55 ms gap is short enough to join them as one broken tone; the third,
    # short, still ends a row of three, since the gap was quiet.
    greeting, gap = words(rng, 10, 0.25, 0.08), silence(0.4)
    pips = np.concatenate(
        [tone(830, 0.1), silence(0.055), tone(830, 0.14), silence(0.15), tone(830, 0.1)]
    )
    reason, at = ended(np.concatenate([greeting, gap, pips, silence(3)]))
    assert reason == "BEEP-830"
    assert 0 <= at - ms(greeting, gap, pips) <= LATE_MS


def test_two_short_harmonics_of_a_voice_in_a_row_are_not_a_beep(
    rng: np.random.Generator,
) -> None:
    # Two syllables whose harmonic near 410 Hz holds still for 80 ms each, out of quiet: two
    # short tones 13 Hz apart are no two-tone beep (its tones are each a beep's length).
    first, lead = words(rng, 6, 0.25, 0.08), silence(0.3)
    vowels = np.concatenate([tone(406, 0.08, -21.0), silence(0.08), tone(419, 0.08, -21.0)])
    pause, rest = silence(1.2), words(rng, 6, 0.25, 0.08)
    gap, beep = silence(0.4), tone(1640, 0.35)
    audio = np.concatenate([first, lead, vowels, pause, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-1640"
    assert 0 <= at - ms(first, lead, vowels, pause, rest, gap, beep) <= LATE_MS


def test_a_beep_after_a_greeting_of_45_seconds_is_still_the_end(
    rng: np.random.Generator,
) -> None:
    # Greetings run to 40 s; with the pauses and the last sentence the beep can end past 45 s.
    greeting = np.concatenate([words(rng, 10, 0.25, 0.08), silence(0.7)] * 14)
    gap, beep = silence(0.5), tone(1000, 0.5)
    assert ms(greeting, gap, beep) > 45000
    reason, at = ended(np.concatenate([greeting, gap, beep, silence(3)]))
    assert reason == "BEEP-1000"
    assert 0 <= at - ms(greeting, gap, beep) <= LATE_MS


def test_a_glide_of_a_voices_harmonic_is_not_a_row_of_pips(rng: np.random.Generator) -> None:
    # A falling vowel: its harmonic steps 536, 504, 469 Hz, 40 ms each with no gap; then the
    # rest of the word, 9 dB down, and a pause.
    first, lead = words(rng, 6, 0.25, 0.08), silence(0.1)
    glide = np.concatenate([tone(hz, 0.04, -18.0) for hz in (536.0, 504.0, 469.0)])
    tail, pause = syllable(rng, 0.12, -27.0), silence(1.0)
    rest, gap, beep = words(rng, 6, 0.25, 0.08), silence(0.4), tone(1440, 0.4)
    audio = np.concatenate([first, lead, glide, tail, pause, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-1440"
    assert 0 <= at - ms(first, lead, glide, tail, pause, rest, gap, beep) <= LATE_MS


def test_two_short_harmonics_at_one_pitch_with_quiet_between_are_not_one_beep(
    rng: np.random.Generator,
) -> None:
    # Two syllables' harmonics at 431 and 434 Hz, 40 ms each, 60 ms of quiet between: they are
    # not one beep broken (the break of a beep is masked, not quiet).
    first, lead = words(rng, 6, 0.25, 0.08), silence(0.2)
    pair = np.concatenate([tone(431, 0.04, -24.0), silence(0.06), tone(434, 0.04, -24.0)])
    pause, rest = silence(1.2), words(rng, 6, 0.25, 0.08)
    gap, beep = silence(0.4), tone(1200, 0.5)
    audio = np.concatenate([first, lead, pair, pause, rest, gap, beep, silence(3)])
    reason, at = ended(audio)
    assert reason == "BEEP-1200"
    assert 0 <= at - ms(first, lead, pair, pause, rest, gap, beep) <= LATE_MS


def test_a_chord_under_a_note_before_the_greeting_is_music_not_talk_behind(
    rng: np.random.Generator,
) -> None:
    # A note, then chords 12 dB under it: before any greeting, sound under a tone is more of
    # the music (which the voice gate hears as voice), not someone talking behind a beep.
    chord = sum(tone(hz, 0.6, -42.0) for hz in (262.0, 330.0, 392.0))
    melody = np.concatenate([silence(0.3), tone(443, 0.24, -25.0), silence(0.02), chord])
    lead, greeting = silence(0.3), words(rng, 10, 0.25, 0.08)
    gap, beep = silence(0.5), tone(1060, 0.4)
    audio = np.concatenate([melody, lead, greeting, gap, beep, silence(3)])
    reason, at = ended(audio, heard_speech=False)
    assert reason == "BEEP-1060"
    assert 0 <= at - ms(melody, lead, greeting, gap, beep) <= LATE_MS

"""Who answered, from the first seconds of audio: a person, an answering machine, or a fax.

``AnswerDetector`` is Asterisk's app_amd state machine (its parameters, defaults and causes, see
``AmdSettings``) over 20 ms frames of 8 kHz s16le PCM, with three additions:

- silence is judged against an adaptive noise floor as well as a fixed threshold, so a caller in
  a noisy room is not one long word;
- a beep (a steady tone, 400-2500 Hz, at least ``beep_min_length``) means MACHINE;
- fax tones win over any speech verdict: CED (2100 Hz answer tone, ``ced_min_length``) and CNG
  (1100 Hz calling tone, 0.5 s on and 3 s off, ``cng_min_length`` of it).

Where app_amd says NOTSURE (``total_analysis_time`` passed without a verdict) this says HUMAN:
the cost of hanging up on a person, or playing a message to a machine's tape as if to them, is
worse than leaving a message on a machine that said little. ``Detection.reason`` keeps the
app_amd cause (``TOOLONG-5000``) so reports can tell these apart.

``GreetingEndDetector`` then waits for the machine's greeting to end (beep, or silence after
speech), so a message left on it is recorded whole.

Both take audio fed in any sizes and decide at frame boundaries, so the verdict and its time do
not depend on how the audio was chunked.
"""

from dataclasses import dataclass

from dialer.domain.amd_mode import AmdMode
from dialer.domain.call import AnsweredBy
from dialer.telephony import answer_model
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.answer_features import NAMES, Timeline
from dialer.telephony.ear import (
    CED_HZ,
    CED_TOLERANCE,
    CNG_HZ,
    CNG_TOLERANCE,
    Ear,
    Frame,
    fax_band,
    is_beep,
    pure,
)
from dialer.telephony.greeting_end import GreetingEnd, GreetingEndDetector
from dialer.telephony.message_start import MessageStart
from dialer.telephony.tones import FRAME_MS, ToneRun

# The timeline's voice in all, seconds: after long talk a person's pause is the rules' longer one.
VOICE_S = NAMES.index("voice_s")
# A tone still playing is a beep once it has been steady this long; a shorter one is judged
# when it ends. A voice's harmonic can hold still for 120 ms, rarely for 200.
_STEADY_MS = 200
# A sound this far below silence_threshold can still be a soft voice on a quiet line (the
# noise floor decides): a hello at -41 dBFS on a clean mu-law line was judged dead air.
_SOFT_RANGE_DB = 15.0
# A soft sound is a word if it stops within this: a passing car's rumble swells for seconds.
_SOFT_WORD_MAX_MS = 1500
# Gaps this short do not end a soft sound: rumble flickers around the margin frame by frame.
_SOFT_GAP_MS = 40

__all__ = [
    "AmdSettings",
    "AnswerDetector",
    "Detection",
    "GreetingEnd",
    "GreetingEndDetector",
    "MessageStart",
]


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict, when it was reached (ms of audio fed), and app_amd's cause for it."""

    by: AnsweredBy
    after_ms: int
    reason: str


class AnswerDetector:
    """Feed the callee's audio from the answer on; the first non-None result is the verdict
    (later calls return it again)."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.settings = s = settings or AmdSettings()
        self._ear = Ear(self.settings)
        self.result: Detection | None = None
        # app_amd's state, its names.
        self._in_initial_silence = True
        self._in_greeting = False
        self._in_word = True  # app_amd starts "in a word": a first word needs silence before it
        self._words = 0
        self._voice = 0
        self._consecutive_voice = 0
        self._silence = 0
        # The limits in force: app_amd's, until a person's opening loosens them.
        self._greeting_limit = s.greeting
        self._words_limit = s.maximum_number_of_words
        self._openings = 0
        self._utterance_voice = 0  # voice in the utterance being spoken (or just ended)
        self._beep_ended: ToneRun | None = None  # a beep the verdict came after
        self._first_voice: int | None = None  # when voice was first heard, ms
        self._all_voice = 0  # voice since then, never reset by an opening
        # Sound by level before any word (initial_sound_margin): someone is there, if too
        # quietly for the voice gate, so the line is not dead air (INITIALSILENCE).
        self._initial_sound = 0
        self._initial_gap = 0  # quiet since the last sound, ms
        self._initial_peak = 0.0  # the sound's loudest frame above the noise floor, dB
        self._heard_sound = False
        self._notes = 0  # a melody's held notes before the first word, ms (melody_notes)
        self._timeline = Timeline() if s.classifier else None
        self._rules: Detection | None = None  # the rules' verdict, when the classifier judges
        self._next_point = answer_model.FIRST_MS

    def feed(self, pcm: bytes) -> Detection | None:
        if self.result is not None:
            return self.result
        for frame in self._ear.hear(pcm):
            judge = self._speech if self._timeline is None else self._classified
            self.result = self._fax(frame) or self._beep(frame) or judge(frame)
            if self.result is not None:
                break
        return self.result

    def greeting_end(self) -> GreetingEndDetector:
        """A GreetingEndDetector that carries on from here: same noise floor, and knowing whether
        speech was heard. Feed it the audio after what was fed to this detector."""
        return GreetingEndDetector(
            self.settings, heard_speech=self._in_greeting, ear=self._ear, beep=self._beep_ended
        )

    def message_start(self) -> MessageStart:
        """A MessageStart that carries on from here, as ``greeting_end`` does: when to start a
        message left on the machine, and when to stop it and start again."""
        return MessageStart(
            self.settings,
            quiet_ms=self.settings.message_quiet,
            heard_speech=self._in_greeting,
            ear=self._ear,
            beep=self._beep_ended,
        )

    def _at(self, frame: Frame) -> int:
        return (frame.index + 1) * FRAME_MS

    def _fax(self, frame: Frame) -> Detection | None:
        run = frame.tone
        if run is None:
            return None
        s = self.settings
        if abs(run.hz - CED_HZ) <= CED_TOLERANCE and run.length_ms >= s.ced_min_length:
            return Detection(AnsweredBy.FAX, self._at(frame), f"CED-{run.length_ms}")
        if abs(run.hz - CNG_HZ) <= CNG_TOLERANCE and run.length_ms >= s.cng_min_length:
            return Detection(AnsweredBy.FAX, self._at(frame), f"CNG-{run.length_ms}")
        return None

    def _beep(self, frame: Frame) -> Detection | None:
        s = self.settings
        # A tone at a fax frequency is a beep only once it has stopped short of a fax tone.
        for run, complete in ((frame.tone, False), (frame.ended, True)):
            if run is None or not is_beep(run, s):
                continue
            if complete:
                self._beep_ended = run  # over already: the greeting detector starts after it
            elif fax_band(run.hz) or run.length_ms < max(_STEADY_MS, s.beep_min_length):
                continue
            return Detection(AnsweredBy.MACHINE, self._at(frame), f"BEEP-{round(run.hz)}")
        return None

    def _speech(self, frame: Frame) -> Detection | None:
        s = self.settings
        at = self._at(frame)
        if at >= s.total_analysis_time:
            return self._out_of_time(at)
        if (
            frame.ended is not None
            and self._in_initial_silence
            and s.tones_as_voice
            and self._vowel(frame.ended)
        ):
            self._tone_was_voice(frame.ended)
        if frame.tone is not None:
            return None  # neither voice nor silence: the fax and beep checks judge a tone
        if frame.note and self._in_initial_silence and s.melody_notes > 0:
            # Music before a greeting: people do not answer with a tune.
            self._notes += FRAME_MS
            if self._notes >= s.melody_notes:
                return Detection(AnsweredBy.MACHINE, at, f"MELODY-{self._notes}")
        if self._in_initial_silence and s.initial_sound_margin > 0.0:
            self._listen_softly(frame)
        if not frame.voice:
            self._silence += FRAME_MS
            if self._silence >= s.between_words_silence:
                self._in_word = False
                self._consecutive_voice = 0
            if (
                self._in_initial_silence
                and not self._heard_sound
                and self._silence >= s.initial_silence
            ):
                return Detection(
                    AnsweredBy.MACHINE, at, f"INITIALSILENCE-{self._silence}-{s.initial_silence}"
                )
            needed = s.after_greeting_silence
            if self._all_voice >= s.long_talk_voice:
                needed = max(needed, s.long_talk_silence)
            if self._in_greeting and self._silence >= needed:
                return Detection(AnsweredBy.HUMAN, at, f"HUMAN-{self._silence}-{needed}")
            if self._in_greeting and self._silence == s.opening_pause:
                self._utterance_ended()
            return None
        if self._silence >= s.opening_pause:
            self._utterance_voice = 0
        self._silence = 0  # app_amd's silence is the current run (ast_dsp_silence)
        self._all_voice += FRAME_MS
        if self._first_voice is None:
            self._first_voice = at - FRAME_MS
        self._consecutive_voice += FRAME_MS
        self._voice += FRAME_MS
        self._utterance_voice += FRAME_MS
        if self._consecutive_voice >= s.min_word_length and not self._in_word:
            self._words += 1
            self._in_word = True
        if self._consecutive_voice >= s.maximum_word_length:
            return Detection(AnsweredBy.MACHINE, at, f"MAXWORDLENGTH-{self._consecutive_voice}")
        if self._words > self._words_limit:
            return Detection(AnsweredBy.MACHINE, at, f"MAXWORDS-{self._words}-{self._words_limit}")
        if self._in_greeting and self._voice >= self._greeting_limit:
            return Detection(
                AnsweredBy.MACHINE, at, f"LONGGREETING-{self._voice}-{self._greeting_limit}"
            )
        if self._consecutive_voice >= s.min_word_length:
            self._in_initial_silence = False
            self._in_greeting = True
        return None

    def _classified(self, frame: Frame) -> Detection | None:
        """The classifier's verdict at its decision points; app_amd's INITIALSILENCE before."""
        timeline = self._timeline
        assert timeline is not None
        timeline.hear(frame)
        s = self.settings
        at = self._at(frame)
        if self._rules is None:
            # app_amd's rules run alongside: dead air is theirs alone, and their verdict is
            # taken where the classifier does not contradict it (answer_model.verdict).
            rules = self._speech(frame)
            if rules is not None and rules.reason.startswith("INITIALSILENCE"):
                return rules
            if rules is not None and not rules.reason.startswith("TOOLONG"):
                self._rules = rules
        if at < self._next_point:
            return None
        if frame.tone is not None and at < answer_model.LAST_MS:
            return None  # a tone is playing: the fax and beep checks judge it when it is long
        self._next_point += answer_model.STEP_MS
        machine = None
        margin = 0.0
        # Until a word's worth was said, dead air, a fax or a melody is for the rules.
        if timeline.spoke:
            self._in_greeting = True
            vector = timeline.vector()
            margin = answer_model.margin(vector)
            rules_by = None if self._rules is None else self._rules.by is AnsweredBy.MACHINE
            long_talk = vector[VOICE_S] * 1000 >= s.long_talk_voice
            machine = answer_model.verdict(
                margin,
                at,
                timeline.silence_ms,
                timeline.talk_ms,
                rules_by,
                s.long_talk_silence if long_talk else 0,
                self._rules is not None and self._rules.reason.startswith("MAXWORDS"),
            )
        elif self._rules is not None:
            # The rules heard a word the features did not (a vowel the line made a tone,
            # tones_as_voice): theirs is the only verdict on it.
            return Detection(self._rules.by, at, self._rules.reason)
        if machine is not None:
            by = AnsweredBy.MACHINE if machine else AnsweredBy.HUMAN
            agreed = "" if self._rules is None else f"+{self._rules.reason}"
            return Detection(by, at, f"CLASSIFIER-{margin:.1f}{agreed}")
        if at < answer_model.LAST_MS:
            return None
        by = AnsweredBy.HUMAN if s.mode is AmdMode.PREFER_PEOPLE else AnsweredBy.MACHINE
        return Detection(by, at, f"TOOLONG-{at}")

    def _listen_softly(self, frame: Frame) -> None:
        """Before the first word: sound by level that a voice gate may not hear (too soft, or
        too noisy to be periodic). A word's worth of it means someone is there, so the line
        is not dead air (no INITIALSILENCE)."""
        s = self.settings
        soft = max(s.silence_threshold - _SOFT_RANGE_DB, frame.floor + s.initial_sound_margin)
        if frame.voice or frame.level >= soft:
            self._initial_sound += self._initial_gap + FRAME_MS
            self._initial_gap = 0
            self._initial_peak = max(self._initial_peak, frame.level - frame.floor)
        elif self._initial_sound:
            # A word's length, rising noise_margin above the floor (as the gate's level
            # test), then quiet again: a voice. Street rumble hovers around the margin for
            # seconds, so a gap of a frame or two does not end the sound.
            self._initial_gap += FRAME_MS
            if self._initial_gap > _SOFT_GAP_MS:
                run = self._initial_sound
                self._heard_sound |= (
                    s.min_word_length <= run <= _SOFT_WORD_MAX_MS
                    and self._initial_peak >= s.noise_margin
                )
                self._initial_sound = self._initial_gap = 0
                self._initial_peak = 0.0

    def _vowel(self, run: ToneRun) -> bool:
        """Whether a tone that ended without a verdict was part of a word: too short for a beep
        (a vowel's harmonic on a band-limited line, 60-100 ms), or with a voice's neighbouring
        harmonics around it."""
        return run.length_ms < self.settings.beep_min_length or not pure(run)

    def _tone_was_voice(self, run: ToneRun) -> None:
        """Count a vowel's tone as the voice it was: its frames were held back as neither voice
        nor silence, so a short "Hello?" whose vowel was tonal made no word, and the callee was
        judged a machine by INITIALSILENCE."""
        s = self.settings
        if self._silence >= s.opening_pause:
            self._utterance_voice = 0
        self._silence = 0
        length = run.length_ms
        if self._first_voice is None:
            self._first_voice = run.first * FRAME_MS
        self._all_voice += length
        self._voice += length
        self._utterance_voice += length
        self._consecutive_voice += length
        if self._consecutive_voice >= s.min_word_length:
            if not self._in_word:
                self._words += 1
                self._in_word = True
            self._in_initial_silence = False
            self._in_greeting = True

    def _out_of_time(self, at: int) -> Detection:
        s = self.settings
        if self._in_greeting and self._silence >= s.after_greeting_silence:
            # Still quiet after long talk, short of long_talk_silence: that longer wait was a
            # chance for a machine to go on, and the time is up, so app_amd's pause stands.
            needed = s.after_greeting_silence
            return Detection(AnsweredBy.HUMAN, at, f"HUMAN-{self._silence}-{needed}")
        if self._first_voice is not None and self._silence < s.opening_pause:
            share = self._all_voice / max(at - self._first_voice, FRAME_MS)
            if share >= s.sustained_talk:
                return Detection(AnsweredBy.MACHINE, at, f"TALKING-{round(100 * share)}")
        by = AnsweredBy.HUMAN if s.mode is AmdMode.PREFER_PEOPLE else AnsweredBy.MACHINE
        return Detection(by, at, f"TOOLONG-{at}")

    def _utterance_ended(self) -> None:
        """A pause of ``opening_pause`` after an utterance: if it was a person's short opening
        ("Hello?", "Er,"), what follows is judged afresh and more loosely: people say hello and
        go on ("Hullo? Oh hi, sorry, I was out in the garden."), or hesitate."""
        s = self.settings
        if self._openings >= s.openings or self._utterance_voice > s.opening_max_voice:
            return
        self._openings += 1
        self._words = 0
        self._voice = 0
        self._greeting_limit = max(s.greeting, s.greeting_after_opening)
        self._words_limit = max(s.maximum_number_of_words, s.words_after_opening)

"""After a MACHINE verdict: when the greeting is over, so a message left on it is recorded
whole (detection.py's AnswerDetector hands over its Ear)."""

from dataclasses import dataclass

from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.ear import Ear, Frame, pure
from dialer.telephony.tones import FRAME_MS, ToneRun

# Before any greeting was heard, a tone may be a melody before it: wait this long after it.
_SETTLE_BEFORE_SPEECH_MS = 1000
# A tone shorter than beep_min_length is a pip only if it follows another tone this closely
# (pips are 50-150 ms apart): alone, it is more likely a vowel's harmonic.
_PIP_GAP_MS = 300
# A lone beep starts out of quiet (the greeting has stopped): a note of a melody starts right
# after the last note or chord, a vowel's harmonic inside its word.
_QUIET_BEFORE_BEEP_MS = 60
# Sound this far below the greeting's voice (its loudest, as the voice gate tracks it) is the
# room behind the machine's microphone or the line, not the greeting: soft syllables are rarely
# more than 20 dB down, talk behind at least 10 dB below its average.
_TALKER_RANGE_DB = 15.0
# Sound this long after a tone (voiced or not) is the greeting going on: the tone was a
# vowel's harmonic. Longer than a word, so the odd burst of noise on the line does not count.
_SOUND_AFTER_TONE_MS = 200
_MAX_DRIFT_HZ = 20.0
# Beeps come as one tone, two, or three pips: a longer row of tones is a melody.
_LONGEST_BEEP_ROW = 3
# This much sound (by level, not tonal) since the last long steady tone is a greeting heard,
# even when a noisy or band-limited line never lets the voice gate hear a word. Sound between
# such tones is more likely music (chords and chimes between plain notes).
_HEARD_SOUND_MS = 500
# Talk behind the machine (babble, a television) goes on through and after the beep, and the
# voice gate hears it as voice. A word or sound whose loudest frame is this far below the tone
# just heard is not the greeting going on: a vowel's harmonic is part of its word, which is
# about as loud, while a beep is well over the talk behind it.
_UNDER_TONE_DB = 10.0
# A beep that a codec or noise breaks for a frame or three (GSM in fan noise), or a row of
# pips whose gaps the 40 ms window smears, comes back at the same pitch this soon: one tone.
# The same pitch to a few Hz: a vowel's harmonic moves more between two of its pieces.
_BREAK_FRAMES = 3
_JOIN_HZ = 8.0
# A tone's onset half fills the frame before its first tonal one, and the window lags a frame:
# this much voice just before a tone may be the tone itself.
_ONSET_MS = 2 * FRAME_MS


@dataclass(frozen=True, slots=True)
class GreetingEnd:
    """Why the greeting is over (``BEEP-1000``, ``SILENCE-2000``, ``MAXWAIT-60000``), and when
    (ms of audio fed to the GreetingEndDetector)."""

    reason: str
    after_ms: int


class GreetingEndDetector:
    """After a MACHINE verdict: ``feed`` turns True once the greeting is over, at the end of a
    beep (the last of two tones or a row of pips: ``beep_settle`` of quiet after it), after
    ``greeting_end_silence`` of quiet following speech, or when ``greeting_end_max_wait`` has
    passed whatever was heard. ``result`` says which and when.

    Quiet is judged by level, not by the voice gate: the end of a sentence, a soft syllable or
    a word said well below the greeting's loudest is still the greeting, and a pause inside it
    must not be taken for its end. A tone followed by sound is not the end either: a beep is
    followed by the recording's silence, a vowel's steady harmonic by more of the word. Talk
    well under the tone (``_UNDER_TONE_DB``) is someone behind the machine and does not count,
    around the beep or between pips; a tone that comes back at its pitch after a break of a
    frame or three is one tone with it.

    ``heard_speech``: whether the greeting had begun before this detector started (True when
    the verdict came from speech); until then, silence is the pause before a greeting, and a
    tone may be a melody before it, so a beep needs a longer quiet after it.
    """

    def __init__(
        self,
        settings: AmdSettings | None = None,
        *,
        heard_speech: bool = True,
        ear: Ear | None = None,
        beep: ToneRun | None = None,
    ) -> None:
        self.settings = settings or AmdSettings()
        self._ear = ear or Ear(self.settings)
        self._ear.gate.unlock()  # the greeting is the machine's, all of it (vad.SpeechGate.unlock)
        self._start = self._ear.frames
        self._heard_speech = heard_speech
        self._silence = 0
        self._voice = 0  # consecutive voice, ms
        self._sound = 0  # consecutive sound (by level), ms
        # The last beep, while waiting to see that nothing follows (one that ended just before
        # the verdict, if the answer detector saw it).
        self._beep = beep
        self._after_beep = 0  # ms with no tone and no voice since it ended
        self._heard_sound = 0  # sound (by level, not tonal) in all, ms
        self._unvoiced = 0  # consecutive frames neither voice nor tone, ms
        self._unvoiced_before = 0  # ...before the current voice (a tone's onset may be voiced)
        # The tones in a row so far, the one playing included: a row begins out of quiet, and
        # goes on with tones that follow closely with no voice between (0: not such a row).
        # A tone still playing at the verdict (the answer detector's beep) begins a row.
        self._row = 1 if beep is not None or self._ear.tones.current is not None else 0
        # The loudest frame of the tone playing or last heard, dBFS (a beep handed over: its
        # level is not known, so nothing counts as under it).
        self._peak = -200.0
        self._tone_after_speech = False  # the greeting had been heard when it began
        # The last tone that ended, of any length, and its loudest frame: a tone that comes
        # back at its pitch after a break is its rest (_joins), not the next of a row.
        self._piece: ToneRun | None = beep
        self._piece_peak = self._peak
        self._joins = False
        self._prior: ToneRun | None = None  # the tone before the last piece
        self._gap_quiet = False  # a quiet frame since the last tone: pips, not a break
        self._gap_voice = 0  # voice since the last tone, not under it, ms
        self._word_top = -200.0  # the loudest frame of the voice now going on (_voice)
        self._near_voice = 0  # of which not under the last tone, ms
        self._sound_top = -200.0  # the loudest frame of the sound now going on (_sound)
        self.result: GreetingEnd | None = None

    def feed(self, pcm: bytes) -> bool:
        if self.result is not None:
            return True
        s = self.settings
        for frame in self._ear.hear(pcm):
            at = (frame.index + 1 - self._start) * FRAME_MS
            ended = frame.ended
            loud = self._loud(frame)
            spoken = self._spoken(frame)
            tone = frame.tone
            if ended is not None:
                ended = self._joined(ended)
            steady = ended is not None and self._steady(ended)
            if ended is not None and steady:
                if 0 < self._row <= _LONGEST_BEEP_ROW and self._is_end_candidate(ended):
                    self._beep, self._after_beep = ended, 0
                else:
                    self._beep = None  # a steady tone that is no beep: the last was none either
            if tone is not None and tone.first == frame.index:
                # A break with a quiet frame in it is a gap between pips: the next of a row.
                self._joins = not self._gap_quiet and self._is_rest_of_piece(tone)
                if not self._joins:
                    self._row = self._next_row(tone)
                self._peak = frame.level
                self._tone_after_speech = self._heard_speech
            if tone is not None:
                self._peak = max(self._peak, frame.level)
            under = self._under_tone(frame.level)
            if tone is None:
                self._gap_quiet = self._gap_quiet or not loud
                self._gap_voice += FRAME_MS * (spoken and not under)
            else:
                self._gap_quiet, self._gap_voice = False, 0
            if steady:
                pass  # the wait after it starts with the next frame
            elif tone is not None:
                self._after_beep = 0  # another tone is playing: wait for its end
            elif self._beep is not None and not (spoken and not under):
                self._after_beep += FRAME_MS
            # A greeting is heard from a word's worth of voice, or enough sound in all: a
            # click or a burst of noise alone does not start the wait for its end.
            self._voice = self._voice + FRAME_MS if spoken else 0
            self._word_top = max(self._word_top, frame.level) if spoken else -200.0
            self._near_voice = (self._near_voice + FRAME_MS * (not under)) if spoken else 0
            sounding = loud and frame.tone is None
            self._sound = self._sound + FRAME_MS if sounding else 0
            self._sound_top = max(self._sound_top, frame.level) if sounding else -200.0
            if steady and ended is not None and ended.length_ms >= s.beep_min_length:
                self._heard_sound = 0  # music: notes between chords or chimes
            elif loud and tone is None:
                self._heard_sound += FRAME_MS
            if self._voice >= s.min_word_length or self._heard_sound >= _HEARD_SOUND_MS:
                self._heard_speech = True
            if (self._voice >= s.min_word_length and not self._under_tone(self._word_top)) or (
                self._sound >= _SOUND_AFTER_TONE_MS and not self._under_tone(self._sound_top)
            ):
                self._beep = None  # speech or sound after a tone: it was not the end
            if spoken or tone is not None:
                # A tone's first frame may be voiced without being tonal yet: remember the
                # quiet before it.
                self._unvoiced_before = self._unvoiced if tone is None else 0
                self._unvoiced = 0
            else:
                self._unvoiced += FRAME_MS
            if loud or tone is not None:
                self._silence = 0
            else:
                self._silence += FRAME_MS
                if self._heard_speech and self._silence >= s.greeting_end_silence:
                    self.result = GreetingEnd(f"SILENCE-{self._silence}", at)
            settle = s.beep_settle if self._heard_speech else _SETTLE_BEFORE_SPEECH_MS
            if self._beep is not None and self._after_beep >= settle:
                self.result = GreetingEnd(f"BEEP-{round(self._beep.hz)}", at)
            if self.result is None and at >= s.greeting_end_max_wait:
                self.result = GreetingEnd(f"MAXWAIT-{at}", at)
            if self.result is not None:
                return True
        return False

    def _loud(self, frame: Frame) -> bool:
        """Sound rather than the line's quiet: voice, or a level well above the noise floor."""
        s = self.settings
        floor = max(s.silence_threshold, frame.floor + s.noise_margin)
        return frame.voice or frame.level >= max(floor, self._ear.gate.talker - _TALKER_RANGE_DB)

    def _steady(self, run: ToneRun) -> bool:
        """A beep's pitch and length, steady, and not a voice's harmonic. Steady to
        ``_MAX_DRIFT_HZ`` rather than ``beep_max_drift``: GSM and AMR move a beep's measured
        pitch by up to 17 Hz, and the neighbouring harmonics tell a voice better than drift."""
        s = self.settings
        return (
            s.beep_low_hz <= run.hz <= s.beep_high_hz
            and run.length_ms >= s.pip_min_length
            and run.drift_hz <= max(s.beep_max_drift, _MAX_DRIFT_HZ)
            and pure(run)
        )

    def _spoken(self, frame: Frame) -> bool:
        """Voice at the greeting's level. The gate judges talk behind by 200 ms levels, so
        just after a loud beep it lets quieter talk through as voice."""
        return frame.voice and frame.level >= self._ear.gate.talker - _TALKER_RANGE_DB

    def _next_row(self, tone: ToneRun) -> int:
        """How many tones the row has with ``tone``, starting now: 1 if it follows quiet (a
        frame of its onset may be voiced), one more if it closely follows the last tone with no
        voice between (a two-tone beep, pips, or the notes of a melody), else 0. Between tones,
        voice well under the last one is talk behind, and two frames of voice its onset."""
        quiet = self._unvoiced or (self._unvoiced_before if self._voice <= FRAME_MS else 0)
        last = self._piece
        if (
            self._row
            and last is not None
            and self._gap_voice <= _ONSET_MS
            and (tone.first - last.last) * FRAME_MS <= _PIP_GAP_MS
        ):
            return self._row + 1
        return 1 if quiet >= _QUIET_BEFORE_BEEP_MS else 0

    def _under_tone(self, level: float) -> bool:
        """Whether sound at ``level`` is well under the tone last heard, which followed the
        greeting: talk behind. (Before the greeting, sound under a note is more music.)"""
        return self._tone_after_speech and level <= self._peak - _UNDER_TONE_DB

    def _is_rest_of_piece(self, tone: ToneRun) -> bool:
        """Whether ``tone``, just begun, is the last tone coming back after a break."""
        piece = self._piece
        return (
            piece is not None
            and abs(tone.hz - piece.hz) <= _JOIN_HZ
            and tone.first - piece.last - 1 <= _BREAK_FRAMES
        )

    def _joined(self, run: ToneRun) -> ToneRun:
        """``run``, just ended, joined to the tone it is the rest of (if it is one); it is
        then the last piece."""
        piece = self._piece
        if self._joins and piece is not None:
            run = ToneRun(
                piece.hz,
                piece.first,
                run.last,
                min(piece.low_hz, run.low_hz),
                max(piece.high_hz, run.high_hz),
                piece.voiced + run.voiced,
            )
            self._peak = max(self._peak, self._piece_peak)
        else:
            self._prior = piece
        self._piece, self._piece_peak, self._joins = run, self._peak, False
        return run

    def _is_end_candidate(self, run: ToneRun) -> bool:
        """A steady tone that may end the greeting: long enough to be a beep on its own, or,
        after the greeting began, a short one right after two others (the last of three pips:
        two short tones in a row are more often two vowels' harmonics than a beep, whose two
        tones are each a beep's length)."""
        s = self.settings
        if run.length_ms >= s.beep_min_length:
            return True
        last = self._prior
        return (
            self._heard_speech
            and self._row >= _LONGEST_BEEP_ROW
            and last is not None
            and FRAME_MS < (run.first - last.last) * FRAME_MS <= _PIP_GAP_MS
        )

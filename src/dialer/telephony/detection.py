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

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from dialer.domain.amd_mode import AmdMode
from dialer.domain.call import AnsweredBy
from dialer.telephony import answer_model
from dialer.telephony.answer_features import Timeline
from dialer.telephony.tones import FRAME_MS, FrameAnalyser, FrameFacts, ToneRun, ToneTracker
from dialer.telephony.vad import GateSettings, SpeechGate

_CED_HZ, _CED_TOLERANCE = 2100.0, 30.0  # ITU-T V.25: 2100 +- 15 Hz, plus measurement slack
_CNG_HZ, _CNG_TOLERANCE = 1100.0, 40.0  # ITU-T T.30: 1100 +- 38 Hz
_START_FRAMES = 5  # 100 ms: how much of the line's start decides whether it starts steady
# Before any greeting was heard, a tone may be a melody before it: wait this long after it.
_SETTLE_BEFORE_SPEECH_MS = 1000
# A tone still playing is a beep once it has been steady this long; a shorter one is judged
# when it ends. A voice's harmonic can hold still for 120 ms, rarely for 200.
_STEADY_MS = 200


@dataclass(frozen=True, slots=True)
class AmdSettings:
    """app_amd's parameters (times in ms of audio), then this module's additions.

    ``maximum_number_of_words``: app_amd decides MACHINE when the count goes *past* it. Its
    default is 2 in current Asterisk and was 3 before; 4 here. A word is any 100 ms of voice
    after 50 ms of silence, so a person's short answer ("Hello, this is Sarah.") often counts 3
    or 4, and hanging up on a person is the worse mistake: it counts against the abandoned-call
    limit, while a machine taken for a person only hears the call flow
    (docs/speech-and-detection.md has the figures for 3 and 4).

    ``silence_threshold``: frames quieter than this (RMS, dBFS) are silence whatever the noise;
    -40 dBFS is about app_amd's 256 (mean absolute sample value). Louder frames are voice only
    ``noise_margin`` dB above the noise floor: the quietest frame of the last ``noise_window``
    ms, capped at ``noise_ceiling`` so that a long steady sound (music on a greeting) stays
    sound rather than becoming the floor.

    ``tonality``: the share of a frame's power in one +-50 Hz band that makes it a tone. A tone
    of ``beep_low_hz``-``beep_high_hz`` lasting ``beep_min_length`` is a beep; CED (2100 Hz)
    for ``ced_min_length`` or CNG (1100 Hz) for ``cng_min_length`` is a fax.

    ``greeting_end_silence`` and ``greeting_end_max_wait``: the GreetingEndDetector's silence
    after speech, and how long it waits at most.
    """

    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 4
    silence_threshold: float = -40.0
    maximum_word_length: int = 5000
    # Not in app_amd:
    noise_margin: float = 10.0
    noise_window: int = 2000
    noise_ceiling: float = -35.0
    beep_min_length: int = 120
    beep_low_hz: float = 400.0
    beep_high_hz: float = 2500.0
    ced_min_length: int = 500
    cng_min_length: int = 400
    tonality: float = 0.85
    greeting_end_silence: int = 1500
    greeting_end_max_wait: int = 45000
    # The voice gate (vad.py): voicing, and the callee's level against the room's talk.
    periodicity: float = 0.45
    voicing_hangover: int = 100
    background_margin: float = 10.0
    talker_decay: float = 2.0
    # A person's opening: a short utterance ("Hello?", "Er,") of at most opening_max_voice,
    # then at least opening_pause of silence. After one (up to `openings` times) the counts
    # start again with the looser greeting_after_opening and words_after_opening, since what
    # follows is a person going on talking more often than a machine's greeting.
    opening_max_voice: int = 900
    opening_pause: int = 300
    openings: int = 2
    greeting_after_opening: int = 3000
    words_after_opening: int = 10
    # A beep is steady: its frequency moves less than this over the tone (a voice's harmonic
    # follows the pitch). After a beep the greeting detector waits beep_settle for a second
    # tone (two-tone beeps, pips) or more speech before calling the greeting over.
    beep_max_drift: float = 12.0
    beep_settle: int = 160
    # After a greeting, a steady tone this long may be one of a row of short pips.
    pip_min_length: int = 60
    # At total_analysis_time, still talking with voice this share of the time since the first
    # word is a machine (people have stopped by then); anything else is "not sure", which the
    # mode decides: a person, or a machine (AmdMode).
    sustained_talk: float = 0.6
    # After this much voice in all, a pause must be long_talk_silence (not
    # after_greeting_silence) to be a person waiting: a machine's greeting pauses between
    # sentences, and a person who said this much has usually said what they had to.
    long_talk_voice: int = 2000
    long_talk_silence: int = 1000
    mode: AmdMode = AmdMode.PREFER_PEOPLE
    # Decide person or machine by the trained classifier (answer_model.py) instead of the
    # speech rules above; the fax, beep and initial-silence rules still apply. Off by default:
    # on the held-out half it beat the rules' totals only narrowly, and it judges a person
    # from one short word, even before a fax tone has its length
    # (docs/speech-and-detection.md, "The classifier experiment", has the figures).
    classifier: bool = False

    def gate(self) -> GateSettings:
        return GateSettings(
            silence_threshold=self.silence_threshold,
            noise_margin=self.noise_margin,
            noise_window=self.noise_window,
            noise_ceiling=self.noise_ceiling,
            periodicity=self.periodicity,
            voicing_hangover=self.voicing_hangover,
            background_margin=self.background_margin,
            talker_decay=self.talker_decay,
        )


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict, when it was reached (ms of audio fed), and app_amd's cause for it."""

    by: AnsweredBy
    after_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class GreetingEnd:
    """Why the greeting is over (``BEEP-1000``, ``SILENCE-1500``, ``MAXWAIT-20000``), and when
    (ms of audio fed to the GreetingEndDetector)."""

    reason: str
    after_ms: int


@dataclass(frozen=True, slots=True)
class _Frame:
    index: int
    voice: bool
    tone: ToneRun | None  # the steady tone this frame is part of, if any
    ended: ToneRun | None  # a tone that stopped just before this frame
    level: float = 0.0  # dBFS
    floor: float = 0.0  # the noise floor the gate judged it against, dBFS


class _Ear:
    """Frames with their voice/silence call and tone runs; shared by both detectors, so the
    greeting-end detector continues with the noise floor the answer detector learned."""

    def __init__(self, settings: AmdSettings) -> None:
        self.settings = settings
        self.analyser = FrameAnalyser(settings.tonality, settings.silence_threshold - 5.0)
        self.tones = ToneTracker()
        self.gate = SpeechGate(settings.gate())
        self.frames = 0
        self._unread: deque[FrameFacts] = deque()
        self._started = False

    def hear(self, pcm: bytes) -> Iterator[_Frame]:
        """The frames ``pcm`` completes, after any an earlier caller left unread: a detector that
        stops at its verdict leaves the rest of the chunk to the next detector."""
        self._unread.extend(self.analyser.feed_frames(pcm))
        return self._read()

    def _read(self) -> Iterator[_Frame]:
        if not self._started:
            # Hold the first frames back until there are enough to judge how the line starts.
            if len(self._unread) < _START_FRAMES:
                return
            self.gate.start([facts.level for facts in list(self._unread)[:_START_FRAMES]])
            self._started = True
        while self._unread:
            facts = self._unread.popleft()
            index = self.frames
            self.frames += 1
            ended = self.tones.step(index, facts.hz)
            tone = self.tones.current
            # A tone is not speech: a beep or fax tone must not be taken for a word.
            samples = facts.samples if tone is None else None
            voice = self.gate.step(index, facts.level, samples)
            yield _Frame(index, voice, tone, ended, facts.level, self.gate.floor)


class AnswerDetector:
    """Feed the callee's audio from the answer on; the first non-None result is the verdict
    (later calls return it again)."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.settings = s = settings or AmdSettings()
        self._ear = _Ear(self.settings)
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
        self._timeline = Timeline() if s.classifier else None
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

    def greeting_end(self) -> "GreetingEndDetector":
        """A GreetingEndDetector that carries on from here: same noise floor, and knowing whether
        speech was heard. Feed it the audio after what was fed to this detector."""
        return GreetingEndDetector(
            self.settings, heard_speech=self._in_greeting, ear=self._ear, beep=self._beep_ended
        )

    def _at(self, frame: _Frame) -> int:
        return (frame.index + 1) * FRAME_MS

    def _fax(self, frame: _Frame) -> Detection | None:
        run = frame.tone
        if run is None:
            return None
        s = self.settings
        if abs(run.hz - _CED_HZ) <= _CED_TOLERANCE and run.length_ms >= s.ced_min_length:
            return Detection(AnsweredBy.FAX, self._at(frame), f"CED-{run.length_ms}")
        if abs(run.hz - _CNG_HZ) <= _CNG_TOLERANCE and run.length_ms >= s.cng_min_length:
            return Detection(AnsweredBy.FAX, self._at(frame), f"CNG-{run.length_ms}")
        return None

    def _beep(self, frame: _Frame) -> Detection | None:
        s = self.settings
        # A tone at a fax frequency is a beep only once it has stopped short of a fax tone.
        for run, complete in ((frame.tone, False), (frame.ended, True)):
            if run is None or not _is_beep(run, s):
                continue
            if complete:
                self._beep_ended = run  # over already: the greeting detector starts after it
            elif _fax_band(run.hz) or run.length_ms < max(_STEADY_MS, s.beep_min_length):
                continue
            return Detection(AnsweredBy.MACHINE, self._at(frame), f"BEEP-{round(run.hz)}")
        return None

    def _speech(self, frame: _Frame) -> Detection | None:
        s = self.settings
        at = self._at(frame)
        if at >= s.total_analysis_time:
            return self._out_of_time(at)
        if frame.tone is not None:
            return None  # neither voice nor silence: the fax and beep checks judge a tone
        if not frame.voice:
            self._silence += FRAME_MS
            if self._silence >= s.between_words_silence:
                self._in_word = False
                self._consecutive_voice = 0
            if self._in_initial_silence and self._silence >= s.initial_silence:
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

    def _classified(self, frame: _Frame) -> Detection | None:
        """The classifier's verdict at its decision points; app_amd's INITIALSILENCE before."""
        timeline = self._timeline
        assert timeline is not None
        timeline.step(frame.voice, frame.level, frame.floor, frame.tone is not None)
        s = self.settings
        at = self._at(frame)
        if frame.voice and self._first_voice is None:
            self._first_voice = at
        if frame.tone is None and not frame.voice:
            self._silence += FRAME_MS  # as app_amd: a tone is neither voice nor silence
        if self._first_voice is None and self._silence >= s.initial_silence:
            silence = self._silence
            return Detection(
                AnsweredBy.MACHINE, at, f"INITIALSILENCE-{silence}-{s.initial_silence}"
            )
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
            margin = answer_model.margin(timeline.vector())
            machine = answer_model.verdict(margin, at)
        if machine is True:
            return Detection(AnsweredBy.MACHINE, at, f"CLASSIFIER-{margin:.1f}")
        if machine is False:
            return Detection(AnsweredBy.HUMAN, at, f"CLASSIFIER-{margin:.1f}")
        if at < answer_model.LAST_MS:
            return None
        by = AnsweredBy.HUMAN if s.mode is AmdMode.PREFER_PEOPLE else AnsweredBy.MACHINE
        return Detection(by, at, f"TOOLONG-{at}")

    def _out_of_time(self, at: int) -> Detection:
        s = self.settings
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


class GreetingEndDetector:
    """After a MACHINE verdict: ``feed`` turns True once the greeting is over, at the end of a
    beep (the last of two tones or a run of pips: ``beep_settle`` after a beep, nothing more),
    after ``greeting_end_silence`` of silence following speech, or when
    ``greeting_end_max_wait`` has passed whatever was heard. ``result`` says which and when.

    ``heard_speech``: whether the greeting had begun before this detector started (True when
    the verdict came from speech); until then, silence is the pause before a greeting, and a
    tone may be a melody before it, so a beep needs a longer quiet after it.
    """

    def __init__(
        self,
        settings: AmdSettings | None = None,
        *,
        heard_speech: bool = True,
        ear: _Ear | None = None,
        beep: ToneRun | None = None,
    ) -> None:
        self.settings = settings or AmdSettings()
        self._ear = ear or _Ear(self.settings)
        self._start = self._ear.frames
        self._heard_speech = heard_speech
        self._silence = 0
        self._voice = 0  # consecutive voice, ms
        # The last beep, while waiting to see that nothing follows (one that ended just before
        # the verdict, if the answer detector saw it).
        self._beep = beep
        self._after_beep = 0  # ms since it ended
        self.result: GreetingEnd | None = None

    def feed(self, pcm: bytes) -> bool:
        if self.result is not None:
            return True
        s = self.settings
        for frame in self._ear.hear(pcm):
            at = (frame.index + 1 - self._start) * FRAME_MS
            ended = frame.ended
            shortest = s.pip_min_length if self._heard_speech else s.beep_min_length
            if ended is not None and _is_beep(ended, s, shortest):
                self._beep, self._after_beep = ended, 0
            elif frame.tone is not None:
                self._after_beep = 0  # another tone is playing: wait for its end
            elif self._beep is not None:
                self._after_beep += FRAME_MS
            # Speech is a word's worth of voice: a click or a burst of noise is not more
            # greeting, so it neither ends the silence nor starts the wait for one.
            self._voice = self._voice + FRAME_MS if frame.voice else 0
            if self._voice >= s.min_word_length:
                self._heard_speech = True
                self._silence = 0
                self._beep = None  # speech after a tone: the tone was not the end
            elif frame.tone is None:
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


def _fax_band(hz: float) -> bool:
    return abs(hz - _CED_HZ) <= _CED_TOLERANCE or abs(hz - _CNG_HZ) <= _CNG_TOLERANCE


def _is_beep(run: ToneRun, settings: AmdSettings, shortest: int | None = None) -> bool:
    return (
        settings.beep_low_hz <= run.hz <= settings.beep_high_hz
        and run.length_ms >= (settings.beep_min_length if shortest is None else shortest)
        and run.drift_hz <= settings.beep_max_drift
    )

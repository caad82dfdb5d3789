"""After a MACHINE verdict: when the greeting is over, so a message left on it is recorded
whole (detection.py's AnswerDetector hands over its Ear)."""

from dataclasses import dataclass

from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.ear import Ear, is_beep
from dialer.telephony.tones import FRAME_MS, ToneRun

# Before any greeting was heard, a tone may be a melody before it: wait this long after it.
_SETTLE_BEFORE_SPEECH_MS = 1000


@dataclass(frozen=True, slots=True)
class GreetingEnd:
    """Why the greeting is over (``BEEP-1000``, ``SILENCE-1500``, ``MAXWAIT-20000``), and when
    (ms of audio fed to the GreetingEndDetector)."""

    reason: str
    after_ms: int


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
        ear: Ear | None = None,
        beep: ToneRun | None = None,
    ) -> None:
        self.settings = settings or AmdSettings()
        self._ear = ear or Ear(self.settings)
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
            if ended is not None and is_beep(ended, s, shortest):
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

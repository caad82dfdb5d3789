"""After a MACHINE verdict: when to start the message, and when to stop it and start it again,
so that its last start is within a moment of the greeting's end.

A recorder starts recording at the beep, or, with no beep, when its greeting is over. Waiting
for proof that a beepless greeting is over (``greeting_end_silence``, 2 s of quiet) starts the
message late; starting after a short quiet starts it inside the greeting whenever the greeting
pauses that long, or in the quiet before its beep (102-899 ms in the broad corpus), and no rule
of timing alone can tell those apart from the end (docs/speech-and-detection.md, h-words).
Nothing is recorded before the end, though: so start after a short quiet (``quiet_ms``), and if
the greeting speaks again or a tone begins while the message plays, stop it and wait again. The
last start is then a short quiet after a beepless greeting's end, or the beep's end as the
greeting-end finder hears it, and the message on the recording is whole.

``feed`` returns ``"start"`` or ``"stop"`` when the message should start or stop (at most one
a chunk; feed 20 ms chunks, one RTP packet, so the switch is at the frame it was heard), and
``None`` otherwise. ``starts`` keeps every start (``GreetingEnd`` with the time from the first
audio fed), ``final`` turns True at a start nothing can undo (after a beep, or the greeting-end
finder's ``greeting_end_max_wait``).
"""

from dataclasses import replace

from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.ear import Ear
from dialer.telephony.greeting_end import GreetingEnd, GreetingEndDetector
from dialer.telephony.tones import FRAME_MS, ToneRun

# Voice this far below the greeting's loudest (as the voice gate tracks it) is someone behind
# the machine, not the greeting going on (greeting_end's _TALKER_RANGE_DB).
_TALKER_RANGE_DB = 15.0


class MessageStart:
    """When a message left on a machine starts, and when it stops to start again (module doc).

    ``quiet_ms``: the quiet after which the message starts (at most 300 ms, the issue's window
    after the end, less the level's decay); the greeting-end finder's other settings are
    ``settings``'. ``heard_speech``, ``ear`` and ``beep`` are handed to the finder as the
    answer detector hands them to ``GreetingEndDetector``.
    """

    def __init__(
        self,
        settings: AmdSettings | None = None,
        *,
        quiet_ms: int = 240,
        heard_speech: bool = True,
        ear: Ear | None = None,
        beep: ToneRun | None = None,
    ) -> None:
        self.settings = replace(settings or AmdSettings(), greeting_end_silence=quiet_ms)
        self._ear = ear or Ear(self.settings)
        self._origin = self._ear.frames
        self._finder: GreetingEndDetector | None = self._finder_from_here(heard_speech, beep)
        self._offset_ms = 0  # where the finder began, from the first audio fed
        self._voice = 0  # the greeting's voice while the message plays, ms in a row
        self.playing = False
        self.final = False
        self.starts: list[GreetingEnd] = []
        self.stops: list[int] = []  # ms from the first audio fed

    @property
    def at_ms(self) -> int:
        return (self._ear.frames - self._origin) * FRAME_MS

    def feed(self, pcm: bytes) -> str | None:
        if self.final:
            return None
        if self._finder is not None:
            if not self._finder.feed(pcm):
                return None
            end = self._finder.result
            assert end is not None  # feed returned True
            self.starts.append(GreetingEnd(end.reason, self._offset_ms + end.after_ms))
            self.final = not end.reason.startswith("SILENCE")
            self._finder, self.playing, self._voice = None, True, 0
            return "start"
        for frame in self._ear.hear(pcm):
            spoken = frame.voice and frame.level >= self._ear.gate.talker - _TALKER_RANGE_DB
            self._voice = self._voice + FRAME_MS if spoken else 0
            # A word of the greeting, or a tone (its beep, or the next note of its music):
            # the greeting was not over.
            if frame.tone is not None or self._voice >= self.settings.min_word_length:
                self.stops.append(self.at_ms)
                self.playing = False
                self._offset_ms = self.at_ms
                self._finder = self._finder_from_here(True, None)
                return "stop"
        return None

    def _finder_from_here(self, heard_speech: bool, beep: ToneRun | None) -> GreetingEndDetector:
        return GreetingEndDetector(
            self.settings, heard_speech=heard_speech, ear=self._ear, beep=beep
        )

"""What both detectors hear: 20 ms frames with their voice/silence call and the steady tone
they are part of, and which tones are beeps or fax tones."""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.tones import FrameAnalyser, FrameFacts, ToneRun, ToneTracker
from dialer.telephony.vad import SpeechGate

CED_HZ, CED_TOLERANCE = 2100.0, 30.0  # ITU-T V.25: 2100 +- 15 Hz, plus measurement slack
CNG_HZ, CNG_TOLERANCE = 1100.0, 40.0  # ITU-T T.30: 1100 +- 38 Hz
_START_FRAMES = 5  # 100 ms: how much of the line's start decides whether it starts steady


@dataclass(frozen=True, slots=True)
class Frame:
    index: int
    voice: bool
    tone: ToneRun | None  # the steady tone this frame is part of, if any
    ended: ToneRun | None  # a tone that stopped just before this frame
    level: float = 0.0  # dBFS
    floor: float = 0.0  # the noise floor the gate judged it against, dBFS
    voicing: float = 0.0  # the gate's periodicity (0 when not tested: quiet, or a tone)
    pitch_hz: float = 0.0  # and the pitch at its peak
    note: bool = False  # a held note of a melody (the gate's melody test; never voice)


class Ear:
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

    def hear(self, pcm: bytes) -> Iterator[Frame]:
        """The frames ``pcm`` completes, after any an earlier caller left unread: a detector that
        stops at its verdict leaves the rest of the chunk to the next detector."""
        self._unread.extend(self.analyser.feed_frames(pcm))
        return self._read()

    def _read(self) -> Iterator[Frame]:
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
            ended = self.tones.step(index, facts.hz, facts.voiced)
            tone = self.tones.current
            # A tone is not speech: a beep or fax tone must not be taken for a word.
            samples = facts.samples if tone is None else None
            voice = self.gate.step(index, facts.level, samples, tone is not None)
            gate = self.gate
            yield Frame(
                index,
                voice,
                tone,
                ended,
                facts.level,
                gate.floor,
                gate.voicing,
                gate.pitch_hz,
                gate.note,
            )


def fax_band(hz: float) -> bool:
    return abs(hz - CED_HZ) <= CED_TOLERANCE or abs(hz - CNG_HZ) <= CNG_TOLERANCE


def pure(run: ToneRun) -> bool:
    """Whether a steady tone is one, not a voice's harmonic: at most a third of its frames had a
    voice's neighbouring harmonics around it (tones.py)."""
    return 3 * run.voiced <= run.last - run.first + 1


def is_beep(run: ToneRun, settings: AmdSettings, shortest: int | None = None) -> bool:
    """A beep's pitch, length and steadiness, and (``beep_pure``) not a voice's harmonic: on a
    band-limited line a vowel's harmonic can hold still long enough to pass the rest."""
    return (
        settings.beep_low_hz <= run.hz <= settings.beep_high_hz
        and run.length_ms >= (settings.beep_min_length if shortest is None else shortest)
        and run.drift_hz <= settings.beep_max_drift
        and (not settings.beep_pure or pure(run))
    )

"""Whether a 20 ms frame is the callee speaking: louder than the line's noise, voiced like one
nearby talker, and not far below the callee's own voice.

Three tests, each against a mistake the energy rule alone made on real lines
(docs/speech-and-detection.md has the measurements):

- **above the noise floor**: louder than ``silence_threshold`` and ``noise_margin`` dB above the
  quietest frame of the last ``noise_window`` ms (capped at ``noise_ceiling``), so steady line
  noise, hum or a fan is not one long word;
- **voiced**: a frame's periodicity (its normalised autocorrelation's peak at a pitch lag,
  2.5-16 ms) at least ``periodicity``, or such a frame within ``voicing_hangover`` ms before it
  (the consonants between vowels). One talker near the phone is clearly periodic; noise is not,
  and several voices at once (a room's background talk) smear each other's periods;
- **the callee, not the room**: within ``background_margin`` dB of the callee's voice so far (the
  loudest voiced level heard, falling ``talker_decay`` dB a second), so people talking behind
  the callee, 10-20 dB quieter, are not taken for more of the callee's speech.

Three more, off in ``GateSettings``' own defaults and on in the answer detector's since h-amd8
(``AmdSettings``; issue 16, h-ear and h-amd7; docs/speech-and-detection.md has the figures):

- **the phrase held** (``voice_hold``): a phrase's soft syllables and consonants are quieter
  than the absolute threshold or not voiced; for a while after a frame judged voice, sound at
  the callee's level still is, so a phrase is not heard as words with pauses between them;
- **a melody is not voice** (``melody_frames``): music before a greeting is periodic too, but
  its notes hold one pitch, while a voice's pitch glides;
- **the callee's level locked** (``foreground_lock``): once their first phrase is heard, sound
  far under its level is the room, even after the callee's level has decayed while they wait.

The gate's per-frame work is a few numpy calls; the autocorrelation runs only on frames loud
enough to pass the first test.
"""

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FRAME_MS = 20
_RATE = 8000
_START_FRAMES = 5  # 100 ms: how much of the line's start decides whether it starts steady
_STEADY_START_DB = 6.0  # level spread (max - min) over those frames of a steady start
_START_RISE_DB = 0.4  # per frame (20 dB/s): how fast the assumed quiet start gives way
_LAG_LO, _LAG_HI = 20, 128  # pitch lags, samples at 8 kHz: 62.5-400 Hz
_FFT = 512  # zero-padded, so the autocorrelation up to _LAG_HI does not wrap
_SMOOTH = 10  # frames (200 ms): the level compared with the callee's is a syllable's, not a frame's
_LOCK_FRAMES = 10  # 200 ms of voiced voice: the callee's first phrase, whose level locks
# The peak may move to another multiple of the period from one frame to the next: a high note's
# period is shorter than the shortest lag, so all the peaks are multiples, nearly equal.
_OCTAVE_JUMPS = tuple(sorted({p / q for p in range(1, 7) for q in range(1, 7)}))


@dataclass(frozen=True, slots=True)
class GateSettings:
    silence_threshold: float = -40.0
    noise_margin: float = 10.0
    noise_window: int = 2000
    noise_ceiling: float = -35.0
    periodicity: float = 0.45
    voicing_hangover: int = 100
    background_margin: float = 10.0
    talker_decay: float = 2.0
    # h-ear (issue 16), off by default. ``voice_hold``: for this many ms after a frame judged
    # voice on its own, a frame is still voice if it is sound (``voice_hold_threshold`` dBFS
    # and ``voice_hold_margin`` above the floor, voiced or not) within ``voice_hold_range`` dB
    # of the callee's level over the last 200 ms: a phrase's soft syllables and consonants,
    # which the absolute threshold, the noise margin and the voicing test drop, so that a
    # phrase is not cut into words. 0: off.
    voice_hold: int = 0
    voice_hold_threshold: float = -55.0
    voice_hold_margin: float = 10.0
    voice_hold_range: float = 10.0
    # ``melody_frames``: this many frames in a row of one steady pitch (moving less than
    # ``melody_drift`` of itself a frame, octave jumps of the estimate allowed) is a note of a
    # melody, not voice: a voice's pitch glides. 0: off.
    melody_frames: int = 0
    melody_drift: float = 0.004
    # h-amd7 (issue 16), off here and 12 in AmdSettings since h-amd8. ``foreground_lock``:
    # once the callee's first phrase is heard (``_LOCK_FRAMES`` of voice at their level), a
    # frame whose last 200 ms are this many dB under the loudest of the callee's voice so far
    # is the room, not the callee, however long ago that was: ``talker_decay`` lets the
    # callee's level fall while they wait, and talk behind them 10-20 dB quieter is then heard
    # as theirs. 0: off.
    foreground_lock: float = 0.0


def periodicity(window: npt.NDArray[np.float64]) -> float:
    """The normalised autocorrelation's highest peak over pitch lags (0: none, 1: periodic)."""
    return pitch(window)[0]


def pitch(window: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(periodicity, the pitch in Hz at that peak); (0, 0) for a window without power. The
    peak may be at twice or three times the period (the unbiased scaling favours long lags), so
    the pitch may be an octave low: the classifier's features were trained on it as it is."""
    voicing, lag, _ = _peak(window)
    return (voicing, _RATE / lag) if lag else (0.0, 0.0)


def _peak(window: npt.NDArray[np.float64]) -> tuple[float, int, float]:
    """(periodicity, the lag of the autocorrelation's peak in samples, and that lag refined to
    the vertex of a parabola through the peak and its neighbours: fine enough to tell a held
    note from a gliding voice). (0, 0, 0) for a window without power."""
    x = window - window.mean()
    spectrum = np.fft.rfft(x, _FFT)
    corr = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, _FFT)
    if corr[0] <= 0.0:
        return 0.0, 0, 0.0
    # Unbiased: a lag's sum covers fewer samples, so it is scaled back up.
    n = x.size
    lags = corr[_LAG_LO:_LAG_HI] * (n / (n - np.arange(_LAG_LO, _LAG_HI)))
    peak = int(lags.argmax())
    vertex = 0.0
    if 0 < peak < lags.size - 1:
        left, mid, right = lags[peak - 1 : peak + 2].tolist()
        bend = left - 2.0 * mid + right
        if bend < 0.0:
            vertex = min(0.5, max(-0.5, 0.5 * (left - right) / bend))
    return float(lags[peak] / corr[0]), _LAG_LO + peak, _LAG_LO + peak + vertex


def _same_note(lag: float, before: float, drift: float) -> bool:
    """Whether two frames' lags are one steady pitch, allowing the estimate's octave jumps."""
    if not lag or not before:
        return False
    ratio = lag / before
    return any(abs(ratio - k) <= drift * k for k in _OCTAVE_JUMPS)


class SpeechGate:
    """Feed each frame's level (dBFS) and samples in order; ``step`` says whether it is the
    callee's voice. ``floor`` and ``talker`` are the current noise floor and callee level."""

    def __init__(self, settings: GateSettings | None = None) -> None:
        self.settings = s = settings or GateSettings()
        self._lows: deque[tuple[int, float]] = deque()  # monotonic queue: the window's minimum
        self._window = max(1, s.noise_window // FRAME_MS)
        self._quiet_start: bool | None = None
        self._start_floor = s.silence_threshold - s.noise_margin
        self._hangover = max(0, s.voicing_hangover // FRAME_MS)
        self._since_voiced = self._hangover + 1
        self._decay = s.talker_decay * FRAME_MS / 1000
        self.talker = -math.inf
        self.floor = s.silence_threshold
        self._recent: deque[float] = deque(maxlen=_SMOOTH)  # recent frames' power (linear)
        self._hold = max(0, s.voice_hold // FRAME_MS)
        self._since_heard = self._hold + 1  # frames since one was judged voice on its own
        self._steady = 0  # frames in a row of one steady pitch, after the first
        self._lag = 0.0  # the last voiced frame's fine pitch lag (0: none)
        # The last frame's voicing test, for the answer classifier's features (0 when the frame
        # was too quiet to test, or a tone).
        self.voicing = 0.0
        self.pitch_hz = 0.0
        self.note = False  # the last frame was a held note of a melody (``melody_frames``)
        self._foreground = -math.inf  # the callee's loudest voice (no decay), ``foreground_lock``
        self._foreground_frames = 0  # voiced frames judged the callee's
        self._locking = True  # ``unlock``: a machine's greeting, not a person waiting

    def start(self, first_levels: list[float]) -> None:
        """How the line starts, from its first frames' levels: steady is noise or silence, and
        is its own floor at once; varying is a callee already speaking, so until quieter frames
        show the real floor a quiet line is assumed, or a word spoken at once would be the floor
        and go unheard."""
        self._quiet_start = max(first_levels) - min(first_levels) > _STEADY_START_DB

    def step(
        self,
        index: int,
        level: float,
        samples: npt.NDArray[np.float64] | None,
        tone: bool = False,
    ) -> bool:
        """Frame ``index``'s verdict. ``samples``: the last 40 ms, for the voicing test (None
        for a frame that is a tone, which is never voice, or too quiet to test); ``tone``: the
        frame is a tone (only the phrase hold needs to tell the two apart)."""
        s = self.settings
        lows = self._lows
        while lows and lows[-1][1] >= level:
            lows.pop()
        lows.append((index, level))
        if lows[0][0] <= index - self._window:
            lows.popleft()
        floor = min(lows[0][1], s.noise_ceiling)
        if self._quiet_start:
            floor = min(floor, self._start_floor + _START_RISE_DB * index)
        self.floor = floor
        self.talker -= self._decay
        self._recent.append(10.0 ** (level / 10.0))
        gate = max(s.silence_threshold, floor + s.noise_margin)
        self.voicing = self.pitch_hz = 0.0
        self.note = False
        # The level of the last 200 ms: a syllable's, steadier than one frame's, so the callee's
        # own quieter sounds stay near their loudest, and talk behind them stays below.
        smooth = 10.0 * math.log10(sum(self._recent) / len(self._recent))
        if self._judge(level, gate, smooth, samples):
            self._since_heard = 0
            return True
        self._since_heard += 1
        return (
            self._since_heard <= self._hold
            and not tone
            and level > max(s.voice_hold_threshold, floor + s.voice_hold_margin)
            and smooth >= self.talker - s.voice_hold_range
            and self._foreground_ok(smooth)
        )

    def unlock(self) -> None:
        """No ``foreground_lock`` from here on: a machine's greeting is heard to its end, and a
        recording's quieter sentence is still the greeting, not talk behind someone (with the
        lock, one tune greeting's quiet stretch ended it 16 s early, h-amd8)."""
        self._locking = False

    def _foreground_ok(self, smooth: float) -> bool:
        """Not under the locked level of the callee's voice (``foreground_lock``)."""
        s = self.settings
        return (
            s.foreground_lock <= 0.0
            or not self._locking
            or self._foreground_frames < _LOCK_FRAMES
            or smooth >= self._foreground - s.foreground_lock
        )

    def _judge(
        self, level: float, gate: float, smooth: float, samples: npt.NDArray[np.float64] | None
    ) -> bool:
        """The frame's verdict on its own: loud enough, voiced (or just after a voiced frame),
        not a note of a melody, and at the callee's level."""
        s = self.settings
        if samples is None or level <= gate:
            self._since_voiced += 1
            self._lag = 0.0
            return False
        if s.periodicity > 0.0:
            self.voicing, lag, fine = _peak(samples)
            self.pitch_hz = _RATE / lag if lag else 0.0
            if s.melody_frames and self._note(fine):
                # A held note ends the voiced run: no hangover or hold carries voice into it.
                self.note = True
                self._since_voiced = self._hangover + 1
                self._since_heard = self._hold
                return False
        voiced = s.periodicity <= 0.0 or self.voicing >= s.periodicity
        if voiced:
            self._since_voiced = 0
            self.talker = max(self.talker, smooth)
        else:
            self._since_voiced += 1
            if self._since_voiced > self._hangover:
                return False
        if smooth < self.talker - s.background_margin or not self._foreground_ok(smooth):
            return False
        if voiced and s.foreground_lock > 0.0:
            self._foreground = max(self._foreground, smooth)
            self._foreground_frames += 1
        return True

    def _note(self, lag: float) -> bool:
        """Whether this voiced frame ends ``melody_frames`` frames of one steady pitch."""
        s = self.settings
        if self.voicing < s.periodicity:
            self._steady, self._lag = 0, 0.0
            return False
        self._steady = self._steady + 1 if _same_note(lag, self._lag, s.melody_drift) else 0
        self._lag = lag
        return self._steady + 1 >= s.melody_frames

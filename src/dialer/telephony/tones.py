"""What each 20 ms of a call's audio holds: its level, and whether it is one steady tone.

The detectors in ``detection.py`` make their decisions from these per-frame facts. Everything
numeric happens here, in a handful of numpy calls per frame (about 5 us for a quiet frame and
20 us for a loud one, spectrum included), so one process can listen to a few hundred calls.

A frame is *tonal* when one narrow band (+-50 Hz) holds most of its power. The spectrum is taken
over 40 ms (this frame and the previous, Hann-windowed, 25 Hz bins), which is what resolves fax
tones within their tolerances: the power in the bins around 1100 Hz or 2100 Hz is what a Goertzel
filter at that frequency would measure, read here from one FFT that also finds a beep's
frequency, whatever it is. Speech never qualifies: voiced sounds are a comb of harmonics, so no
single +-50 Hz band holds most of their power, and unvoiced ones are broadband.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

RATE = 8000
FRAME = 160  # samples: 20 ms
FRAME_MS = 20
_WINDOW = 2 * FRAME  # 40 ms analysis window: 25 Hz bins
_BIN_HZ = RATE / _WINDOW
_HANN = np.hanning(_WINDOW)
_FULL_SCALE_POWER = 32768.0**2
_PEAK_LO, _PEAK_HI = 14, 105  # peak search, bins: 350-2600 Hz (beeps and both fax tones)
_BAND_LO, _BAND_HI = 4, 157  # reference power, bins: 100-3900 Hz (no DC or mains hum)
_SILENT_DB = -120.0  # the level reported for digital silence
_SILENT_POWER = 10.0 ** (_SILENT_DB / 10)
# A voice's harmonic at n times its pitch has neighbours at (n - 1) and (n + 1) times it; a beep
# has none (its own overtones are at multiples of the beep's frequency, not between). On the
# broad corpus a voice's steady harmonic had neighbours at -23 dB (median) of its power, a
# beep's strongest "neighbours" at -47 dB and never above -25 dB.
_NEIGHBOUR_DB = -24.0
_NEIGHBOUR_SHARE = 10.0 ** (_NEIGHBOUR_DB / 10)
_PITCH_RATIOS = (2, 3, 4, 5)  # which harmonic of a voice's pitch the tone may be


@dataclass(frozen=True, slots=True)
class ToneRun:
    """A steady tone: its frequency, first frame, and last (tonal) frame so far."""

    hz: float
    first: int
    last: int
    low_hz: float = 0.0  # the lowest and highest frequency measured over the run: a beep is
    high_hz: float = 0.0  # steady to a few Hz, a voice's harmonic wanders with its pitch
    voiced: int = 0  # frames of the run with a voice's neighbouring harmonics around the tone

    @property
    def drift_hz(self) -> float:
        return self.high_hz - self.low_hz

    @property
    def length_ms(self) -> int:
        return (self.last - self.first + 1) * FRAME_MS

    @property
    def end_ms(self) -> int:
        """When the tone stopped, in audio time: the window's 20 ms lag taken off."""
        return self.last * FRAME_MS


class FrameFacts(NamedTuple):
    level: float  # dBFS, DC offset removed
    hz: float | None  # the tone's frequency, if the frame is tonal
    samples: npt.NDArray[np.float64] | None  # the last 40 ms, for frames loud enough to analyse
    voiced: bool = False  # the tone has neighbours at a voice's harmonics (see _NEIGHBOUR_DB)


class FrameAnalyser:
    """Cuts s16le bytes, fed in any sizes, into 20 ms frames and measures each.

    ``tonality``: the share of a frame's power (100-3900 Hz) that its strongest +-50 Hz band
    must hold for the frame to count as a tone. ``tone_floor_db``: quieter frames are never
    analysed for tones (and cost next to nothing).

    One frame at a time, whatever the chunk size: numpy's per-call overhead, not arithmetic, is
    what a 160-sample frame costs, so batching frames saves little, while measuring each frame
    the same way makes the results independent of how the audio was chunked.
    """

    def __init__(self, tonality: float = 0.85, tone_floor_db: float = -50.0) -> None:
        self.tonality = tonality
        self.tone_floor_db = tone_floor_db
        self._pending = b""
        self._previous = np.zeros(FRAME)

    def feed(self, pcm: bytes) -> list[tuple[float, float | None]]:
        """(level in dBFS, tone frequency if tonal) of each whole frame completed by ``pcm``."""
        return [(facts.level, facts.hz) for facts in self.feed_frames(pcm)]

    def feed_frames(self, pcm: bytes) -> list[FrameFacts]:
        """What each whole frame completed by ``pcm`` holds."""
        data = self._pending + pcm if self._pending else pcm
        count = len(data) // (2 * FRAME)
        self._pending = data[count * 2 * FRAME :]
        return [self._frame(data, offset) for offset in range(0, count * 2 * FRAME, 2 * FRAME)]

    def _frame(self, data: bytes, offset: int) -> FrameFacts:
        x = np.frombuffer(data, "<i2", FRAME, offset).astype(np.float64)
        total, energy = float(x.sum()), float(x.dot(x))
        # The variance: power without any DC offset the line may have, which is not sound.
        power = (energy - total * total / FRAME) / (FRAME * _FULL_SCALE_POWER)
        level = 10.0 * math.log10(power) if power > _SILENT_POWER else _SILENT_DB
        hz = None
        samples = None
        voiced = False
        if level >= self.tone_floor_db:
            samples = np.concatenate((self._previous, x))
            spectrum = np.abs(np.fft.rfft(samples * _HANN)) ** 2
            hz = self._tone(spectrum)
            voiced = hz is not None and _has_neighbours(spectrum, hz)
        self._previous = x
        return FrameFacts(level, hz, samples, voiced)

    def _tone(self, power: npt.NDArray[np.float64]) -> float | None:
        """The frequency of the one tone the power spectrum holds, or None."""
        k = _PEAK_LO + int(power[_PEAK_LO:_PEAK_HI].argmax())
        band = float(power[k - 2 : k + 3].sum())
        if band < self.tonality * float(power[_BAND_LO:_BAND_HI].sum()):
            return None
        # The true frequency, between bins: a parabola through three bins' log power.
        left, mid, right = (math.log(float(power[k + d]) + 1e-12) for d in (-1, 0, 1))
        curve = left - 2.0 * mid + right
        shift = min(0.5, max(-0.5, 0.5 * (left - right) / curve)) if curve < 0 else 0.0
        return (k + shift) * _BIN_HZ


def _has_neighbours(power: npt.NDArray[np.float64], hz: float) -> bool:
    """Whether the tone at ``hz`` looks like the n-th harmonic of a voice: power on both sides of
    it at ``hz`` -+ ``hz``/n (one side, where the other is out of the band) for some n."""
    k = round(hz / _BIN_HZ)
    threshold = _NEIGHBOUR_SHARE * float(power[k - 2 : k + 3].sum())
    for n in _PITCH_RATIOS:
        shares = [
            float(power[j - 1 : j + 2].sum())
            for j in (round((hz - hz / n) / _BIN_HZ), round((hz + hz / n) / _BIN_HZ))
            if _BAND_LO <= j < _BAND_HI
        ]
        if shares and min(shares) >= threshold:
            return True
    return False


class ToneTracker:
    """Joins tonal frames of one frequency into runs, bridging a single-frame dropout (a phase
    reversal in a fax answer tone, a codec glitch)."""

    def __init__(self, tolerance_hz: float = 20.0) -> None:
        self.tolerance_hz = tolerance_hz
        self.current: ToneRun | None = None

    def step(self, index: int, hz: float | None, voiced: bool = False) -> ToneRun | None:
        """Account for frame ``index`` (``hz`` None if not tonal; ``voiced`` if the tone has a
        voice's neighbouring harmonics); the run it ended, if any."""
        run = self.current
        if run is not None and hz is not None and abs(hz - run.hz) <= self.tolerance_hz:
            low, high = min(run.low_hz, hz), max(run.high_hz, hz)
            self.current = ToneRun(run.hz, run.first, index, low, high, run.voiced + voiced)
            return None
        if run is not None and index - run.last <= 1 and hz is None:
            return None  # a dropout: wait one more frame before calling the run over
        # A run's first frame is not counted as voiced: a tone's onset, half a window of it,
        # spreads power everywhere.
        self.current = ToneRun(hz, index, index, hz, hz) if hz is not None else None
        return run

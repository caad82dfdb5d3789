"""Special information tones: the three rising tones before an operator's announcement.

A carrier that cannot complete a call often answers 183 with an announcement ("all circuits are
busy", "the number you have dialled is not in service") and no final status for a long while;
the tones before it say which, in a code (ANSI T1.209). ``SitDetector`` reads them from early
media, fed in any sizes, 8 kHz s16le.
"""

from collections import deque

from dialer.telephony.tones import FRAME_MS, FrameAnalyser, ToneRun, ToneTracker

#: The ANSI T1.209 (Telcordia) SIT codes, keyed by the nominal (frequency Hz, duration ms) of the
#: first and second segments; the third is always 1776.7 Hz for 380 ms. The first segment is
#: 913.8 Hz (low) or 985.2 Hz (high), the second 1370.6 Hz (low) or 1428.5 Hz (high); a segment
#: is 274 ms (short) or 380 ms (long). NC and RO each have two codes: the second of each (NC'',
#: RO'') is the inter-LATA carrier's. The eight pairs left over are reserved. See
#: docs/sip-testing.md for the sources this table was checked against.
SIT_CLASSES: dict[tuple[tuple[float, int], tuple[float, int]], str] = {
    ((913.8, 274), (1370.6, 274)): "IC",  # intercept: vacant or changed number
    ((985.2, 380), (1428.5, 380)): "NC",  # no circuit: trunks busy, network management (NC')
    ((913.8, 380), (1370.6, 380)): "NC",  # the same, by an inter-LATA carrier (NC'')
    ((913.8, 274), (1428.5, 380)): "RO",  # reorder: equipment irregularity (RO')
    ((985.2, 274), (1370.6, 380)): "RO",  # the same, by an inter-LATA carrier (RO'')
    ((985.2, 380), (1370.6, 274)): "VC",  # vacant code: no such area or office code
    ((913.8, 380), (1428.5, 274)): "IO",  # ineffective other
}
#: What ``SitDetector`` reports for a well-formed SIT whose code is reserved.
SIT_UNASSIGNED = "SIT"

_SIT_FIRST_HZ = (913.8, 985.2)
_SIT_SECOND_HZ = (1370.6, 1428.5)
_SIT_THIRD_HZ = 1776.7
# The standard holds the frequencies to 0.2 %; an announcement played through codecs and cheap
# oscillators drifts further, and the low and high frequencies are only 58-71 Hz apart: accept
# this far from the nearer one.
_SIT_HZ_TOLERANCE = 35.0
# Short is 274 ms and long 380 ms (each +-5 %). A segment is measured from its start to the next
# one's, in whole frames: a short one measures 280-300 ms, a long one 380-400 ms.
_SIT_LONG_FROM_MS = 335
_SIT_SEGMENT_MS = (180, 500)  # a first or second segment's run, and its start-to-start span
_SIT_THIRD_MS = 200  # this much of the third segment decides: no need to wait for its end
_SIT_MAX_GAP_FRAMES = 4  # the standard allows 4 ms of silence between segments; allow 80 ms
_SIT_TONALITY = 0.7  # looser than answer detection's: the three-segment pattern is the guard


class SitDetector:
    """Recognises a special information tone (ITU-T E.180, ANSI T1.209) in a call's audio, as
    played before a network announcement ("the number you have dialled is not in service"),
    typically in early media.

    Feed 8 kHz mono s16le in any sizes. ``feed`` returns the SIT's ANSI code (``IC``, ``NC``,
    ``RO``, ``VC``, ``IO``; see ``SIT_CLASSES``, or ``SIT_UNASSIGNED`` for a reserved code)
    once 200 ms of the third segment follow the first two, and keeps returning it after that;
    until then None. ``after_ms`` is when it was recognised, in ms of audio fed.
    """

    def __init__(self) -> None:
        self._analyser = FrameAnalyser(_SIT_TONALITY)
        self._tones = ToneTracker()
        self._frames = 0
        self._ended: deque[ToneRun] = deque(maxlen=2)  # the last two complete tones
        self.result: str | None = None
        self.after_ms: int | None = None

    def feed(self, pcm: bytes) -> str | None:
        if self.result is not None:
            return self.result
        for _, hz in self._analyser.feed(pcm):
            index = self._frames
            self._frames += 1
            ended = self._tones.step(index, hz)
            if ended is not None:
                self._ended.append(ended)
            current = self._tones.current
            if current is not None and len(self._ended) == 2:
                code = _sit_code(self._ended[0], self._ended[1], current)
                if code is not None:
                    self.result = code
                    self.after_ms = (index + 1) * FRAME_MS
                    break
        return self.result


def _nearest(hz: float, nominal: tuple[float, ...]) -> float | None:
    best = min(nominal, key=lambda n: abs(hz - n))
    return best if abs(hz - best) <= _SIT_HZ_TOLERANCE else None


def _sit_code(first: ToneRun, second: ToneRun, third: ToneRun) -> str | None:
    """The SIT code of three consecutive tones, if they are one (the third still sounding)."""
    if abs(third.hz - _SIT_THIRD_HZ) > _SIT_HZ_TOLERANCE or third.length_ms < _SIT_THIRD_MS:
        return None
    first_hz, second_hz = _nearest(first.hz, _SIT_FIRST_HZ), _nearest(second.hz, _SIT_SECOND_HZ)
    if first_hz is None or second_hz is None:
        return None
    segments: list[tuple[float, int]] = []
    low, high = _SIT_SEGMENT_MS
    for run, nominal, following in ((first, first_hz, second), (second, second_hz, third)):
        if following.first - run.last > _SIT_MAX_GAP_FRAMES:
            return None
        # Start to start, not the run's own length: the analysis window blurs both ends of a
        # run the same way, so the difference of two starts is the segment's true length.
        span = (following.first - run.first) * FRAME_MS
        if run.length_ms < low or not low <= span <= high:
            return None
        segments.append((nominal, 380 if span >= _SIT_LONG_FROM_MS else 274))
    return SIT_CLASSES.get((segments[0], segments[1]), SIT_UNASSIGNED)

"""The timing and level facts of a call's opening seconds, as one vector for the answer classifier
(answer_model.py): how long the callee spoke, in how many utterances, how long they paused, how
loud they were against the line's noise, and how that changed.

``Timeline.step`` takes each 20 ms frame's verdicts from the detector's ear (voice or not, a
tone or not, its level and the noise floor); ``vector`` is the features at that moment. The
same code computes them when training (bench/amd_train.py) and when deciding, so the two
cannot drift apart. Everything is a few additions per frame; the vector is built only at the
classifier's decision points.
"""

import math

import numpy as np
import numpy.typing as npt

from dialer.telephony.ear import Frame
from dialer.telephony.tones import FRAME_MS

_PAUSE_MS = 300  # silence that separates two utterances (a person's "Hello?" ... "Hello?")
_WORD_GAP_MS = 50  # silence that separates two words (app_amd's between_words_silence)
_WORD_MS = 100  # voice that makes a word (app_amd's min_word_length)
_RECENT_FRAMES = 25  # 500 ms: the "level now" compared with the first utterance's

NAMES = (
    "time_s",
    "voice_s",
    "first_voice_s",
    "since_first_voice_s",
    "voice_share",
    "utterances",
    "first_utterance_s",
    "longest_utterance_s",
    "current_utterance_s",
    "current_silence_s",
    "longest_pause_s",
    "words",
    "voice_above_floor_db",
    "voice_level_spread_db",
    "level_change_db",
    "loud_unvoiced_share",
    "tone_s",
    "voice_last_1s",
    "voice_last_2s",
    # v2 (issue 16): the voice gate's voicing and pitch, the level's movement, the room.
    "last_voice_s",
    "voiced_share",
    "voicing_mean",
    "pitch_spread_st",
    "pitch_jump_share",
    "level_modulation_db",
    "background_db",
    "utterance_mean_s",
    "mean_pause_s",
    "words_per_voice_s",
)
# Measured, not in the model (issue 16, h-amd7; docs/speech-and-detection.md "h-amd7"): the pitch's
# movement at the end of the first utterance, ``Timeline.prosody``: how far its last frames rose
# from the lowest of its last 200 ms (semitones), and its slope over the last 100 ms (semitones a
# second). A question ("Hello?") ends on a rise (espeak-ng's: a fall-rise on the last syllable), a
# statement's end falls; but out of fold the classifier did worse with them (bench/amd_train.py
# --prosody), so the detector does not compute them.
PROSODY = ("first_pitch_rise_st", "first_pitch_slope_st_s")
_VOICED = 0.45  # the gate's periodicity that makes a frame voiced (AmdSettings.periodicity)
_JUMP_ST = 3.0  # a pitch step this many semitones between voiced frames is a jump
_END_FRAMES = 10  # 200 ms: the end of the first utterance whose pitch movement is measured
_END_POINTS = 4  # voiced frames it needs to be measured at all
_END_TAIL = 2  # voiced frames whose median is "the end"
_SLOPE_FRAMES = 5  # 100 ms: the last syllable's movement
# The gate's pitch may be at a multiple of the period (an octave or a twelfth low) or, rarely,
# the period's half: each frame's pitch is read as the one of these nearest the utterance's median.
_FOLDS_ST = tuple(12.0 * math.log2(k) for k in (1.0, 2.0, 3.0, 0.5))


class Timeline:
    """Feed every frame in order with ``step``; ``vector`` reads the features so far."""

    def __init__(self) -> None:
        self.frames = 0
        self._voice = 0
        self._first_voice: int | None = None
        self._utterances = 0
        self._utterance = 0  # voice frames in the current (or last) utterance
        self._first_utterance = 0
        self._longest_utterance = 0
        self._silence = 0  # current silence run, frames
        self._longest_pause = 0  # longest silence after the first voice, frames
        self._words = 0
        self._run = 0  # consecutive voice frames
        self._in_word = True  # as app_amd: a first word needs silence before it
        self._level_sum = 0.0
        self._level_square = 0.0
        self._level_raw = 0.0
        self._first_levels: list[float] = []
        self._recent: list[float] = []
        self._loud = 0
        self._loud_unvoiced = 0
        self._tone = 0
        self._voice_at: list[int] = []  # frame indexes of the last 2 s's voice frames
        self._last_voice = 0  # frames up to the end of the last voice frame
        self._voiced = 0  # voice frames the gate found periodic
        self._voicing = 0.0
        self._pitch = 0.0  # sums over voiced frames of the pitch in semitones, and its square
        self._pitch_square = 0.0
        self._previous_pitch = 0.0  # the last frame's, 0 if it was not voiced
        self._pitch_steps = 0
        self._pitch_jumps = 0
        self._previous_level: float | None = None  # the last frame's, if it was voice
        self._modulation = 0.0
        self._modulation_steps = 0
        self._room = 0.0  # summed level of loud frames that are not voice
        self._pauses = 0.0  # summed pauses between utterances, frames
        self._first_pitches: list[tuple[int, float]] = []  # (frame, semitones): voiced, 1st utt.

    def hear(self, frame: Frame) -> None:
        """One frame of the ear, as the answer detector and the benchmarks that model it read
        it: a melody's held note counts as tone time, not as a room."""
        self.step(
            frame.voice,
            frame.level,
            frame.floor,
            frame.tone is not None or frame.note,
            frame.voicing,
            frame.pitch_hz,
        )

    def step(
        self,
        voice: bool,
        level: float,
        floor: float,
        tone: bool,
        voicing: float = 0.0,
        pitch_hz: float = 0.0,
    ) -> None:
        self.frames += 1
        if tone:
            self._tone += 1
        above = level - floor
        if not voice:
            self._previous_pitch = 0.0
            self._previous_level = None
            if above > 10.0 and not tone:
                self._loud += 1
                self._loud_unvoiced += 1
                self._room += level
            self._silence += 1
            self._run = 0
            if self._silence * FRAME_MS >= _WORD_GAP_MS:
                self._in_word = False
            if self._first_voice is not None:
                self._longest_pause = max(self._longest_pause, self._silence)
            return
        self._loud += 1
        self._voice_at.append(self.frames)
        if self._first_voice is None:
            self._first_voice = self.frames - 1
        if self._utterances == 0 or self._silence * FRAME_MS >= _PAUSE_MS:
            if self._utterances:
                self._pauses += self._silence
            self._utterances += 1
            self._utterance = 0
        self._last_voice = self.frames
        self._voicing += voicing
        if voicing >= _VOICED and pitch_hz > 0.0:
            self._voiced += 1
            semitones = 12.0 * math.log2(pitch_hz / 100.0)
            self._pitch += semitones
            self._pitch_square += semitones * semitones
            if self._utterances == 1:
                self._first_pitches.append((self.frames, semitones))
            if self._previous_pitch:
                self._pitch_steps += 1
                self._pitch_jumps += abs(semitones - self._previous_pitch) > _JUMP_ST
            self._previous_pitch = semitones or 1e-9
        else:
            self._previous_pitch = 0.0
        if self._previous_level is not None:
            self._modulation += abs(level - self._previous_level)
            self._modulation_steps += 1
        self._previous_level = level
        self._silence = 0
        self._voice += 1
        self._utterance += 1
        self._run += 1
        if self._utterances == 1:
            self._first_utterance = self._utterance
            self._first_levels.append(level)
        self._longest_utterance = max(self._longest_utterance, self._utterance)
        if self._run * FRAME_MS >= _WORD_MS and not self._in_word:
            self._words += 1
            self._in_word = True
        self._level_sum += above
        self._level_square += level * level
        self._level_raw += level
        self._recent.append(level)
        if len(self._recent) > _RECENT_FRAMES:
            del self._recent[0]

    @property
    def spoke(self) -> bool:
        """Whether the callee has said a word's worth (an utterance of ``_WORD_MS``): until
        then a click, a burst of noise or a fax tone's edge is not someone speaking."""
        return self._longest_utterance * FRAME_MS >= _WORD_MS

    @property
    def silence_ms(self) -> int:
        """The silence (not voice) since the callee's last voice, ms."""
        return self._silence * FRAME_MS

    @property
    def talk_ms(self) -> int:
        """Time since the callee's first voice, ms (0 before it)."""
        return 0 if self._first_voice is None else (self.frames - self._first_voice) * FRAME_MS

    @property
    def first_pitch_measured(self) -> bool:
        """Whether the first utterance's end had enough voiced frames for its pitch movement."""
        return len(self._first_end()) >= _END_POINTS

    def _first_end(self) -> list[tuple[int, float]]:
        """The first utterance's voiced frames in its last ``_END_FRAMES`` (so far)."""
        pitches = self._first_pitches
        if not pitches:
            return []
        last = pitches[-1][0]
        end = []
        for point in reversed(pitches):
            if point[0] <= last - _END_FRAMES:
                break
            end.append(point)
        return end[::-1]

    def prosody(self) -> npt.NDArray[np.float64]:
        """The ``PROSODY`` features so far."""
        return np.array(self.first_pitch_movement())

    def first_pitch_movement(self) -> tuple[float, float]:
        """(rise, slope): the pitch's movement at the end of the first utterance (so far): its
        last frames' median above the lowest of its last ``_END_FRAMES`` (semitones), and the
        slope over its last ``_SLOPE_FRAMES`` (semitones a second; Theil-Sen, the median of the
        pairwise slopes, which a stray frame does not bend); (0, 0) when too few of its frames
        were voiced."""
        end = self._first_end()
        if len(end) < _END_POINTS:
            return 0.0, 0.0
        centre = float(np.median([st for _, st in self._first_pitches]))
        frames = np.array([i for i, _ in end], dtype=np.float64)
        raw = np.array([st for _, st in end])
        options = raw[:, None] + np.array(_FOLDS_ST)[None, :]
        folded = options[np.arange(len(raw)), np.abs(options - centre).argmin(axis=1)]
        rise = float(np.median(folded[-_END_TAIL:]) - folded.min())
        last = frames > frames[-1] - _SLOPE_FRAMES
        slope = 0.0
        if last.sum() >= 2:
            x, y = frames[last], folded[last]
            i, j = np.triu_indices(len(x), 1)
            slope = float(np.median((y[j] - y[i]) / (x[j] - x[i]))) * 1000.0 / FRAME_MS
        return rise, slope

    def vector(self) -> npt.NDArray[np.float64]:
        s = FRAME_MS / 1000.0
        now = self.frames
        second = 1000 // FRAME_MS
        while self._voice_at and self._voice_at[0] <= now - 2 * second:
            del self._voice_at[0]
        last_1s = sum(1 for i in self._voice_at if i > now - second)
        first = self._first_voice
        since = now - first if first is not None else 0
        voiced = max(self._voice, 1)
        mean_level = (sum(self._recent) / len(self._recent)) if self._recent else 0.0
        all_mean = self._level_square / voiced
        spread = 0.0
        if self._voice:
            mean = self._level_raw / voiced
            spread = math.sqrt(max(all_mean - mean * mean, 0.0))
        first_mean = (
            sum(self._first_levels) / len(self._first_levels) if self._first_levels else 0.0
        )
        current = self._utterance if self._silence == 0 else 0
        periodic = max(self._voiced, 1)
        pitch_mean = self._pitch / periodic
        pitch_spread = math.sqrt(max(self._pitch_square / periodic - pitch_mean**2, 0.0))
        room = self._loud_unvoiced
        background = (self._room / room - self._level_raw / max(self._voice, 1)) if room else 0.0
        if not self._voice:
            background = 0.0
        return np.array(
            [
                now * s,
                self._voice * s,
                (first if first is not None else now) * s,
                since * s,
                self._voice / since if since else 0.0,
                float(self._utterances),
                self._first_utterance * s,
                self._longest_utterance * s,
                current * s,
                self._silence * s,
                self._longest_pause * s,
                float(self._words),
                self._level_sum / voiced,
                spread,
                mean_level - first_mean if self._voice else 0.0,
                self._loud_unvoiced / max(self._loud, 1),
                self._tone * s,
                last_1s * s,
                len(self._voice_at) * s,
                self._last_voice * s,
                self._voiced / max(self._voice, 1),
                self._voicing / max(self._voice, 1),
                pitch_spread,
                self._pitch_jumps / max(self._pitch_steps, 1),
                self._modulation / max(self._modulation_steps, 1),
                background,
                self._voice * s / max(self._utterances, 1),
                self._pauses * s / max(self._utterances - 1, 1),
                self._words / max(self._voice * s, 0.1),
            ]
        )

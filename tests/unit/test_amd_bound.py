"""bench/amd_bound.py's causal features: what the policy may read at a decision point comes from
the timeline up to that point and nothing after it."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_bound as bound


def test_features_at_a_point_do_not_change_with_what_comes_after_it() -> None:
    rng = np.random.default_rng(3)
    voice = bound.frames_of("400-1300;1700-2100;2900-4200", 10_000)
    tone = bound.frames_of("4300-4800", 10_000)
    for ms in bound.POINTS_MS:
        n = ms // bound.FRAME_MS
        later, later_tone = voice.copy(), tone.copy()
        later[n:] = rng.random(len(later) - n) < 0.5
        later_tone[n:] = rng.random(len(later) - n) < 0.5
        now = bound.features_at(voice, n, tone)
        assert np.array_equal(now, bound.features_at(later, n, later_tone)), ms
        assert np.array_equal(bound.timeline_rows(voice, tone)[bound.POINTS_MS.index(ms)], now)


def test_features_read_the_timeline_so_far() -> None:
    voice = bound.frames_of("400-1300;1700-2100", 10_000)
    names = dict(zip(bound.FEATURES, bound.features_at(voice, 2000 // bound.FRAME_MS), strict=True))
    assert names["time_s"] == 2.0
    assert names["heard"] == 1.0
    assert names["first_voice_s"] == pytest.approx(0.4)
    assert names["utterances"] == 2.0
    assert names["first_utterance_s"] == pytest.approx(0.9)
    assert names["first_pause_s"] == pytest.approx(0.4)
    assert names["current_utterance_s"] == pytest.approx(0.3)  # 1700-2000 so far
    assert names["current_silence_s"] == 0.0
    silent = dict(zip(bound.FEATURES, bound.features_at(voice, 300 // bound.FRAME_MS), strict=True))
    assert silent["heard"] == 0.0
    assert silent["current_silence_s"] == pytest.approx(0.3)


def test_frames_are_voice_where_their_middle_is_inside_a_segment() -> None:
    voice = bound.frames_of("40-100", 200)
    assert voice.tolist() == [False, False, True, True, True, False, False, False, False, False]

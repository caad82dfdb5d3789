"""bench/amd_ear.py's counts: a phrase is cut by a 300 ms silence inside it (not by one at its
edges), and voice outside the phrases is counted by what was there."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_ear as ear


def row(segments: str, noise: str = "none", music: str = "") -> dict[str, str]:
    start, _, end = music.partition("-")
    return {
        "segments": segments,
        "tones": "",
        "music_start_ms": start,
        "music_end_ms": end,
        "noise": noise,
        "duration_ms": "2000",
    }


def heard(voice: str) -> ear.Heard:
    """One character a frame: '#' heard as voice, '.' not (cause: quiet)."""
    flags = np.array([c == "#" for c in voice], dtype=np.bool_)
    return ear.Heard(flags, np.where(flags, -1, 0).astype(np.int8))


def test_only_a_silence_inside_a_phrase_cuts_it() -> None:
    # A phrase of 40 frames (0-800 ms): edges missed, then a 15-frame (300 ms) gap inside.
    tally = ear.Tally()
    tally.add(row("0-800"), heard("...#####" + "." * 15 + "#" * 12 + "....." + "." * 60))
    assert (tally.phrases, tally.cut, tally.deaf) == (1, 1, 0)
    assert (tally.heard, tally.phrase_frames) == (17, 40)
    shorter = ear.Tally()
    shorter.add(row("0-800"), heard("...#####" + "." * 14 + "#" * 13 + "....." + "." * 60))
    assert shorter.cut == 0


def test_voice_outside_the_phrases_is_counted_by_what_was_there() -> None:
    tally = ear.Tally()
    voice = "#" * 10 + "." * 10 + "#" * 5 + "." * 75  # 100 frames: 2 s
    tally.add(row("0-200", noise="babble", music="1000-2000"), heard(voice))
    assert tally.outside["talk"] == [40, 5]  # 400-1000 ms, the 5 frames after the phrase's gap
    assert tally.outside["music"] == [50, 0]
    assert tally.outside["talk-far"] == [25, 0]  # without the 300 ms after the phrase

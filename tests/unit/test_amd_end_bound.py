"""bench/amd_end_bound.py: a silence rule finds a beepless greeting's end only if it fires at
that end first, within 300 ms; it spoils a greeting with a beep if it fires before the beep."""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_end_bound as bound


def row(segments: str, beep_start: str = "") -> dict[str, str]:
    return {
        "segments": segments,
        "beep_kind": "single" if beep_start else "",
        "beep_start_ms": beep_start,
    }


def test_pauses_run_from_each_segment_to_the_next_then_to_the_beep_or_for_ever() -> None:
    with_beep = bound.greeting(row("500-2000;2400-4000", "4450"))
    assert with_beep.pauses == ((2000, 400.0), (4000, 450.0))
    assert with_beep.beep
    without = bound.greeting(row("500-2000;2400-4000"))
    assert without.pauses == ((2000, 400.0), (4000, math.inf))
    assert not without.beep


def test_a_rule_finds_a_beepless_end_only_if_nothing_set_it_off_before() -> None:
    short = bound.greeting(row("500-2000;2200-4000"))  # a 200 ms pause inside
    assert bound.found(short, 0, 300)  # quiet for 300 ms only after the last word
    assert not bound.found(short, 0, 320)  # too late for the 300 ms window
    assert not bound.found(short, 0, math.inf)  # with no rule a beepless end is never found
    long = bound.greeting(row("500-2000;2400-4000"))  # a 400 ms pause inside
    assert not bound.found(long, 0, 300)  # fires at 2.3 s, inside the greeting
    assert bound.found(long, 3000, 300)  # keeping still for the first 3 s, it fires at the end


def test_a_rule_spoils_a_greeting_with_a_beep_if_it_fires_before_the_beep() -> None:
    g = bound.greeting(row("500-2000;2100-4000", "4450"))  # 450 ms of quiet before the beep
    assert bound.found(g, 0, math.inf)  # beeps only: the beep starts the message
    assert not bound.found(g, 0, 300)  # fires at 4.3 s, before the beep at 4.45 s
    assert bound.found(g, 0, 460)  # a rule too slow to fire first leaves the beep to it

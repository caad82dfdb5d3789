"""bench/amd_end_bound.py: a silence timer finds a greeting's end in time only if it is at most
300 ms long, and never in a greeting with a pause as long as the timer inside it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_end_bound as bound


def test_the_longest_pause_between_segments() -> None:
    assert bound.longest_pause_ms("772-2842;2999-4304;5800-6000") == 1496
    assert bound.longest_pause_ms("100-900") == 0


def test_a_timer_finds_the_ends_of_greetings_with_only_shorter_pauses() -> None:
    pauses = [0, 150, 299, 300, 1200]
    assert bound.found_by_silence(pauses, 300) == 3  # a 300 ms pause sets a 300 ms timer off
    assert bound.found_by_silence(pauses, 200) == 2
    assert bound.found_by_silence(pauses, 320) == 0  # too late for every greeting

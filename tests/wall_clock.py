"""Tests on the wall clock, kept out of the last minutes of London's day.

The tests that dial in real time (the SIP, process and browser tests) open their campaigns and
tenants 00:00-23:59 London, and a window's finish is exclusive: from 23:59 to midnight nothing
may be dialled, so such a test waits for the next day's window and times out. CI failed so on
2026-11-30 (test_number_upload, started at about 23:59 UTC by the run's progress; reproduced
with faketime at 23:59:20).
No window of HH:MM can hold that minute, so a test that would start within GUARD of midnight
waits for the new day first: once in a run that crosses midnight, at most GUARD.
"""

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
# Longer than the slowest real-time test (56 s in CI's durations list, --durations=30) with
# room for a loaded machine, so a test that starts just before the guard ends before 23:59.
GUARD = timedelta(minutes=3)
# The tiers whose tests may dial on the wall clock; unit and contract tests use fake clocks.
REAL_TIME_TIERS = ("acceptance", "integration", "browser")


def seconds_to_wait(now: datetime) -> float:
    """Seconds from ``now`` (aware) until one second into London's next day, if that day
    begins within GUARD; else 0."""
    local = now.astimezone(LONDON)
    next_day = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), LONDON)
    left = (next_day - local).total_seconds()
    return left + 1.0 if left <= GUARD.total_seconds() else 0.0


def in_real_time_tier(path: Path) -> bool:
    """Whether the test file ``path`` is in a tier under tests/ that may dial in real time."""
    parts = path.parts
    tests = len(parts) - 1 - parts[::-1].index("tests") if "tests" in parts else -1
    return tests >= 0 and tests + 1 < len(parts) and parts[tests + 1] in REAL_TIME_TIERS


def wait_for_the_new_day(now: datetime) -> float:
    """Sleep until London's new day if it begins within GUARD; the seconds slept."""
    wait = seconds_to_wait(now)
    if wait:
        print(f"\n(waiting {wait:.0f} s for London's new day: campaigns open 00:00-23:59)")
        time.sleep(wait)
    return wait

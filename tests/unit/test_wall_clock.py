"""The guard that keeps wall-clock tests out of the last minutes of London's day."""

from datetime import UTC, datetime
from pathlib import Path

from tests.wall_clock import in_real_time_tier, seconds_to_wait


def test_a_test_waits_only_in_the_last_minutes_of_londons_day() -> None:
    # Winter: London is UTC.
    assert seconds_to_wait(datetime(2026, 11, 30, 23, 59, 34, tzinfo=UTC)) == 27.0
    assert seconds_to_wait(datetime(2026, 11, 30, 23, 57, 0, tzinfo=UTC)) == 181.0
    assert seconds_to_wait(datetime(2026, 11, 30, 23, 56, 59, tzinfo=UTC)) == 0.0
    assert seconds_to_wait(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)) == 0.0
    assert seconds_to_wait(datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == 0.0


def test_londons_midnight_in_summer_is_2300_utc() -> None:
    assert seconds_to_wait(datetime(2026, 7, 1, 22, 59, 30, tzinfo=UTC)) == 31.0
    assert seconds_to_wait(datetime(2026, 7, 1, 23, 59, 30, tzinfo=UTC)) == 0.0


def test_only_the_tiers_that_may_dial_in_real_time_wait() -> None:
    assert in_real_time_tier(Path("/work/main/tests/integration/test_number_upload.py"))
    assert in_real_time_tier(Path("/work/main/tests/browser/test_console.py"))
    assert not in_real_time_tier(Path("/work/main/tests/unit/test_records.py"))
    assert not in_real_time_tier(Path("/work/main/tests/contract/test_store.py"))
    assert not in_real_time_tier(Path("/builds/integration/dialer/tests/unit/test_records.py"))

"""A campaign's dialling windows as instants: open now? when next? when over for good?

Windows are wall-clock times in the tenant's zone; each day's start and finish are placed in
the zone separately, so a window on a DST-change day keeps its clock times (09:00-12:00 stays
09:00-12:00 local while its UTC instants shift by the change). A clock time that the change
skips is read as the instant it would have been before the change (fold=0), as zoneinfo does.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dialer.domain.schedule import Schedule


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime  # UTC, inclusive
    finish: datetime  # UTC, exclusive


def intervals(schedule: Schedule, timezone: str) -> list[Interval]:
    """Every dialling interval of the schedule in time order, as UTC instants."""
    zone = ZoneInfo(timezone)
    found = []
    for day in schedule.days():
        start = datetime.combine(day.day, day.window.start, zone).astimezone(UTC)
        finish = datetime.combine(day.day, day.window.finish, zone).astimezone(UTC)
        if finish > start:
            found.append(Interval(start, finish))
    return found


def last_close(schedule: Schedule, timezone: str) -> datetime | None:
    """When the schedule's last interval ends (UTC); None when it has no interval at all."""
    found = intervals(schedule, timezone)
    return max(i.finish for i in found) if found else None


@dataclass(frozen=True, slots=True)
class WindowState:
    open: bool
    closes_at: datetime | None  # when open: the end of the current interval
    next_opens_at: datetime | None  # when closed: the next interval's start, None if over
    over: bool  # the last interval has finished: what is still pending is OutOfTime
    opened_at: datetime | None = None  # when open: the start of the current interval


def window_state(schedule: Schedule, timezone: str, now: datetime) -> WindowState:
    if now.tzinfo is None:
        raise ValueError("window_state needs a timezone-aware time")
    for interval in intervals(schedule, timezone):
        if now < interval.start:
            return WindowState(False, None, interval.start, False)
        if now < interval.finish:
            return WindowState(True, interval.finish, None, False, interval.start)
    return WindowState(False, None, None, True)

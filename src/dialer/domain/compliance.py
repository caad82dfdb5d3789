"""Callee-local calling hours: never ring anyone outside them, wherever the campaign runs.

A number may map to several zones (a mobile range shared by a country with several); the call
is allowed only when the local time is inside the hours in every one of them, so no callee is
rung early or late. Outside the hours the destination is postponed, never dialled.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

_STEP = timedelta(minutes=5)
_HORIZON = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class CallingHours:
    start: time  # inclusive
    end: time  # exclusive

    @classmethod
    def parse(cls, text: str) -> "CallingHours":
        """``"08:00-21:00"``."""
        first, _, second = text.partition("-")
        try:
            hours = cls(time.fromisoformat(first.strip()), time.fromisoformat(second.strip()))
        except ValueError:
            raise ValueError(f"calling hours look like 08:00-21:00; got {text!r}") from None
        if hours.end <= hours.start:
            raise ValueError("calling hours must end later than they start on the same day")
        return hours

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_CALLING_HOURS = CallingHours(time(8), time(21))


def _inside(hours: CallingHours, zones: Sequence[ZoneInfo], moment: datetime) -> bool:
    for zone in zones:
        local = moment.astimezone(zone).time()
        if not hours.start <= local < hours.end:
            return False
    return True


def next_allowed(hours: CallingHours, zones: Sequence[str], now: datetime) -> datetime | None:
    """None when calling is allowed now; else the first instant (5-minute steps) it will be.

    When the zones never share an allowed moment (they are too far apart), the first instant
    allowed in the first zone is returned, so the destination is not postponed forever.
    """
    if now.tzinfo is None:
        raise ValueError("next_allowed needs a timezone-aware time")
    infos = [ZoneInfo(z) for z in zones]
    if _inside(hours, infos, now):
        return None
    # Step from the next whole 5 minutes; the answer lands on an hour boundary in practice.
    moment = now.astimezone(UTC).replace(second=0, microsecond=0)
    moment += timedelta(minutes=5 - moment.minute % 5)
    fallback = None
    end = now + _HORIZON
    while moment < end:
        if _inside(hours, infos, moment):
            return moment
        if fallback is None and _inside(hours, infos[:1], moment):
            fallback = moment
        moment += _STEP
    return fallback or now + timedelta(hours=1)

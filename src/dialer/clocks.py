"""Clocks and timers: the real one, a sped-up one, a virtual one, and one tests move by hand."""

import asyncio
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; refuses naive datetimes."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class RealTimer:
    """Wall-clock time, optionally sped up: ``speed`` simulated seconds pass per real second.

    ``anchor`` is the real instant at which simulated and real time agree; several processes
    given the same anchor and speed share one simulated time (engines sharing a database).
    """

    def __init__(self, speed: float = 1.0, anchor: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if anchor is not None and anchor.tzinfo is None:
            raise ValueError("the anchor must be timezone-aware")
        self.speed = speed
        self._anchor = anchor or datetime.now(UTC)

    @property
    def anchor(self) -> datetime:
        return self._anchor

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self.speed == 1.0:
            return real
        return self._anchor + (real - self._anchor) * self.speed

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds() / self.speed
        if delay > 0:
            await asyncio.sleep(delay)

    async def idle_until(self, when: datetime) -> None:
        await self.sleep_until(when)

    def real_seconds(self, span: timedelta) -> float | None:
        return span.total_seconds() / self.speed


class VirtualTimer:
    """Time that moves only when the engine has nothing to do (``--speed max``).

    Calls take no machine time (``sleep_until`` returns at once; the simulated network stamps
    its events with their simulated times), and an idle engine jumps straight to its next
    wake-up. Meant for one engine process: two processes would each keep their own time.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualTimer needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(0)

    def real_seconds(self, span: timedelta) -> float | None:
        return None  # its time passes only when the engine is idle

    async def idle_until(self, when: datetime) -> None:
        if when > self._now:
            self._now = when
        await asyncio.sleep(0)

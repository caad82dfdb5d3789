"""Timed waits of the engine's calls (a customer's longest wait for an agent, an agent's
wrap-up) that work on every Timer.

On a real or sped-up clock a wait is an ``asyncio`` timeout. A virtual clock only moves when
the engine has nothing else to do, so a wait there parks: the engine, finding every call it
has parked, moves the clock to the earliest deadline (``Engine._rest``) and ``moved`` wakes the
parked waits to look at the time again.
"""

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dialer.ports import Timer


class Alarms:
    def __init__(self, timer: Timer, on_park: Callable[[], None]) -> None:
        self._timer = timer
        self._on_park = on_park  # the engine looks again: this may have been its last busy call
        self._parked: dict[object, datetime | None] = {}
        self._moved = asyncio.Event()

    @property
    def parked(self) -> int:
        return len(self._parked)

    def earliest(self) -> datetime | None:
        deadlines = [d for d in self._parked.values() if d is not None]
        return min(deadlines) if deadlines else None

    def moved(self) -> None:
        """The (virtual) clock moved: parked waits look at it again."""
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def wait(self, events: Sequence[asyncio.Event], until: datetime | None) -> bool:
        """True once one of ``events`` is set, False once ``until`` (None: never) has passed
        first."""
        while True:
            if any(e.is_set() for e in events):
                return True
            now = self._timer.now()
            if until is not None and now >= until:
                return False
            if self._timer.real_seconds(timedelta()) is None:
                await self._park(events, until)
                continue
            real = None if until is None else self._timer.real_seconds(until - now)
            await _first(events, real)

    async def _park(self, events: Sequence[asyncio.Event], until: datetime | None) -> None:
        token = object()
        self._parked[token] = until
        self._on_park()
        try:
            await _first([*events, self._moved], None)
        finally:
            del self._parked[token]


async def _first(events: Sequence[asyncio.Event], timeout: float | None) -> None:
    """Until one of ``events`` is set, or ``timeout`` real seconds (None: no limit)."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()

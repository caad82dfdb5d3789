"""The discrete-event clock: the loop's time jumps to its next timer, waits happen in order,
and work given to threads runs at once on the loop's thread (so a run depends on its seed)."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from dialer.sim_clock import LoopTimer, VirtualTimeLoop

START = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)


def timer() -> LoopTimer:
    return LoopTimer(VirtualTimeLoop(), START)


def test_waits_pass_in_virtual_time_and_in_order() -> None:
    clock = timer()
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep_until(START + timedelta(seconds=seconds))
        woke.append((name, clock.now()))

    async def main() -> None:
        await asyncio.gather(
            sleeper("shift", 8 * 3600), sleeper("call", 12.5), sleeper("timeout", 0)
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 30)
        woke.append(("wait_for", clock.now()))

    clock.run(main())
    assert woke == [
        ("timeout", START),
        ("call", START + timedelta(seconds=12.5)),
        ("shift", START + timedelta(hours=8)),
        ("wait_for", START + timedelta(hours=8, seconds=30)),
    ]


def test_a_wait_in_the_past_returns_at_once_and_idle_until_waits_too() -> None:
    clock = timer()

    async def main() -> tuple[datetime, datetime]:
        await clock.sleep_until(START - timedelta(hours=1))
        before = clock.now()
        await clock.idle_until(START + timedelta(minutes=5))
        return before, clock.now()

    assert clock.run(main()) == (START, START + timedelta(minutes=5))
    assert clock.real_seconds(timedelta(seconds=7)) == 7.0


def test_work_given_to_a_thread_runs_at_once_on_the_loops_thread() -> None:
    clock = timer()

    def work(fail: bool) -> int:
        if fail:
            raise ValueError("no")
        return threading.get_ident()

    async def main() -> tuple[int, datetime]:
        ident = await asyncio.to_thread(work, False)
        with pytest.raises(ValueError, match="no"):
            await asyncio.to_thread(work, True)
        return ident, clock.now()

    assert clock.run(main()) == (threading.get_ident(), START)

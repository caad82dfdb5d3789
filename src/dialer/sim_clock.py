"""Discrete-event time for a whole event loop, for simulations where waits must really pass.

``VirtualTimer`` lets each simulated call keep its own clock and jumps only when the engine is
idle: right for calls that never meet. Agents are shared by every call, so an agent's talk
time has to pass for everybody: here the event loop's own clock is virtual. When nothing is
ready to run, the loop jumps to its next timer instead of waiting, so ``asyncio.sleep`` and
every timeout take no real time and still happen in order. Work given to an executor (the
engine's store calls) runs at once on the loop's thread: a thread finishing at a moment the
machine chooses would make the run depend on the machine, and the simulation must depend on
its seed only.
"""

import asyncio
import contextvars
import selectors
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from dialer.clocks import VirtualTimer

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without waiting; where the loop would sleep until its next timer, moves the
    clock there instead. With no timer at all it waits for real I/O, as any loop would."""

    def __init__(self, advance: Callable[[float], None]) -> None:
        super().__init__()
        self._advance = advance

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            return super().select(None)
        self._advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` moves only when every task waits (see the module doc)."""

    def __init__(self) -> None:
        self._virtual = 0.0
        super().__init__(_JumpingSelector(self._advance))

    def time(self) -> float:
        return self._virtual

    def _advance(self, seconds: float) -> None:
        self._virtual += seconds

    def run_in_executor(  # type: ignore[override]
        self, executor: Executor | None, func: Callable[..., T], *args: Any
    ) -> "asyncio.Future[T]":
        future: asyncio.Future[T] = self.create_future()
        try:
            future.set_result(contextvars.copy_context().run(func, *args))
        except Exception as exc:  # noqa: BLE001 (the awaiting caller gets it, as from a thread)
            future.set_exception(exc)
        return future


class LoopTimer(VirtualTimer):
    """The engine's Timer on a VirtualTimeLoop: ``now()`` is ``start`` plus the loop's time.

    A VirtualTimer by type (the engine treats it as simulated time), but its waits really wait,
    in virtual seconds: ``real_seconds`` is the span itself, counted on the loop's clock.
    """

    def __init__(self, loop: VirtualTimeLoop, start: datetime) -> None:
        super().__init__(start)
        self.loop = loop
        self._start = start

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.loop.time())

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))

    async def idle_until(self, when: datetime) -> None:
        await self.sleep_until(when)

    def real_seconds(self, span: timedelta) -> float | None:
        return span.total_seconds()

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to its end on this timer's loop (then closes the loop)."""
        with asyncio.Runner(loop_factory=lambda: self.loop) as runner:
            result: T = runner.run(main)
            return result

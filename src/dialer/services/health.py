"""Readiness (is the store answering, is this process's engine running) and the service clock."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dialer.clocks import RealTimer, VirtualTimer
from dialer.domain.ids import TenantId
from dialer.ports import Clock
from dialer.ports.store import TenantSession, UnitOfWork

# What an engine check answers: None while it runs, else what is wrong.
EngineProblem = Callable[[], str | None]


@dataclass(frozen=True)
class ClockInfo:
    now: datetime
    speed: float | None  # simulated seconds per real second; None: as fast as possible
    anchor: datetime | None  # the real instant at which simulated and real time agree


class HealthService:
    def __init__(self, store: UnitOfWork[TenantSession], clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def store_problem(self) -> str | None:
        """None if the store answers a read; else why not (the caller bounds how long it waits)."""
        try:
            with self._store.read() as session:
                # Any indexed read proves the store answers; tenant 0 never exists.
                session.tenants.get_tenant(TenantId(0))
        except Exception as exc:  # noqa: BLE001 -- whatever the driver raises, it is the answer
            return f"the store does not answer: {type(exc).__name__}: {exc}".splitlines()[0]
        return None

    def clock(self) -> ClockInfo:
        clock = self._clock
        if isinstance(clock, VirtualTimer):  # --speed max: time moves when the engine idles
            return ClockInfo(clock.now(), None, None)
        if isinstance(clock, RealTimer) and clock.speed != 1.0:
            return ClockInfo(clock.now(), clock.speed, clock.anchor)
        return ClockInfo(clock.now(), 1.0, None)

"""The throughput limit of one bind, in parts per second, on the injected timer.

Slots are handed out in order: each caller takes the next free instant and waits for it with
the timer's own wait, so a burst leaves at the configured rate whatever the timer (real,
sped up, or a test's virtual loop). A carrier's ESME_RTHROTTLED or ESME_RMSGQFUL halves the
rate (down to 1/32 of the configured one); every accepted part wins back 5%, so the rate
climbs back to the configured one once the carrier stops complaining.
"""

from datetime import datetime, timedelta

from dialer.ports import Timer

_SLOWEST = 1 / 32  # of the configured rate
_RECOVERY = 1.05


class RateLimiter:
    def __init__(self, rate: float, timer: Timer) -> None:
        if rate <= 0:
            raise ValueError("the throughput must be positive")
        self.configured = rate
        self.rate = rate
        self._timer = timer
        self._next: datetime | None = None

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    async def acquire(self) -> None:
        now = self._timer.now()
        slot = now if self._next is None or self._next < now else self._next
        self._next = slot + timedelta(seconds=self.interval)
        if slot > now:
            await self._timer.sleep_until(slot)

    def slow_down(self) -> None:
        self.rate = max(self.rate / 2, self.configured * _SLOWEST)
        # the parts already given slots keep them; the next one waits a whole slower interval
        self._next = max(self._next or self._timer.now(), self._timer.now()) + timedelta(
            seconds=self.interval
        )

    def recover(self) -> None:
        self.rate = min(self.rate * _RECOVERY, self.configured)

"""Token buckets that cap calls per second, in the engine's clock (so a sped-up day paces too)."""

from datetime import datetime, timedelta


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst`` (one second's worth by default)."""

    def __init__(self, rate: float, now: datetime, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("a call rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._tokens = self.burst
        self._at = now

    def _refill(self, now: datetime) -> None:
        elapsed = (now - self._at).total_seconds()
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._at = now

    def available(self, now: datetime) -> int:
        self._refill(now)
        return int(self._tokens)

    def take(self, count: int, now: datetime) -> None:
        self._refill(now)
        self._tokens -= count

    def next_token_at(self, now: datetime, count: int = 1) -> datetime:
        """When at least ``count`` whole tokens (at most the burst) will be there."""
        self._refill(now)
        missing = min(float(count), self.burst) - self._tokens
        if missing <= 0:
            return now
        return now + timedelta(seconds=missing / self.rate)

"""Limits shared by every engine on one store: calls in flight per campaign, calls per second.

A rate limit is a sliding window, not a token bucket: ``rate`` calls per second means at most
``rate`` calls claimed in **any** one-second window (a carrier's "5 CPS" refuses the sixth
INVITE within a second, whenever that second starts; a bucket with a burst lets up to twice the
rate into some second). A fractional rate rounds down to whole calls (2.5 allows 2 a second);
a rate below 1 allows one call per ``1 / rate`` seconds.

The store keeps each window as the list of claims still inside it, ``(claimed at, calls)``,
and a claim takes what all of its windows leave, in the transaction that takes the
destinations (storage/sql_limits.py). These functions are the arithmetic, pure.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from dialer.domain.attempt import DialJob
from dialer.domain.ids import CampaignId, TenantId

Entry = tuple[int, int]  # (claimed at, epoch microseconds; calls)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``rate`` calls a second, over every engine; ``name`` is the store's key."""

    name: str
    rate: float

    def __post_init__(self) -> None:
        if not self.rate > 0 or math.isinf(self.rate):
            raise ValueError("a call rate must be positive and finite")

    @property
    def window_us(self) -> int:
        return round(max(1.0, 1.0 / self.rate) * 1_000_000)

    @property
    def calls(self) -> int:
        """Calls allowed in one window."""
        return max(1, math.floor(self.rate + 1e-9))


@dataclass(frozen=True, slots=True)
class ClaimLimits:
    """What one claim of a campaign must keep to, whichever engine makes it."""

    campaign_id: CampaignId
    in_flight: int  # the campaign's calls at once (leases not yet run out), over every engine
    rates: tuple[RateLimit, ...] = ()

    @property
    def lock_names(self) -> list[str]:
        """The store rows a claim locks, in one order for every claim (no deadlock): the
        campaign's own always, since it also serialises the count of calls in flight."""
        return sorted({campaign_key(self.campaign_id), *(r.name for r in self.rates)})


class Claimed(NamedTuple):
    jobs: list[DialJob]
    # Nothing taken because a rate limit is spent: when its window lets one call in again.
    paced_until: datetime | None = None
    # Nothing taken because the campaign has its limit of calls in flight (a call ending,
    # here or in another engine, frees a line; there is no time to wait for).
    capped: bool = False


def campaign_key(campaign_id: CampaignId) -> str:
    return f"campaign:{campaign_id}"


def tenant_key(tenant_id: TenantId) -> str:
    return f"tenant:{tenant_id}"


def trunk_key(trunk: str) -> str:
    return f"trunk:{trunk}"


def claim_limits(
    campaign_id: CampaignId,
    tenant_id: TenantId,
    in_flight: int,
    campaign_rate: float | None,
    tenant_rate: float | None = None,
    trunk: tuple[str, float] | None = None,
) -> ClaimLimits:
    rates = []
    if campaign_rate is not None:
        rates.append(RateLimit(campaign_key(campaign_id), campaign_rate))
    if tenant_rate is not None:
        rates.append(RateLimit(tenant_key(tenant_id), tenant_rate))
    if trunk is not None:
        rates.append(RateLimit(trunk_key(trunk[0]), trunk[1]))
    return ClaimLimits(campaign_id, in_flight, tuple(rates))


def live(limit: RateLimit, entries: Sequence[Entry], now_us: int) -> list[Entry]:
    """The entries still inside the window that ends now."""
    start = now_us - limit.window_us
    return [(at, n) for at, n in entries if at > start and n > 0]


def room(limit: RateLimit, entries: Sequence[Entry]) -> int:
    """Calls the window (of live entries) lets in now."""
    return max(0, limit.calls - sum(n for _, n in entries))


def frees_at(limit: RateLimit, entries: Sequence[Entry], wanted: int = 1) -> int | None:
    """When (epoch us) ``wanted`` more calls fit into the window of live ``entries``; None
    when they fit now."""
    excess = sum(n for _, n in entries) + min(wanted, limit.calls) - limit.calls
    if excess <= 0:
        return None
    # The oldest claims leave the window first; excess <= the calls of all entries, so some
    # entry's departure always makes the room.
    for at, n in sorted(entries):
        excess -= n
        if excess <= 0:
            return at + limit.window_us
    raise AssertionError("more calls wanted than the window holds")

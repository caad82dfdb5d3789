"""A tenant's webhook: where each finished call attempt is POSTed, and when to try again.

Delivery is at least once: a row of the outbox is sent until a receiver answers 2xx, or until
``MAX_TRIES`` tries have failed, after which it stays undelivered (scheduled for ``NEVER``)
until the tenant registers its webhook again.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dialer.domain.ids import TenantId

MAX_URL_LENGTH = 2000
MAX_TRIES = 12
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
# A given-up delivery is parked here: far enough never to fall due, and a plain instant, so
# the claim query needs no extra column or condition.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Webhook:
    tenant_id: TenantId
    url: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int  # waiting for their first try or a retry
    failed: int  # given up after MAX_TRIES tries


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed outbox row, with where to send it and the secret to sign it with."""

    id: int
    tenant_id: TenantId
    url: str
    secret: str = field(repr=False)
    payload: str
    tries: int  # failed tries before this one
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One row of the delivery log: an attempt's result on its way to the tenant's webhook."""

    id: int
    status: str  # "pending" (waiting or retrying), "delivered", or "failed" (given up)
    tries: int  # tries since it was queued or last retried, the delivered one included
    created_at: datetime
    delivered_at: datetime | None
    next_try_at: datetime | None  # pending only
    last_error: str | None
    payload: str  # the JSON body that is POSTed


DELIVERY_STATUSES = ("pending", "delivered", "failed")


def next_try(failed_tries: int, failed_at: datetime) -> datetime:
    """When to try again after the ``failed_tries``-th failure: 10 s, 20 s, 40 s ... at most
    an hour apart, and ``NEVER`` once ``MAX_TRIES`` tries have failed."""
    if failed_tries >= MAX_TRIES:
        return NEVER
    delay = FIRST_RETRY * (1 << max(failed_tries - 1, 0))
    return failed_at + min(delay, LONGEST_RETRY)

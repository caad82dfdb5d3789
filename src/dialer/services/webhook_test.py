"""A test delivery to the tenant's webhook, sent now and answered with its result
(docs/webhooks.md, Testing the webhook).

It goes as every delivery does (the same signature headers, the same address checks, no
redirects followed, the same timeout), but outside the outbox: it is not a call result, so it
is neither logged with the deliveries nor retried. Its ``X-Dialer-Delivery`` is 0, an id no
real delivery has.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dialer.domain.errors import NotFound
from dialer.domain.tenant import Tenant
from dialer.domain.webhook import Delivery
from dialer.ports import Clock
from dialer.ports.store import OutboxSession, UnitOfWork
from dialer.services.results import iso_utc

TEST_DELIVERY_ID = 0
# One try: its answer's status (None if none came) and what went wrong (None on a 2xx).
Sender = Callable[[Delivery], Awaitable[tuple[int | None, str | None]]]


@dataclass(frozen=True, slots=True)
class TestResult:
    url: str
    delivered: bool
    status: int | None
    seconds: float
    error: str | None


class WebhookTester:
    def __init__(self, store: UnitOfWork[OutboxSession], clock: Clock, send: Sender) -> None:
        self._store = store
        self._clock = clock
        self._send = send

    def _target(self, tenant: Tenant) -> tuple[str, str]:
        with self._store.read() as session:
            target = session.outbox.webhook_target(tenant.id)
        if target is None:
            raise NotFound("webhook")
        return target

    async def test(self, tenant: Tenant) -> TestResult:
        url, secret = await asyncio.to_thread(self._target, tenant)
        now = self._clock.now()
        payload = json.dumps(
            {
                "test": True,
                "message": "A test delivery from the dialer: no call was made.",
                "tenantId": tenant.id,
                "sentAt": iso_utc(now),
            }
        )
        delivery = Delivery(TEST_DELIVERY_ID, tenant.id, url, secret, payload, 0, now)
        status, error = await self._send(delivery)
        took = (self._clock.now() - now).total_seconds()
        return TestResult(url, error is None, status, round(took, 3), error)

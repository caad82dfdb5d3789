"""Drains the webhook outbox: claim due rows, POST each one signed, then mark it delivered or
schedule its retry.

Delivery is at least once. A row is marked delivered only after a 2xx answer, in its own
transaction; a deliverer that dies between the two (or whose receiver answers after the lease)
sends the row again. Receivers de-duplicate on ``X-Dialer-Delivery``.

Failed tries are retried 10 s, 20 s, 40 s ... later, at most an hour apart; after
``MAX_TRIES`` the row stays undelivered with its last error, parked at ``NEVER``, until the
tenant retries it or registers its webhook again (docs/webhooks.md). Each try first looks the
host up and refuses non-public addresses (domain/webhook_address.py).
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
from datetime import datetime, timedelta

import httpx

from dialer.domain.events import NullSink, StoreFailed, WebhookDelivered, WebhookFailed
from dialer.domain.webhook import MAX_TRIES, NEVER, Delivery, next_try
from dialer.domain.webhook_address import AddressPolicy
from dialer.ports import Clock, EventSink
from dialer.ports.store import OutboxSession, UnitOfWork
from dialer.services.reachable import AsyncResolver, Refused, checked_url, resolve

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Dialer-Signature"
DELIVERY_HEADER = "X-Dialer-Delivery"
TIMESTAMP_HEADER = "X-Dialer-Timestamp"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_client(max_connections: int = 100) -> httpx.AsyncClient:
    """A client fit for delivering: no redirects followed (a 3xx is a failed try)."""
    return httpx.AsyncClient(
        follow_redirects=False, limits=httpx.Limits(max_connections=max_connections)
    )


class WebhookDeliverer:
    def __init__(
        self,
        store: UnitOfWork[OutboxSession],
        clock: Clock,
        client: httpx.AsyncClient,
        *,
        batch: int = 100,
        timeout: timedelta = timedelta(seconds=10),
        lease: timedelta = timedelta(minutes=2),
        poll_interval: timedelta = timedelta(seconds=1),
        policy: AddressPolicy | None = None,
        resolve: AsyncResolver = resolve,
        events: EventSink | None = None,
    ) -> None:
        """``timeout`` bounds one whole POST; ``lease`` must be longer, or slow receivers get
        duplicates while the first try is still running. ``policy``: where deliveries may go
        (public addresses only, by default)."""
        if lease <= timeout:
            raise ValueError("the lease must be longer than the timeout")
        self._store = store
        self._clock = clock
        self._client = client
        self._batch = batch
        self._timeout = timeout
        self._lease = lease
        self._poll = poll_interval
        self._policy = policy or AddressPolicy()
        self._resolve = resolve
        self._events: EventSink = events or NullSink()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: at once while full batches come, else every poll."""
        while not stop.is_set():
            try:
                if await self.run_once() >= self._batch:
                    continue
            except Exception:  # the store went away: claimed rows return after their lease
                log.exception("webhook delivery failed; trying again shortly")
                self._events.publish(StoreFailed("webhooks"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll.total_seconds())

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and try each, side by side; returns how many."""
        deliveries = await asyncio.to_thread(self._claim)
        # A TaskGroup, so a store error cancels the rest; unmarked rows return after the lease.
        async with asyncio.TaskGroup() as group:
            for delivery in deliveries:
                group.create_task(self._deliver(delivery))
        return len(deliveries)

    def _claim(self) -> list[Delivery]:
        with self._store.write() as session:
            return session.outbox.claim_deliveries(self._clock.now(), self._batch, self._lease)

    async def _deliver(self, delivery: Delivery) -> None:
        posted = self._clock.now()
        error = await self._post(delivery)
        if error is None:
            await asyncio.to_thread(self._mark_delivered, delivery.id)
            took = (self._clock.now() - posted).total_seconds()
            self._events.publish(WebhookDelivered(took))
            return
        failed = delivery.tries + 1
        retry_at = next_try(failed, self._clock.now())
        if retry_at == NEVER:
            log.warning(
                "webhook delivery %s to tenant %s given up after %s tries: %s",
                delivery.id,
                delivery.tenant_id,
                MAX_TRIES,
                error,
            )
        await asyncio.to_thread(self._mark_failed, delivery.id, error, retry_at)
        self._events.publish(WebhookFailed(gave_up=retry_at == NEVER))

    async def _post(self, delivery: Delivery) -> str | None:
        """POST the payload; None on a 2xx answer, else what went wrong."""
        _, error = await self.post_once(delivery)
        return error

    async def post_once(self, delivery: Delivery) -> tuple[int | None, str | None]:
        """POST ``delivery`` once, as every try is, outside the outbox (the webhook test,
        services/webhook_test.py): the answer's status (None if none came) and what went wrong
        (None on a 2xx)."""
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(delivery.secret, body),
            DELIVERY_HEADER: str(delivery.id),
            TIMESTAMP_HEADER: str(int(self._clock.now().timestamp())),
        }
        seconds = self._timeout.total_seconds()
        try:
            # httpx's timeout bounds each read and write; this one the whole exchange.
            async with asyncio.timeout(seconds):
                url, extensions = await self._checked_target(delivery.url, headers)
                # Streamed and never read: only the status matters, whatever the body's size.
                async with self._client.stream(
                    "POST",
                    url,
                    content=body,
                    headers=headers,
                    timeout=seconds,
                    extensions=extensions,
                ) as response:
                    status = response.status_code
        except TimeoutError:
            return None, f"no answer within {seconds:g} s"
        except Refused as exc:
            return None, f"refused: {exc}"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"

    async def _checked_target(
        self, raw_url: str, headers: dict[str, str]
    ) -> tuple[httpx.URL, dict[str, str]]:
        """The URL to connect to, its host replaced by the address just checked
        (services/reachable.py)."""
        return await checked_url(raw_url, headers, self._policy, self._resolve)

    def _mark_delivered(self, delivery_id: int) -> None:
        with self._store.write() as session:
            session.outbox.mark_delivered(delivery_id, self._clock.now())

    def _mark_failed(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        with self._store.write() as session:
            session.outbox.mark_failed(delivery_id, error, retry_at)

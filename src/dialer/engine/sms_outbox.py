"""Drains the SMS outbox: claim due texts, submit each through its tenant's provider, record
the answer; take the providers' receipts and inbound texts back into the store.

A text is marked with its submit's answer in its own transaction. The claim marks a text as
being submitted; one found due with that mark still set lost its sender between submit and
answer, so it waits UNKNOWN for a receipt (the provider may have it) before it is sent again.
Several senders (one per engine process) share one PostgreSQL: the claim's lease keeps each row
with one of them at a time. docs/sms.md tells the whole story.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from dialer.domain.events import AttemptsFinished, ByKind, Handler, NullSink, StoreFailed
from dialer.domain.ids import TenantId
from dialer.domain.sms import DeliveryReport, InboundSms, OutboundSms, SubmitResult, SubmitStatus
from dialer.domain.sms_outbox import (
    UNKNOWN_GRACE,
    ClaimedSms,
    expired,
    retry_delay,
)
from dialer.ports import Clock, EventSink
from dialer.ports.sms import SmsProvider
from dialer.ports.store import SmsSession, UnitOfWork
from dialer.services.sms import record_inbound

log = logging.getLogger(__name__)

# A tenant's own provider (its SMS settings), or None to use the process's default; and the
# alphanumeric sender ID it set (None: the campaign's caller ID).
TenantProvider = Callable[[TenantId], SmsProvider | None]
TenantSender = Callable[[TenantId], str | None]
# Receipts that matched no text are kept a day (a submit's answer may come late), swept hourly.
RECEIPT_KEPT = timedelta(days=1)
RECEIPT_SWEEP = timedelta(hours=1)


class OutboxReports:
    """Where one provider hands its receipts and inbound texts: into the store. ``tenant``:
    the tenant the provider is for, None for the process's default (it serves every tenant)."""

    def __init__(
        self, store: UnitOfWork[SmsSession], clock: Clock, tenant: TenantId | None
    ) -> None:
        self._store = store
        self._clock = clock
        self._tenant = tenant

    async def delivery_report(self, report: DeliveryReport) -> None:
        await asyncio.to_thread(self._receipt, report)

    def _receipt(self, report: DeliveryReport) -> None:
        with self._store.write() as session:
            session.sms.sms_receipt(self._tenant, report, self._clock.now())

    async def inbound(self, message: InboundSms) -> None:
        await asyncio.to_thread(self.record_inbound, message)

    def record_inbound(self, message: InboundSms) -> TenantId | None:
        return record_inbound(self._store, self._clock.now(), self._tenant, message)


class SmsProviders:
    """The providers texts go through: the tenant's own (its SMS settings) or the process's
    default, each started once, with receipts and inbound texts going to the store."""

    def __init__(
        self,
        default: SmsProvider,
        tenant_provider: TenantProvider | None = None,
        tenant_sender: TenantSender | None = None,
    ) -> None:
        self.default = default
        self._tenant_provider = tenant_provider
        self._tenant_sender = tenant_sender
        self._started: dict[TenantId | None, SmsProvider] = {}

    async def provider(
        self, tenant: TenantId, store: UnitOfWork[SmsSession], clock: Clock
    ) -> SmsProvider:
        own = None
        if self._tenant_provider is not None:
            own = await asyncio.to_thread(self._tenant_provider, tenant)
        key = tenant if own is not None else None
        started = self._started.get(key)
        if started is not None and (own is None or started is own):
            return started
        if started is not None:  # the tenant's settings changed: a new provider
            await started.close()
        provider = own if own is not None else self.default
        await provider.start(OutboxReports(store, clock, key))
        self._started[key] = provider
        return provider

    async def start_default(self, store: UnitOfWork[SmsSession], clock: Clock) -> None:
        """Start the process's default provider now, not at its first text: an SMPP bind
        brings the receipts its SMSC kept for texts whose sender died mid-submit, within
        their grace (docs/sms.md)."""
        if None not in self._started:
            await self.default.start(OutboxReports(store, clock, None))
            self._started[None] = self.default

    async def sender(self, tenant: TenantId, default: str) -> str:
        """The tenant's alphanumeric sender ID, else ``default`` (the campaign's caller ID)."""
        if self._tenant_sender is None:
            return default
        return await asyncio.to_thread(self._tenant_sender, tenant) or default

    def started(self) -> list[SmsProvider]:
        return list(self._started.values())

    async def close(self) -> None:
        started, self._started = list(self._started.values()), {}
        for provider in started:
            await provider.close()


class TextsQueued(ByKind):
    """Wakes the sender when this process records attempts that queued texts (subscribed to
    the engine's events), so a text goes at once rather than at the next poll. Published from
    the recorder's thread: the wake goes through the sender's loop."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._handlers: dict[type, Handler] = {AttemptsFinished: self._finished}

    def _finished(self, event: AttemptsFinished) -> None:
        # A loop, not any() over a generator: that is a Python call per attempt (issue 11).
        for item in event.items:
            if item.sms_sent:
                self._wake()
                return


class SmsSender:
    def __init__(
        self,
        store: UnitOfWork[SmsSession],
        clock: Clock,
        providers: SmsProviders,
        *,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=2),
        poll_interval: timedelta = timedelta(seconds=1),
        grace: timedelta = UNKNOWN_GRACE,
        events: EventSink | None = None,
    ) -> None:
        """``lease`` should outlast a provider's longest answer (SMPP's response timeout, the
        HTTP timeout): a text still unanswered when it ends is taken for one whose sender died
        and waits UNKNOWN for a receipt (never sent again at once). ``grace``: how long a text
        with no answer waits for a receipt before it is submitted again."""
        self._store = store
        self._clock = clock
        self.providers = providers
        self._batch = batch
        self._lease = lease
        self._poll = poll_interval
        self._grace = grace
        self._events: EventSink = events or NullSink()
        # A provider that said RETRY (throttled, no bind) is left alone until then: its other
        # texts wait instead of each being refused in turn.
        self._paused: dict[int, datetime] = {}
        self._swept: datetime | None = None
        self._bound: set[TenantId] = set()  # tenants whose provider _bind_in_doubt started
        self._due = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.waker = TextsQueued(self.wake)

    def wake(self) -> None:
        """Texts were queued: look now, not at the next poll. Safe from any thread."""
        loop, due = self._loop, self._due
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(due.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set: at once while full batches come, else every poll."""
        self._loop, self._due = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.providers.start_default(self._store, self._clock)
            while not stop.is_set():
                self._due.clear()  # before the claim: a wake during it is not lost
                try:
                    if await self.run_once() >= self._batch:
                        continue
                except Exception:  # the store went away: claimed rows return after their lease
                    log.exception("SMS sending failed; trying again shortly")
                    self._events.publish(StoreFailed("sms"))
                await self._idle(stop)
        finally:
            self._loop = None
            await self.providers.close()

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until the next poll, ``stop``, or texts queued in this process (``wake``)."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._due.wait())]
        try:
            await asyncio.wait(
                waits, timeout=self._poll.total_seconds(), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()

    async def drain(self) -> None:
        """Send every text due now (and receipts already on their way), then stop the
        providers: the end of ``dialer simulate`` and of a run to the end."""
        try:
            while await self.run_once():
                pass
            for provider in self.providers.started():
                settle = getattr(provider, "settle", None)
                if settle is not None:
                    await settle()
        finally:
            await self.providers.close()

    async def run_once(self) -> int:
        """Claim one batch of due texts and submit them, side by side; returns how many."""
        now = self._clock.now()
        if self._swept is None or now - self._swept >= RECEIPT_SWEEP:
            self._swept = now
            await asyncio.to_thread(self._forget_receipts, now - RECEIPT_KEPT)
        claimed = await asyncio.to_thread(self._claim)
        await self._bind_in_doubt()
        if claimed:
            async with asyncio.TaskGroup() as group:
                for message in claimed:
                    group.create_task(self._send(message))
        return len(claimed)

    async def _bind_in_doubt(self) -> None:
        """Start the provider of every tenant with a text in doubt (a tenant's own one binds
        at its first due text otherwise): after a crash, the receipts its SMSC kept must come
        within the grace, before the text is submitted again (docs/sms.md)."""
        tenants = await asyncio.to_thread(self._in_doubt)
        for tenant in tenants:
            if tenant not in self._bound:
                await self.providers.provider(tenant, self._store, self._clock)
                self._bound.add(tenant)

    def _in_doubt(self) -> list[TenantId]:
        with self._store.read() as session:
            return session.sms.sms_tenants_in_doubt()

    def _forget_receipts(self, before: datetime) -> None:
        with self._store.write() as session:
            forgotten = session.sms.forget_sms_receipts(before)
        if forgotten:
            log.info("%d SMS receipts matched no text in a day; forgotten", forgotten)

    def _claim(self) -> list[ClaimedSms]:
        with self._store.write() as session:
            return session.sms.claim_sms(self._clock.now(), self._batch, self._lease, self._grace)

    async def _send(self, message: ClaimedSms) -> None:
        now = self._clock.now()
        if expired(message.created_at, now):
            reason = "expired: no provider took it within 24 hours"
            failed = SubmitResult(SubmitStatus.FAILED, reason=reason)
            await asyncio.to_thread(self._mark, message, failed, "")
            return
        try:
            provider = await self.providers.provider(message.tenant_id, self._store, self._clock)
            sender = await self.providers.sender(message.tenant_id, message.sender)
        except Exception as exc:  # the tenant's settings unreadable: nothing was submitted
            log.exception("no SMS provider for tenant %s", message.tenant_id)
            reason = f"no provider: {type(exc).__name__}: {exc}"
            later = now + retry_delay(message.tries + 1, None)
            result = SubmitResult(SubmitStatus.RETRY, reason=reason)
            # Marked, so the claim's mark is cleared: not taken for a sender that died.
            await asyncio.to_thread(self._mark, message, result, "", later)
            return
        paused = self._paused.get(id(provider))
        if paused is not None and paused > now:
            result = SubmitResult(SubmitStatus.RETRY, reason="the provider asked to wait")
            await asyncio.to_thread(self._mark, message, result, provider.name, paused)
            return
        outbound = OutboundSms(str(message.id), message.to, sender, message.text)
        try:
            result = await provider.submit(outbound)
        except Exception as exc:  # a provider must not raise; should one, the text waits
            log.exception("SMS provider %s raised on submit", provider.name)
            result = SubmitResult(SubmitStatus.UNKNOWN, reason=f"{type(exc).__name__}: {exc}")
        until = None
        if result.status is SubmitStatus.RETRY:
            until = self._clock.now() + retry_delay(message.tries + 1, result.retry_after)
            if result.retry_after is not None:
                self._paused[id(provider)] = self._clock.now() + timedelta(
                    seconds=result.retry_after
                )
        await asyncio.to_thread(self._mark, message, result, provider.name, until)

    def _mark(
        self,
        message: ClaimedSms,
        result: SubmitResult,
        provider: str,
        retry_at: datetime | None = None,
    ) -> None:
        now = self._clock.now()
        with self._store.write() as session:
            sms = session.sms
            if result.status is SubmitStatus.ACCEPTED:
                sms.sms_accepted(message.id, provider, result.provider_ids, result.parts, now)
            elif result.status is SubmitStatus.FAILED:
                sms.sms_failed(message.id, provider, result.reason or "refused", now)
            elif result.status is SubmitStatus.RETRY:
                assert retry_at is not None
                sms.sms_retry(message.id, provider, result.reason, retry_at, now)
            else:
                reason = result.reason or "no answer from the provider"
                sms.sms_unknown(
                    message.id,
                    provider,
                    reason,
                    now + self._grace,
                    now,
                    result.provider_ids,
                    result.parts,
                )

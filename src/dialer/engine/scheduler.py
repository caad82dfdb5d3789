"""The engine's loop: claim due destinations, start their calls, record what happened.

Every state lives in the store, so any number of engines may run against one database and
any of them may die: claims are atomic and leased (storage/sql_engine.py), a live engine renews
its leases, and an engine finding a lease run out records that attempt as NoConnection and
lets the retry policy decide what follows. Business time comes from the Timer only.
"""

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from dialer.domain.attempt import AttemptRecord, DialJob, FinishedAttempt
from dialer.domain.calendar import window_state
from dialer.domain.call import CallNotPlaced
from dialer.domain.callflow import parse_callflow
from dialer.domain.campaign import CampaignStatus, DialingContext
from dialer.domain.codes import Outcome, Stage
from dialer.domain.compliance import CallingHours, next_allowed
from dialer.domain.events import (
    AttemptNotPlaced,
    AttemptPostponed,
    AttemptStarted,
    CallEnded,
    CampaignClosed,
    CampaignOpened,
    DestinationsClaimed,
    FanOutSink,
    StoreFailed,
)
from dialer.domain.ids import CampaignId, CliId, DestinationId, TenantId
from dialer.engine.calls import CallRunner, CampaignPlan, not_dialled
from dialer.engine.log_context import about_attempt
from dialer.engine.pacer import TokenBucket
from dialer.engine.recorder import Recorder
from dialer.engine.stats import EngineStats
from dialer.ports import EventSink, SmsGateway, Store, StoreSession, TelephonyDriver, Timer
from dialer.settings import EngineSettings

log = logging.getLogger(__name__)

_PACING_QUANTUM = 0.05  # seconds of the call rate claimed at once
# A call the driver could not place (its process was full) is dialled again this much later.
NOT_PLACED_RETRY = timedelta(seconds=15)

ZoneLookup = Callable[[str, str], tuple[str, ...]]


def worker_name() -> str:
    """Unique per process start, readable in the in_flight table."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _plan_stale(plan: CampaignPlan, context: DialingContext) -> bool:
    """The campaign now names another call flow or caller ID than the plan was built with."""
    old, new = plan.context.campaign.spec, context.campaign.spec
    return (old.callflow_id, old.cli_id) != (new.callflow_id, new.cli_id)


class Engine:
    def __init__(
        self,
        store: Store,
        driver: TelephonyDriver,
        sms: SmsGateway,
        timer: Timer,
        settings: EngineSettings,
        zones: ZoneLookup,
        worker: str | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.store = store
        # The engine's own totals subscribe first; then whatever bootstrap wired (metrics).
        self.stats = EngineStats()
        self.events = FanOutSink([self.stats])
        if events is not None:
            self.events.subscribe(events)
        self._driver = driver
        self._timer = timer
        self._settings = settings
        self._zones = zones
        self.worker = worker or worker_name()
        self._runner = CallRunner(
            driver,
            sms,
            timer,
            timedelta(seconds=settings.ring_timeout_seconds),
            timedelta(seconds=settings.gather_timeout_seconds),
            settings.audio_dir,
            self.events,
        )
        self._lease = timedelta(seconds=settings.lease_seconds)
        now = timer.now()
        self._bucket = TokenBucket(settings.max_calls_per_second, now)
        self._campaign_buckets: dict[CampaignId, TokenBucket] = {}
        self._active: dict[CampaignId, int] = Counter()
        self._calls: set[asyncio.Task[None]] = set()
        self._finished: list[FinishedAttempt] = []
        # Destinations on the line now; with those in _finished, the only leases renewed.
        self._dialling: set[DestinationId] = set()
        self._wake = asyncio.Event()  # a call ended, work arrived, or stop
        self._plans: dict[CampaignId, CampaignPlan] = {}
        self._contexts: dict[CampaignId, DialingContext] = {}
        self._next_housekeeping = now
        self._recorder = Recorder(store, timer, self.worker, self._lease, self.events)
        self._open: set[CampaignId] = set()  # campaigns this engine dials now (their windows)

    # the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Dial until ``stop`` is set; then let calls in progress end and record them."""
        relay = asyncio.create_task(self._relay(stop))
        unsubscribe = self.store.subscribe(self._ring(asyncio.get_running_loop()))
        try:
            while not stop.is_set():
                try:
                    await self._cycle(stop)
                except Exception:
                    # The store failed (a restart, a lost connection): the work is safe in it,
                    # and leases bring back whatever was held, so wait a little and go on.
                    log.exception("engine cycle failed; retrying in a second")
                    self.events.publish(StoreFailed("engine"))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            unsubscribe()
            relay.cancel()
            await self._drain()

    async def run_until_done(self) -> None:
        """Dial until no destination is waiting or in flight anywhere (``dialer simulate``)."""
        stop = asyncio.Event()
        try:
            while True:
                idle = await self._cycle(stop)
                if idle and not self._calls and not self._finished and not self._contexts:
                    return
        finally:
            await self._drain()

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def _ring(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """A doorbell for the store: new work was committed (from any thread or process)."""

        def ring() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        return ring

    async def _cycle(self, stop: asyncio.Event) -> bool:
        """One pass; returns True when it found nothing to do and waited."""
        now = self._timer.now()
        if now >= self._next_housekeeping:
            await self._housekeeping(now)
        started, wake = await self._dispatch(now)
        if self._finished and (not started or len(self._finished) >= self._settings.claim_batch):
            await self._flush()
            return False
        if started:
            await asyncio.sleep(0)
            return False
        await self._rest(wake, stop)
        return not self._calls

    async def _rest(self, wake: datetime | None, stop: asyncio.Event) -> None:
        """Wait until ``wake``, a call ends, new work is committed, or it is time for
        housekeeping (a live engine must renew its leases, however long its calls last)."""
        now = self._timer.now()
        until = self._next_housekeeping if wake is None else min(wake, self._next_housekeeping)
        real = self._timer.real_seconds(until - now)
        if real is None and not self._calls and (wake is not None or self._contexts):
            # Virtual time with nothing in progress: nothing can happen before the next
            # wake-up, so go straight there.
            await self._timer.idle_until(wake if wake is not None else until)
            return
        timeout = self._settings.poll_seconds
        if real is not None:
            timeout = min(timeout, max(0.0, real))
        # Cleared after the wait, not before: a call that ended since the last look has set
        # it already, and clearing first would sleep through that end.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def _drain(self) -> None:
        if self._calls:
            await asyncio.gather(*self._calls, return_exceptions=True)
        await self._flush()

    # housekeeping: leases, out-of-time campaigns, webhook subscribers

    async def _housekeeping(self, now: datetime) -> None:
        self._next_housekeeping = now + self._lease / 3
        # Only what this engine still tracks: a claim it lost track of (a failed step between
        # claim and call) must expire, so that an engine records it, not be held forever.
        held = [*self._dialling, *(f.record.destination_id for f in self._finished)]
        await asyncio.to_thread(self._renew_and_recover, now, held)

    def _renew_and_recover(self, now: datetime, held: list[DestinationId]) -> None:
        with self.store.write() as session:
            if held:
                session.extend_leases(self.worker, now + self._lease, held)
                session.set_calls_on_line(self.worker, dict(self._active))
            # Every engine's triggers append count deltas; folding them keeps reads O(1).
            session.fold_counts()
        with self.store.read() as session:
            self._recorder.webhook_tenants = frozenset(session.webhook_tenants())
        self._recorder.recover(now)

    # claiming and starting calls

    async def _dispatch(self, now: datetime) -> tuple[int, datetime | None]:
        """Claim what may be dialled now and start it; returns (started, next wake-up)."""
        contexts = await asyncio.to_thread(self._read_contexts)
        wake: datetime | None = None
        started = 0

        def soonest(moment: datetime | None) -> None:
            nonlocal wake
            if moment is not None and (wake is None or moment < wake):
                wake = moment

        dialling: set[CampaignId] = set()
        for context in contexts:
            campaign = context.campaign
            state = window_state(campaign.spec.schedule, context.timezone, now)
            if state.over:
                started += await asyncio.to_thread(self._recorder.close_out, context, now)
                continue
            if not state.open:
                soonest(state.next_opens_at)
                continue
            if campaign.status is not CampaignStatus.ENABLED:
                soonest(state.closes_at)  # nothing changes for it before then but a Start
                continue
            dialling.add(campaign.id)
            room, paced = self._room(context, now)
            if room <= 0:
                if paced is not None:
                    soonest(paced)
                continue  # else a line is freed when a call ends
            jobs, next_due = await asyncio.to_thread(
                self._claim, context, now, room, state.opened_at
            )
            if not jobs:
                soonest(next_due)
                continue
            started += await self._start(context, jobs, now)
            soonest(state.closes_at)
        self._note_windows(dialling)
        return started, wake

    def _note_windows(self, dialling: set[CampaignId]) -> None:
        """Publish the campaigns whose windows opened to this engine or closed since its last
        pass (closed: out of its hours, stopped, or nothing left to dial)."""
        for campaign_id in sorted(dialling - self._open):
            self.events.publish(CampaignOpened(campaign_id))
        for campaign_id in sorted(self._open - dialling):
            self.events.publish(CampaignClosed(campaign_id))
        self._open = dialling

    def _read_contexts(self) -> list[DialingContext]:
        with self.store.read() as session:
            contexts = session.dialing_contexts()
            for context in contexts:
                plan = self._plans.get(context.campaign.id)
                if plan is None or _plan_stale(plan, context):
                    self._plans[context.campaign.id] = self._plan(session, context)
                elif plan.context != context:
                    # Rules only (window, attempts, status): the flow and caller ID stand.
                    self._plans[context.campaign.id] = CampaignPlan(context, plan.flow, plan.cli)
        self._contexts = {c.campaign.id: c for c in contexts}
        self._forget_finished()
        return contexts

    def _forget_finished(self) -> None:
        """Campaigns with nothing waiting and no call of this engine on the line leave every
        per-campaign cache: an engine running for months must not hold every campaign seen."""
        for cache in (self._plans, self._campaign_buckets, self._active):
            for campaign_id in [c for c in cache if c not in self._contexts]:
                if not self._active.get(campaign_id):
                    del cache[campaign_id]

    def _plan(self, session: StoreSession, context: DialingContext) -> CampaignPlan:
        campaign = context.campaign
        flows = {f.id: f for f in session.list_callflows(campaign.tenant_id)}
        clis = {c.id: c.number for c in session.list_clis(campaign.tenant_id)}
        record = flows[campaign.spec.callflow_id]
        flow, problems = parse_callflow(json.loads(record.definition))
        if flow is None:  # validated on upload; a stored flow that fails is a bug to surface
            raise RuntimeError(f"call flow {record.id} no longer validates: {problems}")
        return CampaignPlan(context, flow, clis[CliId(campaign.spec.cli_id)])

    def _room(self, context: DialingContext, now: datetime) -> tuple[int, datetime | None]:
        """How many calls may start now, and when the rate limit next allows one if it is
        what holds them back."""
        campaign = context.campaign
        limit = self._settings.campaign_max_in_flight
        if campaign.strategy is not None and campaign.strategy.max_callers:
            limit = campaign.strategy.max_callers
        bucket = self._campaign_buckets.get(campaign.id)
        if bucket is None:
            bucket = TokenBucket(self._settings.campaign_calls_per_second, now)
            self._campaign_buckets[campaign.id] = bucket
        lines = min(
            self._settings.claim_batch,
            self._settings.max_in_flight - len(self._calls),
            limit - self._active[campaign.id],
        )
        if lines <= 0:
            return 0, None
        # Claim in quanta of 50 ms worth of the rate: one claim per token would cost a store
        # round trip per call, and a virtual clock would jump a token at a time.
        rate = min(self._bucket.rate, bucket.rate)
        quantum = min(lines, max(1, int(rate * _PACING_QUANTUM)))
        tokens = min(self._bucket.available(now), bucket.available(now))
        if tokens < quantum:
            return 0, max(
                self._bucket.next_token_at(now, quantum), bucket.next_token_at(now, quantum)
            )
        return min(lines, tokens), None

    def _claim(
        self, context: DialingContext, now: datetime, room: int, opened_at: datetime | None
    ) -> tuple[list[DialJob], datetime | None]:
        campaign_id = context.campaign.id
        with self.store.write() as session:
            jobs = session.claim(campaign_id, now, room, self.worker, now + self._lease, opened_at)
            if jobs:
                # At most this many: what _start settles or postpones is corrected by the next
                # release, recording or renewal, which publish the exact count.
                on_line = self._active[campaign_id] + len(jobs)
                session.set_calls_on_line(self.worker, {campaign_id: on_line})
            # A PUT committed since this cycle read its campaigns must still reach these calls:
            # compare what they will be dialled with to what the campaign says now.
            current = session.dialling_identity(campaign_id) if jobs else None
            plan = self._plans[campaign_id]
            spec = plan.context.campaign.spec
            if current is not None and current != (spec.callflow_id, spec.cli_id):
                fresh = replace(
                    context.campaign, spec=replace(spec, callflow_id=current[0], cli_id=current[1])
                )
                self._plans[campaign_id] = self._plan(session, replace(context, campaign=fresh))
        if jobs:
            return jobs, None
        with self.store.read() as session:
            return [], session.next_due(campaign_id)

    async def _start(self, context: DialingContext, jobs: list[DialJob], now: datetime) -> int:
        """Settle what must not be dialled, postpone what may not be dialled yet, dial the rest."""
        self.events.publish(DestinationsClaimed(context.campaign.id, len(jobs)))
        plan = self._plans[context.campaign.id]
        tenant = context.campaign.tenant_id
        listed: set[str] = set()
        screen = [j.e164 for j in jobs if j.e164 is not None and not j.ignore_dnc]
        if screen:
            listed = await asyncio.to_thread(self._dnc_listed, tenant, screen)
        hours = CallingHours.parse(context.calling_hours)
        settled: list[FinishedAttempt] = []
        postponed: list[tuple[DialJob, datetime]] = []
        dial: list[DialJob] = []
        for job in jobs:
            if job.e164 is None:
                record = not_dialled(job, Outcome.INVALID_NUMBER, Stage.NONE, now)
                settled.append(self._recorder.finished(job, context, record))
            elif job.e164 in listed and not job.ignore_dnc:
                record = not_dialled(job, Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED, now)
                settled.append(self._recorder.finished(job, context, record))
            elif (
                later := next_allowed(hours, self._zones(job.e164, context.timezone), now)
            ) is not None:
                postponed.append((job, later))
            else:
                dial.append(job)
        if postponed:
            lines = {context.campaign.id: self._active[context.campaign.id] + len(dial)}
            await asyncio.to_thread(self._release, postponed, lines)
            for job, _ in postponed:
                self.events.publish(AttemptPostponed(job.campaign_id, job.destination_id))
        self._finished.extend(settled)
        campaign_bucket = self._campaign_buckets[context.campaign.id]
        self._bucket.take(len(dial), now)
        campaign_bucket.take(len(dial), now)
        for job in dial:
            self._active[job.campaign_id] += 1
            self._dialling.add(job.destination_id)
            task = asyncio.create_task(self._call(job, plan, context, now))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)
        return len(jobs)

    def _dnc_listed(self, tenant: TenantId, numbers: list[str]) -> set[str]:
        with self.store.read() as session:
            return session.dnc_listed(tenant, numbers)

    def _release(self, jobs: list[tuple[DialJob, datetime]], lines: dict[CampaignId, int]) -> None:
        with self.store.write() as session:
            session.release(jobs, self.worker)
            session.set_calls_on_line(self.worker, lines)

    async def _call(
        self, job: DialJob, plan: CampaignPlan, context: DialingContext, claimed_at: datetime
    ) -> None:
        about_attempt(job)  # this task's lines carry the attempt's ids (structured logs)
        record: AttemptRecord | None = None
        try:
            started = self._timer.now()
            self.events.publish(
                AttemptStarted(
                    job.campaign_id,
                    job.destination_id,
                    job.attempt_number,
                    wait=(started - job.queued_at).total_seconds(),
                    claim_latency=(started - claimed_at).total_seconds(),
                )
            )
            log.debug("dialling")  # the ids say which attempt (structured logs)
            record = await self._runner.run(job, plan)
        except CallNotPlaced as exc:
            log.warning("call %s not placed, back to the queue: %s", job.destination_id, exc)
        except Exception as exc:  # a driver fault must not lose the destination
            log.exception("call %s:%s failed in the engine", job.destination_id, job.attempt_number)
            record = replace(
                not_dialled(job, Outcome.NO_CONNECTION, Stage.NONE, self._timer.now()),
                cause=f"engine error: {exc}"[:500],
            )
        finally:
            self._active[job.campaign_id] -= 1
            self.events.publish(CallEnded(job.campaign_id, job.destination_id))
        if record is None:
            await self._give_back(job)
        else:
            if log.isEnabledFor(logging.DEBUG):  # the names cost a look-up each, per call
                outcome, stage = record.outcome.api_name, record.stage.api_name
                log.debug("call ended: %s, stage %s", outcome, stage)
            self._finished.append(self._recorder.finished(job, context, record))
        self._dialling.discard(job.destination_id)
        self._wake.set()

    async def _give_back(self, job: DialJob) -> None:
        """A call the driver could not place is no attempt: due again a little later."""
        due = self._timer.now() + NOT_PLACED_RETRY
        try:
            lines = {job.campaign_id: self._active[job.campaign_id]}
            await asyncio.to_thread(self._release, [(job, due)], lines)
        except Exception:
            # Still leased to us: when the lease runs out, recovery settles it.
            log.exception("could not give %s back to the queue", job.destination_id)
            return
        self.events.publish(AttemptNotPlaced(job.campaign_id, job.destination_id))

    # recording

    async def _flush(self) -> None:
        if not self._finished:
            return
        batch, self._finished = self._finished, []
        try:
            await asyncio.to_thread(self._recorder.write, batch, dict(self._active))
        except Exception:
            # Keep them for the next try (their leases are still renewed); a write that did
            # commit before failing is harmless to repeat, since only held leases are recorded.
            self._finished[:0] = batch
            raise

"""The dispatcher: campaigns with work -> room on the line -> claim -> screen -> start calls.

Each pass reads the campaigns with destinations waiting, asks the pacing policy how many to
claim for each (dialer.domain.pacing), claims them in one statement with a lease, screens each
claimed destination (dialer.domain.dialling.screen: DNC, impossible numbers, the callee's
calling hours) and starts a task per call. A call's end is concluded by the same domain module
and left for the Engine to write in batches.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dialer.domain import dialling
from dialer.domain.abandonment import RecentCalls
from dialer.domain.agent_session import AgentSession
from dialer.domain.attempt import AttemptRecord, DialJob, FinishedAttempt
from dialer.domain.calendar import window_state
from dialer.domain.call import CallNotPlaced
from dialer.domain.callflow import parse_callflow
from dialer.domain.campaign import CampaignStatus, CampaignType, DialingContext
from dialer.domain.compliance import CallingHours
from dialer.domain.events import (
    AttemptNotPlaced,
    AttemptPostponed,
    AttemptStarted,
    CallEnded,
    CampaignClosed,
    CampaignOpened,
    DestinationsClaimed,
)
from dialer.domain.ids import CampaignId, CliId, DestinationId, TenantId
from dialer.domain.limits import ClaimLimits, claim_limits
from dialer.domain.pacing import (
    ClaimRequest,
    Load,
    PacingPolicy,
    agent_turns,
    agents_to_share,
    campaign_max_in_flight,
)
from dialer.engine.agent_pacing import AgentPacing
from dialer.engine.calls import CallRunner, CampaignPlan
from dialer.engine.log_context import about_attempt
from dialer.engine.pacer import TokenBucket
from dialer.engine.pacing_book import PacingBook
from dialer.engine.state import EngineState
from dialer.ports import EventSink, Timer
from dialer.ports.store import EngineSession, UnitOfWork
from dialer.settings import EngineSettings

# The engine's lines about each call keep the logger name they had before the engine was split
# (operators' log filters, and tests/acceptance/test_structured_logs.py, select by it).
log = logging.getLogger("dialer.engine.scheduler")

ZoneLookup = Callable[[str, str], tuple[str, ...]]
# An agent-first job with no agent ready to reserve is due again this much later.
AGENT_FIRST_RETRY = timedelta(seconds=10)


@dataclass
class Pass:
    """What one dispatcher pass did: calls started (or settled), when to look again at the
    latest, and the campaigns whose last window is over (for the housekeeper to close)."""

    started: int = 0
    wake: datetime | None = None
    over: list[DialingContext] = field(default_factory=list)

    def soonest(self, moment: datetime | None) -> None:
        if moment is not None and (self.wake is None or moment < self.wake):
            self.wake = moment


@dataclass(frozen=True)
class _Lookups:
    """What screening reads for a batch (Dispatcher._read): ``unlisted``, the numbers to look
    up on the DNC list; ``numbers``, those whose recent calls since ``since`` count (none when
    no rule needs them); ``batch``, the claimed destinations, whose own leases are not calls
    on the line; ``capped``, whether the tenant caps attempts per number."""

    tenant: TenantId
    unlisted: list[str]
    numbers: list[str]
    batch: list[DestinationId]
    since: datetime
    capped: bool


def _plan_stale(plan: CampaignPlan, context: DialingContext) -> bool:
    """The campaign now names another call flow or caller ID than the plan was built with."""
    old, new = plan.context.campaign.spec, context.campaign.spec
    return (old.callflow_id, old.cli_id) != (new.callflow_id, new.cli_id)


class Dispatcher:
    def __init__(
        self,
        store: UnitOfWork[EngineSession],
        timer: Timer,
        settings: EngineSettings,
        zones: ZoneLookup,
        runner: CallRunner,
        state: EngineState,
        events: EventSink,
        pacing: PacingPolicy,
    ) -> None:
        self._store = store
        self._timer = timer
        self._settings = settings
        self._zones = zones
        self._runner = runner
        self._state = state
        self._events = events
        self.pacing = pacing  # IVR campaigns; agent campaigns' caps and rates under the pacer
        self._bucket = TokenBucket(settings.max_calls_per_second, timer.now())
        self.campaign_buckets: dict[CampaignId, TokenBucket] = {}
        self._open: set[CampaignId] = set()  # campaigns this engine dials now (their windows)
        # The pass in which each agent campaign was last given calls (agent_turns' order).
        self.agent_given: dict[CampaignId, int] = {}
        self._passes = 0
        # Agent campaigns' pacer (docs/pacing.md) and what it knows of each (engine/pacing_book).
        book = runner.agents.book if runner.agents is not None else PacingBook()
        self.agent_pacing = AgentPacing(store, events, book, state)

    async def dispatch(self, now: datetime) -> Pass:
        """Claim what may be dialled now and start it."""
        contexts = await asyncio.to_thread(self.read_contexts)
        self._passes += 1
        # Read once per pass, and only when an agent campaign is there to pace.
        ready: dict[CampaignId, int] = {}
        agents_left = 0
        if any(c.campaign.spec.kind is CampaignType.AGENT for c in contexts):
            ready, distinct = await asyncio.to_thread(self._ready_agents)
            agents_left = agents_to_share(distinct, sum(self._state.without_agent.values()))
            contexts = self._agents_in_turn(contexts)
            await self.agent_pacing.load_tallies(contexts, now)
        done = Pass()
        dialling_now: set[CampaignId] = set()
        for context in contexts:
            campaign = context.campaign
            window = window_state(campaign.spec.schedule, context.timezone, now)
            if window.over:
                done.over.append(context)
                continue
            if not window.open:
                done.soonest(window.next_opens_at)
                continue
            if campaign.status is not CampaignStatus.ENABLED:
                done.soonest(window.closes_at)  # nothing changes for it before then but a Start
                continue
            dialling_now.add(campaign.id)
            request = self._room(context, now, ready, agents_left)
            if request.lines <= 0:
                done.soonest(request.look_again)  # None: a line is freed when a call ends
                continue
            jobs, next_due = await asyncio.to_thread(
                self._claim, context, now, request.lines, window.opened_at, request.max_in_flight
            )
            if not jobs:
                done.soonest(next_due)
                # Even if nothing falls due before then: what still waits when the last window
                # closes ends OutOfTime at the close, not when it would have fallen due.
                done.soonest(window.closes_at)
                continue
            if campaign.spec.kind is CampaignType.AGENT:
                # What _start settles without a call comes back to the budget next pass.
                agents_left -= len(jobs)
                self.agent_given[campaign.id] = self._passes
            done.started += await self._start(context, jobs, now)
            done.soonest(window.closes_at)
        self._note_windows(dialling_now)
        await self.agent_pacing.save()
        return done

    def _note_windows(self, dialling_now: set[CampaignId]) -> None:
        """Publish the campaigns whose windows opened to this engine or closed since its last
        pass (closed: out of its hours, stopped, or nothing left to dial)."""
        for campaign_id in sorted(dialling_now - self._open):
            self._events.publish(CampaignOpened(campaign_id))
        for campaign_id in sorted(self._open - dialling_now):
            self._events.publish(CampaignClosed(campaign_id))
        self._open = dialling_now

    def read_contexts(self) -> list[DialingContext]:
        plans = self._state.plans
        with self._store.read() as session:
            contexts = session.queue.dialing_contexts()
            for context in contexts:
                plan = plans.get(context.campaign.id)
                if plan is None or _plan_stale(plan, context):
                    plans[context.campaign.id] = self._plan(session, context)
                elif plan.context != context:
                    # Rules only (window, attempts, status): the flow and caller ID stand.
                    plans[context.campaign.id] = replace(plan, context=context)
        self._state.contexts = {c.campaign.id: c for c in contexts}
        self._forget_finished()
        return contexts

    def _forget_finished(self) -> None:
        """Campaigns with nothing waiting and no call of this engine on the line leave every
        per-campaign cache: an engine running for months must not hold every campaign seen."""
        state = self._state
        for cache in (state.plans, self.campaign_buckets, state.active, self.agent_given):
            for campaign_id in [c for c in cache if c not in state.contexts]:
                if not state.active.get(campaign_id):
                    del cache[campaign_id]
        self.agent_pacing.book.forget(state.contexts)

    def _plan(self, session: EngineSession, context: DialingContext) -> CampaignPlan:
        campaign = context.campaign
        flows = {f.id: f for f in session.catalog.list_callflows(campaign.tenant_id)}
        clis = {c.id: c.number for c in session.catalog.list_clis(campaign.tenant_id)}
        record = flows[campaign.spec.callflow_id]
        flow, problems = parse_callflow(json.loads(record.definition))
        if flow is None:  # validated on upload; a stored flow that fails is a bug to surface
            raise RuntimeError(f"call flow {record.id} no longer validates: {problems}")
        tenant = session.tenants.get_tenant(campaign.tenant_id)
        name = tenant.name if tenant is not None else ""
        return CampaignPlan(context, flow, clis[CliId(campaign.spec.cli_id)], name)

    def _ready_agents(self) -> tuple[dict[CampaignId, int], int]:
        """Ready agents per campaign, and how many distinct ones (the shared budget)."""
        if not self._state.agents_held:
            return {}, 0
        with self._store.read() as session:
            repo = session.agent_sessions
            return repo.ready_agents(self._state.worker), repo.ready_sessions(self._state.worker)

    def _agents_in_turn(self, contexts: list[DialingContext]) -> list[DialingContext]:
        """The agent campaigns reordered among their own places by ``agent_turns`` (the
        first draws first on the shared ready agents); IVR campaigns keep theirs."""
        slots = [i for i, c in enumerate(contexts) if c.campaign.spec.kind is CampaignType.AGENT]
        by_id = {contexts[i].campaign.id: contexts[i] for i in slots}
        ordered = list(contexts)
        for slot, campaign_id in zip(slots, agent_turns(by_id, self.agent_given), strict=True):
            ordered[slot] = by_id[campaign_id]
        return ordered

    def _room(
        self,
        context: DialingContext,
        now: datetime,
        ready: dict[CampaignId, int],
        agents_left: int,
    ) -> ClaimRequest:
        """How many calls may start now, by the campaign kind's pacing policy, and when the
        rate limit next allows one if it is what holds them back."""
        campaign = context.campaign
        bucket = self.campaign_buckets.get(campaign.id)
        if bucket is None:
            bucket = TokenBucket(self._settings.campaign_calls_per_second, now)
            self.campaign_buckets[campaign.id] = bucket
        load = Load(
            campaign=campaign,
            on_line=self._state.active[campaign.id],
            free_lines=self._settings.max_in_flight - len(self._state.calls),
            limits=(self._bucket, bucket),
            now=now,
        )
        if campaign.spec.kind is CampaignType.AGENT:
            agents = replace(
                load,
                ready_agents=ready.get(campaign.id, 0),
                without_agent=self._state.without_agent[campaign.id],
                agents_left=agents_left,
            )
            return self.agent_pacing.request(context, agents, self.pacing.request(agents))
        return self.pacing.request(load)

    def _claim(
        self,
        context: DialingContext,
        now: datetime,
        room: int,
        opened_at: datetime | None,
        max_in_flight: int | None = None,
    ) -> tuple[list[DialJob], datetime | None]:
        campaign_id = context.campaign.id
        state = self._state
        limits = self._limits(context, max_in_flight)
        with self._store.write() as session:
            claimed = session.queue.claim_limited(
                campaign_id, now, room, state.worker, now + state.lease, opened_at, limits
            )
            jobs = claimed.jobs
            if claimed.capped and any(f.campaign_id == campaign_id for f in state.finished):
                state.record_soon = True
            if jobs:
                # At most this many: what _start settles or postpones is corrected by the next
                # release, recording or renewal, which publish the exact count.
                on_line = state.active[campaign_id] + len(jobs)
                session.queue.set_calls_on_line(state.worker, {campaign_id: on_line})
            # A PUT committed since this cycle read its campaigns must still reach these calls:
            # compare what they will be dialled with to what the campaign says now.
            current = session.queue.dialling_identity(campaign_id) if jobs else None
            plan = state.plans[campaign_id]
            spec = plan.context.campaign.spec
            if current is not None and current != (spec.callflow_id, spec.cli_id):
                fresh = replace(
                    context.campaign, spec=replace(spec, callflow_id=current[0], cli_id=current[1])
                )
                state.plans[campaign_id] = self._plan(session, replace(context, campaign=fresh))
        if jobs or claimed.capped or claimed.paced_until is not None:
            # Held back by a limit shared with other engines: wait for its window, or (at
            # the campaign's calls in flight) for a call to end, ours or after a poll.
            return jobs, claimed.paced_until
        with self._store.read() as session:
            return [], session.queue.next_due(campaign_id)

    def _limits(self, context: DialingContext, max_in_flight: int | None) -> ClaimLimits:
        """The limits the claim keeps across engines (docs/engine.md, Limits)."""
        campaign, settings = context.campaign, self._settings
        if max_in_flight is None:
            max_in_flight = campaign_max_in_flight(campaign, settings.campaign_max_in_flight)
        trunk_rate = settings.trunk_calls_per_second
        return claim_limits(
            campaign.id,
            campaign.tenant_id,
            max_in_flight,
            settings.campaign_calls_per_second,
            settings.tenant_calls_per_second,
            None if trunk_rate is None else (settings.trunk, trunk_rate),
        )

    async def _start(self, context: DialingContext, jobs: list[DialJob], now: datetime) -> int:
        """Settle what must not be dialled, postpone what may not be dialled yet, dial the rest
        (dialer.domain.dialling.screen decides which)."""
        state = self._state
        campaign = context.campaign
        self._events.publish(DestinationsClaimed(campaign.id, len(jobs)))
        plan = state.plans[campaign.id]
        listed, history = await self._screen_reads(context, jobs, now)
        hours = CallingHours.parse(context.calling_hours)
        rules = state.rules(campaign)
        settled: list[FinishedAttempt] = []
        postponed: list[tuple[DialJob, datetime]] = []
        dial: list[DialJob] = []
        first: list[DialJob] = []
        for job in jobs:
            zones = () if job.e164 is None else self._zones(job.e164, context.timezone)
            verdict = dialling.screen(job, hours, job.e164 in listed, zones, now)
            verdict = history.screen(job, verdict, now)
            if verdict is dialling.DIAL:  # nearly every job: no type tests (issue 11)
                dial.append(job)
            elif isinstance(verdict, dialling.Settle):
                record = dialling.settled(job, verdict, now)
                settled.append(dialling.conclude(job, record, rules))
            elif isinstance(verdict, dialling.Postpone):
                postponed.append((job, verdict.until))
            elif verdict.agent_first:
                first.append(job)
            else:
                dial.append(job)
        reserved: dict[DestinationId, AgentSession] = {}
        for job in first:
            # Agent first (UK: an abandoned call in the last 72 hours): dialled only with an
            # agent reserved for it; with none ready it waits a little, given back.
            session = await self._reserve_first(job)
            if session is None:
                postponed.append((job, now + AGENT_FIRST_RETRY))
            else:
                reserved[job.destination_id] = session
                dial.append(job)
        if postponed:
            lines = {campaign.id: state.active[campaign.id] + len(dial)}
            await asyncio.to_thread(self._release, postponed, lines)
            for job, _ in postponed:
                self._events.publish(AttemptPostponed(job.campaign_id, job.destination_id))
        state.finished.extend(settled)
        self._bucket.take(len(dial), now)
        self.campaign_buckets[campaign.id].take(len(dial), now)
        # Asked once a batch, not twice a call: a level set while calls are on the line
        # applies from the next batch.
        debug = log.isEnabledFor(logging.DEBUG)
        for job in dial:
            state.active[job.campaign_id] += 1
            state.dialling.add(job.destination_id)
            given = reserved.get(job.destination_id)
            task = asyncio.create_task(self._call(job, plan, context, now, given, debug))
            state.calls.add(task)
            task.add_done_callback(state.calls.discard)
        if settled:
            # Recorded at the end of this pass, not with the next batch: their leases count
            # against the campaign's calls in flight, a limit shared with every engine.
            state.record_soon = True
        return len(jobs)

    async def _screen_reads(
        self, context: DialingContext, jobs: list[DialJob], now: datetime
    ) -> tuple[set[str], dialling.NumberHistory]:
        """What screening reads for a batch, in one read transaction: the numbers on the
        tenant's DNC list and, when the tenant caps attempts per number or the regime locks
        numbers out after an abandoned call (docs/compliance.md), the numbers' recent calls by
        any of the tenant's campaigns, with their calls on the line. One transaction, not one
        each (issue 11): both are read before any of the batch is screened, and one snapshot
        holds them together no less truly than two taken a moment apart."""
        campaign = context.campaign
        rules = dialling.NumberRules(
            context.compliance.attempts_per_day, context.rules.redial_lockout
        )
        history = dialling.NumberHistory(campaign.spec.kind, rules, {})
        unlisted = [j.e164 for j in jobs if j.e164 is not None and not j.ignore_dnc]
        numbers = [j.e164 for j in jobs if j.e164 is not None] if rules.needed else []
        if not unlisted and not numbers:
            return set(), history
        lookups = _Lookups(
            campaign.tenant_id,
            unlisted,
            numbers,
            [j.destination_id for j in jobs],
            now - rules.look_back,
            rules.attempts_per_day is not None,
        )
        listed, history.recent, history.in_flight = await asyncio.to_thread(self._read, lookups)
        return listed, history

    def _read(self, lookups: "_Lookups") -> tuple[set[str], dict[str, RecentCalls], dict[str, int]]:
        """``capped``: the calls on the line count against a cap only; the 72-hour rule looks
        at recorded abandoned calls alone, so without a cap that join is not read."""
        listed: set[str] = set()
        recent: dict[str, RecentCalls] = {}
        in_flight: dict[str, int] = {}
        with self._store.read() as session:
            if lookups.unlisted:
                listed = session.dnc.dnc_listed(lookups.tenant, lookups.unlisted)
            if lookups.numbers:
                recent = session.abandonment.recent(lookups.tenant, lookups.numbers, lookups.since)
                if lookups.capped:
                    in_flight = session.abandonment.calls_in_flight(
                        lookups.tenant, lookups.numbers, lookups.batch
                    )
        return listed, recent, in_flight

    def _release(self, jobs: list[tuple[DialJob, datetime]], lines: dict[CampaignId, int]) -> None:
        with self._store.write() as session:
            session.queue.release(jobs, self._state.worker)
            session.queue.set_calls_on_line(self._state.worker, lines)

    async def _reserve_first(self, job: DialJob) -> AgentSession | None:
        agents = self._runner.agents
        if agents is None or not self._state.agents_held:
            return None
        return await agents.reserve_first(job)

    async def _call(
        self,
        job: DialJob,
        plan: CampaignPlan,
        context: DialingContext,
        claimed_at: datetime,
        reserved: AgentSession | None = None,
        debug: bool = False,
    ) -> None:
        """``debug``: whether the log takes DEBUG lines (the caller asked the logger)."""
        about_attempt(job)  # this task's lines carry the attempt's ids (structured logs)
        state = self._state
        record: AttemptRecord | None = None
        try:
            started = self._timer.now()
            self._events.publish(
                AttemptStarted(
                    job.campaign_id,
                    job.destination_id,
                    job.attempt_number,
                    wait=(started - job.queued_at).total_seconds(),
                    claim_latency=(started - claimed_at).total_seconds(),
                )
            )
            if debug:
                log.debug("dialling")  # the ids say which attempt (structured logs)
            record = await self._runner.run(job, plan, claimed_at, reserved)
        except CallNotPlaced as exc:
            log.warning("call %s not placed, back to the queue: %s", job.destination_id, exc)
        except Exception as exc:  # a driver fault must not lose the destination
            log.exception("call %s:%s failed in the engine", job.destination_id, job.attempt_number)
            record = dialling.engine_fault(job, exc, self._timer.now())
        finally:
            state.active[job.campaign_id] -= 1
            self._events.publish(CallEnded(job.campaign_id, job.destination_id))
        if record is None:
            await self._give_back(job)
        else:
            if debug:  # the names cost a look-up each, per call
                outcome, stage = record.outcome.api_name, record.stage.api_name
                log.debug("call ended: %s, stage %s", outcome, stage)
            # The rules as they are now: a webhook registered during the call is told.
            finished = dialling.conclude(job, record, state.rules(context.campaign))
            state.finished.append(finished)
            if context.campaign.spec.kind is CampaignType.AGENT:
                self.agent_pacing.book.ended(finished)
        state.dialling.discard(job.destination_id)
        state.wake.set()

    async def _give_back(self, job: DialJob) -> None:
        """A call the driver could not place is no attempt: due again a little later."""
        due = dialling.not_placed_due(self._timer.now())
        try:
            lines = {job.campaign_id: self._state.active[job.campaign_id]}
            await asyncio.to_thread(self._release, [(job, due)], lines)
        except Exception:
            # Still leased to us: when the lease runs out, recovery settles it.
            log.exception("could not give %s back to the queue", job.destination_id)
            return
        self._events.publish(AttemptNotPlaced(job.campaign_id, job.destination_id))

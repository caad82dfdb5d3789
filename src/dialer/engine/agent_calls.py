"""An agent campaign's answered call: given to an agent of this engine, or waiting for one
(docs/agents-engine.md, An agent campaign's call).

The customer goes to the longest-ready agent (the callback agent first, when the destination
names one, or the agent reserved before dialling for an agent-first job) or waits first-in,
first-out for at most the campaign's longest wait, and under the UK or US rules at most their
2 s (``first_deadline``), unless the strategy's MaximumCallers wait already. Not given an agent
in time under those rules, the customer hears the information message (engine/abandoned.py):
an abandoned call. Bridged, the call ends with the customer leaving, the
agent releasing them from the desk, or the agent's phone dropping (then the customer waits for
another agent, with a new longest wait). The task then waits for the agent's wrap-up to end,
reads the disposition, and the record follows from dialer.domain.dialling.agent_answered.
"""

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dialer.domain import agent_session as agents
from dialer.domain import dialling
from dialer.domain.abandonment import AbandonRules
from dialer.domain.agent_session import AgentSession, AgentState, Customer
from dialer.domain.attempt import AgentCall, AttemptRecord, DialJob
from dialer.domain.call import Answered, BridgeEnd
from dialer.domain.campaign import Campaign
from dialer.domain.events import CallAbandoned, CustomerBridged, CustomerQueued
from dialer.engine.abandoned import MESSAGE_LEAD, Announcement
from dialer.engine.agent_floor import AgentFloor
from dialer.engine.agent_queue import Unserved, Waiter
from dialer.engine.alarms import Alarms
from dialer.engine.pacing_book import PacingBook
from dialer.ports import Call, EventSink, Timer

if TYPE_CHECKING:  # calls.py imports this module
    from dialer.engine.calls import CampaignPlan

log = logging.getLogger(__name__)


class AgentCalls:
    def __init__(
        self,
        floor: AgentFloor,
        timer: Timer,
        alarms: Alarms,
        events: EventSink,
        audio_dir: Path = Path("audio"),
    ) -> None:
        self._floor = floor
        self._timer = timer
        self._alarms = alarms
        self._events = events
        self._audio_dir = audio_dir
        # The pacer's view of each campaign: agents busy since their bridge, handle times.
        self.book = PacingBook()

    async def run(
        self,
        job: DialJob,
        plan: "CampaignPlan",
        answer: Answered,
        call: Call,
        unserved: Unserved,
        reserved: AgentSession | None = None,
    ) -> AttemptRecord:
        """``reserved``: the agent reserved for this customer before the call was dialled (an
        agent-first job), given the customer at once."""
        context = plan.context
        campaign = context.campaign
        options = campaign.spec.agent_options
        rules = context.rules
        # The wait for an agent starts at the verdict (the answer, when nothing is detected).
        now = self._timer.now()
        queued_at = max(answer.answered_at, now)
        record = AgentCall(queued_at)
        customer = customer_of(job, answer)
        deadline = first_deadline(rules, options.max_wait, answer, queued_at)
        announcement = Announcement.of(
            context.information_message, context.compliance, rules, plan.tenant_name
        )
        if announcement is not None:
            announcement.prepare(call)
        served: AgentSession | None = None
        while served is None:
            session: AgentSession | None
            if reserved is not None:
                session, reserved = reserved, None
            else:
                session = await self._agent_for(job, campaign, customer, call, deadline)
            if session is None:
                break
            unserved.served()
            end, record = await self._talk(job, session, call, record)
            if end is None or end is BridgeEnd.AGENT_LEFT:
                # The agent was gone before the bridge, or their phone dropped during it: the
                # customer waits for another, with a new longest wait after a conversation.
                unserved.again()
                if end is not None:
                    deadline = self._timer.now() + options.max_wait
                continue
            served = session
        unserved.served()
        if served is None and announcement is not None:
            record = await self._abandoned(job, plan, answer, call, record, announcement)
        hangup = await call.hangup()
        if served is not None:
            over = await self._floor.change(
                served.id, lambda s, now: agents.call_over(s, now, options.wrap_up)
            )
            if over is not None and over.state is AgentState.WRAP_UP and over.wrap_up_until:
                # A wrap-up with a time limit: the pacer sees this agent free when it ends.
                self.book.wrap_up(campaign.id, _reference(job), over.since)
            record = await self._wrap_up(record, served)
            # From the bridge to the agent's next ready: talk and wrap-up (the pacer's).
            ended = record.wrap_up_ended_at or self._timer.now()
            self.book.handled(campaign.id, _reference(job), ended)
        return dialling.agent_answered(job, answer, hangup, record, served is not None)

    async def reserve_first(self, job: DialJob) -> AgentSession | None:
        """An agent of the campaign reserved for ``job`` before it is dialled (agent first:
        UK, the number had an abandoned call in the last 72 hours); None if none is ready."""
        customer = customer_at(job, self._timer.now())
        return await self._floor.reserve(job.campaign_id, customer, job.prefer_agent_id)

    async def let_go(self, reserved: AgentSession) -> None:
        """The call reserved for never reached a person: the agent is ready again."""
        await self._floor.change(reserved.id, _undo_reservation)

    async def _abandoned(
        self,
        job: DialJob,
        plan: "CampaignPlan",
        answer: Answered,
        call: Call,
        record: AgentCall,
        announcement: Announcement,
    ) -> AgentCall:
        """No agent in time under a regime: the information message (US: with its opt-out
        key). A customer who talked to an agent before their phone dropped hears it too, but
        is no abandoned call (CallCenterHungUp, not counted)."""
        began = self._timer.now()
        audio = self._audio_dir / str(plan.context.campaign.tenant_id)
        try:
            heard, opted_out = await announcement.play(call, audio)
        except Exception:
            log.exception("the information message could not be played")
            heard, opted_out = False, False
        if record.bridged_at is None:
            self._events.publish(
                CallAbandoned(
                    job.campaign_id,
                    job.destination_id,
                    answer.answered_at,
                    began,
                    heard,
                    opted_out,
                )
            )
        return replace(record, opted_out=opted_out) if opted_out else record

    async def _agent_for(
        self, job: DialJob, campaign: Campaign, customer: Customer, call: Call, deadline: datetime
    ) -> AgentSession | None:
        """An agent reserved for the customer, at once or after a wait; None: not in time,
        the line of waiting customers is full, or the customer left."""
        floor, campaign_id = self._floor, campaign.id
        prefer = job.prefer_agent_id  # the agent a callback asked for, first when ready
        if not floor.queues.waiting(campaign_id):
            session = await floor.reserve(campaign_id, customer, prefer)
            if session is not None:
                return session
        most = campaign.strategy.max_callers if campaign.strategy is not None else None
        if most is not None and floor.queues.waiting(campaign_id) >= most:
            return None
        if self._timer.now() >= deadline:
            return None
        waiter = floor.queues.join(campaign_id)
        self._events.publish(CustomerQueued(campaign_id, job.destination_id, self._timer.now()))
        gone = asyncio.Event()
        listening = asyncio.create_task(_listen(call, self._timer, deadline))

        def heard(task: "asyncio.Task[bool]") -> None:
            if _hung_up(task):
                gone.set()

        listening.add_done_callback(heard)
        try:
            return await self._wait(waiter, customer, prefer, gone, deadline)
        finally:
            floor.queues.leave(waiter)
            listening.cancel()
            with contextlib.suppress(BaseException):
                await listening

    async def _wait(
        self,
        waiter: Waiter,
        customer: Customer,
        prefer: int | None,
        gone: asyncio.Event,
        deadline: datetime,
    ) -> AgentSession | None:
        """``waiter.turn`` is set only for the first of the line (queues.CustomerQueues), so
        each pass asks for an agent or waits."""
        floor = self._floor
        while True:
            if gone.is_set():
                return None  # the customer hung up while waiting
            if waiter.turn.is_set():
                waiter.turn.clear()
                session = await floor.reserve(waiter.campaign_id, customer, prefer)
                if session is not None:
                    return session
            if not await self._alarms.wait([waiter.turn, gone], deadline):
                return None

    async def _talk(
        self,
        job: DialJob,
        session: AgentSession,
        call: Call,
        record: AgentCall,
    ) -> tuple[BridgeEnd | None, AgentCall]:
        """Bridge the customer to the reserved agent until one of them leaves; None: the
        agent's leg was gone before the bridge (the reservation is undone)."""
        floor = self._floor
        leg = floor.leg(session.id)
        if leg is None:
            # Reserved, but the leg has just ended (the floor has not seen it yet).
            await floor.change(session.id, _phone_dropped)
            return None, record
        assert session.customer is not None  # reserved for this call
        # Made before the session turns TALKING: the desk may ask to hang the customer up from
        # then on, even before the bridge below has begun.
        released = floor.release_for(session.id, session.customer)
        talking = await floor.change(session.id, lambda s, now: agents.bridged(s, now))
        if talking is None or talking.state is not AgentState.TALKING:
            await floor.change(session.id, _undo_reservation)
            return None, record
        bridged_at = self._timer.now()
        wait = (bridged_at - record.queued_at).total_seconds()
        self._events.publish(
            CustomerBridged(job.campaign_id, job.destination_id, session.agent_id, max(0.0, wait))
        )
        record = replace(
            record,
            agent_id=session.agent_id,
            member=session.member,
            bridged_at=bridged_at,
            talk_ended_at=None,
        )
        self.book.bridged(job.campaign_id, _reference(job), bridged_at)
        try:
            end = await leg.bridge(call, released)
        except Exception:
            log.exception("agent %s: the bridge failed", session.member)
            end = BridgeEnd.AGENT_LEFT
        record = replace(record, talk_ended_at=self._timer.now())
        if end is BridgeEnd.AGENT_LEFT:
            self.book.unbridged(job.campaign_id, _reference(job))
            await floor.change(session.id, _phone_dropped)
        return end, record

    async def _wrap_up(self, record: AgentCall, reserved: AgentSession) -> AgentCall:
        """Wait until the agent leaves this call's wrap-up (ready, pause, log-out, or its time
        ran out), then read how they disposed of it."""
        final = await self._floor_wrap_up(reserved)
        if final is None or not same_call(final, reserved):
            return record  # another engine has the session now: how it went is unknown
        ended = None if final.state is AgentState.WRAP_UP else final.since
        disposition = final.disposition
        if disposition is None:
            return replace(record, wrap_up_ended_at=ended)
        return replace(
            record,
            wrap_up_ended_at=ended,
            disposition=disposition.stage,
            callback_at=disposition.callback_at,
            callback_agent_id=final.agent_id if disposition.same_agent else None,
        )

    async def _floor_wrap_up(self, reserved: AgentSession) -> AgentSession | None:
        """The session once it has left the wrap-up of the call it was reserved for (or as it
        is when the engine stops)."""
        floor = self._floor
        assert reserved.customer is not None
        while True:
            changed = floor.changed(reserved.id)
            left = floor.after_call(reserved.id, reserved.customer)
            if left is not None:
                return left
            session = floor.session(reserved.id)
            if session is None:
                return await floor.stored(reserved.id)  # offline now, or another engine's
            if session.state is not AgentState.WRAP_UP or not same_call(session, reserved):
                return session
            until = session.wrap_up_until
            if until is not None and self._timer.now() >= until:
                if await floor.change(reserved.id, _wrap_up_over) is None:
                    return await floor.stored(reserved.id)
                continue
            if floor.closing.is_set():
                return session  # the engine stops: recorded with the disposition so far
            await self._alarms.wait([changed, floor.closing], until)


def first_deadline(
    rules: AbandonRules, max_wait: timedelta, answer: Answered, verdict: datetime
) -> datetime:
    """Until when the customer may wait for an agent: the campaign's longest wait, and under a
    regime the connect time of the rules (UK: from the answer; US: from the end of the
    greeting, the verdict), less the lead the message needs to start in time."""
    longest = verdict + max_wait
    if not rules.enforced:
        return longest
    start = verdict if rules.from_greeting_end else answer.answered_at
    return min(longest, start + rules.connect_within - MESSAGE_LEAD)


def same_call(session: AgentSession, reserved: AgentSession) -> bool:
    """The session still describes the call it was reserved for (not a later one)."""
    mine, now = reserved.customer, session.customer
    return (
        mine is not None
        and now is not None
        and (now.destination_id, now.attempt_number) == (mine.destination_id, mine.attempt_number)
    )


def _reference(job: DialJob) -> str:
    return f"{job.destination_id}:{job.attempt_number}"


def customer_of(job: DialJob, answer: Answered) -> Customer:
    return customer_at(job, answer.answered_at)


def customer_at(job: DialJob, answered_at: datetime) -> Customer:
    """The screen pop (an agent-first reservation shows the time it was made)."""
    return Customer(
        campaign_id=job.campaign_id,
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        number=job.e164 or job.raw,
        name=job.name,
        parameters=job.parameters,
        custom_data=job.custom_data,
        keys="",
        answered_at=answered_at,
    )


def _undo_reservation(session: AgentSession, now: datetime) -> agents.Changed | None:
    if session.state is not AgentState.RESERVED:
        return None
    return agents.unreserve(session, now)


def _phone_dropped(session: AgentSession, now: datetime) -> agents.Changed | None:
    return agents.phone_gone(session, now) if session.open else None


def _wrap_up_over(session: AgentSession, now: datetime) -> agents.Changed | None:
    return agents.wrap_up_over(session, now)


def _hung_up(listening: "asyncio.Task[bool]") -> bool:
    """The listening ended because the customer hung up (not cancelled, failed or done)."""
    if listening.cancelled() or listening.exception() is not None:
        return False
    return not listening.result()


async def _listen(call: Call, timer: Timer, deadline: datetime) -> bool:
    """While the customer waits: False as soon as they hang up, True if they are still there
    at ``deadline``. Listening is gathering keys nobody asked for (a key pressed meanwhile is
    ignored): the one way both networks tell the engine a callee has gone."""
    while True:
        left = deadline - timer.now()
        if left <= timedelta():
            return True
        heard = await call.gather(1, left)
        if heard is None:
            return False
        if not heard:
            return True

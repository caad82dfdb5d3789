"""An agent campaign's answered call: given to an agent of this engine, or waiting for one
(docs/agents.md, An agent campaign's call).

The customer goes to the longest-ready agent (the callback agent first, when the destination
names one) or waits first-in, first-out for at most the campaign's longest wait, unless the
strategy's MaximumCallers wait already. Bridged, the call ends with the customer leaving, the
agent releasing them from the desk, or the agent's phone dropping (then the customer waits for
another agent, with a new longest wait). The task then waits for the agent's wrap-up to end,
reads the disposition, and the record follows from dialer.domain.dialling.agent_answered.
"""

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from dialer.domain import agent_session as agents
from dialer.domain import dialling
from dialer.domain.agent_session import AgentSession, AgentState, Customer
from dialer.domain.attempt import AgentCall, AttemptRecord, DialJob
from dialer.domain.call import Answered, BridgeEnd
from dialer.domain.campaign import Campaign
from dialer.domain.events import CustomerBridged, CustomerQueued
from dialer.engine.agent_floor import AgentFloor
from dialer.engine.agent_queue import Unserved, Waiter
from dialer.engine.alarms import Alarms
from dialer.ports import Call, EventSink, Timer

log = logging.getLogger(__name__)


class AgentCalls:
    def __init__(
        self,
        floor: AgentFloor,
        timer: Timer,
        alarms: Alarms,
        events: EventSink,
    ) -> None:
        self._floor = floor
        self._timer = timer
        self._alarms = alarms
        self._events = events

    async def run(
        self, job: DialJob, campaign: Campaign, answer: Answered, call: Call, unserved: Unserved
    ) -> AttemptRecord:
        options = campaign.spec.agent_options
        # The wait for an agent starts at the verdict (the answer, when nothing is detected).
        queued_at = max(answer.answered_at, self._timer.now())
        record = AgentCall(queued_at)
        customer = customer_of(job, answer)
        deadline = self._timer.now() + options.max_wait
        served: AgentSession | None = None
        while served is None:
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
        hangup = await call.hangup()
        if served is not None:
            after = await self._floor.change(
                served.id, lambda s, now: agents.call_over(s, now, options.wrap_up)
            )
            record = await self._wrap_up(record, served, after)
        return dialling.agent_answered(job, answer, hangup, record, served is not None)

    async def _agent_for(
        self, job: DialJob, campaign: Campaign, customer: Customer, call: Call, deadline: datetime
    ) -> AgentSession | None:
        """An agent reserved for the customer, at once or after a wait; None: not in time,
        the line of waiting customers is full, or the customer left."""
        floor, campaign_id = self._floor, campaign.id
        prefer = None  # the callback agent (h-results) once DialJob names one
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
        listening = asyncio.create_task(_listen(call, self._timer, deadline))
        listening.add_done_callback(lambda _: waiter.turn.set())
        try:
            return await self._wait(waiter, customer, prefer, listening, deadline)
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
        listening: asyncio.Task[bool],
        deadline: datetime,
    ) -> AgentSession | None:
        floor = self._floor
        while True:
            if listening.done() and not listening.cancelled() and not listening.result():
                return None  # the customer hung up while waiting
            if floor.queues.first(waiter) and waiter.turn.is_set():
                waiter.turn.clear()
                session = await floor.reserve(waiter.campaign_id, customer, prefer)
                if session is not None:
                    return session
            if not await self._alarms.wait([waiter.turn], deadline):
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
        talking = None
        if leg is not None:
            talking = await floor.change(session.id, lambda s, now: agents.bridged(s, now))
        if leg is None or talking is None or talking.state is not AgentState.TALKING:
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
        try:
            end = await leg.bridge(call)
        except Exception:
            log.exception("agent %s: the bridge failed", session.member)
            end = BridgeEnd.AGENT_LEFT
        record = replace(record, talk_ended_at=self._timer.now())
        if end is BridgeEnd.AGENT_LEFT:
            await floor.change(session.id, _phone_dropped)
        return end, record

    async def _wrap_up(
        self, record: AgentCall, reserved: AgentSession, after: AgentSession | None
    ) -> AgentCall:
        """Wait until the agent leaves this call's wrap-up (ready, pause, log-out, or its time
        ran out), then read how they disposed of it."""
        final = await self._floor_wrap_up(reserved, after)
        if final is None:
            return record
        ended = None if final.state is AgentState.WRAP_UP else final.since
        disposition = final.disposition if same_call(final, reserved) else None
        if disposition is None:
            return replace(record, wrap_up_ended_at=ended)
        return replace(
            record,
            wrap_up_ended_at=ended,
            disposition=disposition.stage,
            callback_at=disposition.callback_at,
            callback_agent_id=final.agent_id if disposition.same_agent else None,
        )

    async def _floor_wrap_up(
        self, reserved: AgentSession, after: AgentSession | None
    ) -> AgentSession | None:
        floor = self._floor
        session = after
        while True:
            changed = floor.changed(reserved.id)
            held = floor.session(reserved.id)
            if held is None:
                return await floor.stored(reserved.id)  # offline now, or another engine's
            session = held
            if session.state is not AgentState.WRAP_UP or not same_call(session, reserved):
                return session
            until = session.wrap_up_until
            if until is not None and self._timer.now() >= until:
                over = await floor.change(reserved.id, _wrap_up_over)
                if over is None:
                    return await floor.stored(reserved.id)
                continue
            if floor.closing.is_set():
                return session  # the engine stops: recorded with the disposition so far
            await self._alarms.wait([changed, floor.closing], until)


def same_call(session: AgentSession, reserved: AgentSession) -> bool:
    """The session still describes the call it was reserved for (not a later one)."""
    mine, now = reserved.customer, session.customer
    return (
        mine is not None
        and now is not None
        and (now.destination_id, now.attempt_number) == (mine.destination_id, mine.attempt_number)
    )


def customer_of(job: DialJob, answer: Answered) -> Customer:
    return Customer(
        campaign_id=job.campaign_id,
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        number=job.e164 or job.raw,
        name=job.name,
        parameters=job.parameters,
        custom_data=job.custom_data,
        keys="",
        answered_at=answer.answered_at,
    )


def _undo_reservation(session: AgentSession, now: datetime) -> agents.Changed | None:
    if session.state is not AgentState.RESERVED:
        return None
    return agents.unreserve(session, now)


def _phone_dropped(session: AgentSession, now: datetime) -> agents.Changed | None:
    return agents.phone_gone(session, now) if session.open else None


def _wrap_up_over(session: AgentSession, now: datetime) -> agents.Changed | None:
    return agents.wrap_up_over(session, now)


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

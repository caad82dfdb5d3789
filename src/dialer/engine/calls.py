"""One attempt on the network: place the call, walk the call flow, say how it went.

The runner does the I/O; what the call ends as (outcome, stage, an SMS or a message due) is
decided in dialer.domain.dialling.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialer.domain import dialling
from dialer.domain.attempt import AttemptRecord, DialJob
from dialer.domain.call import Answered, Failed, OriginateRequest
from dialer.domain.callflow import CallFlow
from dialer.domain.campaign import CampaignType, DialingContext
from dialer.domain.codes import Stage
from dialer.domain.dialling import Handling
from dialer.domain.events import AttemptAnswered, NullSink
from dialer.domain.ids import CampaignId
from dialer.domain.sms_outbox import SmsText
from dialer.domain.templates import Callee, custom_fields
from dialer.domain.walker import (
    MAX_STEPS,
    Gather,
    Hangup,
    Play,
    Say,
    Step,
    StepResult,
    Transfer,
    Walker,
)
from dialer.engine.agent_queue import Unserved
from dialer.ports import Call, EventSink, TelephonyDriver, Timer

if TYPE_CHECKING:  # it needs the engine's state, which holds CampaignPlans
    from dialer.domain.agent_session import AgentSession
    from dialer.engine.agent_calls import AgentCalls

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """A campaign ready to dial: its rules, its parsed call flow and its caller ID."""

    context: DialingContext
    flow: CallFlow
    cli: str
    tenant_name: str = ""  # named by the default information message of abandoned calls


class CallRunner:
    def __init__(
        self,
        driver: TelephonyDriver,
        timer: Timer,
        ring_timeout: timedelta,
        gather_timeout: timedelta,
        audio_dir: Path = Path("audio"),
        events: EventSink | None = None,
    ) -> None:
        self._events: EventSink = events or NullSink()
        # Agent campaigns' answered calls (engine/agent_calls.py), and their calls with no
        # agent yet by campaign; the engine wires both.
        self.agents: AgentCalls | None = None
        self.without_agent: Counter[CampaignId] = Counter()
        self._driver = driver
        self._timer = timer
        self._ring_timeout = ring_timeout
        self._gather_timeout = gather_timeout
        self._audio_dir = audio_dir

    def run(
        self,
        job: DialJob,
        plan: CampaignPlan,
        claimed_at: datetime | None = None,
        reserved: "AgentSession | None" = None,
    ) -> Coroutine[Any, Any, AttemptRecord]:
        """The call, to await. ``reserved``: an agent-first job's agent, reserved before
        dialling (let go again unless a person answers).

        Not itself a coroutine: a call with no agent reserved (nearly all) is ``_run`` alone,
        without a coroutine wrapped around it that every resumption of the call passes
        through (about three Python calls per attempt at full speed; issue 11)."""
        if reserved is None:
            return self._run(job, plan, claimed_at, [])
        return self._run_reserved(job, plan, claimed_at, reserved)

    async def _run_reserved(
        self,
        job: DialJob,
        plan: CampaignPlan,
        claimed_at: datetime | None,
        reserved: "AgentSession",
    ) -> AttemptRecord:
        held = [reserved]
        try:
            return await self._run(job, plan, claimed_at, held)
        finally:
            if held and self.agents is not None:
                await asyncio.shield(self.agents.let_go(held[0]))

    async def _run(
        self,
        job: DialJob,
        plan: CampaignPlan,
        claimed_at: datetime | None,
        held: "list[AgentSession]",
    ) -> AttemptRecord:
        """``held``: the agent reserved first, taken out when a person is given to them."""
        assert job.e164 is not None  # the scheduler settles impossible numbers before dialling
        campaign = plan.context.campaign
        agent_campaign = campaign.spec.kind is CampaignType.AGENT
        request = OriginateRequest(
            number=job.e164,
            caller_id=job.caller_id or plan.cli,
            ring_timeout=self._ring_timeout,
            reference=f"{job.destination_id}:{job.attempt_number}",
            claimed_at=claimed_at,
            # Bridging on answer: the agent hears the greeting and judges it.
            detect_answer=not (agent_campaign and campaign.spec.agent_options.bridge_on_answer),
            amd_mode=campaign.spec.amd_mode,
        )
        unserved = Unserved(self.without_agent, job.campaign_id) if agent_campaign else None
        book = self.agents.book if agent_campaign and self.agents is not None else None
        if held and unserved is not None:
            # Its agent is reserved already: no ready agent waits on it, and it cannot be
            # abandoned, so neither the ready agents nor the pacer count it.
            unserved.served()
            book = None
        if book is not None:
            book.placed(job.campaign_id, request.reference, self._timer.now())
        try:
            call = await self._driver.originate(request)
        except BaseException:
            if book is not None:  # not placed after all (CallNotPlaced, a driver fault)
                book.ringing_over(job.campaign_id, request.reference)
            raise
        try:
            if not agent_campaign:
                _prepare_first_words(call, plan.flow, job)
            progress = await call.progress()
            if isinstance(progress, Failed):
                if book is not None:
                    book.dial_ended(job.campaign_id, request.reference, progress.ended_at, False)
                return await self._unanswered(job, plan, progress)
            self._events.publish(
                AttemptAnswered(
                    job.campaign_id, job.destination_id, job.attempt_number, progress.answered_at
                )
            )
            if unserved is not None and self.agents is not None:
                handling = dialling.on_answer(campaign, job, progress.by)
                person = handling is Handling.TRANSFER
                if book is not None:
                    book.dial_ended(
                        job.campaign_id, request.reference, progress.answered_at, person
                    )
                if person:
                    given = held.pop() if held else None
                    return await self.agents.run(job, plan, progress, call, unserved, given)
            return await self._answered(job, plan, progress, call)
        except BaseException:
            # Whatever failed (the engine records it), the line must not stay up.
            await asyncio.shield(call.hangup())
            raise
        finally:
            if unserved is not None:
                unserved.served()
            if book is not None:
                book.ringing_over(job.campaign_id, request.reference)

    async def _unanswered(self, job: DialJob, plan: CampaignPlan, failed: Failed) -> AttemptRecord:
        if not dialling.sms_due_on_busy(plan.context.campaign, job, failed):
            return dialling.unanswered(job, failed, False)
        texts = _texts(job, plan, [plan.flow.sms.fill(callee_of(job))])
        return replace(dialling.unanswered(job, failed, True), texts=texts)

    async def _answered(
        self,
        job: DialJob,
        plan: CampaignPlan,
        answered: Answered,
        call: Call,
    ) -> AttemptRecord:
        """Do what dialer.domain.dialling.on_answer says; the record says how it went."""
        handling = dialling.on_answer(plan.context.campaign, job, answered.by)
        stage: Stage | None = None
        keys = ""
        texts: list[str] = []
        if handling is Handling.LEAVE_MESSAGE:
            message = plan.flow.answerphone.fill(callee_of(job))
            await call.leave_message(message, plan.flow.voice)
        elif handling is Handling.TRANSFER:
            # An engine with no agent floor never dials an agent campaign (no agent is ready);
            # should one still answer, the callee was never given to an agent: dropped.
            stage = Stage.CALL_DROPPED
        elif handling is Handling.WALK_FLOW:
            walker = Walker(plan.flow.graph, callee_of(job))
            await self._walk(call, walker, self._audio_dir / str(plan.context.campaign.tenant_id))
            stage, keys, texts = walker.stage, walker.keys, walker.sms
        ended = await call.hangup()
        record = dialling.answered(job, answered, ended, handling, stage, keys, bool(texts))
        # The sms nodes' texts are queued with the record (the SMS outbox sends them).
        return replace(record, texts=_texts(job, plan, texts)) if texts else record

    async def _walk(self, call: Call, walker: Walker, audio: Path) -> None:
        """Drive the flow's walk on the line until it says hang up."""
        step = walker.start()
        while not isinstance(step, Hangup):
            step = walker.advance(await self._perform(call, step, audio))
        if walker.capped:
            log.warning("a call flow walk reached %d steps and was ended", MAX_STEPS)

    async def _perform(self, call: Call, step: Step, audio: Path) -> StepResult:
        if isinstance(step, Say):
            return await call.say(step.text, step.voice)
        if isinstance(step, Play):
            return await call.play(str(audio / step.audio))
        if isinstance(step, Gather):
            if step.prompt is not None and not await call.say(step.prompt, step.voice):
                return None  # gone during the prompt
            timeout = self._gather_timeout if step.timeout is None else step.timeout
            return await call.gather(step.max_digits, timeout)
        assert isinstance(step, Transfer)
        return await call.transfer(step.target)


def _texts(job: DialJob, plan: CampaignPlan, texts: list[str]) -> tuple[SmsText, ...]:
    """The texts to queue, from the campaign's caller ID (a tenant's alphanumeric sender ID
    replaces it when sent: engine/sms_outbox.py)."""
    return tuple(SmsText(job.e164 or job.raw, plan.cli, text) for text in texts)


def _prepare_first_words(call: Call, flow: CallFlow, job: DialJob) -> None:
    """Let the network render what a person will hear first while the phone rings, so the
    first words follow the answer at once (a throwaway walker: walking is pure)."""
    first = Walker(flow.graph, callee_of(job)).start()
    if isinstance(first, Say):
        call.prepare(first.text, first.voice)
    elif isinstance(first, Gather) and first.prompt is not None:
        call.prepare(first.prompt, first.voice)


def callee_of(job: DialJob) -> Callee:
    """What a call flow's templates may say about the person ``job`` calls."""
    return Callee(job.name, dict(job.parameters), custom_fields(job.custom_data))

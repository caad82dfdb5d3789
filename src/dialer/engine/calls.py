"""One attempt on the network: place the call, walk the call flow, say how it went."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.domain.attempt import AttemptRecord, DialJob
from dialer.domain.call import Answered, AnsweredBy, Failed, OriginateRequest
from dialer.domain.callflow import CallFlow
from dialer.domain.campaign import CampaignType, DialingContext
from dialer.domain.codes import Outcome, Stage
from dialer.domain.retry import max_attempts, message_due
from dialer.ports import Call, SmsGateway, TelephonyDriver, Timer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """A campaign ready to dial: its rules, its parsed call flow and its caller ID."""

    context: DialingContext
    flow: CallFlow
    cli: str

    @property
    def attempts(self) -> int:
        return max_attempts(self.context.campaign.spec.attempts)


class CallRunner:
    def __init__(
        self,
        driver: TelephonyDriver,
        sms: SmsGateway,
        timer: Timer,
        ring_timeout: timedelta,
        gather_timeout: timedelta,
    ) -> None:
        self._driver = driver
        self._sms = sms
        self._timer = timer
        self._ring_timeout = ring_timeout
        self._gather_timeout = gather_timeout

    async def run(self, job: DialJob, plan: CampaignPlan) -> AttemptRecord:
        assert job.e164 is not None  # the scheduler settles impossible numbers before dialling
        request = OriginateRequest(
            number=job.e164,
            caller_id=job.caller_id or plan.cli,
            ring_timeout=self._ring_timeout,
            reference=f"{job.destination_id}:{job.attempt_number}",
        )
        call = await self._driver.originate(request)
        progress = await call.progress()
        if isinstance(progress, Failed):
            return await self._unanswered(job, plan, progress)
        return await self._answered(job, plan, progress, call)

    async def _unanswered(self, job: DialJob, plan: CampaignPlan, failed: Failed) -> AttemptRecord:
        sms_sent = False
        spec = plan.context.campaign.spec
        if failed.outcome is Outcome.BUSY and message_due(
            spec.sms_on_busy, job.attempt_number, plan.attempts
        ):
            text = plan.flow.sms.render(job.name, dict(job.parameters))
            receipt = await self._sms.send(job.e164 or job.raw, plan.cli, text)
            sms_sent = receipt.accepted
        return AttemptRecord(
            destination_id=job.destination_id,
            attempt_number=job.attempt_number,
            outcome=failed.outcome,
            stage=Stage.NONE,
            queued_at=job.queued_at,
            originated_at=failed.originated_at,
            ended_at=failed.ended_at,
            cause=failed.cause,
            sms_sent=sms_sent,
        )

    async def _answered(
        self,
        job: DialJob,
        plan: CampaignPlan,
        answered: Answered,
        call: Call,
    ) -> AttemptRecord:
        spec = plan.context.campaign.spec
        keys = ""
        if answered.by is AnsweredBy.FAX:
            outcome, stage = Outcome.FAX, Stage.NONE
        elif answered.by is AnsweredBy.MACHINE:
            if message_due(spec.answerphone, job.attempt_number, plan.attempts):
                message = plan.flow.message.render(job.name, dict(job.parameters))
                await call.await_greeting_end()
                await call.say(message, plan.flow.voice)
                outcome, stage = Outcome.ANSWERPHONE_MESSAGE_LEFT, Stage.ANSWERPHONE_MESSAGE_LEFT
            else:
                outcome = Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT
                stage = Stage.ANSWERPHONE_MESSAGE_NOT_LEFT
        elif spec.kind is CampaignType.AGENT:
            # Until agents take calls over SIP, the network stands in for the waiting agent.
            outcome, stage = Outcome.ANSWERED, Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
        else:
            outcome = Outcome.ANSWERED
            message = plan.flow.message.render(job.name, dict(job.parameters))
            if not await call.say(message, plan.flow.voice):
                stage = Stage.CALL_DECLINED  # hung up before the message ended
            else:
                pressed = await call.gather(1, self._gather_timeout)
                keys = pressed or ""
                stage = plan.flow.stage_for(keys)
        ended = await call.hangup()
        return AttemptRecord(
            destination_id=job.destination_id,
            attempt_number=job.attempt_number,
            outcome=outcome,
            stage=stage,
            queued_at=job.queued_at,
            originated_at=answered.originated_at,
            answered_at=answered.answered_at,
            ended_at=ended.ended_at,
            cause=ended.cause,
            keys=keys,
        )


def not_dialled(job: DialJob, outcome: Outcome, stage: Stage, at: datetime) -> AttemptRecord:
    """An attempt settled without a call: excluded, invalid, or out of time."""
    return AttemptRecord(
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        outcome=outcome,
        stage=stage,
        queued_at=job.queued_at,
        ended_at=at,
    )

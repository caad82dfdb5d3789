"""The fate of one attempt, decided in this one place; the engine only does what it says.

1. ``screen``: a claimed destination is dialled, settled without a call (an impossible number,
   one on the do-not-call list) or postponed (outside the callee's calling hours); then
   ``screen_history``: postponed over the per-number cap, or dialled only with an agent
   reserved first within 72 hours of an abandoned call (UK).
2. The call's own record: what an unanswered call ended as, whether an SMS is due on busy, what
   to do with an answered call (``on_answer``: fax, answerphone message or silence, transfer to
   agents, or the call flow) and the outcome and stage that follow.
3. The records of attempts that were not (or no longer) dialled: settled at screening, an
   engine fault, a lease another engine let run out, a campaign whose last window is over.
4. ``conclude``: what follows the record, by the retry rules (dialer.domain.retry): another
   attempt at a time, or done; and whether the tenant's webhook is told.

Every ``AttemptRecord`` the engine writes is made here, so the rules read as tables
(tests/unit/test_dialling.py). Pure: no I/O, no clock; ``now`` is given.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from dialer.domain.abandonment import RecentCalls
from dialer.domain.attempt import (
    AgentCall,
    AttemptRecord,
    DialJob,
    FinishedAttempt,
    WebhookSubject,
)
from dialer.domain.call import Answered, AnsweredBy, Failed, Hangup
from dialer.domain.campaign import Campaign, CampaignType
from dialer.domain.codes import Outcome, Stage
from dialer.domain.compliance import CallingHours, next_allowed
from dialer.domain.retry import after_attempt, max_attempts, message_due

# A call the driver could not place (its process was full) is no attempt: it is dialled again
# this much later.
NOT_PLACED_RETRY = timedelta(seconds=15)
LEASE_LOST_CAUSE = "engine lost: lease expired"
_CAUSE_LIMIT = 500


# 1. screening


@dataclass(frozen=True, slots=True)
class Dial:
    """Place the call now; ``agent_first``: only with an agent reserved for it before it is
    dialled (UK: the number had an abandoned call in the last 72 hours)."""

    agent_first: bool = False


@dataclass(frozen=True, slots=True)
class Settle:
    """Record the attempt without a call: it must never be dialled."""

    outcome: Outcome
    stage: Stage


@dataclass(frozen=True, slots=True)
class Postpone:
    """Not yet: give the destination back to the queue, due at ``until``."""

    until: datetime


Screening = Dial | Settle | Postpone
DIAL = Dial()
DIAL_AGENT_FIRST = Dial(agent_first=True)


def screen(
    job: DialJob, hours: CallingHours, dnc_listed: bool, zones: Sequence[str], now: datetime
) -> Screening:
    """May ``job`` be dialled now? ``dnc_listed``: its number is on the tenant's do-not-call
    list; ``zones``: the callee's possible time zones (unused for an impossible number)."""
    if job.e164 is None:
        return Settle(Outcome.INVALID_NUMBER, Stage.NONE)
    if dnc_listed and not job.ignore_dnc:
        return Settle(Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED)
    later = next_allowed(hours, zones, now)
    if later is not None:
        return Postpone(later)
    return DIAL


DAY = timedelta(hours=24)
# A number at its cap with calls still on the line is looked at again this much later, when
# their end times are known.
IN_FLIGHT_RECHECK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NumberRules:
    """What a number's recent calls by the tenant limit (docs/compliance.md): at most
    ``attempts_per_day`` calls in any 24 hours (None: no cap), and after an abandoned call,
    for ``redial_lockout`` (UK: 72 h), calls only with an agent reserved first."""

    attempts_per_day: int | None = None
    redial_lockout: timedelta | None = None

    @property
    def needed(self) -> bool:
        """Whether screening needs the numbers' recent calls at all."""
        return self.attempts_per_day is not None or self.redial_lockout is not None

    @property
    def look_back(self) -> timedelta:
        """How far back the calls that matter ended."""
        lockout = self.redial_lockout or timedelta(0)
        return max(DAY if self.attempts_per_day is not None else timedelta(0), lockout)


def screen_history(
    kind: CampaignType,
    recent: RecentCalls | None,
    rules: NumberRules,
    now: datetime,
    in_flight: int = 0,
) -> Screening:
    """May a number with these ``recent`` calls (any of the tenant's campaigns) be dialled now,
    once ``screen`` said it may? Over the cap, not until the call that makes room is 24 hours
    old. Within the lockout after an abandoned call, an agent campaign dials only with an
    agent reserved first; an IVR campaign, which has no agent to offer, waits the lockout out
    (Ofcom: a repeat call in those 72 hours only with a live operator guaranteed).
    ``in_flight``: the number's calls of other batches not recorded yet, which will end
    within the next 24 hours: at the cap with them, look again once they are recorded."""
    cap = rules.attempts_per_day
    if cap is not None:
        day = () if recent is None else recent.within(now, DAY)
        if len(day) >= cap:
            # Dialling at T is allowed once fewer than ``cap`` calls ended after T - 24 h:
            # when the (len - cap + 1)-th oldest of them is 24 hours old.
            return Postpone(day[len(day) - cap] + DAY)
        if len(day) + in_flight >= cap:
            return Postpone(now + IN_FLIGHT_RECHECK)
    if recent is None:
        return DIAL
    lockout, abandoned = rules.redial_lockout, recent.last_abandoned_at
    if lockout is not None and abandoned is not None and now - abandoned < lockout:
        if kind is CampaignType.AGENT:
            return DIAL_AGENT_FIRST
        return Postpone(abandoned + lockout)
    return DIAL


@dataclass(slots=True)
class NumberHistory:
    """A claimed batch's numbers and their recent calls, screened job by job after
    ``screen``: each call it lets through counts for the jobs after it (a batch that has a
    number twice)."""

    kind: CampaignType
    rules: NumberRules
    recent: dict[str, RecentCalls]
    in_flight: dict[str, int] = field(default_factory=dict)  # calls of other batches

    def screen(self, job: DialJob, verdict: Screening, now: datetime) -> Screening:
        if verdict != DIAL or job.e164 is None or not self.rules.needed:
            return verdict
        recent = self.recent.get(job.e164)
        flying = self.in_flight.get(job.e164, 0)
        verdict = screen_history(self.kind, recent, self.rules, now, flying)
        # Only a cap counts the batch's own calls (the 72-hour rule looks at abandoned ones).
        if isinstance(verdict, Dial) and self.rules.attempts_per_day is not None:
            ended = (now,) if recent is None else (*recent.ended, now)
            last = None if recent is None else recent.last_abandoned_at
            self.recent[job.e164] = RecentCalls(ended, last)
        return verdict


def not_placed_due(now: datetime) -> datetime:
    """When a call the driver could not place is due again (it used up no attempt)."""
    return now + NOT_PLACED_RETRY


# 2. the call


def sms_due_on_busy(campaign: Campaign, job: DialJob, failed: Failed) -> bool:
    """Whether this unanswered call earns the campaign's SMS-on-busy."""
    spec = campaign.spec
    return failed.outcome is Outcome.BUSY and message_due(
        spec.sms_on_busy, job.attempt_number, max_attempts(spec.attempts)
    )


def unanswered(job: DialJob, failed: Failed, sms_sent: bool) -> AttemptRecord:
    """A call nobody answered: the network's outcome, no stage."""
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


class Handling(Enum):
    """What the engine does with an answered call, the outcome that follows, and the stage
    when the handling fixes it (None: the transfer or the call flow decides it)."""

    FAX = ("hang up", Outcome.FAX, Stage.NONE)
    LEAVE_MESSAGE = (
        "wait for the greeting to end, say the message",
        Outcome.ANSWERPHONE_MESSAGE_LEFT,
        Stage.ANSWERPHONE_MESSAGE_LEFT,
    )
    STAY_SILENT = (
        "hang up on a machine the policy keeps us silent for",
        Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
        Stage.ANSWERPHONE_MESSAGE_NOT_LEFT,
    )
    TRANSFER = ("give to an agent (engine/agent_calls.py)", Outcome.ANSWERED, None)
    WALK_FLOW = ("walk the call flow", Outcome.ANSWERED, None)

    def __init__(self, action: str, outcome: Outcome, stage: Stage | None) -> None:
        # Plain attributes, not a table keyed by member: read for every answered call.
        self.action = action
        self.outcome = outcome
        self.stage = stage


def on_answer(campaign: Campaign, job: DialJob, by: AnsweredBy) -> Handling:
    """A fax is hung up on; a machine gets the message when the answerphone policy names this
    attempt; a person is given to an agent (agent campaign) or walks the call flow (IVR)."""
    spec = campaign.spec
    if by is AnsweredBy.FAX:
        return Handling.FAX
    if by is AnsweredBy.MACHINE:
        due = message_due(spec.answerphone, job.attempt_number, max_attempts(spec.attempts))
        return Handling.LEAVE_MESSAGE if due else Handling.STAY_SILENT
    if spec.kind is CampaignType.AGENT:
        return Handling.TRANSFER
    return Handling.WALK_FLOW


def answered(
    job: DialJob,
    answer: Answered,
    hangup: Hangup,
    handling: Handling,
    stage: Stage | None = None,
    keys: str = "",
    sms_sent: bool = False,
) -> AttemptRecord:
    """An answered call's record; ``stage``: where the transfer or the flow ended, for the
    handlings that leave it to them."""
    if handling.stage is not None and stage is not None:
        raise ValueError(f"{handling.name} fixes the stage")
    final = handling.stage if handling.stage is not None else stage
    if final is None:
        raise ValueError(f"{handling.name} needs the stage the call ended at")
    return AttemptRecord(
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        outcome=handling.outcome,
        stage=final,
        queued_at=job.queued_at,
        originated_at=answer.originated_at,
        answered_at=answer.answered_at,
        ended_at=hangup.ended_at,
        cause=hangup.cause,
        keys=keys,
        sms_sent=sms_sent,
    )


def agent_stage(agent: AgentCall, placed: bool) -> Stage:
    """Where an agent campaign's answered call ended. ``placed``: the customer's last bridge
    ended with them leaving or the agent releasing them (the call reached its end with an
    agent); not placed: they left while waiting, or no agent was found within the longest wait
    (after an agent's phone dropped mid-call, too). An agent's disposition wins; a placed call
    with none was at least handed over (CallTransferredToCallCentre). A call not placed is
    CallCenterHungUp when the customer had already talked to an agent, else CallDropped (an
    abandoned call)."""
    if placed:
        if agent.disposition is not None:
            return agent.disposition
        return Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    if agent.bridged_at is not None:
        return Stage.CALL_CENTER_HUNG_UP
    return Stage.CALL_DROPPED


def agent_answered(
    job: DialJob, answer: Answered, hangup: Hangup, agent: AgentCall, placed: bool
) -> AttemptRecord:
    """An agent campaign's answered call (a person, or any answer when it bridges on answer):
    what the agents made of it (``agent_stage``), with who took it and when."""
    record = answered(job, answer, hangup, Handling.TRANSFER, agent_stage(agent, placed))
    return replace(record, agent=agent)


# 3. attempts not (or no longer) dialled


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


def settled(job: DialJob, settle: Settle, at: datetime) -> AttemptRecord:
    """What ``screen`` settled, as a record."""
    return not_dialled(job, settle.outcome, settle.stage, at)


def engine_fault(job: DialJob, error: BaseException, at: datetime) -> AttemptRecord:
    """The engine failed during the call (a driver fault): NoConnection, so the retry rules
    give the destination another attempt rather than lose it."""
    record = not_dialled(job, Outcome.NO_CONNECTION, Stage.NONE, at)
    return replace(record, cause=f"engine error: {error}"[:_CAUSE_LIMIT])


def lease_lost(job: DialJob, at: datetime) -> AttemptRecord:
    """An engine's lease on the attempt ran out (it died mid-call): NoConnection."""
    record = not_dialled(job, Outcome.NO_CONNECTION, Stage.NONE, at)
    return replace(record, cause=LEASE_LOST_CAUSE)


def out_of_time(job: DialJob, at: datetime) -> AttemptRecord:
    """The campaign's last window closed before the destination was dialled."""
    return not_dialled(job, Outcome.OUT_OF_TIME, Stage.NONE, at)


# 4. what follows


@dataclass(frozen=True, slots=True)
class Rules:
    """What decides an attempt's fate beyond its record: its campaign's retry rules, and
    whether its tenant has a webhook to tell."""

    campaign: Campaign
    webhook: bool = False


def conclude(job: DialJob, record: AttemptRecord, rules: Rules) -> FinishedAttempt:
    """The record with what follows it: a retry at a time, or done (``FinishedAttempt.final``).

    An agent's disposition overrides the retry rules: CallerRequestedCallBack makes the number
    due again at the callback time (one more attempt even when the rules are used up; the
    campaign's windows and the callee's calling hours apply then as to any due number), with
    the agent it asked for; OptOut ends the number and puts it on the do-not-call list, as does
    the opt-out key pressed during an abandoned call's information message (US), whose stage
    stays CallDropped.
    """
    if record.ended_at is None:
        raise ValueError("an attempt is concluded once it has ended")
    campaign = rules.campaign
    retry_at = after_attempt(
        campaign.spec.attempts, record.attempt_number, record.outcome, record.ended_at
    ).retry_at
    subject = None
    if rules.webhook:
        subject = WebhookSubject(campaign.code, job.e164 or job.raw, job.name)
    agent = record.agent
    if agent is None:
        return FinishedAttempt(
            record, campaign.id, campaign.tenant_id, job.priority, retry_at, subject
        )
    callback_agent_id = None
    opt_out = None
    if agent.disposition is Stage.CALLER_REQUESTED_CALL_BACK and agent.callback_at is not None:
        retry_at = agent.callback_at
        callback_agent_id = agent.callback_agent_id
    elif agent.disposition is Stage.OPT_OUT or agent.opted_out:
        retry_at = None
        opt_out = job.e164
    return FinishedAttempt(
        record,
        campaign.id,
        campaign.tenant_id,
        job.priority,
        retry_at,
        subject,
        callback_agent_id=callback_agent_id,
        opt_out=opt_out,
    )

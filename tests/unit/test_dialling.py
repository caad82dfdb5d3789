"""An attempt's fate as tables (dialer.domain.dialling): each row a situation, and the outcome,
stage and next state it ends in. Pure: no store, no network, a fixed clock."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import pytest

from dialer.domain import dialling
from dialer.domain.attempt import AttemptRecord, DialJob, FinishedAttempt, WebhookSubject
from dialer.domain.call import Answered, AnsweredBy, Failed, Hangup
from dialer.domain.campaign import Campaign, CampaignSpec, CampaignStatus, CampaignType
from dialer.domain.codes import Outcome, Stage
from dialer.domain.compliance import DEFAULT_CALLING_HOURS, CallingHours
from dialer.domain.dialling import DIAL, Handling, Postpone, Rules, Settle
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.schedule import Schedule, Window

NOW = datetime(2025, 10, 1, 10, 0, tzinfo=UTC)  # 11:00 in London (BST)
QUEUED = NOW - timedelta(minutes=3)
THREE = (AttemptRule(1, 15), AttemptRule(2, 60), AttemptRule(3, 120))
LONDON = ("Europe/London",)
NEVER, FIRST, LAST = (
    MessagePolicy.NEVER,
    MessagePolicy.ON_THE_FIRST_CALL,
    MessagePolicy.ON_THE_LAST_CALL,
)


def campaign(
    attempts: tuple[AttemptRule, ...] = THREE,
    answerphone: MessagePolicy = NEVER,
    sms_on_busy: MessagePolicy = NEVER,
    kind: CampaignType = CampaignType.IVR,
) -> Campaign:
    spec = CampaignSpec(
        name="Autumn",
        schedule=Schedule(date(2025, 10, 1), Window(time(9), time(17))),
        callflow_id=CallFlowId(1),
        cli_id=CliId(1),
        attempts=attempts,
        answerphone=answerphone,
        sms_on_busy=sms_on_busy,
        kind=kind,
    )
    return Campaign(CampaignId(7), TenantId(3), "autumn-1", CampaignStatus.ENABLED, spec, NOW, NOW)


def job(attempt: int = 1, e164: str | None = "+447700900001", ignore_dnc: bool = False) -> DialJob:
    return DialJob(
        destination_id=DestinationId(11),
        campaign_id=CampaignId(7),
        attempt_number=attempt,
        raw="07700 900001" if e164 else "not a number",
        e164=e164,
        name="Ann",
        parameters=(),
        caller_id=None,
        custom_data=None,
        ignore_dnc=ignore_dnc,
        priority=2,
        queued_at=QUEUED,
    )


# screening


INVALID = Settle(Outcome.INVALID_NUMBER, Stage.NONE)
EXCLUDED = Settle(Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED)
AMERICA = ("America/New_York", "America/Los_Angeles")


@pytest.mark.parametrize(
    ("situation", "dialjob", "listed", "zones", "hour", "expected"),
    [
        ("impossible number", job(e164=None), False, (), 10, INVALID),
        ("impossible, listed", job(e164=None), True, (), 10, INVALID),
        ("on the DNC list", job(), True, LONDON, 10, EXCLUDED),
        ("listed, before hours", job(), True, LONDON, 5, EXCLUDED),
        ("listed, DNC ignored", job(ignore_dnc=True), True, LONDON, 10, DIAL),
        ("inside the hours", job(), False, LONDON, 10, DIAL),
        # 06:00 BST: wait for 08:00 local, 07:00 UTC.
        ("before the callee's hours", job(), False, LONDON, 5, Postpone(NOW.replace(hour=7))),
        # 21:00 BST is past the end: the next morning.
        (
            "after the callee's hours",
            job(),
            False,
            LONDON,
            20,
            Postpone(NOW.replace(day=2, hour=7)),
        ),
        # 12:00 UTC: 08:00 in New York but 05:00 in Los Angeles; 08:00 there is 15:00 UTC.
        ("every zone must be inside", job(), False, AMERICA, 12, Postpone(NOW.replace(hour=15))),
    ],
)
def test_screen(
    situation: str,
    dialjob: DialJob,
    listed: bool,
    zones: tuple[str, ...],
    hour: int,
    expected: dialling.Screening,
) -> None:
    now = NOW.replace(hour=hour)
    assert dialling.screen(dialjob, DEFAULT_CALLING_HOURS, listed, zones, now) == expected


def test_screen_uses_the_tenants_hours() -> None:
    late = CallingHours(time(12), time(20))
    assert dialling.screen(job(), late, False, LONDON, NOW) == Postpone(NOW.replace(hour=11))


def test_a_call_not_placed_is_due_again_shortly() -> None:
    assert dialling.not_placed_due(NOW) == NOW + timedelta(seconds=15)


# the call


@pytest.mark.parametrize(
    ("situation", "outcome", "policy", "attempt", "attempts", "due"),
    [
        ("busy, on the first call, first", Outcome.BUSY, FIRST, 1, THREE, True),
        ("busy, on the first call, second", Outcome.BUSY, FIRST, 2, THREE, False),
        ("busy, on the last call, last", Outcome.BUSY, LAST, 3, THREE, True),
        ("busy, on the last call, second", Outcome.BUSY, LAST, 2, THREE, False),
        ("busy, no attempts list: the only one is the last", Outcome.BUSY, LAST, 1, (), True),
        ("busy, never", Outcome.BUSY, NEVER, 1, THREE, False),
        ("no answer is not busy", Outcome.NO_ANSWER, FIRST, 1, THREE, False),
    ],
)
def test_sms_on_busy(
    situation: str,
    outcome: Outcome,
    policy: MessagePolicy,
    attempt: int,
    attempts: tuple[AttemptRule, ...],
    due: bool,
) -> None:
    failed = Failed(NOW, NOW, outcome, "486 Busy Here")
    rules = campaign(attempts=attempts, sms_on_busy=policy)
    assert dialling.sms_due_on_busy(rules, job(attempt), failed) is due


IVR, AGENT = CampaignType.IVR, CampaignType.AGENT
HUMAN, MACHINE, FAX = AnsweredBy.HUMAN, AnsweredBy.MACHINE, AnsweredBy.FAX
LEAVE, SILENT, TRANSFER, WALK = (
    Handling.LEAVE_MESSAGE,
    Handling.STAY_SILENT,
    Handling.TRANSFER,
    Handling.WALK_FLOW,
)


@pytest.mark.parametrize(
    ("situation", "by", "kind", "policy", "attempt", "handling"),
    [
        ("a fax", FAX, IVR, FIRST, 1, Handling.FAX),
        ("a fax, agent campaign", FAX, AGENT, NEVER, 1, Handling.FAX),
        ("machine, message on the first call, first", MACHINE, IVR, FIRST, 1, LEAVE),
        ("machine, message on the first call, second", MACHINE, IVR, FIRST, 2, SILENT),
        ("machine, message on the last call, last", MACHINE, IVR, LAST, 3, LEAVE),
        ("machine, message on the last call, first", MACHINE, IVR, LAST, 1, SILENT),
        ("machine, never a message", MACHINE, IVR, NEVER, 1, SILENT),
        ("machine, agent campaign: no agent for it", MACHINE, AGENT, FIRST, 1, LEAVE),
        ("a person, IVR", HUMAN, IVR, FIRST, 1, WALK),
        ("a person, agent campaign", HUMAN, AGENT, FIRST, 1, TRANSFER),
    ],
)
def test_on_answer(
    situation: str,
    by: AnsweredBy,
    kind: CampaignType,
    policy: MessagePolicy,
    attempt: int,
    handling: Handling,
) -> None:
    rules = campaign(answerphone=policy, kind=kind)
    assert dialling.on_answer(rules, job(attempt), by) is handling


def test_each_handling_is_its_own_member() -> None:
    # Two members with equal values would be one (an Enum alias): transfer and the call flow
    # end as the same outcome, yet are different things to do.
    assert len(Handling) == len(Handling.__members__) == 5


def test_an_answered_record_takes_the_stage_from_the_handling_or_the_call() -> None:
    answer = Answered(NOW, NOW + timedelta(seconds=4), AnsweredBy.HUMAN)
    hangup = Hangup(NOW + timedelta(seconds=40), "BYE", by_callee=True)
    flow = dialling.answered(
        job(), answer, hangup, Handling.WALK_FLOW, Stage.OPT_OUT, keys="9", sms_sent=True
    )
    assert flow == AttemptRecord(
        destination_id=DestinationId(11),
        attempt_number=1,
        outcome=Outcome.ANSWERED,
        stage=Stage.OPT_OUT,
        queued_at=QUEUED,
        originated_at=NOW,
        answered_at=NOW + timedelta(seconds=4),
        ended_at=NOW + timedelta(seconds=40),
        cause="BYE",
        keys="9",
        sms_sent=True,
    )
    with pytest.raises(ValueError, match="needs the stage"):
        dialling.answered(job(), answer, hangup, Handling.TRANSFER)
    with pytest.raises(ValueError, match="fixes the stage"):
        dialling.answered(job(), answer, hangup, Handling.FAX, Stage.OPT_OUT)


# the whole fate: what happened -> outcome, stage, and what follows


class Fate(NamedTuple):
    outcome: Outcome
    stage: Stage
    retry_in: timedelta | None  # after the attempt ended; None: the destination is done


DONE = None
END = NOW + timedelta(minutes=1)
ANSWER = Answered(NOW, NOW + timedelta(seconds=5), AnsweredBy.HUMAN)
HANGUP = Hangup(END, "BYE", by_callee=False)
Happening = Callable[[DialJob], AttemptRecord]


def failed(outcome: Outcome) -> Happening:
    return lambda j: dialling.unanswered(j, Failed(NOW, END, outcome, "cause"), sms_sent=False)


def answered(handling: Handling, stage: Stage | None = None) -> Happening:
    return lambda j: dialling.answered(j, ANSWER, HANGUP, handling, stage)


def screened(dnc_listed: bool) -> Happening:
    def settle(j: DialJob) -> AttemptRecord:
        verdict = dialling.screen(j, DEFAULT_CALLING_HOURS, dnc_listed, LONDON, END)
        assert isinstance(verdict, Settle)
        return dialling.settled(j, verdict, END)

    return settle


def impossible(j: DialJob) -> AttemptRecord:
    return screened(False)(j._replace(e164=None))


def fault(j: DialJob) -> AttemptRecord:
    return dialling.engine_fault(j, OSError("driver gone"), END)


def lost(j: DialJob) -> AttemptRecord:
    return dialling.lease_lost(j, END)


def too_late(j: DialJob) -> AttemptRecord:
    return dialling.out_of_time(j, END)


Out, St = Outcome, Stage
MIN15, MIN60 = timedelta(minutes=15), timedelta(minutes=60)
MESSAGE_LEFT = Fate(Out.ANSWERPHONE_MESSAGE_LEFT, St.ANSWERPHONE_MESSAGE_LEFT, DONE)
SILENT_AGAIN = Fate(Out.ANSWERPHONE_MESSAGE_NOT_LEFT, St.ANSWERPHONE_MESSAGE_NOT_LEFT, MIN15)
SILENT_DONE = Fate(Out.ANSWERPHONE_MESSAGE_NOT_LEFT, St.ANSWERPHONE_MESSAGE_NOT_LEFT, DONE)


@pytest.mark.parametrize(
    ("situation", "attempt", "attempts", "happened", "fate"),
    [
        ("impossible number", 1, THREE, impossible, Fate(Out.INVALID_NUMBER, St.NONE, DONE)),
        ("on the DNC list", 1, THREE, screened(True), Fate(Out.EXCLUDED_NUMBER, St.EXCLUDED, DONE)),
        ("busy, first of three", 1, THREE, failed(Out.BUSY), Fate(Out.BUSY, St.NONE, MIN15)),
        (
            "no answer, second of 3",
            2,
            THREE,
            failed(Out.NO_ANSWER),
            Fate(Out.NO_ANSWER, St.NONE, MIN60),
        ),
        ("busy, last of three", 3, THREE, failed(Out.BUSY), Fate(Out.BUSY, St.NONE, DONE)),
        ("busy, no attempts list", 1, (), failed(Out.BUSY), Fate(Out.BUSY, St.NONE, DONE)),
        ("unobtainable", 1, THREE, failed(Out.UNOBTAINABLE), Fate(Out.UNOBTAINABLE, St.NONE, DONE)),
        ("overflow", 1, THREE, failed(Out.OVERFLOW), Fate(Out.OVERFLOW, St.NONE, MIN15)),
        ("a fax", 1, THREE, answered(Handling.FAX), Fate(Out.FAX, St.NONE, DONE)),
        ("answerphone, message left", 1, THREE, answered(LEAVE), MESSAGE_LEFT),
        ("answerphone, kept silent", 1, THREE, answered(SILENT), SILENT_AGAIN),
        ("answerphone, silent on the last", 3, THREE, answered(SILENT), SILENT_DONE),
        (
            "a person, the flow ran",
            1,
            THREE,
            answered(WALK, St.CORRECT_CALLEE_HUNG_UP),
            Fate(Out.ANSWERED, St.CORRECT_CALLEE_HUNG_UP, DONE),
        ),
        (
            "a person, handed to an agent",
            1,
            THREE,
            answered(TRANSFER, St.CALL_TRANSFERRED_TO_CALL_CENTRE),
            Fate(Out.ANSWERED, St.CALL_TRANSFERRED_TO_CALL_CENTRE, DONE),
        ),
        (
            "a person, no agent in time",
            1,
            THREE,
            answered(TRANSFER, St.CALL_DROPPED),
            Fate(Out.ANSWERED, St.CALL_DROPPED, DONE),
        ),
        ("the engine failed", 1, THREE, fault, Fate(Out.NO_CONNECTION, St.NONE, MIN15)),
        ("the lease ran out", 2, THREE, lost, Fate(Out.NO_CONNECTION, St.NONE, MIN60)),
        ("the lease ran out on the last", 3, THREE, lost, Fate(Out.NO_CONNECTION, St.NONE, DONE)),
        ("the last window closed", 2, THREE, too_late, Fate(Out.OUT_OF_TIME, St.NONE, DONE)),
    ],
)
def test_fate(
    situation: str,
    attempt: int,
    attempts: tuple[AttemptRule, ...],
    happened: Happening,
    fate: Fate,
) -> None:
    this = job(attempt)
    record = happened(this)
    finished = dialling.conclude(this, record, Rules(campaign(attempts=attempts)))
    assert (finished.record.outcome, finished.record.stage) == (fate.outcome, fate.stage)
    assert finished.retry_at == (None if fate.retry_in is None else END + fate.retry_in)
    assert finished.final is (fate.retry_in is None)
    assert finished.record.ended_at == END
    assert (finished.campaign_id, finished.tenant_id, finished.priority) == (7, 3, 2)
    assert finished.webhook is None  # the tenant has no webhook


@pytest.mark.parametrize(
    ("record", "cause", "counted"),
    [
        (
            dialling.engine_fault(job(), RuntimeError("x" * 600), NOW),
            "engine error: " + "x" * 486,
            True,
        ),
        (dialling.lease_lost(job(), NOW), "engine lost: lease expired", True),
        (dialling.out_of_time(job(), NOW), None, False),
        (dialling.settled(job(), EXCLUDED, NOW), None, False),
    ],
)
def test_not_dialled_records(record: AttemptRecord, cause: str | None, counted: bool) -> None:
    assert record.cause == cause
    assert (record.queued_at, record.ended_at, record.originated_at) == (QUEUED, NOW, None)
    assert record.counted is counted  # attemptsMade: settled without a call uses none up


@pytest.mark.parametrize(
    ("dialjob", "subject"),
    [
        (job(), WebhookSubject("autumn-1", "+447700900001", "Ann")),
        (job(e164=None), WebhookSubject("autumn-1", "not a number", "Ann")),
    ],
)
def test_a_tenant_with_a_webhook_gets_the_number_it_called(
    dialjob: DialJob, subject: WebhookSubject
) -> None:
    record = dialling.out_of_time(dialjob, NOW)
    finished = dialling.conclude(dialjob, record, Rules(campaign(), webhook=True))
    assert finished == FinishedAttempt(record, CampaignId(7), TenantId(3), 2, None, subject)


def test_an_attempt_is_concluded_only_once_ended() -> None:
    record = replace(dialling.out_of_time(job(), NOW), ended_at=None)
    with pytest.raises(ValueError, match="once it has ended"):
        dialling.conclude(job(), record, Rules(campaign()))

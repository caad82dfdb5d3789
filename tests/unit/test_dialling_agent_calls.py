"""What follows an agent campaign's call (dialer.domain.dialling.conclude): the agent's
disposition over the retry rules. A callback is one more attempt at its time, offered to the
agent it asked for; an opt-out ends the number and lists it. Pure, as test_dialling.py."""

from dataclasses import replace
from datetime import timedelta

import pytest

from dialer.domain import dialling
from dialer.domain.attempt import AgentCall, AttemptRecord
from dialer.domain.call import Answered, AnsweredBy, Hangup
from dialer.domain.campaign import CampaignType
from dialer.domain.codes import Stage
from dialer.domain.dialling import Handling, Rules
from tests.unit.test_dialling import NOW, THREE, campaign, job

CALLBACK_AT = NOW + timedelta(days=1, hours=4)
AGENT_RULES = Rules(campaign(kind=CampaignType.AGENT))


def agent_record(
    attempt: int = 1,
    disposition: Stage | None = Stage.CORRECT_CALLEE,
    callback_at: object = None,
    callback_agent_id: int | None = None,
) -> AttemptRecord:
    answer = Answered(NOW - timedelta(seconds=70), NOW - timedelta(seconds=60), AnsweredBy.HUMAN)
    record = dialling.answered(
        job(attempt),
        answer,
        Hangup(NOW - timedelta(seconds=20), "normal", by_callee=True),
        Handling.TRANSFER,
        stage=disposition or Stage.CALL_TRANSFERRED_TO_CALL_CENTRE,
    )
    call = AgentCall(
        queued_at=NOW - timedelta(seconds=60),
        agent_id=4,
        member="SIPSIP1",
        bridged_at=NOW - timedelta(seconds=59),
        talk_ended_at=NOW - timedelta(seconds=20),
        wrap_up_ended_at=NOW,
        disposition=disposition,
        callback_at=callback_at,  # type: ignore[arg-type]
        callback_agent_id=callback_agent_id,
    )
    return replace(record, agent=call, ended_at=NOW)


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_callback_is_due_at_its_time_whatever_attempts_remain(attempt: int) -> None:
    record = agent_record(attempt, Stage.CALLER_REQUESTED_CALL_BACK, CALLBACK_AT, 4)
    finished = dialling.conclude(job(attempt), record, AGENT_RULES)
    assert (finished.retry_at, finished.callback_agent_id, finished.opt_out) == (
        CALLBACK_AT,
        4,
        None,
    )


def test_a_callback_for_any_agent_prefers_none() -> None:
    record = agent_record(3, Stage.CALLER_REQUESTED_CALL_BACK, CALLBACK_AT, None)
    finished = dialling.conclude(job(3), record, AGENT_RULES)
    assert (finished.retry_at, finished.callback_agent_id) == (CALLBACK_AT, None)


def test_the_callback_attempt_is_one_more_then_the_rules_end_it() -> None:
    # The callback of attempt 3 (of 3) is attempt 4: answered again, the number is done.
    record = agent_record(4, Stage.CORRECT_CALLEE)
    finished = dialling.conclude(job(4), record, AGENT_RULES)
    assert finished.final
    assert finished.callback_agent_id is None


@pytest.mark.parametrize("attempt", [1, 3])
def test_an_opt_out_ends_the_number_and_lists_it(attempt: int) -> None:
    finished = dialling.conclude(job(attempt), agent_record(attempt, Stage.OPT_OUT), AGENT_RULES)
    assert (finished.retry_at, finished.opt_out, finished.callback_agent_id) == (
        None,
        "+447700900001",
        None,
    )


@pytest.mark.parametrize("disposition", [Stage.CORRECT_CALLEE, Stage.WRONG_CALLEE, None])
def test_other_dispositions_follow_the_retry_rules(disposition: Stage | None) -> None:
    finished = dialling.conclude(job(1), agent_record(1, disposition), AGENT_RULES)
    # Answered is final: no retry, no list, no agent kept for the number.
    assert (finished.retry_at, finished.opt_out, finished.callback_agent_id) == (None, None, None)


def test_an_ivr_attempt_keeps_none_of_it() -> None:
    record = replace(agent_record(1, Stage.OPT_OUT), agent=None, stage=Stage.OPT_OUT)
    finished = dialling.conclude(job(1), record, Rules(campaign(attempts=THREE)))
    # An IVR flow ending at the OptOut stage is reported, not acted on: only an agent's
    # disposition changes the list.
    assert (finished.retry_at, finished.opt_out, finished.callback_agent_id) == (None, None, None)


def test_an_abandoned_call_opted_out_by_key_ends_the_number_and_lists_it() -> None:
    """US: the opt-out key during an abandoned call's message. The stage stays CallDropped
    (it counts as abandoned); the number ends and joins the tenant's DNC list."""
    answer = Answered(NOW - timedelta(seconds=12), NOW - timedelta(seconds=10), AnsweredBy.HUMAN)
    hangup = Hangup(NOW, "normal clearing", by_callee=False)
    call = AgentCall(queued_at=answer.answered_at, opted_out=True)
    record = dialling.agent_answered(job(1), answer, hangup, call, placed=False)
    finished = dialling.conclude(job(1), record, AGENT_RULES)
    assert finished.record.stage is Stage.CALL_DROPPED
    assert (finished.retry_at, finished.opt_out) == (None, "+447700900001")


def test_an_abandoned_call_without_the_key_follows_the_retry_rules() -> None:
    answer = Answered(NOW - timedelta(seconds=12), NOW - timedelta(seconds=10), AnsweredBy.HUMAN)
    hangup = Hangup(NOW, "normal clearing", by_callee=False)
    record = dialling.agent_answered(
        job(1), answer, hangup, AgentCall(queued_at=answer.answered_at), placed=False
    )
    finished = dialling.conclude(job(1), record, AGENT_RULES)
    assert finished.record.stage is Stage.CALL_DROPPED
    assert finished.opt_out is None

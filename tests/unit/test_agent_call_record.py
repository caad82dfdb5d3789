"""What an agent campaign's answered call records (dialer.domain.dialling.agent_stage and
agent_answered), and the session rules the engine relies on (dialer.domain.agent_session):
pure, a fixed clock."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dialer.domain import agent_session as agents
from dialer.domain import dialling
from dialer.domain.agent_session import (
    AgentSession,
    AgentState,
    Customer,
    Disposition,
    Pending,
)
from dialer.domain.attempt import AgentCall, DialJob
from dialer.domain.call import Answered, AnsweredBy, Hangup
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId

NOW = datetime(2025, 10, 1, 10, 0, tzinfo=UTC)
S = timedelta(seconds=1)
QUEUED = NOW + 5 * S
BRIDGED = NOW + 7 * S
CALLBACK = NOW + timedelta(days=1)


def job() -> DialJob:
    return DialJob(
        DestinationId(11), CampaignId(7), 1, "07700 900001", "+447700900001", "Ann",
        (), None, None, False, 0, NOW - 60 * S,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("situation", "agent", "placed", "stage"),
    [
        ("left while waiting, never bridged", AgentCall(QUEUED), False, Stage.CALL_DROPPED),
        ("no agent within the longest wait", AgentCall(QUEUED), False, Stage.CALL_DROPPED),
        (
            "the agent's phone dropped, nobody else in time",
            AgentCall(QUEUED, 4, "1001", BRIDGED, BRIDGED + 30 * S),
            False,
            Stage.CALL_CENTER_HUNG_UP,
        ),
        (
            "talked, no disposition",
            AgentCall(QUEUED, 4, "1001", BRIDGED, BRIDGED + 30 * S, BRIDGED + 45 * S),
            True,
            Stage.CALL_TRANSFERRED_TO_CALL_CENTRE,
        ),
        (
            "talked, disposed",
            AgentCall(QUEUED, 4, "1001", BRIDGED, BRIDGED + 30 * S, None, Stage.OPT_IN),
            True,
            Stage.OPT_IN,
        ),
    ],
)
def test_the_stage_of_an_agent_call(
    situation: str, agent: AgentCall, placed: bool, stage: Stage
) -> None:
    assert dialling.agent_stage(agent, placed) is stage


def test_the_record_carries_the_agent_call() -> None:
    answer = Answered(NOW, NOW + 4 * S, AnsweredBy.HUMAN)
    hangup = Hangup(BRIDGED + 30 * S, "callee hung up", by_callee=True)
    agent = AgentCall(
        QUEUED, 4, "1001", BRIDGED, BRIDGED + 30 * S, BRIDGED + 40 * S,
        Stage.CALLER_REQUESTED_CALL_BACK, CALLBACK, 4,
    )  # fmt: skip
    record = dialling.agent_answered(job(), answer, hangup, agent, placed=True)
    assert record.outcome is Outcome.ANSWERED
    assert record.stage is Stage.CALLER_REQUESTED_CALL_BACK
    assert record.agent == agent
    assert (record.answered_at, record.ended_at) == (NOW + 4 * S, BRIDGED + 30 * S)
    assert record.agent.time_to_agent == 2.0
    assert record.agent.talk_seconds == 30.0
    assert record.agent.wrap_up_seconds == 10.0


def session(state: AgentState = AgentState.READY, **fields: object) -> AgentSession:
    base = AgentSession(
        id=1, tenant_id=TenantId(3), agent_id=4, member="1001", phone="sim:agent",
        state=state, since=NOW, started_at=NOW, worker="w1", lease_until=NOW + 60 * S,
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


CUSTOMER = Customer(CampaignId(7), DestinationId(11), 1, "+447700900001", "Ann", (), None, "", NOW)


def wrapped_up(pending: Pending | None = None) -> AgentSession:
    reserved, _ = agents.reserve(session(), CUSTOMER, NOW)
    talking, _ = agents.bridged(reserved, NOW + S)
    if pending is Pending.PAUSE:
        paused = agents.pause(talking, "lunch", NOW + 2 * S)
        assert isinstance(paused, AgentSession)
        talking = paused
    disposed = agents.dispose(talking, Disposition(Stage.OPT_IN), NOW + 3 * S)
    over, _ = agents.call_over(disposed, NOW + 4 * S, 15 * S)
    return over


def test_the_disposition_stays_on_the_session_after_wrap_up() -> None:
    """The engine reads how the call was disposed once the agent has left wrap-up."""
    by_timer = agents.wrap_up_over(wrapped_up(), NOW + 19 * S)
    assert by_timer is not None
    assert by_timer[0].state is AgentState.READY
    assert by_timer[0].disposition == Disposition(Stage.OPT_IN)
    assert by_timer[0].customer == replace(CUSTOMER, bridged_at=NOW + S)
    assert by_timer[0].current_customer is None  # the screen no longer shows the call
    early, _ = agents.ready(wrapped_up(), NOW + 5 * S)
    assert early.disposition == Disposition(Stage.OPT_IN)
    paused, _ = agents.wrap_up_over(wrapped_up(Pending.PAUSE), NOW + 19 * S) or (None, None)
    assert paused is not None
    assert (paused.state, paused.reason) == (AgentState.PAUSED, "lunch")
    assert paused.disposition == Disposition(Stage.OPT_IN)
    # The next reservation starts clean.
    again, _ = agents.reserve(early, CUSTOMER, NOW + 6 * S)
    assert again.disposition is None


def test_a_stopping_engine_lets_the_session_go_for_another_to_call_the_phone() -> None:
    after, change = agents.let_go(session(), NOW)
    assert (after.state, after.reason) == (AgentState.PAUSED, agents.PHONE_CONNECTING)
    assert (after.worker, after.lease_until) == (None, None)
    assert after.version == 1
    assert (change.state, change.reason) == (AgentState.PAUSED, agents.PHONE_CONNECTING)

"""The shift's figures of ``dialer simulate --json`` (dialer.shift_figures), as docs/pacing.md
defines them, from a handful of attempt records."""

from datetime import UTC, datetime, timedelta

import pytest

from dialer.domain.attempt import AgentCall, AttemptResult
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId
from dialer.shift_figures import Shift, max_rolling, shift_figures

START = datetime(2025, 10, 1, 8, tzinfo=UTC)
S = timedelta(seconds=1)
SHIFT = Shift(agents=2, hours=1, start=START, pacing="predictive", seed=1, person_rate=0.3)


def result(
    n: int,
    outcome: Outcome,
    stage: Stage,
    answered: float | None = None,
    agent: AgentCall | None = None,
) -> AttemptResult:
    return AttemptResult(
        attempt_id=n,
        campaign_id=CampaignId(1),
        destination_id=DestinationId(n),
        number="+447700900000",
        name=None,
        attempt_number=1,
        outcome=outcome,
        stage=stage,
        queued_at=START,
        originated_at=START,
        answered_at=None if answered is None else START + answered * S,
        ended_at=START,
        cause=None,
        keys="",
        sms_sent=False,
        agent=agent,
    )


def talked(n: int, answered: float, bridged: float, talk: float, wrap: float) -> AttemptResult:
    at = START + bridged * S
    call = AgentCall(
        queued_at=START + answered * S,
        agent_id=1,
        bridged_at=at,
        talk_ended_at=at + talk * S,
        wrap_up_ended_at=at + (talk + wrap) * S,
    )
    return result(n, Outcome.ANSWERED, Stage.CORRECT_CALLEE, answered, call)


def test_the_figures_of_a_small_shift() -> None:
    dropped = AgentCall(queued_at=START + 100 * S)
    results = [
        talked(1, 10, 10.5, 600, 15),
        talked(2, 20, 21, 300, 15),
        result(3, Outcome.ANSWERED, Stage.CALL_DROPPED, 100, dropped),
        result(4, Outcome.NO_ANSWER, Stage.NONE),
        result(5, Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT, Stage.ANSWERPHONE_MESSAGE_NOT_LEFT, 30),
    ]
    figures = shift_figures(SHIFT, results, ready_seconds=1000)
    assert figures["placed"] == 5
    assert (figures["live_answered"], figures["abandoned"], figures["bridged"]) == (3, 1, 2)
    assert figures["abandon_rate"] == pytest.approx(33.333, abs=1e-3)
    assert figures["max_rolling_abandon_rate"] == 0.0  # never 100 live calls
    assert figures["talk_minutes_per_agent_hour"] == pytest.approx(900 / 60 / 2, abs=0.01)
    assert figures["occupancy"] == pytest.approx(930 / 7200, abs=1e-4)
    assert figures["placed_per_agent_hour"] == 2.5
    assert figures["mean_agent_wait_seconds"] == 500.0
    assert figures["answer_to_agent_p95_seconds"] == 1.0


def test_talk_after_the_shift_is_not_the_shifts() -> None:
    late = talked(1, 3500, 3500, 600, 15)  # 100 s of talk inside the hour
    figures = shift_figures(SHIFT, [late], ready_seconds=0)
    assert figures["talk_minutes_per_agent_hour"] == pytest.approx(100 / 60 / 2, abs=0.01)
    assert figures["occupancy"] == pytest.approx(100 / 7200, abs=1e-4)


def test_the_rolling_rate_is_taken_at_whole_minutes_once_100_live() -> None:
    # 99 live by minute 1, one abandoned among them; the 100th at 90 s, abandoned.
    answers = [(START + i * 0.5 * S, i == 0) for i in range(99)]
    answers.append((START + 90 * S, True))
    assert max_rolling(answers, SHIFT) == pytest.approx(2.0)
    assert max_rolling(answers[:99], SHIFT) == 0.0

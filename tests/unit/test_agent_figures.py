"""Agents' figures from events: time per state, occupancy, talk per hour, waits, percentiles."""

from datetime import UTC, datetime, timedelta

import pytest

from dialer.agent_figures import AgentFigures, percentile
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AgentStateChanged, AttemptFinished, CustomerBridged
from dialer.domain.ids import CampaignId, DestinationId, TenantId

START = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
CAMPAIGN = CampaignId(1)


def state(agent: int, name: str, seconds: float, reason: str | None = None) -> AgentStateChanged:
    at = START + timedelta(seconds=seconds)
    return AgentStateChanged(TenantId(1), agent, f"a-{agent}", agent, name, at, reason)


def finished(stage: Stage) -> AttemptFinished:
    return AttemptFinished(CAMPAIGN, DestinationId(1), 1, Outcome.ANSWERED, stage, False, True)


def test_an_agents_hour_gives_its_occupancy_talk_per_hour_and_waits() -> None:
    figures = AgentFigures()
    for event in (
        state(1, "paused", 0, "phone-connecting"),
        state(1, "ready", 60),  # waits 240 s
        state(1, "reserved", 300),
        CustomerBridged(CAMPAIGN, DestinationId(1), 1, 0.5),
        state(1, "talking", 301),
        state(1, "wrap-up", 1201),  # 900 s of talk
        state(1, "ready", 1501),  # 300 s of wrap-up; then ready until a break
        state(1, "paused", 1801, "break"),
        state(1, "ready", 2701),  # waits 600 s
        state(1, "reserved", 3301),
        CustomerBridged(CAMPAIGN, DestinationId(2), 1, 2.5),
        state(1, "talking", 3302),
    ):
        figures.publish(event)
    figures.close(START + timedelta(seconds=3600))  # 298 s more talk
    tally = figures.agents[1]
    assert tally.member == "a-1"
    assert tally.calls == 2
    assert tally.logged_in == 3600
    assert tally.talk == 900 + 298
    assert tally.occupancy == pytest.approx((1198 + 300) / 3600)
    assert tally.talk_minutes_per_hour == pytest.approx(1198 / 60)
    assert tally.waits == [240, 600]  # the ready spell that ended in a break is not a wait
    assert tally.mean_wait == 420
    assert figures.to_agent == [0.5, 2.5]


def test_offline_time_is_not_logged_in_and_the_team_adds_agents_up() -> None:
    figures = AgentFigures()
    for event in (
        state(1, "ready", 0),
        state(2, "ready", 0),
        state(1, "reserved", 100),
        state(1, "talking", 100),
        state(1, "wrap-up", 400),
        state(1, "offline", 500, "logged-out"),
        state(2, "offline", 1000, "phone-dropped"),
    ):
        figures.publish(event)
    figures.publish(finished(Stage.CALL_DROPPED))
    figures.publish(finished(Stage.CORRECT_CALLEE))
    figures.close(START + timedelta(seconds=3600))
    assert figures.agents[1].logged_in == 500
    assert figures.agents[2].logged_in == 1000
    assert figures.agents[2].occupancy == 0
    assert figures.agents[2].mean_wait is None
    team = figures.team()
    assert team.logged_in == 1500
    assert team.occupancy == pytest.approx(400 / 1500)
    assert figures.abandoned == 1


def test_no_time_logged_in_gives_no_ratios() -> None:
    figures = AgentFigures()
    figures.close(START)
    team = figures.team()
    assert (team.occupancy, team.talk_minutes_per_hour, team.mean_wait) == (None, None, None)
    assert figures.to_agent_percentile(0.95) is None


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([3.0], 0.5, 3.0),
        ([5.0, 1.0, 4.0, 2.0, 3.0], 0.5, 3.0),
        ([float(n) for n in range(1, 101)], 0.95, 95.0),
        ([float(n) for n in range(1, 101)], 1.0, 100.0),
        ([], 0.5, None),
    ],
)
def test_nearest_rank_percentiles(
    values: list[float], share: float, expected: float | None
) -> None:
    assert percentile(values, share) == expected

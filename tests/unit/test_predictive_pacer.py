"""Pacer.decide by mode, and the governor that caps every mode but progressive's own lines."""

from datetime import UTC, datetime

import pytest

from dialer.domain.abandonment import ComplianceSettings, Regime, Tally, rules_for
from dialer.domain.agent import Pacing, PacingMode
from dialer.domain.predictive import CampaignStats, Floor, Pacer, governor_cap

UK = rules_for(ComplianceSettings(regime=Regime.UK, false_machine_rate=0.0))
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PROGRESSIVE = Pacing(PacingMode.PROGRESSIVE)
RICH = Tally(live=10_000, abandoned=0)  # a budget of about 309 abandons


def floor(ready: int, busy: int = 0, ringing: int = 0, waiting: int = 0) -> Floor:
    return Floor(NOW, ready, (30.0,) * busy, (3.0,) * ringing, waiting)


def decide(pacing: Pacing, f: Floor, tally: Tally = RICH) -> int:
    return Pacer().decide(pacing, f, CampaignStats(), tally, UK).lines


def test_progressive_dials_ready_agents_less_the_calls_in_flight() -> None:
    assert decide(PROGRESSIVE, floor(ready=5)) == 5
    assert decide(PROGRESSIVE, floor(ready=5, ringing=2, waiting=1)) == 2
    assert decide(PROGRESSIVE, floor(ready=2, ringing=4)) == 0


def test_progressive_is_not_cut_by_a_spent_budget() -> None:
    over = Tally(live=100, abandoned=10)
    assert decide(PROGRESSIVE, floor(ready=4, ringing=1), over) == 3


def test_ratio_dials_its_lines_per_ready_agent_less_the_calls_in_flight() -> None:
    two = Pacing(PacingMode.RATIO, ratio=2.0)
    assert decide(two, floor(ready=5)) == 10
    assert decide(two, floor(ready=5, ringing=3)) == 7
    assert decide(Pacing(PacingMode.RATIO, ratio=2.5), floor(ready=3)) == 7


def test_the_governor_caps_ratio_at_ready_agents_plus_the_whole_budget() -> None:
    two = Pacing(PacingMode.RATIO, ratio=2.0)
    tally = Tally(live=200, abandoned=3)  # budget (6 - 3) / 0.97 = 3.09: 3 abandons
    decision = Pacer().decide(two, floor(ready=5, ringing=1), CampaignStats(), tally, UK)
    assert decision.lines == 5 + 3 - 1
    assert decision.reason.startswith("governor")


def test_with_no_data_the_governor_allows_no_more_than_progressive() -> None:
    assert decide(Pacing(PacingMode.RATIO, ratio=3.0), floor(ready=5), Tally()) == 5
    assert decide(Pacing(), floor(ready=5, busy=5), Tally()) <= 5


@pytest.mark.parametrize(("ready", "ringing", "waiting", "budget_live"), [(3, 2, 1, 100)])
def test_governor_cap_is_ready_plus_whole_budget_less_committed(
    ready: int, ringing: int, waiting: int, budget_live: int
) -> None:
    tally = Tally(live=budget_live, abandoned=0)  # 3 / 0.97 = 3.09
    assert governor_cap(floor(ready, 0, ringing, waiting), tally, UK) == ready + 3 - 3


def test_predictive_dials_more_than_ready_agents_when_people_rarely_answer() -> None:
    stats = CampaignStats()
    for _ in range(300):
        for person in (True, False, False, False, False):
            stats.dial_ended(10.0, person)
    lines = Pacer().decide(Pacing(), floor(ready=10), stats, RICH, UK).lines
    assert lines > 10
    assert lines <= 10 * 6


def test_predictive_never_dials_without_agents() -> None:
    assert decide(Pacing(), floor(ready=0)) == 0


def test_the_model_is_not_asked_when_the_governor_allows_no_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most decisions of a small team held by its budget: skipping the model there saves its
    cost and cannot change the lines (the governor's cap is 0 whatever it says)."""

    def model(*_: object) -> int:
        raise AssertionError("the model was asked")

    monkeypatch.setattr(Pacer, "_predict", model)
    spent = Tally(live=100, abandoned=3)  # budget 0
    decision = Pacer().decide(
        Pacing(), floor(ready=1, busy=4, ringing=1), CampaignStats(), spent, UK
    )
    assert decision.lines == 0
    assert decision.reason == "governor: budget 0.0"
    assert decision.ratio == 1.0  # the one call in flight per ready agent


def test_a_large_floor_reads_its_agents_in_wrap_up_as_busy_from_their_bridge() -> None:
    """Beyond the exact sums, the one normal look (about a person's ring time ahead) is
    shorter than a 15 s wrap-up: the agents told apart in wrap-up are read as without them,
    from their bridge, so telling them costs a large team no lines (docs/pacing.md)."""
    stats = CampaignStats()
    for n in range(300):
        stats.dial_ended(8.0 if n % 3 == 0 else 25.0, person=n % 3 == 0)
    for n in range(60):
        stats.handled(20.0 + 5 * n + 15.0)
        stats.wrapped(15.0)
    talking = tuple(10.0 + 7 * n for n in range(30))
    wrapping = tuple(1.0 + n for n in range(10))
    bridged = tuple(40.0 + 11 * n for n in range(10))
    ringing = (2.0,) * 4
    told = Floor(NOW, 3, talking, ringing, 0, wrapping, bridged)
    untold = Floor(NOW, 3, talking + bridged, ringing, 0)
    lines = Pacer().decide(Pacing(), told, stats, RICH, UK).lines
    assert lines == Pacer().decide(Pacing(), untold, stats, RICH, UK).lines
    assert lines > 0  # more than progressive's (none: 4 calls ringing for 3 ready)


def test_a_team_too_large_for_the_exact_sums_is_paced_as_without_the_wrap_ups() -> None:
    """Even on a floor small enough for the exact sums, a team of more than 24 agents is
    paced as if the wrap-ups were not told: the same lines as without them. A team of 24
    on the same floor counts on its two agents 2 s from the end of their wrap-ups."""
    stats = CampaignStats()
    for n in range(300):
        stats.dial_ended(8.0 if n % 3 == 0 else 25.0, person=n % 3 == 0)
    for n in range(60):
        stats.handled(20.0 + 5 * n + 15.0)
        stats.wrapped(15.0)
    budget = Tally(live=2000, abandoned=0)
    talking = tuple(30.0 + 10 * i for i in range(14))

    def lines(ready: int, told: bool) -> int:
        if told:
            floor = Floor(NOW, ready, talking, (2.0,) * 4, 0, (13.0, 13.0), (90.0, 95.0))
        else:
            floor = Floor(NOW, ready, (*talking, 90.0, 95.0), (2.0,) * 4, 0)
        return Pacer().decide(Pacing(), floor, stats, budget, UK).lines

    assert lines(10, told=True) == lines(10, told=False)  # 26 agents
    assert lines(8, told=True) > lines(8, told=False)  # 24 agents

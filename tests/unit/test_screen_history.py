"""A number's recent calls as screening reads them (dialer.domain.dialling.screen_history and
NumberHistory): the per-number cap over any 24 hours and the UK's 72 hours after an abandoned
call, as tables. Pure: no store, a fixed clock."""

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from dialer.domain.abandonment import ComplianceSettings, RecentCalls, Regime, rules_for
from dialer.domain.attempt import DialJob
from dialer.domain.campaign import CampaignType
from dialer.domain.codes import Outcome, Stage
from dialer.domain.dialling import (
    DIAL,
    DIAL_AGENT_FIRST,
    NumberHistory,
    NumberRules,
    Postpone,
    Screening,
    Settle,
    screen_history,
)
from dialer.domain.ids import CampaignId, DestinationId

NOW = datetime(2025, 10, 1, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
AGENT, IVR = CampaignType.AGENT, CampaignType.IVR
UK = NumberRules(attempts_per_day=None, redial_lockout=timedelta(hours=72))
CAP_2 = NumberRules(attempts_per_day=2)
UK_CAP_2 = NumberRules(attempts_per_day=2, redial_lockout=timedelta(hours=72))


def calls(*hours_ago: float, abandoned: float | None = None) -> RecentCalls:
    ended = tuple(sorted(NOW - timedelta(hours=h) for h in hours_ago))
    last = None if abandoned is None else NOW - timedelta(hours=abandoned)
    return RecentCalls(ended, last)


class Row(NamedTuple):
    why: str
    kind: CampaignType
    rules: NumberRules
    recent: RecentCalls | None
    expected: Screening


ROWS = [
    Row("no call yet", AGENT, UK_CAP_2, None, DIAL),
    Row("no rule: never looked at", AGENT, NumberRules(), calls(1, 2, 3, abandoned=1), DIAL),
    Row("under the cap", IVR, CAP_2, calls(1), DIAL),
    Row("calls older than a day do not count", IVR, CAP_2, calls(24, 30, 50), DIAL),
    Row(
        "at the cap: until the oldest is a day old", IVR, CAP_2, calls(3, 5), Postpone(NOW + 19 * H)
    ),
    Row(
        "over the cap (a lowered one): until enough are a day old",
        IVR,
        NumberRules(attempts_per_day=1),
        calls(2, 6, 9),
        Postpone(NOW + 22 * H),
    ),
    Row("a call exactly a day old is out", IVR, CAP_2, calls(24, 1), DIAL),
    Row(
        "UK: abandoned 10 h ago, agent campaign",
        AGENT,
        UK,
        calls(10, abandoned=10),
        DIAL_AGENT_FIRST,
    ),
    Row(
        "UK: abandoned 10 h ago, IVR waits 72 h",
        IVR,
        UK,
        calls(10, abandoned=10),
        Postpone(NOW + 62 * H),
    ),
    Row("UK: abandoned 72 h ago is free again", AGENT, UK, calls(72, abandoned=72), DIAL),
    Row("UK: calls but none abandoned", AGENT, UK, calls(1, 2, 3), DIAL),
    Row("the cap comes first", AGENT, UK_CAP_2, calls(1, 2, abandoned=1), Postpone(NOW + 22 * H)),
    Row("US: no lockout", AGENT, NumberRules(None, None), calls(1, abandoned=1), DIAL),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.why for r in ROWS])
def test_screen_history(row: Row) -> None:
    assert screen_history(row.kind, row.recent, row.rules, NOW) == row.expected


@pytest.mark.parametrize(
    ("regime", "lockout"),
    [(Regime.UK, timedelta(hours=72)), (Regime.US, None), (Regime.NONE, None)],
)
def test_only_the_uk_locks_a_number_out(regime: Regime, lockout: timedelta | None) -> None:
    assert rules_for(ComplianceSettings(regime=regime)).redial_lockout == lockout


def test_the_rules_look_back_as_far_as_they_need() -> None:
    assert not NumberRules().needed
    assert NumberRules(attempts_per_day=3).look_back == timedelta(hours=24)
    assert UK_CAP_2.look_back == timedelta(hours=72)


def job(i: int, e164: str | None = "+447700900001") -> DialJob:
    return DialJob(
        DestinationId(i), CampaignId(7), 1, "07700900001", e164, None, (), None, None, False, 0, NOW
    )


def test_a_batch_counts_the_calls_it_lets_through() -> None:
    # Cap 2 with one call this morning: of three jobs for the number, one more may go.
    history = NumberHistory(IVR, CAP_2, {"+447700900001": calls(5)})
    verdicts = [history.screen(job(i), DIAL, NOW) for i in range(3)]
    assert verdicts == [DIAL, Postpone(NOW + 19 * H), Postpone(NOW + 19 * H)]


def test_a_batch_leaves_other_verdicts_alone() -> None:
    history = NumberHistory(AGENT, UK_CAP_2, {"+447700900001": calls(1, 2)})
    excluded = Settle(Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED)
    later = Postpone(NOW + H)
    assert history.screen(job(1), excluded, NOW) == excluded
    assert history.screen(job(2), later, NOW) == later
    assert history.screen(job(3, e164=None), DIAL, NOW) == DIAL
    # The agent-first call counts too.
    lockout = NumberHistory(AGENT, UK_CAP_2, {"+447700900001": calls(3, abandoned=3)})
    assert lockout.screen(job(4), DIAL, NOW) == DIAL_AGENT_FIRST
    assert lockout.screen(job(5), DIAL, NOW) == Postpone(NOW + 21 * H)

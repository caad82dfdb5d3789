"""Pacing as a table (dialer.domain.pacing.CapsAndRate, today's policy): a campaign's load on
one engine -> how many lines to claim now, under which limits, and when to look again."""

import math
from datetime import UTC, date, datetime, time, timedelta

import pytest

from dialer.domain.agent import Strategy
from dialer.domain.campaign import Campaign, CampaignSpec, CampaignStatus, CampaignType
from dialer.domain.ids import CallFlowId, CampaignId, CliId, TenantId
from dialer.domain.pacing import (
    CapsAndRate,
    ClaimRequest,
    Load,
    PacingPolicy,
    Progressive,
    agent_turns,
    agents_to_share,
)
from dialer.domain.policy import MessagePolicy
from dialer.domain.schedule import Schedule, Window
from dialer.engine.pacer import TokenBucket

NOW = datetime(2025, 10, 1, 10, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def campaign(max_callers: int | None = None, kind: CampaignType = CampaignType.IVR) -> Campaign:
    spec = CampaignSpec(
        name=None,
        schedule=Schedule(date(2025, 10, 1), Window(time(9), time(17))),
        callflow_id=CallFlowId(1),
        cli_id=CliId(1),
        attempts=(),
        answerphone=MessagePolicy.NEVER,
        sms_on_busy=MessagePolicy.NEVER,
        kind=kind,
    )
    strategy = None
    if max_callers is not None:
        strategy = Strategy(queue_id=1, max_callers=max_callers, coefficient=2)
    return Campaign(
        CampaignId(1), TenantId(1), "c", CampaignStatus.ENABLED, spec, NOW, NOW, strategy
    )


def bucket(rate: float, used: int = 0) -> TokenBucket:
    """A bucket at NOW with ``used`` of its (one second's) tokens taken."""
    limit = TokenBucket(rate, NOW)
    limit.take(used, NOW)
    return limit


@pytest.mark.parametrize(
    ("situation", "max_callers", "on_line", "free", "rates", "expected"),
    [
        ("engine lines are the cap", None, 0, 3, (1000, 1000), ClaimRequest(3, 10, 1000)),
        ("the claim batch is the cap", 500, 0, 900, (1000, 1000), ClaimRequest(100, 500, 1000)),
        ("campaign cap less its calls", None, 7, 900, (1000, 1000), ClaimRequest(3, 10, 1000)),
        ("MaximumCallers overrides", 2, 0, 900, (1000, 1000), ClaimRequest(2, 2, 1000)),
        ("campaign at its cap", None, 10, 900, (1000, 1000), ClaimRequest(0, 10, 1000)),
        ("engine full", None, 0, 0, (1000, 1000), ClaimRequest(0, 10, 1000)),
        ("tokens are the cap", None, 0, 900, (5, 1000), ClaimRequest(5, 10, 5)),
        ("the slower rate counts", 500, 0, 900, (1000, 40), ClaimRequest(40, 500, 40)),
    ],
)
def test_caps_and_rate(
    situation: str,
    max_callers: int | None,
    on_line: int,
    free: int,
    rates: tuple[float, float],
    expected: ClaimRequest,
) -> None:
    policy = CapsAndRate(claim_batch=100, campaign_max_in_flight=10)
    load = Load(campaign(max_callers), on_line, free, [bucket(r) for r in rates], NOW)
    assert policy.request(load) == expected


def test_maximum_callers_caps_an_agent_campaigns_waiting_callers_not_its_lines() -> None:
    """The seed's MaximumCallers is "the maximum amount of waiting calls in the queue". An agent
    campaign with the seed's example (1) still dials as many lines as the engine allows; the
    agent calls cap the waiting customers at 1 (tests/unit/test_engine_agents.py)."""
    policy = CapsAndRate(claim_batch=100, campaign_max_in_flight=10)
    load = Load(campaign(1, CampaignType.AGENT), 0, 900, [bucket(1000)], NOW)
    assert policy.request(load) == ClaimRequest(10, 10, 1000)
    assert policy.max_in_flight(campaign(1, CampaignType.AGENT)) == 10
    assert policy.max_in_flight(campaign(1, CampaignType.IVR)) == 1


@pytest.mark.parametrize(
    ("situation", "rate", "used", "expected"),
    [
        # 10/s claims one at a time (50 ms of the rate rounds down to 0, at least 1).
        ("out of tokens, 10/s", 10, 10, ClaimRequest(0, 500, 10, NOW + 100 * MS)),
        # 100/s claims in fives (50 ms of the rate): 2 left, 3 more come in 30 ms.
        ("short of a quantum, 100/s", 100, 98, ClaimRequest(0, 500, 100, NOW + 30 * MS)),
        ("a quantum is there, 100/s", 100, 95, ClaimRequest(5, 500, 100)),
    ],
)
def test_the_rate_says_when_to_look_again(
    situation: str, rate: float, used: int, expected: ClaimRequest
) -> None:
    policy = CapsAndRate(claim_batch=100, campaign_max_in_flight=500)
    load = Load(campaign(), 0, 900, [bucket(1000), bucket(rate, used)], NOW)
    assert policy.request(load) == expected


def test_without_rate_limits_of_its_own_only_the_caps_count() -> None:
    """A claim that paces across engines is told the rate as infinite, the caps as they are."""
    policy = CapsAndRate(claim_batch=100, campaign_max_in_flight=10)
    assert policy.request(Load(campaign(), 4, 900, [], NOW)) == ClaimRequest(6, 10, math.inf)
    assert policy.request(Load(campaign(), 12, 900, [], NOW)) == ClaimRequest(0, 10, math.inf)


def test_a_policy_is_any_object_with_request() -> None:
    class OneAtATime:
        def request(self, load: Load) -> ClaimRequest:
            return ClaimRequest(min(1, 1 - load.on_line), 1, 1.0)

    policies: list[PacingPolicy] = [OneAtATime(), CapsAndRate(1, 1)]
    load = Load(campaign(), 0, 10, [bucket(10)], NOW)
    assert [p.request(load).lines for p in policies] == [1, 1]


@pytest.mark.parametrize(
    ("situation", "ready", "waiting", "on_line", "rates", "expected"),
    [
        ("one line per ready agent", 3, 0, 0, (1000, 1000), ClaimRequest(3, 10, 1000)),
        ("less calls that have no agent", 3, 2, 2, (1000, 1000), ClaimRequest(1, 10, 1000)),
        ("calls with agents do not count", 3, 0, 5, (1000, 1000), ClaimRequest(3, 10, 1000)),
        ("no ready agent: no call", 0, 0, 0, (1000, 1000), ClaimRequest(0, 10, 1000)),
        ("more waiting than ready", 1, 3, 3, (1000, 1000), ClaimRequest(0, 10, 1000)),
        ("never above the campaign cap", 30, 0, 8, (1000, 1000), ClaimRequest(2, 10, 1000)),
        ("never above the rate", 30, 0, 0, (4, 1000), ClaimRequest(4, 10, 4)),
    ],
)
def test_progressive_dials_for_ready_agents_within_the_caps(
    situation: str,
    ready: int,
    waiting: int,
    on_line: int,
    rates: tuple[float, float],
    expected: ClaimRequest,
) -> None:
    policy = Progressive(CapsAndRate(claim_batch=100, campaign_max_in_flight=10))
    limits = [bucket(r) for r in rates]
    load = Load(campaign(), on_line, 900, limits, NOW, ready_agents=ready, without_agent=waiting)
    assert policy.request(load) == expected


@pytest.mark.parametrize(
    ("situation", "ready", "waiting", "left", "lines"),
    [
        ("the campaign's own spare, when less", 2, 0, 5, 2),
        ("what other campaigns left, when less", 3, 0, 1, 1),
        ("nothing left: no call", 3, 0, 0, 0),
        ("its own waiting still count", 3, 2, 3, 1),
        ("an overdrawn budget is none", 3, 0, -2, 0),
    ],
)
def test_progressive_shares_the_engines_ready_agents_between_campaigns(
    situation: str, ready: int, waiting: int, left: int, lines: int
) -> None:
    policy = Progressive(CapsAndRate(claim_batch=100, campaign_max_in_flight=10))
    load = Load(
        campaign(),
        waiting,
        900,
        [bucket(1000), bucket(1000)],
        NOW,
        ready_agents=ready,
        without_agent=waiting,
        agents_left=left,
    )
    assert policy.request(load).lines == lines


def test_the_shared_budget_is_distinct_agents_less_every_unserved_call() -> None:
    assert agents_to_share(ready_sessions=3, without_agent=1) == 2
    assert agents_to_share(ready_sessions=1, without_agent=4) == 0


def test_agent_campaigns_take_turns_at_shared_agents() -> None:
    a, b, c = CampaignId(1), CampaignId(2), CampaignId(3)
    assert agent_turns([c, a, b], {}) == [a, b, c]  # never given: by id
    assert agent_turns([a, b, c], {a: 7, b: 5}) == [c, b, a]  # longest ago first


def test_progressive_leaves_ivr_campaigns_to_the_caps() -> None:
    caps = CapsAndRate(claim_batch=100, campaign_max_in_flight=10)
    load = Load(campaign(), 4, 900, [bucket(10, 10)], NOW)
    assert Progressive(caps).request(load) == caps.request(load)
    assert caps.request(load).look_again is not None  # the rate's look-again is kept

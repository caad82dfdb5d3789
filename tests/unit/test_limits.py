"""The arithmetic of the limits every engine shares: sliding one-second windows of claims."""

import pytest

from dialer.domain.ids import CampaignId, TenantId
from dialer.domain.limits import RateLimit, claim_limits, frees_at, live, room

S = 1_000_000  # microseconds


@pytest.mark.parametrize(
    ("rate", "calls", "window_s"),
    [(5, 5, 1), (2.5, 2, 1), (1, 1, 1), (0.5, 1, 2), (0.25, 1, 4), (1000, 1000, 1)],
)
def test_a_rate_is_whole_calls_in_a_window_of_at_least_a_second(
    rate: float, calls: int, window_s: int
) -> None:
    limit = RateLimit("trunk:t", rate)
    assert (limit.calls, limit.window_us) == (calls, window_s * S)


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan")])
def test_a_rate_must_be_positive_and_finite(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimit("trunk:t", rate)


def test_claims_leave_the_window_one_second_after_they_were_made() -> None:
    limit = RateLimit("tenant:1", 5)
    entries = [(10 * S, 2), (10 * S + S // 2, 3)]
    # The window ending at t holds claims made after t - 1 s: at 11 s the first has just left.
    assert live(limit, entries, 11 * S - 1) == entries
    assert live(limit, entries, 11 * S) == [(10 * S + S // 2, 3)]
    assert live(limit, entries, 12 * S) == []


@pytest.mark.parametrize(
    ("entries", "wanted", "room_now", "frees"),
    [
        ([], 1, 5, None),
        ([(0, 3)], 1, 2, None),
        ([(0, 3)], 2, 2, None),
        ([(0, 3)], 3, 2, S),  # the claim of 3 must leave first
        ([(0, 2), (S // 4, 3)], 1, 0, S),  # the oldest claim's departure makes room
        ([(0, 1), (S // 4, 4)], 2, 0, S + S // 4),  # one call leaving is not enough for two
        ([(0, 5)], 9, 0, S),  # wanting more than a window holds waits for an empty window
    ],
)
def test_room_and_when_the_window_has_room(
    entries: list[tuple[int, int]], wanted: int, room_now: int, frees: int | None
) -> None:
    limit = RateLimit("campaign:1", 5)
    assert room(limit, entries) == room_now
    assert frees_at(limit, entries, wanted) == frees


def test_a_claim_locks_its_campaign_first_and_names_each_limit_it_keeps() -> None:
    limits = claim_limits(CampaignId(7), TenantId(3), 4, 25.0, 10.0, ("carrier-a:5060", 20.0))
    assert limits.in_flight == 4
    assert [r.name for r in limits.rates] == ["campaign:7", "tenant:3", "trunk:carrier-a:5060"]
    assert limits.lock_names == ["campaign:7", "tenant:3", "trunk:carrier-a:5060"]
    bare = claim_limits(CampaignId(7), TenantId(3), 4, None)
    assert (bare.rates, bare.lock_names) == ((), ["campaign:7"])

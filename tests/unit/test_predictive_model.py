"""The predictive model's pieces against hand-computed values: a ringing call's chance of a
person, a busy agent's chance of being free, the expected abandons, and the priors."""

import math

import pytest

from dialer.domain.predictive_stats import (
    MIN_HANDLED,
    PRIOR_PERSON_RATE,
    CampaignStats,
)
from dialer.domain.predictive_sums import exact_excess, expected_excess, normal_excess


def plain() -> CampaignStats:
    """No prior and no forgetting: the estimates are plain counts."""
    return CampaignStats(prior_dials=0, memory=math.inf)


def test_a_ringing_call_is_a_person_in_the_share_of_later_ends_that_were_people() -> None:
    stats = plain()
    for ring, person in [(5.0, True), (8.0, False), (12.5, True), (20.0, False), (25.0, False)]:
        stats.dial_ended(ring, person)
    assert stats.person_rate() == pytest.approx(2 / 5)
    # Still ringing at 6.3 s: of the dials that lasted past second 6 (8, 12.5, 20, 25) one
    # was a person.
    assert stats.person_probabilities((6.3,)) == pytest.approx([1 / 4])
    # ... and within 4 more seconds (by second 10): none of them.
    assert stats.person_probabilities((6.3,), within=4) == pytest.approx([0.0])
    # At 0 s: all five, two people; within 10 s: only the one at 5 s.
    assert stats.person_probabilities((0.0,), within=10) == pytest.approx([1 / 5])
    # Past every dial seen: nothing is known to answer.
    assert stats.person_probabilities((40.0,)) == [0.0]
    total, spread = stats.person_sums((0.0, 6.3))
    assert total == pytest.approx(2 / 5 + 1 / 4)
    assert spread == pytest.approx(0.4 * 0.6 + 0.25 * 0.75)


def test_a_busy_agent_frees_with_the_conditional_chance_of_recent_handle_times() -> None:
    stats = plain()
    times = [30.0 + 10 * i for i in range(MIN_HANDLED)]  # 30, 40, ..., 220 s
    for seconds in times:
        stats.handled(seconds)
    # 55 s into a call: 17 of the 20 lasted longer (60 .. 220); 2 of those ended by 75 s.
    assert stats.free_probability(55.0, 20.0) == pytest.approx(2 / 17)
    assert stats.free_probabilities((55.0, 0.0), 20.0) == pytest.approx([2 / 17, 0.0])
    # Just started: (F(40) - F(0)) / 1 = 1 / 20 ended within 40 s (the one at 30 s).
    assert stats.free_probability(0.0, 40.0) == pytest.approx(1 / 20)
    # Near the tail (fewer than five longer calls seen): counted as not freeing.
    assert stats.free_probability(185.0, 100.0) == 0.0
    total, spread = stats.free_sums((55.0, 0.0), 20.0)
    assert total == pytest.approx(2 / 17)
    assert spread == pytest.approx(2 / 17 * 15 / 17)


def test_the_priors_hold_until_there_is_data() -> None:
    stats = CampaignStats()
    assert stats.person_rate() == pytest.approx(PRIOR_PERSON_RATE)
    for _ in range(MIN_HANDLED - 1):
        stats.handled(60.0)
    # Before MIN_HANDLED calls no busy agent is expected to free: the side that dials less.
    assert stats.free_probability(59.0, 10.0) == 0.0
    stats.handled(60.0)
    assert stats.free_probability(59.0, 10.0) == pytest.approx(1.0)


def test_a_jump_in_the_answer_rate_is_followed_within_a_few_hundred_dials() -> None:
    stats = CampaignStats()
    for i in range(2000):
        stats.dial_ended(9.0, person=i % 20 < 3)  # 0.15
    assert stats.person_rate() == pytest.approx(0.15, abs=0.02)
    for i in range(600):
        stats.dial_ended(9.0, person=i % 5 < 2)  # 0.40
    assert stats.person_rate() > 0.35


def test_expected_excess_of_a_normal_is_the_textbook_value() -> None:
    # E[max(Z, 0)] for a standard normal is 1/sqrt(2 pi).
    assert expected_excess(0.0, 1.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    assert expected_excess(5.0, 0.0) == 5.0
    assert expected_excess(-5.0, 0.0) == 0.0
    # Far above zero the excess is the mean.
    assert expected_excess(10.0, 1.0) == pytest.approx(10.0)
    # Four lines at 0.5 on -1: mean 1, variance 1, so Phi(1) + phi(1).
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    assert normal_excess(-1.0, 0.0, 0.5)(4) == pytest.approx(0.841345 + phi, abs=1e-6)


def test_exact_excess_counts_people_beyond_the_agents() -> None:
    # One ready agent, nothing ringing: one line never abandons, two abandon when both
    # answer (0.3 x 0.3).
    one_ready = exact_excess(-1, [], [], 0.3)
    assert one_ready(1) == 0.0
    assert one_ready(2) == pytest.approx(0.09)
    # One call ringing (a person with 0.5), one busy agent freeing with 0.5, none ready:
    # an abandon only when the person answers and the agent does not.
    assert exact_excess(0, [0.5], [0.5], 0.3)(0) == pytest.approx(0.25)
    # Two waiting, people 0.5 and 0.2 ringing, an agent freeing with 0.5: D >= 1 always.
    assert exact_excess(2, [0.5, 0.2], [0.5], 0.3)(0) == pytest.approx(2 + 0.7 - 0.5)


def test_told_the_wrap_ups_an_agent_frees_when_its_wrap_up_ends() -> None:
    """Handle times of talk plus a 15 s wrap-up: an agent still talking cannot be free
    within 15 s; one in wrap-up is free when its 15 s are over."""
    stats = plain()
    for i in range(MIN_HANDLED):
        stats.handled(30.0 + 10 * i + 15.0)  # talk 30, 40, ..., 220 s, then 15 s
        stats.wrapped(15.0)
    assert stats.mean_wrap() == pytest.approx(15.0)
    assert stats.wrapping_free_probabilities((3.0, 10.0), 6.0) == pytest.approx([0.0, 1.0])
    assert stats.talking_free_probabilities((55.0,), 14.0) == [0.0]
    # Talking 55 s: handle past 70 s means talk past 55 s (17 of 20: 60 .. 220 + 15); of
    # those, ended by 55 + 35 = 90 s: the talks of 60 and 70 s.
    assert stats.talking_free_probabilities((55.0,), 35.0) == pytest.approx([2 / 17])
    # From the handle times alone (wrap-ups not told apart): 19 handles of 55 s or more, 4
    # of them (55 .. 85 s) ended by 90 s, the wrap-up of three of which was not yet begun.
    assert stats.free_probability(55.0, 35.0) == pytest.approx(4 / 19)

"""The call-centre profile and the uniform-band durations it needs (docs/simulated-network.md,
"The call-centre profile")."""

import random

import pytest

from dialer.domain.call import AnsweredBy
from dialer.domain.errors import ValidationFailed
from dialer.telephony.sim_profile import Bands, CallFate, SimProfile, default_document


def test_the_call_centre_profile_has_the_issues_numbers() -> None:
    profile = SimProfile.shipped("call-centre")
    answer = profile.outcomes[CallFate.ANSWER]
    assert answer * profile.answered_by[AnsweredBy.HUMAN] == pytest.approx(0.30)
    assert answer * profile.answered_by[AnsweredBy.MACHINE] == pytest.approx(0.15)
    failures = 1 - answer - profile.outcomes[CallFate.NO_ANSWER]
    assert failures == pytest.approx(0.10)
    rng = random.Random(1)
    assert {profile.ring_out_seconds.at(rng.random()) for _ in range(10)} == {25.0}
    failing = [profile.setup_seconds.at(rng.random()) for _ in range(1000)]
    assert 2.0 <= min(failing) < 2.1
    assert 4.9 < max(failing) <= 5.0
    assert profile.agents.wrap_up_seconds.at(rng.random()) == 15.0
    assert profile.agents.pauses_per_hour == 0
    talks = [profile.agents.talk_at(rng.random(), rng.random()) for _ in range(40_000)]
    assert sum(talks) / len(talks) == pytest.approx(180, rel=0.05)


def test_people_answer_in_the_bimodal_bands() -> None:
    ring = SimProfile.shipped("call-centre").ring_seconds
    rng = random.Random(2)
    draws = [ring.at(rng.random()) for _ in range(20_000)]
    assert all(d <= 1 or 6 <= d <= 10 or 18 <= d <= 22 for d in draws)
    assert sum(d <= 1 for d in draws) / len(draws) == pytest.approx(0.05, abs=0.01)
    assert sum(6 <= d <= 10 for d in draws) / len(draws) == pytest.approx(0.55, abs=0.02)


def test_the_second_scenario_halves_the_people_and_keeps_machines_and_failures() -> None:
    profile = SimProfile.shipped("call-centre").with_person_rate(0.15)
    answer = profile.outcomes[CallFate.ANSWER]
    assert answer * profile.answered_by[AnsweredBy.HUMAN] == pytest.approx(0.15)
    assert answer * profile.answered_by[AnsweredBy.MACHINE] == pytest.approx(0.15)
    assert profile.outcomes[CallFate.NO_ANSWER] == pytest.approx(0.60)
    assert sum(profile.outcomes.values()) == pytest.approx(1.0)
    assert sum(profile.answered_by.values()) == pytest.approx(1.0)


def test_a_person_rate_that_does_not_fit_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        SimProfile.shipped("call-centre").with_person_rate(0.9)


def test_bands_must_sum_to_one_and_have_min_under_max() -> None:
    document = default_document()
    document["ring_seconds"] = {
        "bands": [{"weight": 0.5, "min": 6, "max": 10}, {"weight": 0.4, "min": 22, "max": 18}]
    }
    with pytest.raises(ValidationFailed) as caught:
        SimProfile.from_document(document)
    assert "ring_seconds.bands" in caught.value.errors  # weights sum to 0.9
    assert "ring_seconds.bands.1" in caught.value.errors  # min above max


def test_one_uniform_picks_the_band_and_the_place_in_it() -> None:
    bands = SimProfile.shipped("call-centre").ring_seconds
    assert isinstance(bands, Bands)
    assert bands.at(0.0) == 0.0
    assert bands.at(0.05) == pytest.approx(6.0)
    assert bands.at(0.61) == pytest.approx(18.1)
    assert bands.at(0.999999) == pytest.approx(22.0, abs=1e-3)


def test_an_unknown_shipped_profile_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        SimProfile.shipped("nowhere")

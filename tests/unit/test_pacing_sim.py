"""The pacing simulator: the governor's guarantee over many simulated shifts (small and large
teams, the hostile profile), progressive never abandoning, and the shift figures on a case
small enough to work out by hand."""

import math
from typing import Any

import pytest

import dialer.domain.predictive as predictive
from dialer.domain.abandonment import Tally
from dialer.domain.agent import Pacing, PacingMode
from dialer.pacing_sim import Centre, run_shift
from dialer.telephony.sim_profile import SimProfile, default_document

PROGRESSIVE = Pacing(PacingMode.PROGRESSIVE)
RATIO_3 = Pacing(PacingMode.RATIO, ratio=3.0)
PREDICTIVE = Pacing()
TARGET = 3.0  # percent


def shifts() -> list[Any]:
    cases = []
    for seed in range(6):
        cases.append(pytest.param(5, RATIO_3, False, 2.0, seed, id=f"5-ratio3-{seed}"))
    for seed in range(3):
        hostile = pytest.param(5, PREDICTIVE, True, 1.0, seed, id=f"5-predictive-hostile-{seed}")
        cases.append(hostile)
    cases.append(pytest.param(10, PREDICTIVE, False, 1.0, 0, id="10-predictive"))
    cases.append(pytest.param(50, RATIO_3, True, 1.0, 0, id="50-ratio3-hostile"))
    cases.append(pytest.param(50, PREDICTIVE, True, 1.0, 0, id="50-predictive-hostile"))
    return cases


@pytest.mark.parametrize(("agents", "pacing", "hostile", "hours", "seed"), shifts())
def test_the_governor_keeps_every_minute_under_the_target(
    agents: int, pacing: Pacing, hostile: bool, hours: float, seed: int
) -> None:
    centre = Centre.call_centre(0.30)
    if hostile:
        centre = Centre.call_centre(0.15).hostile(0.40)
    figures = run_shift(centre, agents, pacing, hours=hours, seed=seed)
    # The simulator checks after every event that the abandons still possible from the
    # calls in flight are within the budget left; that implies the rate never passes it.
    assert figures.governor_breaches == 0
    assert figures.max_rolling_abandon_rate <= TARGET
    assert figures.abandon_rate <= TARGET


def test_the_property_check_sees_an_ungoverned_pacer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the governor, ratio 3 with five agents abandons past the budget: the check
    that the tests above rely on does fail when the guarantee is broken."""

    def ungoverned(floor: predictive.Floor, *_: object) -> int:
        return 1_000

    monkeypatch.setattr(predictive, "governor_cap", ungoverned)
    figures = run_shift(Centre.call_centre(0.30), 5, RATIO_3, hours=1.0, seed=0)
    assert figures.governor_breaches > 0
    assert figures.abandoned > 0


@pytest.mark.parametrize("seed", range(3))
def test_progressive_never_abandons(seed: int) -> None:
    figures = run_shift(Centre.call_centre(0.30), 10, PROGRESSIVE, hours=2.0, seed=seed)
    assert figures.abandoned == 0
    assert figures.live_answered > 0


def test_the_same_seed_gives_the_same_shift() -> None:
    first = run_shift(Centre.call_centre(0.15), 5, PREDICTIVE, hours=0.5, seed=7)
    again = run_shift(Centre.call_centre(0.15), 5, PREDICTIVE, hours=0.5, seed=7)
    assert first == again


def clockwork() -> Centre:
    """Every dial a person answering after exactly 1 s; talk 100 s, wrap-up 15 s."""
    document = default_document()
    document["outcomes"] = dict.fromkeys(document["outcomes"], 0.0) | {"answer": 1.0}
    document["answered_by"] = {"human": 1.0, "machine": 0.0, "fax": 0.0}
    document["ring_seconds"] = {"bands": [{"weight": 1.0, "min": 1, "max": 1}]}
    agents = document["agents"]
    agents["short_call_share"] = 0.0
    agents["talk_seconds"] = {"median": 100, "sigma": 0, "min": 100, "max": 100}
    agents["wrap_up_seconds"] = {"median": 15, "sigma": 0, "min": 15, "max": 15}
    return Centre(SimProfile.from_document(document))


def test_the_figures_of_a_shift_worked_out_by_hand() -> None:
    """One agent, progressive, one hour: a call every 116 s (1 s ringing, 100 s talk, 15 s
    wrap-up), bridged at 1, 117, ..., 3481 (31 calls, 3100 s of talk, 31 wrap-ups ending at
    3596 at the latest); the 32nd, bridged at 3597, talks 3 s before the end."""
    figures = run_shift(clockwork(), 1, PROGRESSIVE, hours=1.0, seed=0)
    assert figures.placed == 32
    assert figures.live_answered == 32
    assert figures.abandoned == 0
    assert figures.talk_minutes_per_agent_hour == pytest.approx((3100 + 3) / 60)
    assert figures.occupancy == pytest.approx((3100 + 3 + 31 * 15) / 3600)
    assert figures.placed_per_agent_hour == pytest.approx(32)
    # Ready for 1 s before each bridge (the ring), and nothing after the last.
    assert figures.mean_agent_wait_seconds == pytest.approx(1.0)
    assert figures.answer_to_agent_p95_seconds == 0.0
    assert figures.abandon_rate == 0.0
    assert figures.max_rolling_abandon_rate == 0.0  # never 100 live answers
    assert math.isclose(figures.hours, 1.0)


def test_a_campaign_already_over_its_target_opens_the_shift_progressive() -> None:
    """The opening tally (the window before the shift) reaches the pacer: 10 abandons in 100
    live calls leave no budget, so ratio 3 places no more than the ready agents."""
    over = Tally(live=100, abandoned=10)
    figures = run_shift(Centre.call_centre(0.30), 5, RATIO_3, hours=1.0, seed=0, opening=over)
    assert figures.abandoned == 0
    assert figures.placed > 0


def test_the_pacer_counts_an_abandoned_call_as_a_live_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rules count abandoned calls among the live ones (as the engine's tally does): a
    simulator that left them out gave the pacer a budget short by 3% of its abandons."""
    seen: list[tuple[predictive.Floor, Tally]] = []
    decide = predictive.Pacer.decide

    def spy(self: predictive.Pacer, pacing: Pacing, floor: predictive.Floor, *rest: Any) -> Any:
        seen.append((floor, rest[1]))
        return decide(self, pacing, floor, *rest)

    monkeypatch.setattr(predictive.Pacer, "decide", spy)
    opening = Tally(live=100_000)  # a budget of about 3000: ratio 3 abandons freely
    figures = run_shift(Centre.call_centre(0.30), 5, RATIO_3, hours=0.5, seed=0, opening=opening)
    floor, tally = seen[-1]
    assert figures.abandoned > floor.waiting
    # Every person answered is live once bridged or abandoned; a few may still be waiting.
    assert tally.live - opening.live >= figures.live_answered - floor.waiting
    assert tally.abandoned == figures.abandoned


def test_told_the_wrap_ups_the_pacer_sees_them_and_the_governor_still_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrapping: list[tuple[float, ...] | None] = []
    decide = predictive.Pacer.decide

    def spy(self: predictive.Pacer, pacing: Pacing, floor: predictive.Floor, *rest: Any) -> Any:
        wrapping.append(floor.wrapping)
        return decide(self, pacing, floor, *rest)

    monkeypatch.setattr(predictive.Pacer, "decide", spy)
    centre = Centre.call_centre(0.30)
    figures = run_shift(centre, 10, PREDICTIVE, hours=1.0, seed=0)  # told, by default
    assert None not in wrapping
    # Each seen at most 15 s into its wrap-up (the profile's), and some seen at all.
    assert max(max(w, default=0.0) for w in wrapping if w is not None) <= 15.0
    assert any(wrapping)
    assert figures.governor_breaches == 0
    assert figures.max_rolling_abandon_rate <= TARGET
    wrapping.clear()
    run_shift(centre, 10, PREDICTIVE, hours=0.25, seed=0, wrap_known=False)
    assert set(wrapping) == {None}

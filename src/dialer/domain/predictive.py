"""The predictive pacer's model (docs/pacing.md): how many lines an agent campaign should have
ringing, from what it sees of its agents and its calls, and the governor that keeps the
abandoned-call rate under the campaign's target whatever the model says.

The engine (dialer.engine.dispatcher) and the pacing simulator (dialer.pacing_sim, which the
benchmark bench/pacing.py runs) call the same ``Pacer.decide`` with the same inputs, so what
the benchmark measures is the policy the engine applies.

The model (``predictive``) and the estimates it reads (``predictive_stats``) are described in
docs/pacing.md; the governor here is what makes the abandoned-call target a guarantee.
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime

from dialer.domain.abandonment import REGULATORY_LIMIT, AbandonRules, Tally
from dialer.domain.agent import Pacing, PacingMode
from dialer.domain.predictive_stats import CampaignStats
from dialer.domain.predictive_sums import EXACT_UP_TO, exact_excess, normal_excess

__all__ = ["CampaignStats", "Decision", "Floor", "Pacer", "governor_cap"]

# The model aims its expected abandons at this share of the target, so that the budget the
# governor spends grows through the shift instead of hovering at zero (docs/pacing.md).
AIM_SHARE = 0.8
# Lines in flight per agent logged in (ready or busy), whatever the model says: a bound for a
# campaign whose people almost never answer, where the model would dial without end.
MAX_LINES_PER_AGENT = 6
# Until this many dials have ended, the model is on its priors (reported as warming up).
WARM_DIALS = 50
# The aim's share for a small floor whose caller tells the agents in wrap-up apart (their
# free moments then known): calibrated on the simulator (docs/pacing.md, "Wrap-up known").
WRAP_KNOWN_AIM_SHARE = 0.5
# The moments ahead (seconds) at which people answered are set against agents free.
LOOK_AHEAD = (1, 4, 8, 11, 15, 20, 25)
# While the budget is under this many abandons per agent logged in, the model aims lower in
# proportion: the governor needs a reserve for the lines in flight, and aiming at the
# target with none leaves it cutting every decision (a shift then starts slowly).
RESERVE_PER_AGENT = 0.3


@dataclass(frozen=True, slots=True)
class Floor:
    """One agent campaign as the pacer sees it at ``now``.

    ``ready``: its agents ready and not reserved; ``busy``: for each of its agents on a call
    or in wrap-up, seconds since that call was bridged (talk and wrap-up so far);
    ``ringing``: for each of its calls placed and not yet answered, seconds since it was
    placed; ``waiting``: its answered calls with no agent yet (including those whose
    verdict is still being detected). ``wrapping``: None when the caller does not tell the
    agents in wrap-up apart (they are then in ``busy``); else for each agent in wrap-up (its
    customer gone) the seconds since the wrap-up began, those agents left out of ``busy``
    (whose seconds are then talk only), and the caller feeds ``CampaignStats.wrapped``.
    ``wrapping_bridged``: for the same agents, in any order, seconds since their bridge: a
    large floor's approximation reads them as busy, as it would without ``wrapping``."""

    now: datetime
    ready: int
    busy: tuple[float, ...]
    ringing: tuple[float, ...]
    waiting: int = 0
    wrapping: tuple[float, ...] | None = None
    wrapping_bridged: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """``lines``: calls to place now (0 or more). ``ratio``: lines in flight per ready agent
    this decision aims at, per one agent when none is ready (reported, not used; progressive
    reports 1, ratio its coefficient). ``reason``: why, in a few words, for the API,
    metrics and events ("progressive", "ratio 2", "predictive", "predictive: warming up",
    "governor: budget 1.2")."""

    lines: int
    ratio: float
    reason: str


def governor_cap(floor: Floor, tally: Tally, rules: AbandonRules) -> int:
    """The most lines that may be placed now: even if every call ringing or waiting and every
    new one were answered by a person and no busy agent freed, the abandons that could follow
    (those beyond the ready agents) stay within the whole abandons the budget has left. Lines
    up to the ready agents (less committed) are always allowed: they cannot abandon."""
    committed = len(floor.ringing) + floor.waiting
    budget = tally.budget(rules)
    if math.isinf(budget):
        return max(0, _in_flight_cap(floor) - committed)
    spare = max(0, math.floor(budget))
    return max(0, floor.ready + spare - committed)


def _in_flight_cap(floor: Floor) -> int:
    return MAX_LINES_PER_AGENT * _logged_in(floor)


def _logged_in(floor: Floor) -> int:
    return floor.ready + len(floor.busy) + len(floor.wrapping or ())


class Pacer:
    """Lines to place for one agent campaign now; pure, and cheap enough to call on every
    dispatcher pass (well under a millisecond for 100 agents)."""

    def decide(
        self,
        pacing: Pacing,
        floor: Floor,
        stats: CampaignStats,
        tally: Tally,
        rules: AbandonRules,
    ) -> Decision:
        committed = len(floor.ringing) + floor.waiting
        most = max(0, _in_flight_cap(floor) - committed)
        cap = min(governor_cap(floor, tally, rules), most)
        if pacing.mode is PacingMode.PROGRESSIVE:
            lines = max(0, floor.ready - committed)
            return Decision(lines, 1.0, "progressive")
        if pacing.mode is PacingMode.RATIO:
            ratio = pacing.ratio if pacing.ratio is not None else 1.0
            want = max(0, math.floor(ratio * floor.ready + 1e-9) - committed)
            return _governed(want, cap, ratio, f"ratio {ratio:g}", floor, tally, rules)
        if cap == 0 and governor_cap(floor, tally, rules) == 0:
            # Nothing may be placed whatever the model says (most decisions of a small team
            # held by its budget): the model is not asked, and the governor is the reason.
            budget = max(tally.budget(rules), 0.0)
            return Decision(0, committed / max(1, floor.ready), f"governor: budget {budget:.1f}")
        want = self._predict(floor, stats, rules, most, tally.budget(rules))
        ratio = (committed + min(want, cap)) / max(1, floor.ready)
        reason = "predictive" if stats.dials >= WARM_DIALS else "predictive: warming up"
        return _governed(want, cap, ratio, reason, floor, tally, rules)

    def _predict(
        self, floor: Floor, stats: CampaignStats, rules: AbandonRules, most: int, budget: float
    ) -> int:
        """The most new lines keeping the expected abandons among the people who may answer
        within ``AIM_SHARE`` of the target (docs/pacing.md, "The model"); never fewer than
        progressive's, which cannot abandon.

        People answer over the next seconds and agents free over them; a person can wait
        ``connect_within`` for an agent and an agent free early waits for the next person,
        so the abandons are (as a fluid) the largest excess, over the moments k ahead, of the
        people answered by k over the agents free by k + ``connect_within``. The expected
        excess at each of ``LOOK_AHEAD`` is computed (exactly for a small floor, normal
        beyond) and the largest kept."""
        least = min(most, max(0, floor.ready - len(floor.ringing) - floor.waiting))
        if _logged_in(floor) == 0:
            return least
        if floor.wrapping is not None and _logged_in(floor) > EXACT_UP_TO:
            # A team too large for the exact sums is read as without the wrap-ups: its
            # floors are large but at the first seconds of a shift, and a few decisions
            # there on another aim set its whole shift on another course, for no gain
            # (docs/pacing.md, "Wrap-up known").
            floor = replace(
                floor, busy=floor.busy + floor.wrapping_bridged, wrapping=None, wrapping_bridged=()
            )
        small = len(floor.ringing) + len(floor.busy) + len(floor.wrapping or ()) <= EXACT_UP_TO
        share = WRAP_KNOWN_AIM_SHARE if small and floor.wrapping is not None else AIM_SHARE
        aim = share * min(rules.target, REGULATORY_LIMIT)
        reserve = RESERVE_PER_AGENT * _logged_in(floor)
        if reserve > 0 and budget < reserve:
            aim *= max(0.0, budget) / reserve
        p = stats.person_rate()
        grace = rules.connect_within.total_seconds()
        excesses = []
        if small:
            for k in LOOK_AHEAD:
                excesses.append(
                    exact_excess(
                        floor.waiting - floor.ready,
                        stats.person_probabilities(floor.ringing, k),
                        _freeing(floor, stats, k + grace),
                        stats.person_rate_within(k),
                    )
                )
        else:
            # Many terms: one look, all the people to answer against the agents free by
            # the mean ring time of a person (plus the grace), in the normal approximation.
            # The wrap-ups told apart are not used here: this one look (about 14 s) is
            # shorter than a 15 s wrap-up, so it would see no talking agent free within it
            # and dial less (docs/pacing.md, "Wrap-up known"); every busy agent is read from
            # its bridge, as without them.
            horizon = stats.mean_person_ring() + grace
            ringing, ringing_spread = stats.person_sums(floor.ringing)
            freeing, freeing_spread = stats.free_sums(floor.busy + floor.wrapping_bridged, horizon)
            excesses.append(
                normal_excess(
                    floor.waiting + ringing - floor.ready - freeing,
                    ringing_spread + freeing_spread,
                    p,
                )
            )
        people, _ = stats.person_sums(floor.ringing)
        people += floor.waiting

        def fits(m: int) -> bool:
            allowed = aim * (people + m * p)
            return all(excess(m) <= allowed for excess in excesses)

        # Fitting is monotone in practice (each line adds people and at least their share
        # of the chance of an excess): gallop up from progressive's lines, then bisect.
        if not fits(least):
            return least
        low, step = least, 1
        while low + step <= most and fits(low + step):
            low += step
            step *= 2
        high = min(most, low + step - 1)
        while low < high:
            mid = (low + high + 1) // 2
            if fits(mid):
                low = mid
            else:
                high = mid - 1
        return low


def _freeing(floor: Floor, stats: CampaignStats, horizon: float) -> list[float]:
    """Each busy agent's chance of being free within ``horizon``: with the wrap-ups told
    apart, talking ones from the handle times with their wrap-up still to come and those in
    wrap-up from the wrap-ups; else all from the handle times."""
    if floor.wrapping is None:
        return stats.free_probabilities(floor.busy, horizon)
    talking = stats.talking_free_probabilities(floor.busy, horizon)
    return talking + stats.wrapping_free_probabilities(floor.wrapping, horizon)


def _governed(
    want: int, cap: int, ratio: float, reason: str, floor: Floor, tally: Tally, rules: AbandonRules
) -> Decision:
    if want <= cap:
        return Decision(want, ratio, reason)
    budget = tally.budget(rules)
    return Decision(cap, ratio, f"governor: budget {max(budget, 0.0):.1f}")

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
from dataclasses import dataclass
from datetime import datetime

from dialer.domain.abandonment import REGULATORY_LIMIT, AbandonRules, Tally
from dialer.domain.agent import Pacing, PacingMode
from dialer.domain.predictive_stats import CampaignStats
from dialer.domain.predictive_sums import EXACT_UP_TO, exact_excess, normal_excess

__all__ = ["CampaignStats", "Decision", "Floor", "Pacer", "governor_cap"]

# The model aims its expected abandons at this share of the target, so that the budget the
# governor spends grows through the shift instead of hovering at zero (docs/pacing.md).
AIM_SHARE = 0.5
# Lines in flight per agent logged in (ready or busy), whatever the model says: a bound for a
# campaign whose people almost never answer, where the model would dial without end.
MAX_LINES_PER_AGENT = 6
# Until this many dials have ended, the model is on its priors (reported as warming up).
WARM_DIALS = 50


@dataclass(frozen=True, slots=True)
class Floor:
    """One agent campaign as the pacer sees it at ``now``.

    ``ready``: its agents ready and not reserved; ``busy``: for each of its agents on a call
    or in wrap-up, seconds since that call was bridged (talk and wrap-up so far);
    ``ringing``: for each of its calls placed and not yet answered, seconds since it was
    placed; ``waiting``: its answered calls with no agent yet (including those whose
    verdict is still being detected)."""

    now: datetime
    ready: int
    busy: tuple[float, ...]
    ringing: tuple[float, ...]
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """``lines``: calls to place now (0 or more). ``ratio``: lines in flight per ready agent
    this decision aims at (reported, not used). ``reason``: why, in a few words, for the API,
    metrics and events (for example "predictive", "governor: budget 1.2", "warming up")."""

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
    return MAX_LINES_PER_AGENT * (floor.ready + len(floor.busy))


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
        want = self._predict(floor, stats, rules, most)
        ratio = (committed + min(want, cap)) / max(1, floor.ready)
        reason = "predictive" if stats.dials >= WARM_DIALS else "predictive: warming up"
        return _governed(want, cap, ratio, reason, floor, tally, rules)

    def _predict(self, floor: Floor, stats: CampaignStats, rules: AbandonRules, most: int) -> int:
        """The most new lines keeping the expected abandons among the people who may answer
        within ``AIM_SHARE`` of the target (docs/pacing.md, "The model"); never fewer than
        progressive's, which cannot abandon."""
        least = min(most, max(0, floor.ready - len(floor.ringing) - floor.waiting))
        if floor.ready == 0 and not floor.busy:
            return least
        aim = AIM_SHARE * min(rules.target, REGULATORY_LIMIT)
        p = stats.person_rate()
        horizon = stats.mean_person_ring()
        if len(floor.ringing) + len(floor.busy) <= EXACT_UP_TO:
            excess = exact_excess(
                floor.waiting - floor.ready,
                stats.person_probabilities(floor.ringing),
                [stats.free_probability(t, horizon) for t in floor.busy],
                p,
            )
            people = floor.waiting + sum(stats.person_probabilities(floor.ringing))
        else:
            ringing, ringing_spread = stats.person_sums(floor.ringing)
            freeing, freeing_spread = stats.free_sums(floor.busy, horizon)
            people = floor.waiting + ringing
            excess = normal_excess(
                people - floor.ready - freeing, ringing_spread + freeing_spread, p
            )

        def fits(m: int) -> bool:
            return excess(m) <= aim * (people + m * p)

        # Fitting is monotone in practice (each line adds p people and at least p times the
        # chance of an excess), so bisect for the last n that fits.
        if not fits(least):
            return least
        low, high = least, most
        while low < high:
            mid = (low + high + 1) // 2
            if fits(mid):
                low = mid
            else:
                high = mid - 1
        return low


def _governed(
    want: int, cap: int, ratio: float, reason: str, floor: Floor, tally: Tally, rules: AbandonRules
) -> Decision:
    if want <= cap:
        return Decision(want, ratio, reason)
    budget = tally.budget(rules)
    return Decision(cap, ratio, f"governor: budget {max(budget, 0.0):.1f}")

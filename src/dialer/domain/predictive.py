"""The predictive pacer's model (docs/pacing.md): how many lines an agent campaign should have
ringing, from what it sees of its agents and its calls, and the governor that keeps the
abandoned-call rate under the campaign's target whatever the model says.

The engine (dialer.engine.dispatcher) and the pacing simulator (dialer.pacing_sim, which the
benchmark bench/pacing.py runs) call the same ``Pacer.decide`` with the same inputs, so what
the benchmark measures is the policy the engine applies.

Skeleton committed with the design (issue 13); the model is filled in by the pacing work.
"""

from dataclasses import dataclass
from datetime import datetime

from dialer.domain.abandonment import AbandonRules, Tally
from dialer.domain.agent import Pacing


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


class CampaignStats:
    """What a campaign's recent calls tell the model: fed by the engine (or the simulator) as
    calls end, read by ``Pacer.decide``."""

    def dial_ended(self, ring_seconds: float, person: bool) -> None:
        """A placed call's first result: answered by a person after ``ring_seconds``
        (person=True), or anything else (machine, busy, no answer, failure) after
        ``ring_seconds`` of ringing."""
        raise NotImplementedError

    def handled(self, seconds: float) -> None:
        """One agent call's talk and wrap-up, from bridge to the agent's next ready."""
        raise NotImplementedError


class Pacer:
    def decide(
        self,
        pacing: Pacing,
        floor: Floor,
        stats: CampaignStats,
        tally: Tally,
        rules: AbandonRules,
    ) -> Decision:
        raise NotImplementedError

"""A shift's figures, exactly as docs/pacing.md ("Shift figures") defines them; the engine's
``dialer simulate --json`` reports the same keys."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ShiftFigures:
    agents: int
    hours: float
    pacing: str
    seed: int
    person_rate: float
    talk_minutes_per_agent_hour: float
    occupancy: float
    abandon_rate: float  # percent of live answers, whole shift
    max_rolling_abandon_rate: float  # percent, the largest at a whole minute once live >= 100
    placed_per_agent_hour: float
    live_answered: int
    abandoned: int
    placed: int
    mean_agent_wait_seconds: float
    answer_to_agent_p95_seconds: float
    # The simulator's own check of the governor: moments when the abandons that could still
    # follow from the calls in flight exceeded the budget the tally allowed (0 when it holds).
    governor_breaches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rolling_rate(abandoned: int, live: int) -> float:
    return 0.0 if live == 0 else 100.0 * abandoned / live


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank (0 with no value)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]

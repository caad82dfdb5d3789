"""How far a campaign has got: its destinations by state, and the finished ones by outcome."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from dialer.domain.codes import Outcome


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    pending: int = 0  # never dialled yet, or waiting for a retry
    in_flight: int = 0  # claimed by an engine and not recorded yet: on the line, or just ended
    done: int = 0
    cancelled: int = 0
    # Done destinations by their last outcome; outcomes no destination ended with are absent.
    outcomes: Mapping[Outcome, int] = field(default_factory=dict)
    # Calls on the line now, as the engines last published them (at most in_flight).
    on_line: int = 0


def progress_from_tally(tally: Mapping[tuple[str, int], int], on_line: int = 0) -> CampaignProgress:
    """From counts by (destination state, last outcome value of done ones or 0)."""
    states = {"pending": 0, "in_flight": 0, "done": 0, "cancelled": 0}
    outcomes: dict[Outcome, int] = {}
    for (state, outcome), count in tally.items():
        states[state] = states.get(state, 0) + count
        if state == "done" and outcome:
            outcomes[Outcome(outcome)] = outcomes.get(Outcome(outcome), 0) + count
    return CampaignProgress(
        pending=states["pending"],
        in_flight=states["in_flight"],
        done=states["done"],
        cancelled=states["cancelled"],
        outcomes=dict(sorted(outcomes.items(), key=lambda item: item[0].value)),
        on_line=on_line,
    )

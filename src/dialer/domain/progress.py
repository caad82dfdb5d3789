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

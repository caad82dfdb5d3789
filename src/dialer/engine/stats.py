"""An engine's running totals, built from its events in this one place (``dialer simulate``,
``dialer worker``'s summary and the benchmarks read them)."""

from collections import Counter
from dataclasses import dataclass, field

from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import (
    AttemptFinished,
    AttemptNotPlaced,
    AttemptPostponed,
    AttemptStarted,
    DestinationsClaimed,
    Event,
)


@dataclass
class EngineStats:
    """Subscribe it to an engine's events; it keeps counts only, never per-call lists."""

    claimed: int = 0
    originated: int = 0
    recorded: int = 0
    recovered: int = 0
    done: int = 0  # destinations that reached a final outcome
    postponed: int = 0
    not_placed: int = 0  # calls the driver could not place, given back to the queue
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    stages: Counter[Stage] = field(default_factory=Counter)
    sms_sent: int = 0
    final: Counter[Outcome] = field(default_factory=Counter)  # by destination

    def publish(self, event: Event) -> None:
        if isinstance(event, AttemptFinished):
            self.recorded += 1
            self.recovered += event.recovered
            self.outcomes[event.outcome] += 1
            self.stages[event.stage] += 1
            self.sms_sent += event.sms_sent
            if event.final:
                self.done += 1
                self.final[event.outcome] += 1
        elif isinstance(event, AttemptStarted):
            self.originated += 1
        elif isinstance(event, DestinationsClaimed):
            self.claimed += event.count
        elif isinstance(event, AttemptPostponed):
            self.postponed += 1
        elif isinstance(event, AttemptNotPlaced):
            self.not_placed += 1

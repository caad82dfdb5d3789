"""An engine's running totals, built from its events in this one place (``dialer simulate``,
``dialer worker``'s summary and the benchmarks read them)."""

from collections import Counter
from dataclasses import dataclass, field

from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import (
    AttemptFinished,
    AttemptNotPlaced,
    AttemptPostponed,
    AttemptsFinished,
    AttemptStarted,
    ByKind,
    DestinationsClaimed,
    Handler,
)


@dataclass
class EngineStats(ByKind):
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
    _handlers: dict[type, Handler] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._handlers = {
            AttemptFinished: self._finished,
            AttemptsFinished: self._finished_batch,
            AttemptStarted: self._started,
            DestinationsClaimed: self._claimed,
            AttemptPostponed: self._postponed,
            AttemptNotPlaced: self._not_placed,
        }

    def _finished(self, event: AttemptFinished) -> None:
        self._tally((event,))

    def _finished_batch(self, batch: AttemptsFinished) -> None:
        self._tally(batch.items)

    def _tally(self, events: tuple[AttemptFinished, ...]) -> None:
        # One loop here, not a call per attempt (thousands a second; issue 11).
        for event in events:
            self.recorded += 1
            self.recovered += event.recovered
            self.outcomes[event.outcome] += 1
            self.stages[event.stage] += 1
            self.sms_sent += event.sms_sent
            if event.final:
                self.done += 1
                self.final[event.outcome] += 1

    def _started(self, event: AttemptStarted) -> None:
        self.originated += 1

    def _claimed(self, event: DestinationsClaimed) -> None:
        self.claimed += event.count

    def _postponed(self, event: AttemptPostponed) -> None:
        self.postponed += 1

    def _not_placed(self, event: AttemptNotPlaced) -> None:
        self.not_placed += 1

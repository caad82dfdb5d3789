"""An agent campaign's figures, per agent and for the team, from the events of a run
(``dialer simulate --agents N``; docs/simulated-network.md, Agents' figures).

Logged-in time is every state but offline. Occupancy is (talk + wrap-up) / logged-in time; talk
minutes per agent-hour is talk minutes / logged-in hours; the wait between calls is each spell
of ``ready`` that ended with a customer reserved (a spell ended by a pause is not a wait for a
call). Time from answer to agent is each bridge's ``CustomerBridged.wait``; abandoned calls are
attempts recorded with the stage CallDropped (the customer never reached an agent).
"""

import math
from dataclasses import dataclass, field
from datetime import datetime

from dialer.domain.agent_session import AgentState
from dialer.domain.codes import Stage
from dialer.domain.events import (
    AgentStateChanged,
    AttemptFinished,
    ByKind,
    CustomerBridged,
    Handler,
)

_IN_CALL = (AgentState.TALKING.value, AgentState.WRAP_UP.value)


@dataclass
class AgentTally:
    """One agent's time per state (seconds), calls and waits between calls."""

    member: str
    seconds: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    waits: list[float] = field(default_factory=list)
    state: str = AgentState.OFFLINE.value
    since: datetime | None = None

    @property
    def logged_in(self) -> float:
        return sum(s for state, s in self.seconds.items() if state != AgentState.OFFLINE.value)

    @property
    def talk(self) -> float:
        return self.seconds.get(AgentState.TALKING.value, 0.0)

    @property
    def occupancy(self) -> float | None:
        busy = sum(self.seconds.get(state, 0.0) for state in _IN_CALL)
        return busy / self.logged_in if self.logged_in > 0 else None

    @property
    def talk_minutes_per_hour(self) -> float | None:
        return 60 * self.talk / self.logged_in if self.logged_in > 0 else None

    @property
    def mean_wait(self) -> float | None:
        return sum(self.waits) / len(self.waits) if self.waits else None

    def move(self, state: str, at: datetime) -> None:
        if self.since is not None:
            spent = (at - self.since).total_seconds()
            self.seconds[self.state] = self.seconds.get(self.state, 0.0) + spent
            if self.state == AgentState.READY.value and state == AgentState.RESERVED.value:
                self.waits.append(spent)
        self.state, self.since = state, at


@dataclass
class AgentFigures(ByKind):
    """Subscribe it to the events of a run; ``close`` at the run's end counts open states."""

    agents: dict[int, AgentTally] = field(default_factory=dict)
    to_agent: list[float] = field(default_factory=list)  # answer to agent, seconds
    abandoned: int = 0
    _handlers: dict[type, Handler] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._handlers = {
            AgentStateChanged: self._changed,
            CustomerBridged: self._bridged,
            AttemptFinished: self._finished,
        }

    def close(self, at: datetime) -> None:
        for tally in self.agents.values():
            if tally.since is not None and at > tally.since:
                tally.move(tally.state, at)

    def _changed(self, event: AgentStateChanged) -> None:
        tally = self.agents.get(event.agent_id)
        if tally is None:
            tally = self.agents[event.agent_id] = AgentTally(event.member)
        tally.move(event.state, event.at)

    def _bridged(self, event: CustomerBridged) -> None:
        self.to_agent.append(event.wait)
        tally = self.agents.get(event.agent_id)
        if tally is not None:
            tally.calls += 1

    def _finished(self, event: AttemptFinished) -> None:
        if event.stage is Stage.CALL_DROPPED:
            self.abandoned += 1

    # the team

    def team(self) -> AgentTally:
        """Every agent's time and calls added up (its ratios are the team's)."""
        team = AgentTally("team")
        for tally in self.agents.values():
            for state, seconds in tally.seconds.items():
                team.seconds[state] = team.seconds.get(state, 0.0) + seconds
            team.calls += tally.calls
            team.waits.extend(tally.waits)
        return team

    def to_agent_percentile(self, share: float) -> float | None:
        return percentile(self.to_agent, share)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in (0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]

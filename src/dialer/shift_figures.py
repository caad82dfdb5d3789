"""The figures of one simulated agent shift (``dialer simulate --agents N --json``), defined as
in docs/pacing.md so that the engine's run and the pacing simulator are compared figure for
figure: from the attempts the store recorded and the agents' time in each state.

- live answered: agent calls answered (a person, or no verdict of machine or fax);
  abandoned: those recorded CallDropped;
- ``max_rolling_abandon_rate``: at each whole minute of the shift, abandoned over live among
  the calls answered so far (the window, 24 hours, is longer than the shift), once 100 live
  calls are in; the largest;
- talk and wrap-up: each bridged call's, from the record, within the shift; occupancy over
  agents x shift;
- ``mean_agent_wait_seconds``: the agents' ready seconds per bridged call.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dialer.domain.attempt import AttemptResult
from dialer.domain.codes import Outcome, Stage

ROLLING_FROM = 100  # live calls before the rolling rate is taken (the words)


@dataclass(frozen=True, slots=True)
class Shift:
    agents: int
    hours: float
    start: datetime
    pacing: str
    seed: int
    person_rate: float


def shift_figures(
    shift: Shift, results: Iterable[AttemptResult], ready_seconds: float
) -> dict[str, Any]:
    placed = 0
    answers: list[tuple[datetime, bool]] = []  # live calls: answered at, abandoned
    talk = wrap_up = 0.0
    to_agent: list[float] = []
    for result in results:
        if result.originated_at is not None:
            placed += 1
        agent = result.agent
        if result.outcome is not Outcome.ANSWERED or agent is None:
            continue
        if result.answered_at is not None:
            answers.append((result.answered_at, result.stage is Stage.CALL_DROPPED))
        if agent.bridged_at is None:
            continue
        talk += _within(shift, agent.bridged_at, agent.talk_ended_at)
        wrap_up += _within(shift, agent.talk_ended_at, agent.wrap_up_ended_at)
        if result.answered_at is not None:
            to_agent.append(max(0.0, (agent.bridged_at - result.answered_at).total_seconds()))
    seconds = shift.hours * 3600
    agent_seconds = shift.agents * seconds
    agent_hours = agent_seconds / 3600
    live = len(answers)
    abandoned = sum(1 for _, dropped in answers if dropped)
    bridged = len(to_agent)
    return {
        "agents": shift.agents,
        "hours": shift.hours,
        "pacing": shift.pacing,
        "seed": shift.seed,
        "person_rate": shift.person_rate,
        "talk_minutes_per_agent_hour": _round(talk / 60 / agent_hours if agent_hours else 0.0),
        "occupancy": _round((talk + wrap_up) / agent_seconds if agent_seconds else 0.0, 4),
        "abandon_rate": _round(100 * abandoned / live if live else 0.0, 3),
        "max_rolling_abandon_rate": _round(max_rolling(answers, shift), 3),
        "placed_per_agent_hour": _round(placed / agent_hours if agent_hours else 0.0),
        "live_answered": live,
        "abandoned": abandoned,
        "placed": placed,
        "bridged": bridged,
        "mean_agent_wait_seconds": _round(ready_seconds / bridged if bridged else 0.0),
        "answer_to_agent_p95_seconds": _round(_p95(to_agent), 3),
    }


def max_rolling(answers: list[tuple[datetime, bool]], shift: Shift) -> float:
    """The largest rate (percent) at a whole minute of the shift once ROLLING_FROM live calls
    are in; 0 if never."""
    ordered = sorted(answers)
    worst = 0.0
    live = abandoned = i = 0
    minutes = math.ceil(shift.hours * 60)
    for minute in range(1, minutes + 1):
        at = shift.start + timedelta(minutes=minute)
        while i < len(ordered) and ordered[i][0] <= at:
            live += 1
            abandoned += ordered[i][1]
            i += 1
        if live >= ROLLING_FROM:
            worst = max(worst, 100 * abandoned / live)
    return worst


def _within(shift: Shift, start: datetime | None, end: datetime | None) -> float:
    """Seconds of [start, end] inside the shift (agents stay a little after its end for the
    calls dialled before it; that time is not the shift's)."""
    if start is None or end is None:
        return 0.0
    close = shift.start + timedelta(hours=shift.hours)
    return max(0.0, (min(end, close) - max(start, shift.start)).total_seconds())


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.95 * len(ordered))) - 1]


def _round(value: float, places: int = 2) -> float:
    return round(value, places)

"""A simulated agent shift (``dialer simulate --agents``) on a real SQLite file: the same seed
gives the same shift, the figures are sensible, and no agent ever has two customers at once."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from dialer import simulation
from dialer.agent_figures import AgentFigures
from dialer.domain.agent_session import DISPOSITIONS, LOGGED_OUT, AgentState
from dialer.domain.events import AgentStateChanged, CustomerBridged, Recording
from dialer.settings import EngineSettings, NetworkSettings
from dialer.sim_agents import BREAK
from dialer.telephony.sim_profile import default_document

AGENTS = 3
NUMBERS = 40
AgentEvent = AgentStateChanged | CustomerBridged
DISPOSITION_STAGES = sorted(DISPOSITIONS, key=lambda s: s.value)


@dataclass(frozen=True)
class Shift:
    figures: AgentFigures
    events: list[AgentEvent]
    done: int


def shift(tmp_path: Path, seed: int, name: str) -> Shift:
    network = NetworkSettings(kind="sim", speed=None, seed=seed)
    sim = simulation.prepare(
        tmp_path / f"{name}.db", NUMBERS, network, EngineSettings(), agents=AGENTS, shift_hours=2
    )
    recording = Recording()
    sim.container.events.subscribe(recording)
    try:
        simulation.execute(sim, lambda stats: None)
    finally:
        sim.container.close()
    assert sim.figures is not None
    events: list[AgentEvent] = [
        e for e in recording.events if isinstance(e, AgentStateChanged | CustomerBridged)
    ]
    return Shift(sim.figures, events, sim.runtime.engine.stats.done)


def summary(figures: AgentFigures) -> tuple[object, ...]:
    return (
        sorted(
            (t.member, t.calls, round(t.talk, 6), round(t.logged_in, 6), tuple(t.waits))
            for t in figures.agents.values()
        ),
        figures.to_agent,
        figures.abandoned,
    )


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Shift:
    return shift(tmp_path_factory.mktemp("shift"), 5, "first")


def test_a_seed_gives_the_same_shift_and_its_figures_are_sensible(
    first: Shift, tmp_path: Path
) -> None:
    again = shift(tmp_path, 5, "again")
    assert summary(first.figures) == summary(again.figures)
    assert [(type(e), *_fields(e)) for e in first.events] == [
        (type(e), *_fields(e)) for e in again.events
    ]
    assert summary(shift(tmp_path, 6, "other").figures) != summary(first.figures)

    figures = first.figures
    assert first.done == NUMBERS
    assert len(figures.agents) == AGENTS
    for tally in figures.agents.values():
        assert tally.calls > 0
        assert tally.occupancy is not None
        assert 0 < tally.occupancy <= 1
        assert tally.talk_minutes_per_hour is not None
        assert 0 < tally.talk_minutes_per_hour < 60
    team = figures.team()
    assert team.calls == len(figures.to_agent) == sum(t.calls for t in figures.agents.values())
    assert all(wait >= 0 for wait in figures.to_agent)


def test_no_agent_is_given_two_customers_at_once(first: Shift) -> None:
    events = first.events
    state: dict[int, str] = {}
    bridged: dict[int, int] = {}
    talking: dict[int, int] = {}
    for event in events:
        if isinstance(event, AgentStateChanged):
            before = state.get(event.agent_id)
            if event.state == AgentState.RESERVED.value:
                assert before == AgentState.READY.value, (event, before)
            if event.state == AgentState.TALKING.value:
                assert before == AgentState.RESERVED.value, (event, before)
                talking[event.agent_id] = talking.get(event.agent_id, 0) + 1
            state[event.agent_id] = event.state
        else:
            # A bridge is announced while its agent is in the call it was reserved for.
            assert state.get(event.agent_id) in (
                AgentState.RESERVED.value,
                AgentState.TALKING.value,
            ), event
            bridged[event.agent_id] = bridged.get(event.agent_id, 0) + 1
    assert bridged
    assert bridged == talking


def _fields(event: AgentEvent) -> tuple[object, ...]:
    if isinstance(event, AgentStateChanged):
        return (event.member, event.state, event.at, event.reason, event.destination_id)
    return (event.destination_id, event.agent_id, event.wait)


def test_agents_take_breaks_dispose_of_their_calls_and_log_out_at_the_shifts_end(
    tmp_path: Path,
) -> None:
    document = default_document()
    document["agents"] |= {
        "pauses_per_hour": 4,
        "pause_seconds": {"median": 90, "sigma": 0, "min": 90, "max": 90},
        "wrap_up_seconds": {"median": 5, "sigma": 0, "min": 5, "max": 5},
    }
    profile = tmp_path / "breaks.yaml"
    profile.write_text(yaml.safe_dump(document))
    network = NetworkSettings(kind="sim", speed=None, seed=3, profile=profile)
    sim = simulation.prepare(
        tmp_path / "breaks.db", NUMBERS, network, EngineSettings(), agents=2, shift_hours=1
    )
    recording = Recording()
    sim.container.events.subscribe(recording)
    try:
        simulation.execute(sim, lambda stats: None)
    finally:
        sim.container.close()
    changes = recording.of(AgentStateChanged)
    assert sim.shift_end is not None
    shift_end = sim.shift_end
    breaks = 0
    for agent_id in {c.agent_id for c in changes}:
        mine = [c for c in changes if c.agent_id == agent_id]
        for before, change, after in zip(mine, mine[1:], mine[2:], strict=False):
            if after.state == AgentState.OFFLINE.value:
                continue  # the shift's end: checked below
            if change.state == AgentState.PAUSED.value and change.reason == BREAK:
                breaks += 1
                # A break never cuts a call: it starts from ready or at the end of a wrap-up.
                assert before.state in (AgentState.READY.value, AgentState.WRAP_UP.value)
                assert after.state == AgentState.READY.value
                assert after.at - change.at == timedelta(seconds=90)
            if change.state == AgentState.WRAP_UP.value:
                # The agent says ready 5 s into wrap-up (the campaign allows 15).
                assert before.state == AgentState.TALKING.value
                assert after.at - change.at == timedelta(seconds=5)
        # At the shift's end the agent logs out, once the call in hand is over.
        assert mine[-1].state == AgentState.OFFLINE.value
        assert mine[-1].reason == LOGGED_OUT
        assert mine[-1].at >= shift_end
        assert mine[-2].state != AgentState.TALKING.value
    assert breaks >= 2
    stages = sim.runtime.engine.stats.stages
    bridged = len(recording.of(CustomerBridged))
    assert sum(stages[s] for s in DISPOSITION_STAGES) == bridged

"""The agent hangs the customer up from the desk: the release belongs to the call, so one asked
between the session turning TALKING and the bridge beginning is not lost, and one asked for an
earlier customer ends no later one (docs/agents-sip.md, "The bridge").

The engine runs with the simulated network's own agent legs (``sim:`` phones), on the
discrete-event clock. The ordering is driven, not timed: a hook on the floor's writes does the
desk's hang-up as soon as the session is TALKING for the customer and has the floor read it
before the engine goes on to ``bridge()``.
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dialer.domain import agent_session as agents
from dialer.domain.agent_session import AgentSession, AgentState
from dialer.domain.attempt import FinishedAttempt
from dialer.engine.agent_floor import AgentFloor
from dialer.engine.agent_writes import Decide
from dialer.engine.scheduler import Engine
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings
from dialer.telephony.sim_network import SimulatedNetwork
from dialer.telephony.sms import SimulatedSmsGateway
from tests.unit.agent_floor_support import Agent, AgentRig, people


def sim_engine(rig: AgentRig) -> Engine:
    """An engine whose agents' phones are the simulated network's (sim: legs), recording into
    ``rig.records`` as the rig's own engines do."""
    network = SimulatedNetwork(rig.profile, rig.timer, seed=7)
    engine = Engine(
        rig.container.store,
        network,
        SimulatedSmsGateway(rig.timer, rig.container.events),
        rig.timer,
        EngineSettings(),
        CalleeZones(),
        worker="w1",
        events=rig.container.events,
        phones=network,
    )
    count = engine._recorder.count

    def spy(finished: list[FinishedAttempt], *, recovered: bool = False) -> None:
        rig.records.extend(f.record for f in finished)
        count(finished, recovered=recovered)

    engine._recorder.count = spy  # type: ignore[method-assign]
    rig.engines.append(engine)
    return engine


def log_in_on_sim(rig: AgentRig, agent: Agent) -> None:
    with rig.container.store.write() as session:
        opened = session.agent_sessions.open_session(
            rig.account.tenant.id, agent.id, f"sim:{agent.member}", rig.timer.now()
        )
        assert opened is not None


def on_talking(floor: AgentFloor, act: Callable[[AgentSession], None]) -> list[AgentSession]:
    """Call ``act`` (then let the floor read the store) each time one of the floor's own writes
    turns a session TALKING: after that write, before the engine bridges. The sessions seen."""
    change = floor.change
    seen: list[AgentSession] = []

    async def hooked(session_id: int, decide: Decide) -> AgentSession | None:
        after = await change(session_id, decide)
        if after is not None and after.state is AgentState.TALKING:
            seen.append(after)
            act(after)
            await floor.poll()  # the floor notices the desk's change before the bridge
        return after

    floor.change = hooked  # type: ignore[method-assign]
    return seen


def hang_up(session: AgentSession, now: datetime) -> AgentSession:
    return agents.hang_up_customer(session)


def test_a_desk_hang_up_before_the_bridge_begins_releases_the_customer(tmp_path: Path) -> None:
    rig = AgentRig(tmp_path)
    ann = Agent("1001")
    number = people(1)[0]
    rig.campaign([number], [ann])
    log_in_on_sim(rig, ann)
    engine = sim_engine(rig)
    seen = on_talking(engine.floor, lambda session: rig.desk(ann, hang_up, kick=False))
    rig.run(engine)
    assert len(seen) == 1
    record = rig.record_of(number)
    assert record.stage.name == "CALL_TRANSFERRED_TO_CALL_CENTRE"
    assert record.agent is not None
    # Released at once: the engine hung the customer up, who did not talk on to the end.
    assert record.agent.talk_seconds == 0.0
    assert record.cause == "normal clearing"


def test_a_release_for_the_last_customer_never_ends_the_next(tmp_path: Path) -> None:
    """The first customer is hung up from the desk before their bridge begins; the second,
    bridged to the same agent's leg, talks on until they leave."""
    rig = AgentRig(tmp_path)
    ann = Agent("1001")
    first, second = people(2)
    rig.campaign([first, second], [ann])
    log_in_on_sim(rig, ann)
    engine = sim_engine(rig)

    def hang_up_the_first(session: AgentSession) -> None:
        assert session.customer is not None
        if session.customer.number == first:
            rig.desk(ann, hang_up, kick=False)

    seen = on_talking(engine.floor, hang_up_the_first)
    rig.run(engine)
    assert [s.customer.number for s in seen if s.customer] == [first, second]
    one, two = rig.record_of(first), rig.record_of(second)
    assert one.agent is not None
    assert two.agent is not None
    assert (one.agent.talk_seconds, one.cause) == (0.0, "normal clearing")
    assert two.agent.talk_seconds is not None
    assert two.agent.talk_seconds > 0
    assert two.cause != "normal clearing", "the second customer hung up, not the engine"

"""An agent campaign end to end on a real SQLite file and a real PostgreSQL: agents and
members through the Dialer API, sessions in the store, the simulated network's customers and
agents' sim: phones, the engine on a discrete-event clock (dialer.sim_clock)."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dialer.bootstrap import Container, build
from dialer.domain.agent_session import PHONE_CONNECTING, AgentState
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AgentStateChanged, CustomerBridged, Recording
from dialer.engine.scheduler import Engine
from dialer.services.dialer_input import Params
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings, Settings
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.sim_network import SimulatedNetwork
from dialer.telephony.sim_profile import SimProfile
from dialer.telephony.sms import SimulatedSmsGateway
from tests.conftest import Account

START = datetime(2025, 10, 1, 8, 59, tzinfo=UTC)  # 09:59 in London; the window opens at 10:00


@pytest.fixture
def timer() -> LoopTimer:
    return LoopTimer(VirtualTimeLoop(), START)


@pytest.fixture
def agent_container(database_url: str, timer: LoopTimer) -> Iterator[Container]:
    container = build(Settings(database_url=database_url), clock=timer)
    yield container
    container.close()


def test_an_agent_campaign_runs_end_to_end(agent_container: Container, timer: LoopTimer) -> None:
    container = agent_container
    account = Account(container, "Acme")
    events = Recording()
    container.events.subscribe(events)
    numbers = [f"+4477009{n:05d}" for n in range(100, 115)]
    body = account.campaign(
        type="agent",
        startDate="2025-10-01",
        startTime="10:00",
        finishTime="11:00",
        runoverDays=[],
        attempts=[{"interval": 15, "attemptNumber": 1}],
        phoneNumbers=[{"number": n} for n in numbers],
    )
    campaign = container.campaigns.create(account.tenant, body).campaign
    members = ["1001", "1002", "1003"]
    agents = [container.catalog.add_agent(account.tenant, m, f"Agent {m}") for m in members]
    added = container.dialer.change_members(
        Params({"Code": account.key, "Campaign": campaign.code, "Member": ",".join(members)}),
        add=True,
    )
    assert added == 3
    with container.store.write() as session:
        for agent in agents:
            phone = f"sim:agent-{agent.member}"
            opened = session.agent_sessions.open_session(account.tenant.id, agent.id, phone, START)
            assert opened is not None
    network = SimulatedNetwork(SimProfile.default(), timer, seed=11)
    engine = Engine(
        container.store,
        network,
        SimulatedSmsGateway(timer, container.events),
        timer,
        EngineSettings(poll_seconds=5.0),  # on this clock: how often an idle engine looks
        CalleeZones(),
        worker="w1",
        events=container.events,
        phones=network,
    )
    timer.run(engine.run_until_done())

    rows = [r for n in numbers for r in _results(container, account, campaign.id) if r.number == n]
    assert len({r.number for r in rows}) == len(numbers)
    answered = [r for r in rows if r.outcome is Outcome.ANSWERED]
    stages = Counter(r.stage for r in answered)
    assert stages[Stage.CALL_TRANSFERRED_TO_CALL_CENTRE] > 0
    assert set(stages) <= {
        Stage.CALL_TRANSFERRED_TO_CALL_CENTRE,
        Stage.CALL_DROPPED,
        Stage.CALL_CENTER_HUNG_UP,
    }
    bridged = events.of(CustomerBridged)
    assert len(bridged) == stages[Stage.CALL_TRANSFERRED_TO_CALL_CENTRE]
    assert {b.agent_id for b in bridged} == {a.id for a in agents}
    # Every change was stored, in the order published; the engine let the sessions go at the
    # end, for the next engine to call the agents' phones again.
    with container.store.read() as session:
        for agent in agents:
            stored = session.agent_sessions.state_changes(account.tenant.id, agent_id=agent.id)
            published = [e for e in events.of(AgentStateChanged) if e.agent_id == agent.id]
            assert [c.state.value for c in stored[1:]] == [e.state for e in published]
            assert {AgentState.TALKING, AgentState.WRAP_UP} <= {c.state for c in stored}
            last = session.agent_sessions.open_session_of(account.tenant.id, agent.id)
            assert last is not None
            assert (last.state, last.reason, last.worker) == (
                AgentState.PAUSED,
                PHONE_CONNECTING,
                None,
            )


def _results(container: Container, account: Account, campaign_id: int) -> list[Any]:
    rows: list[Any] = []
    after = None
    while True:
        page = container.results.page(account.tenant, campaign_id, after, 1000)
        rows.extend(page.results)
        if page.next_after is None:
            return rows
        after = page.next_after

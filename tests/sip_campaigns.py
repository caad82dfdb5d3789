"""Agent campaigns run by the engine over SIP, for the SIP tests: a GB tenant (the UK rules, its
information message) with an agent campaign and its agents, their sessions opened on SIPp desk
phones, and an engine on the memory store dialling a SIPp trunk on 127.0.0.1.

Shared by tests/acceptance/test_sip_abandoned_calls.py, test_sip_pacing_modes.py and
tests/integration/test_sip_agent_campaign.py. The store is not what those tests test (the agent
campaign's store tests run on SQLite and PostgreSQL elsewhere), so it is the memory store.
"""

import asyncio
import contextlib
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialer.bootstrap import Container, build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.agent import AgentOptions
from dialer.domain.campaign import Campaign
from dialer.domain.tenant import Tenant
from dialer.engine.scheduler import Engine
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings, NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.telephony.sms import SimulatedSmsGateway
from tests.conftest import INFO_MESSAGE

FLOW = "message: 'Hello {Name}.'\nsms: 'Hi {Name}.'\n"


@dataclass(frozen=True)
class AgentCampaign:
    tenant: Tenant
    key: str  # the tenant's API key
    campaign: Campaign  # as created, before its agent options were set
    agent_ids: list[int]


def agent_campaign(
    container: Container,
    name: str,
    numbers: Sequence[str],
    options: AgentOptions,
    agents: Sequence[tuple[str, str]],
) -> AgentCampaign:
    """A GB tenant's agent campaign dialling ``numbers`` (each named Pat) all day today and
    tomorrow, with ``options`` and ``agents`` ((code, name) each) as its members."""
    tenant, key = container.tenants.create(
        "Acme",
        "GB",
        "Europe/London",
        calling_hours="00:00-23:59",
        compliance={"message": {"text": INFO_MESSAGE}},
    )
    flow = container.catalog.add_callflow(tenant, "Agents", FLOW)
    cli = container.catalog.add_cli(tenant, "+44 1632 960000")
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    whole_day = {"startTime": "00:00", "finishTime": "23:59"}
    body = {
        "name": name,
        "type": "agent",
        "startDate": today.isoformat(),
        **whole_day,
        "runoverDays": [{"date": (today + timedelta(days=1)).isoformat(), **whole_day}],
        "callflow_Id": flow.id,
        "cli_Id": cli.id,
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "phoneNumbers": [{"number": number, "name": "Pat"} for number in numbers],
    }
    campaign = container.campaigns.create(tenant, body).campaign
    now = datetime.now(UTC)
    with container.store.write() as session:
        session.campaigns.update_campaign(campaign.id, replace(campaign.spec, agent=options), now)
        ids = [session.agents.add_agent(tenant.id, code, who, now).id for code, who in agents]
        session.agents.add_members(campaign.id, ids, now)
    return AgentCampaign(tenant, key, campaign, ids)


def log_in(container: Container, tenant_id: int, phones: dict[int, str], now: datetime) -> None:
    """Open each agent's session on its phone ({agent id: phone URI}), as the desk's log-in
    does; the engine adopts them and calls the phones."""
    with container.store.write() as session:
        for agent_id, phone in phones.items():
            assert session.agent_sessions.open_session(tenant_id, agent_id, phone, now)


def sip_engine(
    container: Container, timer: RealTimer, host: str, port: int
) -> tuple[SipNetwork, Engine]:
    """An engine (worker w1) dialling the trunk at ``host:port`` and calling agents' phones on
    the same SIP network."""
    trunk = SipSettings(
        host=host,
        port=port,
        local_address="127.0.0.1",
        min_ring_seconds=1.0,
        provisional_timeout_seconds=2.0,
    )
    network = build_sip_network(NetworkSettings(kind="sip", sip=trunk), timer, container.events)
    engine = Engine(
        container.store,
        network,
        SimulatedSmsGateway(timer, container.events),
        timer,
        EngineSettings(),
        CalleeZones(),
        worker="w1",
        events=container.events,
        phones=network,
    )
    return network, engine


def run_on_sip(
    network: SipNetwork, main: Coroutine[Any, Any, None], within: float | None = None
) -> None:
    """Run ``main`` on a loop of its own, then close the SIP network whatever happened (one
    baresip Runtime per process at a time: the next test starts its own). ``within``: fail
    (with what was still running) if it takes longer than that many seconds."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_within(main, within))
    finally:
        loop.run_until_complete(network.close())
        loop.close()


async def _within(main: Coroutine[Any, Any, None], seconds: float | None) -> None:
    task = asyncio.ensure_future(main)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        # What the engine was still doing, for the failure's message (before it is cancelled).
        others = [t for t in asyncio.all_tasks() if t not in (task, asyncio.current_task())]
        running = Counter(getattr(t.get_coro(), "__qualname__", "?") for t in others)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        listed = ", ".join(f"{name} x{n}" for name, n in running.most_common(15))
        raise AssertionError(
            f"not done within {seconds:g} s (a bound, not a timing claim); running: {listed}"
        )
    await task

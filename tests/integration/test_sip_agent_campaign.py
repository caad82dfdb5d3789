"""An agent campaign run by the engine over SIP, end to end on 127.0.0.1: the agent's desk phone
is a SIPp phone dialled by URI, the customer is the SIPp carrier's "Hello?" number, and the
engine calls the agent at log-in, detects a person (or, bridging on answer, detects nothing),
bridges them, and records the call with its agent once the customer has hung up and the wrap-up
is over (docs/agents.md, agents-sip.md).

The engine runs in this process on the project's memory store (the store is not what is under
test here; the agent campaign's store tests run on SQLite and PostgreSQL elsewhere).
"""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.bootstrap import MEMORY_URL, build, build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.agent import AgentOptions
from dialer.domain.agent_session import AgentState
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Stage
from dialer.domain.events import AgentHearsCustomer, AnswerDetected, Recording
from dialer.engine.scheduler import Engine
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings, NetworkSettings, Settings, SipSettings
from dialer.telephony.sip_agent import TONE_HZ
from dialer.telephony.sms import SimulatedSmsGateway
from dialer.testing.sipp import Number, SippCarrier
from dialer.testing.sipp_phone import PhoneCall, RtpListener, SippPhone


@pytest.mark.parametrize("on_answer", [False, True], ids=["after-detection", "bridge-on-answer"])
def test_an_agent_campaign_bridges_a_person_to_the_agents_phone_over_sip(on_answer: bool) -> None:
    timer = RealTimer()
    container = build(Settings(database_url=MEMORY_URL), clock=timer)
    tenant, _ = container.tenants.create("Acme", "GB", "Europe/London", calling_hours="00:00-23:59")
    flow = container.catalog.add_callflow(
        tenant, "Agents", "message: 'Hello {Name}.'\nsms: 'Hi {Name}.'\n"
    )
    cli = container.catalog.add_cli(tenant, "+44 1632 960000")
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()
    body = {
        "name": "Agents over SIP",
        "type": "agent",
        "startDate": today.isoformat(),
        "startTime": "00:00",
        "finishTime": "23:59",
        "runoverDays": [
            {
                "date": (today + timedelta(days=1)).isoformat(),
                "startTime": "00:00",
                "finishTime": "23:59",
            }
        ],
        "callflow_Id": flow.id,
        "cli_Id": cli.id,
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "phoneNumbers": [{"number": str(Number.HUMAN_HANGS_UP), "name": "Pat"}],
    }
    campaign = container.campaigns.create(tenant, body).campaign
    events = Recording()
    container.events.subscribe(events)
    records: list[AttemptRecord] = []
    loop = asyncio.new_event_loop()
    # The customer says "Hello?", is judged a person, and hangs up 6 s after answering.
    with (
        SippCarrier(hang_up_after_seconds=6) as carrier,
        SippPhone() as desk_phones,
        RtpListener() as agent_hears,
    ):
        phone = desk_phones.uri(PhoneCall(tone=1200, rtp_port=agent_hears.port))
        now = timer.now()
        with container.store.write() as session:
            options = AgentOptions(wrap_up=timedelta(seconds=1), bridge_on_answer=on_answer)
            session.campaigns.update_campaign(
                campaign.id, replace(campaign.spec, agent=options), now
            )
            agent_id = session.agents.add_agent(tenant.id, "1001", "Ann", now).id
            session.agents.add_members(campaign.id, [agent_id], now)
            assert session.agent_sessions.open_session(tenant.id, agent_id, phone, now)
        trunk = SipSettings(
            host=carrier.host,
            port=carrier.port,
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
        count = engine._recorder.count

        def spy(finished: list[FinishedAttempt], *, recovered: bool = False) -> None:
            records.extend(f.record for f in finished)
            count(finished, recovered=recovered)

        engine._recorder.count = spy  # type: ignore[method-assign]
        try:
            loop.run_until_complete(asyncio.wait_for(engine.run_until_done(), 60))
        finally:
            loop.run_until_complete(network.close())
            loop.close()
        assert carrier.stats().failed == 0
    (record,) = records
    assert record.stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    assert record.agent is not None
    assert (record.agent.agent_id, record.agent.member) == (agent_id, "1001")
    assert record.agent.bridged_at is not None
    assert record.agent.talk_ended_at is not None
    # The agent's phone heard the bridge tone, and the driver handed it the customer's audio.
    assert agent_hears.first_heard(int(TONE_HZ), 0.5, 0.05) is not None
    assert len(events.of(AgentHearsCustomer)) == 1
    # Bridged on answer, no detector ran: the agent heard the greeting instead.
    assert len(events.of(AnswerDetected)) == (0 if on_answer else 1)
    with container.store.read() as session:
        changes = session.agent_sessions.state_changes(tenant.id, agent_id=agent_id)
    states = [c.state for c in changes]
    talked = [AgentState.READY, AgentState.RESERVED, AgentState.TALKING, AgentState.WRAP_UP]
    assert states[1:5] == talked, states

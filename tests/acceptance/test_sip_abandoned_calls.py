"""Issue 13's SIP acceptance test: people who answer when no agent is free hear the information
message within 2 s of the answer, measured on the carrier's side, and are CallDropped (20).

An agent campaign under the UK rules (the tenant's default for GB) runs over SIP on 127.0.0.1:
three agents' desk phones (SIPp phones dialled by URI, as test_sip_agent_campaign.py does) and
the SIPp carrier as the trunk, where four people answer (number 121: "Hello?", then they hang up
10 s later) after ringing 3 s. Pacing is progressive, so the engine dials one line per ready
agent: three at once. While they ring, two agents take a break (as at the desk), so of the three
people who answer only one finds an agent; the two others are abandoned calls. The first agent
takes the fourth person once free.

The carrier's answers tell the dialer to send its audio to an RtpListener of the test's, and the
carrier logs when each 200 OK left and which port the call's RTP comes from: from those, the time
from the 200 OK to the first packet with sound, per call. The engine runs in this process on the
memory store; the results are read through the REST API, as a customer would.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import MEMORY_URL, Container, build
from dialer.clocks import RealTimer
from dialer.domain import agent_session as agents
from dialer.domain.agent import AgentOptions, Pacing, PacingMode
from dialer.domain.events import AttemptStarted, CallAbandoned, Recording
from dialer.settings import Settings
from dialer.testing.sipp import SippAnswer, SippCarrier
from dialer.testing.sipp_phone import PhoneCall, RtpListener, SippPhone
from tests.sip_campaigns import agent_campaign, log_in, run_on_sip, sip_engine

# The carrier's person who hangs up (121), at four of Ofcom's drama numbers: its number plan
# reads only the last three digits.
PEOPLE = ["+447700900121", "+441614960121", "+442079460121", "+441134960121"]
AGENTS = ["1001", "1002", "1003"]
RING_SECONDS = 3.0
CONNECT_WITHIN = 2.0  # the UK rule: the message starts within 2 s of the answer


def make_campaign(container: Container) -> tuple[str, int, int, list[int]]:
    """(API key, tenant id, campaign id, agent ids) of a GB tenant's agent campaign."""
    options = AgentOptions(
        wrap_up=timedelta(seconds=1),
        bridge_on_answer=True,  # the 2 s are all the agents' (docs/compliance-engine.md)
        pacing=Pacing(PacingMode.PROGRESSIVE),
    )
    made = agent_campaign(
        container, "Abandoned calls over SIP", PEOPLE, options, [(a, a) for a in AGENTS]
    )
    return made.key, made.tenant.id, made.campaign.id, made.agent_ids


def desk(container: Container, tenant_id: int, agent_id: int, act: Callable[..., Any]) -> None:
    """What the desk API does for an agent: read the session, decide, compare-and-set."""
    with container.store.write() as session:
        repo = session.agent_sessions
        current = repo.open_session_of(tenant_id, agent_id)
        assert current is not None
        decided = act(current, datetime.now(UTC))
        after, change = decided if isinstance(decided, tuple) else (decided, None)
        assert repo.save_session(after, change, current.version)


def test_people_answered_with_no_agent_free_hear_the_message_within_2_s_and_are_dropped() -> None:
    timer = RealTimer()
    container = build(Settings(database_url=MEMORY_URL), clock=timer)
    key, tenant_id, campaign_id, agent_ids = make_campaign(container)
    events = Recording()
    container.events.subscribe(events)
    with (
        RtpListener() as heard,
        SippCarrier(
            ring_seconds=RING_SECONDS, hang_up_after_seconds=10, answer_audio_port=heard.port
        ) as carrier,
        SippPhone() as desk_phones,
    ):
        phones = {agent_id: desk_phones.uri(PhoneCall(tone=0)) for agent_id in agent_ids}
        log_in(container, tenant_id, phones, timer.now())
        network, engine = sip_engine(container, timer, carrier.host, carrier.port)

        async def two_agents_take_a_break_while_the_first_calls_ring() -> None:
            while len(events.of(AttemptStarted)) < len(AGENTS):
                await asyncio.sleep(0.05)
            for agent_id in agent_ids[1:]:
                desk(container, tenant_id, agent_id, lambda s, at: agents.pause(s, "break", at))
            engine.floor.kick()

        async def main() -> None:
            breaks = asyncio.ensure_future(two_agents_take_a_break_while_the_first_calls_ring())
            await engine.run_until_done()
            await breaks

        run_on_sip(network, main(), within=90)
        assert carrier.stats().failed == 0, carrier.errors()
        answers: dict[str, SippAnswer] = {answer.callee: answer for answer in carrier.answers()}
        first_sound = {
            callee: heard.first_sound_from(answer.dialer_rtp_port)
            for callee, answer in answers.items()
            if answer.dialer_rtp_port is not None
        }

    client = TestClient(container.app(), raise_server_exceptions=False)
    response = client.get(
        f"/api/campaign/voice/{campaign_id}/results", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    rows = response.json()["results"]
    assert sorted(row["number"] for row in rows) == sorted(PEOPLE)
    assert set(answers) == set(PEOPLE), "every person answered"
    dropped = [row for row in rows if row["stageName"] == "CallDropped"]
    bridged = [row for row in rows if row["stageName"] == "CallTransferredToCallCentre"]
    # Three people answered at once and one agent was free; the fourth came once it was again.
    assert len(dropped) == 2, rows
    assert len(bridged) == 2, rows
    for row in dropped:
        assert row["stage"] == 20
        assert row["outcomeName"] == "Answered"
        assert row["agent"] is None
        assert row["timeToAgentSeconds"] is None
        # Measured on the carrier's side: from its 200 OK to the first audio with sound.
        answered, sound = answers[row["number"]].at, first_sound[row["number"]]
        assert sound is not None, f"{row['number']} heard nothing"
        assert 0 < sound - answered <= CONNECT_WITHIN, (row["number"], sound - answered)
    for row in bridged:
        assert row["agent"] == "1001", "the agent who stayed took both"
    assert len(events.of(CallAbandoned)) == 2

"""An agent campaign run by the engine over SIP, end to end on 127.0.0.1: the agent's desk phone
is a SIPp phone dialled by URI, the customer one of the SIPp carrier's "Hello?" numbers, and the
engine calls the agent at log-in, detects a person (or, bridging on answer, detects nothing),
bridges them, and records the call with its agent once it is over (docs/agents.md,
agents-sip.md).

The engine runs in this process on the project's memory store (the store is not what is under
test here; the agent campaign's store tests run on SQLite and PostgreSQL elsewhere). Each test
starts and stops its own SIP stack (one baresip Runtime per process at a time).
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from dialer.bootstrap import MEMORY_URL, build
from dialer.clocks import RealTimer
from dialer.domain.agent import AgentOptions
from dialer.domain.agent_session import AgentState
from dialer.domain.attempt import AgentCall, AttemptRecord, FinishedAttempt
from dialer.domain.codes import Stage
from dialer.domain.events import AgentHearsCustomer, AnswerDetected, Recording
from dialer.settings import Settings
from dialer.telephony.sip_agent import TONE_HZ
from dialer.testing.sipp import Number, SippCarrier
from dialer.testing.sipp_phone import PhoneCall, RtpListener, SippPhone
from tests.sip_campaigns import agent_campaign, log_in, run_on_sip, sip_engine


@dataclass
class Run:
    record: AttemptRecord
    agent: AgentCall
    agent_id: int
    states: list[AgentState]
    events: Recording
    heard_tone: bool


def run_campaign(
    customer: Number, agent_hangs_up_after: int, options: AgentOptions, hang_up_after: float = 6
) -> Run:
    """One customer, one agent (logged in before the engine starts), run to the end."""
    timer = RealTimer()
    container = build(Settings(database_url=MEMORY_URL), clock=timer)
    made = agent_campaign(container, "Agents over SIP", [str(customer)], options, [("1001", "Ann")])
    (agent_id,) = made.agent_ids
    events = Recording()
    container.events.subscribe(events)
    records: list[AttemptRecord] = []
    with (
        SippCarrier(hang_up_after_seconds=hang_up_after) as carrier,
        SippPhone() as desk_phones,
        RtpListener() as agent_hears,
    ):
        desk = PhoneCall(tone=1200, rtp_port=agent_hears.port, hang_up_after=agent_hangs_up_after)
        log_in(container, made.tenant.id, {agent_id: desk_phones.uri(desk)}, timer.now())
        network, engine = sip_engine(container, timer, carrier.host, carrier.port)
        count = engine._recorder.count

        def spy(finished: list[FinishedAttempt], *, recovered: bool = False) -> None:
            records.extend(f.record for f in finished)
            count(finished, recovered=recovered)

        engine._recorder.count = spy  # type: ignore[method-assign]
        run_on_sip(network, engine.run_until_done(), within=60)
        assert carrier.stats().failed == 0
    with container.store.read() as session:
        changes = session.agent_sessions.state_changes(made.tenant.id, agent_id=agent_id)
    (record,) = records
    assert record.agent is not None
    heard_tone = agent_hears.first_heard(int(TONE_HZ), 0.5, 0.05) is not None
    return Run(record, record.agent, agent_id, [c.state for c in changes], events, heard_tone)


@pytest.mark.parametrize("on_answer", [False, True], ids=["after-detection", "bridge-on-answer"])
def test_an_agent_campaign_bridges_a_person_to_the_agents_phone_over_sip(on_answer: bool) -> None:
    # The customer says "Hello?", is judged a person (or not judged), hangs up 6 s after answering.
    options = AgentOptions(wrap_up=timedelta(seconds=1), bridge_on_answer=on_answer)
    run = run_campaign(Number.HUMAN_HANGS_UP, 0, options)
    assert run.record.stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    assert (run.agent.agent_id, run.agent.member) == (run.agent_id, "1001")
    assert run.agent.bridged_at is not None
    assert run.agent.talk_ended_at is not None
    # The agent's phone heard the bridge tone, and the driver handed it the customer's audio.
    assert run.heard_tone
    assert len(run.events.of(AgentHearsCustomer)) == 1
    # Bridged on answer, no detector ran: the agent heard the greeting instead.
    assert len(run.events.of(AnswerDetected)) == (0 if on_answer else 1)
    talked = [AgentState.READY, AgentState.RESERVED, AgentState.TALKING, AgentState.WRAP_UP]
    assert run.states[1:5] == talked, run.states


def test_the_agent_hangs_up_their_phone_mid_call_and_the_customer_is_not_lost() -> None:
    # The agent's phone hangs up 8 s after answering at log-in, while the customer (who stays)
    # is bridged; nobody else is ready, so the customer is told goodbye as the design says.
    options = AgentOptions(wrap_up=timedelta(seconds=1), max_wait=timedelta(seconds=1))
    run = run_campaign(Number.HUMAN, 8, options)
    assert run.record.stage is Stage.CALL_CENTER_HUNG_UP, "they had talked to an agent"
    assert run.agent.bridged_at is not None
    assert run.agent.talk_ended_at is not None
    assert run.heard_tone
    assert run.states[-1] is AgentState.OFFLINE, run.states
    assert AgentState.TALKING in run.states

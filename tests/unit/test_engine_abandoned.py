"""Abandoned calls (docs/agents-engine.md, Abandoned calls): under the UK and US rules a person
who answers when no agent is free hears the information message within 2 s of the answer (or
of the verdict, US) and the call is CallDropped; US: the opt-out key during it puts the number
on the tenant's do-not-call list; regime none keeps the campaign's longest wait. On the memory
store, with scripted agents, on the discrete-event clock (engine clock)."""

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dialer.domain import agent_session as agents
from dialer.domain.abandonment import ComplianceSettings, InfoMessage, Regime
from dialer.domain.agent import AgentOptions
from dialer.domain.agent_session import AgentSession, AgentState, Changed
from dialer.domain.codes import Stage
from dialer.domain.events import (
    AgentStateChanged,
    AttemptStarted,
    CallAbandoned,
    CustomerBridged,
    CustomerQueued,
)
from dialer.telephony.sim_network import SimCall
from tests.unit.agent_floor_support import START, Agent, AgentRig, DeskAct, people

S = timedelta(seconds=1)
OPEN = START + 10 * S  # the campaign's window opens; the first call is dialled then
PRESSES_9 = "+447700900009"  # answers after 3 s (a person), presses 9 at the first prompt


def pause(reason: str) -> DeskAct:
    def act(session: AgentSession, now: datetime) -> Changed:
        return agents.pause(session, reason, now)

    return act


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, datetime]]:
    """What the simulated callees were told, and when (the engine's clock)."""
    heard: list[tuple[str, datetime]] = []
    say = SimCall.say

    async def spy(call: SimCall, text: str, voice: str | None) -> bool:
        heard.append((text, call._timer.now()))
        return await say(call, text, voice)

    monkeypatch.setattr(SimCall, "say", spy)
    return heard


def rig_under(tmp: Path, settings: ComplianceSettings) -> AgentRig:
    return AgentRig(tmp, compliance=settings)


def busy_when_answered(rig: AgentRig, number: str, options: AgentOptions | None = None) -> None:
    """Ann is ready when the call is placed and takes a break while it rings: the person
    who answers 3 s later finds no agent."""
    ann = Agent("1001")
    rig.campaign([number], [ann], options)
    rig.log_in(ann)
    rig.at(11, ann, pause("coffee"))  # the call was placed at 10 s, it answers at 13 s


UK = ComplianceSettings(Regime.UK, message=InfoMessage("This was Acme. Call 0161 496 0000."))


def test_uk_a_person_with_no_agent_hears_the_message_within_2_s_and_is_dropped(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    rig = rig_under(tmp_path, UK)
    number = people(1)[0]
    busy_when_answered(rig, number)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.stage is Stage.CALL_DROPPED
    assert record.answered_at == OPEN + 3 * S
    (abandoned,) = rig.events.of(CallAbandoned)
    assert abandoned.heard
    assert abandoned.message_at - abandoned.answered_at <= 2 * S
    assert said == [("This was Acme. Call 0161 496 0000.", abandoned.message_at)]
    assert record.agent is not None
    assert record.agent.bridged_at is None
    assert record.ended_at is not None
    assert record.ended_at > abandoned.message_at  # the message played to its end first


def test_uk_the_connect_time_counts_from_the_answer_not_a_longer_max_wait(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    rig = rig_under(tmp_path, UK)
    number = people(1)[0]
    busy_when_answered(rig, number, AgentOptions(max_wait=30 * S))
    rig.run(rig.engine("w1"))
    (abandoned,) = rig.events.of(CallAbandoned)
    assert abandoned.message_at - abandoned.answered_at <= 2 * S
    assert rig.record_of(number).stage is Stage.CALL_DROPPED


def test_a_campaign_with_no_message_plays_a_default_naming_the_tenant(
    tmp_path: Path, said: list[tuple[str, datetime]], caplog: pytest.LogCaptureFixture
) -> None:
    rig = rig_under(tmp_path, UK)
    number = people(1)[0]
    busy_when_answered(rig, number)
    # The message is gone once the campaign runs (the services refuse that; a store edited by
    # hand, or a bug, does not).
    with rig.container.store.write() as session:
        session.tenants.set_compliance(rig.account.tenant.id, replace(UK, message=None))
    with caplog.at_level(logging.WARNING, logger="dialer.engine.abandoned"):
        rig.run(rig.engine("w1"))
    ((text, _),) = said
    assert "Acme" in text  # the rig's tenant
    assert "no information message" in caplog.text
    assert rig.record_of(number).stage is Stage.CALL_DROPPED


def test_us_the_opt_out_key_during_the_message_adds_the_number_to_the_dnc_list(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    message = InfoMessage("Acme telemarketing. Call 0161 496 0000. Press 9 to opt out.")
    rig = rig_under(tmp_path, ComplianceSettings(Regime.US, message=message, opt_out_key="9"))
    busy_when_answered(rig, PRESSES_9)
    rig.run(rig.engine("w1"))
    record = rig.record_of(PRESSES_9)
    assert record.stage is Stage.CALL_DROPPED
    (abandoned,) = rig.events.of(CallAbandoned)
    assert abandoned.opted_out
    assert abandoned.message_at - abandoned.answered_at <= 2 * S
    with rig.container.store.read() as session:
        assert session.dnc.dnc_listed(rig.account.tenant.id, [PRESSES_9]) == {PRESSES_9}


def test_us_no_key_pressed_no_opt_out(tmp_path: Path, said: list[tuple[str, datetime]]) -> None:
    message = InfoMessage("Acme telemarketing. Press 9 to opt out.")
    rig = rig_under(tmp_path, ComplianceSettings(Regime.US, message=message))
    number = people(1)[0]  # presses nothing
    busy_when_answered(rig, number)
    rig.run(rig.engine("w1"))
    (abandoned,) = rig.events.of(CallAbandoned)
    assert not abandoned.opted_out
    with rig.container.store.read() as session:
        assert not session.dnc.dnc_listed(rig.account.tenant.id, [number])


def test_regime_none_keeps_the_longest_wait_and_plays_nothing(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    rig = rig_under(tmp_path, ComplianceSettings(Regime.NONE))
    number = people(1)[0]
    busy_when_answered(rig, number, AgentOptions(max_wait=4 * S))
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.stage is Stage.CALL_DROPPED
    assert not rig.events.of(CallAbandoned)
    assert said == []
    assert len(rig.events.of(CustomerQueued)) == 1
    assert record.ended_at == OPEN + 7 * S  # answered at 3 s, waited the 4 s


def test_uk_an_agent_ready_within_the_2_s_takes_the_customer(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    rig = rig_under(tmp_path, UK)
    ann = Agent("1001")
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.at(11, ann, pause("coffee"))
    rig.at(14, ann, lambda s, now: agents.ready(s, now))  # back 1 s after the answer
    rig.run(rig.engine("w1"))
    assert rig.record_of(number).stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    assert not rig.events.of(CallAbandoned)
    (bridged,) = rig.events.of(CustomerBridged)
    assert bridged.wait == 1.0
    assert said == []


def test_the_campaigns_own_message_wins_over_the_tenants(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    rig = rig_under(tmp_path, UK)
    number = people(1)[0]
    own = InfoMessage("Acme's autumn offers. Call 0161 496 0001.")
    busy_when_answered(rig, number, AgentOptions(message=own))
    rig.run(rig.engine("w1"))
    assert [text for text, _ in said] == [own.text]
    assert rig.record_of(number).stage is Stage.CALL_DROPPED


def test_uk_a_number_abandoned_within_72_hours_is_dialled_only_with_an_agent_reserved(
    tmp_path: Path, said: list[tuple[str, datetime]]
) -> None:
    """Campaign A abandons the number (Ann pauses while it rings); campaign B of the same
    tenant dials it five minutes later: only once Bob is reserved for it, bridged at once."""
    rig = rig_under(tmp_path, UK)
    number = people(1)[0]
    ann, bob = Agent("1001"), Agent("1002")
    rig.campaign([number], [ann])
    later = rig.campaign([number], [bob], startTime="10:05")
    rig.log_in(ann, bob)
    rig.at(11, ann, pause("coffee"))
    rig.run(rig.engine("w1"))
    assert len(rig.events.of(CallAbandoned)) == 1
    events = list(rig.events.events)
    reserved = [
        i
        for i, e in enumerate(events)
        if isinstance(e, AgentStateChanged)
        and e.agent_id == bob.id
        and e.state == AgentState.RESERVED.value
    ]
    (started,) = [
        i for i, e in enumerate(events) if isinstance(e, AttemptStarted) and e.campaign_id == later
    ]
    assert reserved
    assert reserved[0] < started  # Bob was reserved before the call was placed
    (bridged,) = rig.events.of(CustomerBridged)
    assert bridged.campaign_id == later
    assert bridged.wait == 0.0

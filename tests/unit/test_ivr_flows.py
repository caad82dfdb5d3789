"""A whole campaign with a version-2 call flow (an IVR) on the simulated network."""

import wave
from collections import defaultdict
from pathlib import Path

import pytest

from dialer.domain.codes import Outcome, Stage
from dialer.domain.errors import ValidationFailed
from dialer.services.dialer_input import Params
from dialer.telephony.sim_network import SimCall
from tests.integration.engine_support import Rig, drama

IVR = """\
version: 2
voice: en-gb
sms: "Hi {Name}, we tried to call you."
answerphone: "Hello {Name}, this is Acme. Please call us back."
nodes:
  greet: {say: "Hello {Name}.", next: menu}
  menu:
    gather: {prompt: "Press 1 to confirm, 2 to speak to someone, 9 to opt out.", attempts: 2}
    branches: {"1": confirm, "2": agent, "9": optout}
    default: goodbye
  confirm: {stage: CorrectCallee, next: thanks}
  thanks: {say: "Thank you {Name}.", next: jingle}
  jingle: {play: jingle.wav, next: bye}
  optout:
    stage: OptOut
    sms: "{Name}, you will not hear from us again (ref {CustomData.ref})."
    next: bye
  agent: {transfer: "queue:Sales", next: bye}
  goodbye: {say: "Goodbye.", next: bye}
  bye: {hangup: true}
"""


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """What each number was told and played, in order (``play:<path>`` for recordings)."""
    log: dict[str, list[str]] = defaultdict(list)
    say, play = SimCall.say, SimCall.play

    async def spy_say(call: SimCall, text: str, voice: str | None) -> bool:
        log[call.request.number].append(text)
        return await say(call, text, voice)

    async def spy_play(call: SimCall, audio: str) -> bool:
        log[call.request.number].append(f"play:{audio}")
        return await play(call, audio)

    monkeypatch.setattr(SimCall, "say", spy_say)
    monkeypatch.setattr(SimCall, "play", spy_play)
    return log


def write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * int(8000 * seconds))


def test_an_ivr_campaign_walks_the_graph_for_every_number(
    rig: Rig, heard: dict[str, list[str]], tmp_path: Path
) -> None:
    tenant = rig.account.tenant
    rig.container.catalog.add_queue(tenant, "Sales")  # the flow's agent node transfers to it
    flow = rig.container.catalog.add_callflow(tenant, "IVR", IVR)
    audio = tmp_path / "audio"
    write_wav(audio / str(tenant.id) / "jingle.wav", 2.0)
    numbers = [drama(n) for n in (0, 2, 3, 4, 12)]
    campaign = rig.campaign(numbers, callflow_Id=flow.id, answerMachineDetected=2, smsOnBusy=0)
    code = rig.container.campaigns.get(tenant, campaign).campaign.code
    rig.container.dialer.add_call(
        Params(
            {
                "Code": rig.account.key,
                "Campaign": code,
                "Target": drama(9),
                "CustomerName": "Nine",
                "CustomData": {"ref": "X-9"},
            }
        )
    )
    rig.run(audio_dir=audio)
    got = rig.attempts(campaign)

    # Presses 1: the branch's stage node, then its say and play nodes.
    (confirmed,) = got[drama(2)]
    assert (confirmed.outcome, confirmed.stage, confirmed.keys) == (
        Outcome.ANSWERED,
        Stage.CORRECT_CALLEE,
        "1",
    )
    prompt = "Press 1 to confirm, 2 to speak to someone, 9 to opt out."
    jingle = audio / str(tenant.id) / "jingle.wav"
    assert heard[drama(2)] == ["Hello N1.", prompt, "Thank you N1.", f"play:{jingle}"]
    assert confirmed.cause == "normal clearing"
    assert confirmed.ended_at is not None
    assert confirmed.answered_at is not None
    # 2 words, the prompt's 13 and 3 more at 2.5 a second, the keypress a second into the
    # gather, and the recording as long as its file (2 s).
    talk = (confirmed.ended_at - confirmed.answered_at).total_seconds()
    assert talk == pytest.approx(18 / 2.5 + 1 + 2)

    # Presses 9: OptOut, and the sms node sends from the campaign's caller ID.
    (opted_out,) = got[drama(9)]
    assert (opted_out.stage, opted_out.keys, opted_out.sms_sent) == (Stage.OPT_OUT, "9", True)
    (sms,) = rig.sms()
    assert (sms.to, sms.sender) == (drama(9), "+441632960000")
    assert sms.text == "Nine, you will not hear from us again (ref X-9)."

    # Presses 2: handed to the queue; the call leaves us there.
    (transferred,) = got[drama(3)]
    assert (transferred.stage, transferred.keys) == (Stage.CALL_TRANSFERRED_TO_CALL_CENTRE, "2")
    assert transferred.cause == "transferred to queue:Sales"

    # Presses nothing: asked twice, then the default path; no stage node reached.
    (silent,) = got[drama(0)]
    assert (silent.stage, silent.keys, silent.sms_sent) == (Stage.ANSWERED, "", False)
    assert heard[drama(0)] == ["Hello N0.", prompt, prompt, "Goodbye."]

    # Hangs up halfway through the greeting.
    assert [r.stage for r in got[drama(12)]] == [Stage.CALL_DECLINED]

    # The answerphone gets the flow's answerphone message, on the last attempt only.
    machine = got[drama(4)]
    assert [r.stage for r in machine] == [
        Stage.ANSWERPHONE_MESSAGE_NOT_LEFT,
        Stage.ANSWERPHONE_MESSAGE_NOT_LEFT,
        Stage.ANSWERPHONE_MESSAGE_LEFT,
    ]
    assert heard[drama(4)] == ["Hello N3, this is Acme. Please call us back."]


def test_a_bad_ivr_is_refused_with_every_problem_by_node(rig: Rig) -> None:
    broken = IVR.replace('"9": optout', '"9": optuot').replace("Thank you {Name}", "{Nmae}")
    with pytest.raises(ValidationFailed) as caught:
        rig.container.catalog.add_callflow(rig.account.tenant, "Broken", broken)
    assert caught.value.errors == {
        "nodes.menu.branches.9": ["branch to unknown node 'optuot'"],
        "nodes.thanks.say": [
            "has unknown placeholder {Nmae}; use {Name}, {Parameter1}..{Parameter9}"
            " or {CustomData.<key>}"
        ],
    }


def test_an_agent_campaign_is_dialled_only_for_its_agents_never_transferred_to_a_queue(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Agent campaigns give answered calls to the engine's own agents (docs/agents-engine.md),
    with progressive pacing: with no agent logged in nothing is dialled, and the strategy's
    queue is never a transfer target. (The engine tests with agents are
    tests/unit/test_engine_agents.py.)"""
    transfers: list[tuple[str, str]] = []
    transfer = SimCall.transfer

    async def spy(call: SimCall, target: str) -> bool:
        transfers.append((call.request.number, target))
        return await transfer(call, target)

    monkeypatch.setattr(SimCall, "transfer", spy)
    tenant = rig.account.tenant
    queue = rig.container.catalog.add_queue(tenant, "Sales")
    campaign = rig.campaign([drama(0), drama(1)], type="agent")
    code = rig.container.campaigns.get(tenant, campaign).campaign.code
    rig.container.dialer.set_strategy(
        Params(
            {
                "Code": rig.account.key,
                "Campaign": code,
                "setQueueForMonitoring": str(queue.id),
                "setQueueMaximumCallers": "5",
                "setCoefficient": "2",
            }
        )
    )
    rig.run()
    got = rig.attempts(campaign)
    assert transfers == []
    assert rig.originations() == []
    assert [r.outcome for r in got[drama(0)]] == [Outcome.OUT_OF_TIME]
    assert [r.outcome for r in got[drama(1)]] == [Outcome.OUT_OF_TIME]

"""POST /api/callflows/{id}/dry-run: the engine's walk of a flow for a keypress sequence and a
sample number, with each spoken step rendered by espeak-ng and fetched as WAV by its tenant."""

import io
import wave
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.conftest import Account

FLOW = """
version: 2
voice: en-gb
sms: "Hi {Name}"
answerphone: "Hello {Name}, please call us back."
nodes:
  greet:
    say: "Hello {Name}. Your appointment is on {Parameter1}."
    next: menu
  menu:
    gather: {prompt: "Press 1 to confirm, 0 to speak to someone.", timeout: 5, max_digits: 1,
             attempts: 2}
    branches: {"1": confirm, "0": agent}
    default: goodbye
  confirm: {stage: CorrectCallee, next: thanks}
  thanks: {say: "Thank you {Name}.", next: jingle}
  jingle: {play: jingle.wav, next: bye}
  agent: {transfer: "+441632960999", next: sorry}
  sorry:
    say: "Sorry, nobody is free just now."
    sms: "Call us back about {CustomData.booking}."
    next: bye
  goodbye: {hangup: true}
  bye: {hangup: true}
"""
NUMBER = {"name": "Ann", "parameters": [{"parameter": 1, "value": "Monday"}]}


def _flow(container: Container, account: Account) -> int:
    return container.catalog.add_callflow(account.tenant, "Menu", FLOW).id


def _run(client: TestClient, account: Account, flow_id: int, body: Any) -> Any:
    got = client.post(f"/api/callflows/{flow_id}/dry-run", json=body, headers=account.headers)
    assert got.status_code == 200, got.text
    return got.json()


def _path(run: Any) -> list[tuple[str, str, str | None]]:
    return [(s["node"], s["kind"], s["key"]) for s in run["steps"]]


def test_a_keypress_walks_the_branch_with_placeholders_filled_and_audio(
    client: TestClient, container: Container, account: Account
) -> None:
    flow_id = _flow(container, account)
    run = _run(client, account, flow_id, {"keys": "1", "number": NUMBER})
    assert _path(run) == [
        ("nodes.greet", "say", None),
        ("nodes.menu", "gather", "1"),
        ("nodes.thanks", "say", None),
        ("nodes.jingle", "play", None),
        ("nodes.bye", "hangup", None),
    ]
    steps = run["steps"]
    assert steps[0]["text"] == "Hello Ann. Your appointment is on Monday."
    assert steps[0]["voice"] == "en-gb"
    assert steps[2]["text"] == "Thank you Ann."
    assert steps[3]["target"] == "jingle.wav"
    assert (run["ended"], run["stage"], run["keys"]) == ("hangup", "CorrectCallee", "1")
    # Every spoken step has its WAV, 8 kHz mono 16-bit, for this tenant.
    for step in (steps[0], steps[1], steps[2]):
        assert step["audioError"] is None
        wav = client.get(step["audio"], headers=account.headers)
        assert wav.status_code == 200
        assert wav.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(wav.content)) as read:
            assert (read.getframerate(), read.getnchannels(), read.getsampwidth()) == (8000, 1, 2)
            assert read.getnframes() > 8000 // 2  # at least half a second of speech
    assert steps[3]["audio"] is None  # a play step's file is the tenant's own, not rendered


def test_no_keys_time_the_menu_out_to_its_default(
    client: TestClient, container: Container, account: Account
) -> None:
    flow_id = _flow(container, account)
    run = _run(client, account, flow_id, {"number": NUMBER})
    assert _path(run) == [
        ("nodes.greet", "say", None),
        ("nodes.menu", "gather", ""),
        ("nodes.menu", "gather", ""),  # attempts: 2
        ("nodes.goodbye", "hangup", None),
    ]
    assert run["stage"] == "Answered"


def test_no_body_at_all_is_no_keys_and_an_empty_number(
    client: TestClient, container: Container, account: Account
) -> None:
    flow_id = _flow(container, account)
    got = client.post(f"/api/callflows/{flow_id}/dry-run", headers=account.headers)
    assert got.status_code == 200, got.text
    assert got.json()["steps"][0]["text"] == "Hello . Your appointment is on ."


def test_a_transfer_answered_or_not_and_unused_keys(
    client: TestClient, container: Container, account: Account
) -> None:
    flow_id = _flow(container, account)
    number = {**NUMBER, "customData": {"booking": "B-42"}}
    taken = _run(client, account, flow_id, {"keys": ["0", "9"], "number": number})
    assert _path(taken)[-2:] == [("nodes.agent", "transfer", None), ("nodes.agent", "hangup", None)]
    assert (taken["ended"], taken["transferredTo"]) == ("transfer", "+441632960999")
    assert taken["stage"] == "CalleeTransferAccepted"
    assert taken["unusedKeys"] == ["9"]
    failed = _run(
        client, account, flow_id, {"keys": "0", "number": number, "transferAnswers": False}
    )
    assert [s["node"] for s in failed["steps"]][-3:] == ["nodes.agent", "nodes.sorry", "nodes.bye"]
    assert failed["sms"] == ["Call us back about B-42."]
    assert failed["ended"] == "hangup"


def test_bad_input_is_400_by_path_and_other_tenants_see_nothing(
    client: TestClient, container: Container, account: Account, other_account: Account
) -> None:
    flow_id = _flow(container, account)
    url = f"/api/callflows/{flow_id}/dry-run"
    bad = client.post(
        url,
        json={
            "keys": ["1", "x"],
            "number": {"name": 5, "parameters": [{"parameter": 10, "value": "v"}]},
            "transferAnswers": "yes",
        },
        headers=account.headers,
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {
        "keys[1]",
        "number.name",
        "number.parameters[0].parameter",
        "transferAnswers",
    }
    run = _run(client, account, flow_id, {"keys": "1", "number": NUMBER})
    audio = run["steps"][0]["audio"]
    assert client.post(url, json={}, headers=other_account.headers).status_code == 404
    assert client.get(audio, headers=other_account.headers).status_code == 404
    assert client.get(audio).status_code == 401
    assert (
        client.get(
            "/api/callflows/dry-run/audio/0123456789abcdef.wav", headers=account.headers
        ).status_code
        == 404
    )
    missing = client.post("/api/callflows/999999/dry-run", json={}, headers=account.headers)
    assert missing.status_code == 404


def test_a_version_1_flow_walks_its_message_and_key(client: TestClient, account: Account) -> None:
    # The account's own flow: "message: 'Hello {Name}, about {Parameter1}.'" and an SMS.
    run = _run(client, account, account.callflow_id, {"keys": "1", "number": NUMBER})
    assert run["steps"][0]["text"] == "Hello Ann, about Monday."
    assert [s["kind"] for s in run["steps"]] == ["say", "gather", "hangup"]

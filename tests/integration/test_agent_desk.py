"""The agent desk over HTTP, on SQLite and PostgreSQL: an agent's whole session driven by its
token, the engine's part played through the store (tests/integration/agent_support.py)."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain import agent_session as sessions
from dialer.domain.agent_session import AgentState
from dialer.domain.events import AgentStateChanged
from dialer.domain.result_row import iso_utc
from tests.conftest import Account
from tests.integration.agent_support import ME, Desk


class Recording:
    def __init__(self) -> None:
        self.events: list[object] = []

    def publish(self, event: object) -> None:
        self.events.append(event)


@pytest.fixture
def desk(container: Container, client: TestClient, account: Account) -> Desk:
    return Desk(container, client, account)


def test_a_whole_call_from_log_in_to_ready_after_wrap_up(
    desk: Desk, container: Container, clock: ManualClock
) -> None:
    published = Recording()
    container.events.subscribe(published)
    alice = desk.agent("SIPSIP1", "Alice")
    token = desk.token(alice)
    assert desk.me(token)["state"] == "offline"

    login = desk.post(token, "login", {"phone": "sip:1001@192.0.2.10"})
    assert login.status_code == 201, login.text
    assert login.json()["state"] == "paused"
    assert login.json()["reason"] == "phone-connecting"
    assert login.json()["phone"] == "sip:1001@192.0.2.10"
    refused = desk.post(token, "ready")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the agent's phone is not answered yet"

    clock.advance(timedelta(seconds=4))
    desk.answered(alice)  # the engine: the agent picked up their phone
    assert desk.me(token)["state"] == "ready"

    clock.advance(timedelta(seconds=30))
    desk.reserve(alice)
    shown = desk.me(token)
    assert shown["state"] == "reserved"
    pop = shown["customer"]
    assert pop["campaignId"] == desk.campaign_id
    assert pop["campaignName"] == "Test Campaign"
    assert pop["number"] == "+447722123456"
    assert pop["name"] == "ben"
    assert pop["parameters"] == [{"parameter": 1, "value": "testing"}]
    assert pop["customData"] == {"var_leadID": 889}
    assert pop["keys"] == "1"
    assert pop["bridgedAt"] is None

    clock.advance(timedelta(milliseconds=300))
    desk.bridged(alice)
    assert desk.me(token)["customer"]["bridgedAt"] is not None
    callback_at = (clock.now() + timedelta(days=1)).isoformat()
    disposed = desk.post(
        token,
        "disposition",
        {"stage": "CallerRequestedCallBack", "callbackAt": callback_at, "sameAgent": True},
    )
    assert disposed.status_code == 200, disposed.text
    assert disposed.json()["disposition"] == {
        "stage": 18,
        "stageName": "CallerRequestedCallBack",
        "callbackAt": iso_utc(clock.now() + timedelta(days=1)),
        "sameAgent": True,
    }
    assert disposed.json()["state"] == "talking"

    clock.advance(timedelta(seconds=95))
    desk.call_over(alice)
    in_wrap_up = desk.me(token)
    assert in_wrap_up["state"] == "wrap-up"
    assert in_wrap_up["disposition"]["stage"] == 18
    assert in_wrap_up["customer"]["number"] == "+447722123456"

    clock.advance(timedelta(seconds=10))
    done = desk.post(token, "ready")
    assert done.status_code == 200
    assert done.json()["state"] == "ready"
    assert done.json()["customer"] is None

    states = [change.state for change in desk.changes(alice)]
    assert states == [
        AgentState.PAUSED,
        AgentState.READY,
        AgentState.RESERVED,
        AgentState.TALKING,
        AgentState.WRAP_UP,
        AgentState.READY,
    ]
    # The desk publishes what it changed (the engine publishes its own changes).
    desk_events = [e for e in published.events if isinstance(e, AgentStateChanged)]
    assert [(e.state, e.member) for e in desk_events] == [
        ("paused", "SIPSIP1"),
        ("ready", "SIPSIP1"),
    ]


def test_pause_with_a_reason_and_pause_or_log_out_during_a_call_wait_for_its_end(
    desk: Desk, clock: ManualClock
) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    # A number is only ever the one the tenant assigned (tests/integration/test_agent_phones.py).
    assigned = desk.client.put(
        f"/api/agents/{alice}/phone", json={"phone": "01632 960001"}, headers=desk.account.headers
    )
    assert assigned.status_code == 200, assigned.text
    desk.post(token, "login", {"phone": "+44 1632 960001"})
    assert desk.me(token)["phone"] == "+441632960001"
    desk.answered(alice)
    paused = desk.post(token, "pause", {"reason": "coffee"})
    assert (paused.json()["state"], paused.json()["reason"]) == ("paused", "coffee")
    desk.post(token, "ready")

    desk.reserve(alice)
    pending = desk.post(token, "pause", {"reason": "lunch"})
    assert pending.status_code == 200
    assert pending.json()["state"] == "reserved"
    assert (pending.json()["pending"], pending.json()["pendingReason"]) == ("pause", "lunch")
    refused = desk.post(token, "hangup")
    assert refused.status_code == 409  # nobody is on the line before the bridge
    desk.bridged(alice)
    hung_up = desk.post(token, "hangup")
    assert hung_up.status_code == 200
    assert hung_up.json()["hangupRequested"] is True
    logging_out = desk.post(token, "logout")
    assert logging_out.json()["state"] == "talking"
    assert logging_out.json()["pending"] == "logout"

    desk.call_over(alice)
    assert desk.me(token)["state"] == "wrap-up"
    clock.advance(timedelta(seconds=5))
    after = desk.post(token, "ready")  # the pending log-out wins over ready
    assert after.json()["state"] == "offline"
    assert after.json()["reason"] == "logged-out"
    # Logged out, the desk still shows the last session and why it ended.
    shown = desk.me(token)
    assert (shown["state"], shown["reason"]) == ("offline", "logged-out")
    assert shown["sessionId"] == after.json()["sessionId"]
    assert desk.post(token, "logout").status_code == 409
    again = desk.post(token, "login", {})  # the assigned phone
    assert again.status_code == 201
    assert again.json()["phone"] == "+441632960001"


def test_a_second_log_in_is_refused_and_a_refusal_changes_nothing(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    assert desk.post(token, "login", {"phone": "sim:agent-1"}).status_code == 201
    before = desk.session(alice)
    twice = desk.post(token, "login", {"phone": "sip:1001@192.0.2.10"})
    assert twice.status_code == 409
    assert twice.json()["detail"] == "the agent is already logged in; log out first"
    for action in ("ready", "hangup"):
        assert desk.post(token, action).status_code == 409
    assert desk.post(token, "disposition", {"stage": "CorrectCallee"}).status_code == 409
    assert desk.session(alice) == before
    assert len(desk.changes(alice)) == 1


def test_tokens_belong_to_one_agent_of_one_tenant_and_stop_when_revoked(
    desk: Desk, container: Container, client: TestClient, other_account: Account
) -> None:
    alice = desk.agent("SIPSIP1")
    first, second = desk.token(alice), desk.token(alice)
    assert desk.me(first)["agentId"] == alice
    # The tenant's key never opens a desk, and an agent's token never the tenant's API.
    assert client.get(ME, headers=desk.account.headers).status_code == 401
    for path in ("/api/agents/sessions", "/api/campaign/voice", f"/api/agents/{alice}"):
        assert client.get(path, headers=first).status_code == 401, path
    assert client.post(f"/api/agents/{alice}/tokens", headers=first).status_code == 401
    for bad in ("", "Bearer", "Bearer agt_nope", "Basic agt_x", "Bearer " + "agt_" * 100):
        answer = client.get(ME, headers={"Authorization": bad})
        assert answer.status_code == 401, bad
        assert answer.headers["content-type"] == "application/problem+json"

    # Another tenant cannot issue or revoke tokens of this tenant's agent.
    theirs = other_account.headers
    assert client.post(f"/api/agents/{alice}/tokens", headers=theirs).status_code == 404
    assert client.delete(f"/api/agents/{alice}/tokens", headers=theirs).status_code == 404
    assert desk.me(first)["agentId"] == alice

    issued = client.post(f"/api/agents/{alice}/tokens", headers=desk.account.headers).json()
    third = {"Authorization": f"Bearer {issued['token']}"}
    assert issued["token"].startswith("agt_")
    path = f"/api/agents/{alice}/tokens/{issued['id']}"
    assert client.delete(path, headers=desk.account.headers).status_code == 204
    assert client.get(ME, headers=third).status_code == 401
    assert client.delete(path, headers=desk.account.headers).status_code == 404
    assert desk.me(first)["agentId"] == alice

    assert (
        client.delete(f"/api/agents/{alice}/tokens", headers=desk.account.headers).status_code
        == 204
    )
    for token in (first, second):
        assert client.get(ME, headers=token).status_code == 401
        assert desk.post(token, "login", {"phone": "sim:a"}).status_code == 401
    assert desk.session(alice) is None


def test_hostile_bodies_get_a_4xx_and_change_nothing(desk: Desk, client: TestClient) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    for body in (
        {"phone": ""},
        {"phone": "not a phone"},
        {"phone": "sip:<evil>@x"},
        {"phone": "sip:1001@192.0.2.10\r\nVia: x"},
        {"phone": "0"},
        {"phone": 441632960001},
        {"phone": "sim:a", "extra": 1},
        ["sim:a"],
        "sim:a",
    ):
        answer = desk.post(token, "login", body)
        assert answer.status_code == 400, (body, answer.text)
    assert desk.session(alice) is None

    desk.post(token, "login", {"phone": "sim:agent-1"})
    desk.answered(alice)
    desk.reserve(alice)
    desk.bridged(alice)
    before = desk.session(alice)
    now = desk.now()
    soon = (now + timedelta(hours=2)).isoformat()
    for body in (
        {"stage": "Correctcallee"},
        {"stage": "CallDropped"},  # a Stage, but not one an agent gives
        {"stage": 20},
        {"stage": 99},
        {"stage": True},
        {"stage": None},
        {"stage": "CorrectCallee", "callbackAt": soon},
        {"stage": "CorrectCallee", "sameAgent": True},
        {"stage": "CallerRequestedCallBack"},
        {"stage": "CallerRequestedCallBack", "callbackAt": soon[:19]},  # naive
        {"stage": "CallerRequestedCallBack", "callbackAt": "tomorrow"},
        {"stage": "CallerRequestedCallBack", "callbackAt": "2025-02-30T10:00:00Z"},
        {"stage": "CallerRequestedCallBack", "callbackAt": (now - timedelta(hours=1)).isoformat()},
        {"stage": "CallerRequestedCallBack", "callbackAt": (now + timedelta(days=400)).isoformat()},
        {"stage": "CallerRequestedCallBack", "callbackAt": soon, "sameAgent": "yes"},
        {"stage": "CorrectCallee", "callback_at": soon},
    ):
        answer = desk.post(token, "disposition", body)
        assert answer.status_code == 400, (body, answer.text)
    for body in ({}, {"reason": ""}, {"reason": "x" * 65}, {"reason": "a\u0000b"}, {"reason": 5}):
        assert desk.post(token, "pause", body).status_code == 400, body
    headers = {**token, "Content-Type": "application/json"}
    for raw in (b"", b"{", b"\xff\xfe", b"null", b"[]", b'{"stage": NaN}'):
        answer = client.post(f"{ME}/disposition", content=raw, headers=headers)
        assert answer.status_code == 400, raw
    huge = b'{"reason": "' + b"x" * 100_000 + b'"}'
    assert client.post(f"{ME}/pause", content=huge, headers=headers).status_code == 413
    text = {**token, "Content-Type": "text/plain"}
    assert client.post(f"{ME}/pause", content=b"lunch", headers=text).status_code == 415
    assert desk.session(alice) == before


def test_the_supervisor_sees_every_agent_state_call_and_campaigns(
    desk: Desk, client: TestClient, clock: ManualClock, other_account: Account
) -> None:
    alice = desk.agent("SIPSIP1", "Alice")
    bob = desk.agent("SIPSIP2", "Bob")
    carol = desk.agent("SIPSIP3", "Carol", member_of=False)
    for agent in (alice, bob):
        desk.post(desk.token(agent), "login", {"phone": "sim:agent"})
        desk.answered(agent)
    desk.reserve(alice)
    desk.bridged(alice)
    bob_token = desk.token(bob)
    desk.post(bob_token, "pause", {"reason": "training"})
    clock.advance(timedelta(seconds=42))

    answer = client.get("/api/agents/sessions", headers=desk.account.headers)
    assert answer.status_code == 200
    rows = {row["agentId"]: row for row in answer.json()}
    assert set(rows) == {alice, bob, carol}
    assert rows[alice]["state"] == "talking"
    assert rows[alice]["secondsInState"] == 42.0
    assert rows[alice]["customer"]["number"] == "+447722123456"
    assert rows[alice]["customer"]["campaignName"] == "Test Campaign"
    assert rows[alice]["campaigns"] == [desk.campaign_id]
    assert (rows[bob]["state"], rows[bob]["reason"]) == ("paused", "training")
    assert rows[carol]["state"] == "offline"
    assert rows[carol]["sessionId"] is None
    assert rows[carol]["campaigns"] == []

    only = client.get(
        "/api/agents/sessions",
        params={"campaignId": desk.campaign_id},
        headers=desk.account.headers,
    )
    assert {row["agentId"] for row in only.json()} == {alice, bob}
    theirs = client.get(
        "/api/agents/sessions",
        params={"campaignId": desk.campaign_id},
        headers=other_account.headers,
    )
    assert theirs.status_code == 404
    assert client.get("/api/agents/sessions", headers=other_account.headers).json() == []
    for bad in ("x", "-1", "0", "1.5", "99999999999999999999"):
        answer = client.get(
            "/api/agents/sessions", params={"campaignId": bad}, headers=desk.account.headers
        )
        assert answer.status_code == 400, bad

    desk.post(bob_token, "logout")
    rows = {
        row["agentId"]: row
        for row in client.get("/api/agents/sessions", headers=desk.account.headers).json()
    }
    assert (rows[bob]["state"], rows[bob]["reason"]) == ("offline", "logged-out")


def test_the_day_report_splits_time_at_midnight_in_the_tenants_zone(
    desk: Desk, client: TestClient, clock: ManualClock
) -> None:
    """Europe/London is UTC+1 in October: its 2025-10-01 runs 23:00 to 23:00 UTC."""
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    clock.advance(desk.now().replace(day=30, hour=22, minute=0) - desk.now())  # 23:00 local
    desk.post(token, "login", {"phone": "sim:agent"})
    clock.advance(timedelta(minutes=10))
    desk.answered(alice)  # 23:10 ready
    clock.advance(timedelta(minutes=40))
    desk.reserve(alice)  # 23:50 reserved
    clock.advance(timedelta(seconds=30))
    desk.bridged(alice)  # 23:50:30 talking, over midnight
    clock.advance(timedelta(minutes=19, seconds=30))
    desk.call_over(alice)  # 00:10 wrap-up
    clock.advance(timedelta(minutes=5))
    desk.post(token, "pause", {"reason": "lunch"})  # 00:15: paused (from wrap-up)
    clock.advance(timedelta(minutes=45))
    desk.post(token, "logout")  # 01:00 offline
    clock.advance(timedelta(hours=3))

    def report(day: str) -> dict[str, float]:
        answer = client.get("/api/agents/report", params={"day": day}, headers=desk.account.headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["timezone"] == "Europe/London"
        (row,) = [row for row in body["agents"] if row["agentId"] == alice]
        seconds: dict[str, float] = row["seconds"]
        return seconds

    assert report("2025-09-30") == {
        "paused": 600.0,
        "ready": 2400.0,
        "reserved": 30.0,
        "talking": 570.0,
        "wrap-up": 0.0,
    }
    assert report("2025-10-01") == {
        "paused": 2700.0,
        "ready": 0.0,
        "reserved": 0.0,
        "talking": 600.0,
        "wrap-up": 300.0,
    }
    assert sum(report("2025-10-02").values()) == 0.0
    today = client.get("/api/agents/report", headers=desk.account.headers).json()
    assert today["day"] == "2025-10-01"
    assert today["to"] == "2025-10-01T03:00:00.000Z"  # up to now
    for bad in ("2025-13-01", "01/10/2025", "2025-10-1", "20251001", "x"):
        answer = client.get("/api/agents/report", params={"day": bad}, headers=desk.account.headers)
        assert answer.status_code == 400, bad


def test_a_dropped_phone_shows_on_the_desk_and_a_new_log_in_is_allowed(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    desk.post(token, "login", {"phone": "sip:1001@192.0.2.10"})
    desk.answered(alice)
    desk.engine(alice, sessions.phone_gone)  # the engine: the agent's leg hung up by itself
    shown = desk.me(token)
    assert (shown["state"], shown["reason"]) == ("offline", "phone-dropped")
    assert desk.post(token, "ready").status_code == 409
    assert desk.post(token, "login", {"phone": "sip:1001@192.0.2.10"}).status_code == 201


def test_the_report_day_is_25_hours_when_the_clocks_go_back_and_per_tenant(
    desk: Desk, client: TestClient, clock: ManualClock, other_account: Account
) -> None:
    """Europe/London's 2025-10-26 runs from 23:00 UTC on the 25th to midnight UTC on the 27th;
    a state that began the day before counts from the day's start."""
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    desk.post(token, "login", {"phone": "sim:agent"})
    desk.answered(alice)  # ready from 2025-09-30, through the whole of 2025-10-26
    clock.advance(timedelta(days=28))  # 2025-10-28
    answer = client.get(
        "/api/agents/report", params={"day": "2025-10-26"}, headers=desk.account.headers
    )
    body = answer.json()
    assert (body["from"], body["to"]) == ("2025-10-25T23:00:00.000Z", "2025-10-27T00:00:00.000Z")
    (row,) = body["agents"]
    assert row["seconds"]["ready"] == 25 * 3600.0
    assert row["loggedInSeconds"] == 25 * 3600.0
    theirs = client.get(
        "/api/agents/report", params={"day": "2025-10-26"}, headers=other_account.headers
    )
    assert theirs.json()["agents"] == []


def test_nothing_stays_pending_once_the_session_ends_or_the_pause_begins(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    desk.post(token, "login", {"phone": "sim:agent"})
    waiting = desk.post(token, "pause", {"reason": "lunch"})  # the phone is still connecting
    assert (waiting.json()["pending"], waiting.json()["pendingReason"]) == ("pause", "lunch")
    out = desk.post(token, "logout").json()
    assert (out["state"], out["pending"], out["pendingReason"]) == ("offline", None, None)

    desk.post(token, "login", {"phone": "sim:agent"})
    desk.post(token, "pause", {"reason": "lunch"})
    desk.answered(alice)  # the pause asked while connecting begins now
    shown = desk.me(token)
    assert (shown["state"], shown["reason"]) == ("paused", "lunch")
    assert (shown["pending"], shown["pendingReason"]) == (None, None)

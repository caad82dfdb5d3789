"""Which phone an agent's log-in may make the dialer call (docs/agents-desk.md, "The agent's
phone"), and deleting a logged-in agent; over HTTP on SQLite and PostgreSQL."""

import threading
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.domain.errors import Unauthorized
from tests.conftest import Account
from tests.integration.agent_support import Desk
from tests.integration.dialer_support import BASE


@pytest.fixture
def desk(container: Container, client: TestClient, account: Account) -> Desk:
    return Desk(container, client, account)


def _phone_of(desk: Desk, agent_id: int, headers: dict[str, str] | None = None) -> Any:
    return desk.client.put(
        f"/api/agents/{agent_id}/phone", json=None, headers=headers or desk.account.headers
    )


def _assign(desk: Desk, agent_id: int, phone: str, headers: dict[str, str] | None = None) -> Any:
    return desk.client.put(
        f"/api/agents/{agent_id}/phone",
        json={"phone": phone},
        headers=headers or desk.account.headers,
    )


def _agent(desk: Desk, agent_id: int, headers: dict[str, str] | None = None) -> Any:
    return desk.client.get(f"/api/agents/{agent_id}", headers=headers or desk.account.headers)


def test_the_tenant_assigns_checks_shows_and_clears_an_agents_phone(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    assert _agent(desk, alice).json()["phone"] is None
    # Read in the tenant's region and kept in E.164, as a log-in reads a number.
    answer = _assign(desk, alice, "01632 960001")
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == "+441632960001"
    assert _agent(desk, alice).json()["phone"] == "+441632960001"
    listed = desk.client.get("/api/agents", headers=desk.account.headers).json()
    assert [a["phone"] for a in listed if a["id"] == alice] == ["+441632960001"]
    for phone in ("sip:1001@192.0.2.10", "sim:agent-1"):
        assert _assign(desk, alice, phone).json()["phone"] == phone

    # Each bad body is the API's 400 and changes nothing.
    for body in (
        {},
        {"phone": ""},
        {"phone": "not a phone"},
        {"phone": "sip:<evil>@x"},
        {"phone": "0"},
        {"phone": 441632960001},
        {"phone": "sim:a", "extra": 1},
        ["sim:a"],
    ):
        bad = desk.client.put(f"/api/agents/{alice}/phone", json=body, headers=desk.account.headers)
        assert bad.status_code == 400, (body, bad.text)
    assert _phone_of(desk, alice).status_code == 400  # no body
    assert _agent(desk, alice).json()["phone"] == "sim:agent-1"
    assert _assign(desk, 999_999, "sim:x").status_code == 404

    cleared = desk.client.delete(f"/api/agents/{alice}/phone", headers=desk.account.headers)
    assert cleared.status_code == 204
    assert _agent(desk, alice).json()["phone"] is None


def test_another_tenant_cannot_set_read_or_clear_the_phone(
    desk: Desk, other_account: Account
) -> None:
    alice = desk.agent("SIPSIP1")
    _assign(desk, alice, "+441632960001")
    theirs = other_account.headers
    assert _assign(desk, alice, "+441632960999", theirs).status_code == 404
    assert _agent(desk, alice, theirs).status_code == 404
    gone = desk.client.delete(f"/api/agents/{alice}/phone", headers=theirs)
    assert gone.status_code == 404
    listed = desk.client.get("/api/agents", headers=theirs).json()
    assert all(a["id"] != alice for a in listed)
    assert _agent(desk, alice).json()["phone"] == "+441632960001"
    # An agent's token is no tenant key either.
    token = desk.token(alice)
    assert _assign(desk, alice, "+441632960999", token).status_code == 401
    assert _agent(desk, alice).json()["phone"] == "+441632960001"


def test_a_log_in_without_a_phone_uses_the_assigned_one_or_is_refused(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    refused = desk.post(token, "login", {})
    assert refused.status_code == 409
    assert "assigned this agent no phone" in refused.json()["detail"]
    assert desk.session(alice) is None

    _assign(desk, alice, "+441632960001")
    opened = desk.post(token, "login", {})
    assert opened.status_code == 201, opened.text
    assert opened.json()["phone"] == "+441632960001"
    assert desk.session(alice).phone == "+441632960001"  # type: ignore[union-attr]


def test_with_a_phone_assigned_a_log_in_may_only_call_that_one(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    _assign(desk, alice, "sip:1001@192.0.2.10")
    for phone in ("+449098790000", "sip:1001@203.0.113.66", "sim:agent-1"):
        refused = desk.post(token, "login", {"phone": phone})
        assert refused.status_code == 409, phone
        assert "assigned this agent another phone" in refused.json()["detail"]
    assert desk.session(alice) is None
    assert desk.changes(alice) == []

    # The scheme is case-insensitive (RFC 3261); the rest of the URI must match.
    opened = desk.post(token, "login", {"phone": "SIP:1001@192.0.2.10"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["phone"] == "sip:1001@192.0.2.10"


def test_an_assigned_number_may_be_written_nationally_at_log_in(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    _assign(desk, alice, "+441632960001")
    opened = desk.post(token, "login", {"phone": "01632 960001"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["phone"] == "+441632960001"


def test_without_an_assigned_phone_only_a_sip_uri_or_sim_phone_is_the_agents_choice(
    desk: Desk,
) -> None:
    alice, bob = desk.agent("SIPSIP1"), desk.agent("SIPSIP2", "Bob")
    alice_token, bob_token = desk.token(alice), desk.token(bob)
    # A number goes through the trunk at the tenant's cost (a premium-rate one, with a stolen
    # token): never one the tenant did not assign.
    for number in ("+449098790000", "09098 790000", "+441632960001"):
        refused = desk.post(alice_token, "login", {"phone": number})
        assert refused.status_code == 409, number
        assert "called through the trunk" in refused.json()["detail"]
    assert desk.session(alice) is None
    assert desk.changes(alice) == []

    sip = desk.post(alice_token, "login", {"phone": "sip:1001@192.0.2.10"})
    assert sip.status_code == 201, sip.text
    sim = desk.post(bob_token, "login", {"phone": "sim:agent-2"})
    assert sim.status_code == 201, sim.text


def test_a_phone_changed_during_a_session_applies_from_the_next_log_in(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    _assign(desk, alice, "sim:agent-1")
    desk.post(token, "login", {})
    desk.answered(alice)
    assert _assign(desk, alice, "sim:agent-9").status_code == 200
    assert desk.me(token)["phone"] == "sim:agent-1"
    assert desk.post(token, "logout").status_code == 200
    again = desk.post(token, "login", {})
    assert again.json()["phone"] == "sim:agent-9"


def test_a_logged_in_agent_cannot_be_deleted_until_logged_out(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1", member_of=False)
    token = desk.token(alice)
    assert desk.post(token, "login", {"phone": "sim:agent-1"}).status_code == 201
    desk.answered(alice)
    before = desk.session(alice)
    refused = desk.client.delete(f"/api/agents/{alice}", headers=desk.account.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "logged in" in refused.json()["detail"]
    assert _agent(desk, alice).status_code == 200
    assert desk.session(alice) == before
    assert desk.me(token)["state"] == "ready"

    assert desk.post(token, "logout").status_code == 200
    deleted = desk.client.delete(f"/api/agents/{alice}", headers=desk.account.headers)
    assert deleted.status_code == 204
    assert _agent(desk, alice).status_code == 404


def test_a_logged_in_member_may_still_be_removed_from_a_campaign(desk: Desk) -> None:
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    desk.post(token, "login", {"phone": "sim:agent-1"})
    desk.answered(alice)
    code = desk.container.campaigns.get(desk.account.tenant, desk.campaign_id).campaign.code
    removed = desk.client.post(
        f"{BASE}/RemoveMember", json={"Campaign": code, "Member": "SIPSIP1"}
    ).json()
    assert (removed["ErrorCode"], removed["Data"]) == (0, {"TotalRemoved": 1})
    assert desk.me(token)["state"] == "ready"


def _wait_until_a_lock_is_awaited(database_url: str) -> None:
    """Until some transaction waits for a row lock (the log-in, behind the deletion's)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not conn.execute("SELECT 1 FROM pg_locks WHERE NOT granted LIMIT 1").fetchone():
            threading.Event().wait(0.01)


def test_a_log_in_racing_the_agents_deletion_leaves_no_session_and_no_500(
    desk: Desk, container: Container, database_url: str
) -> None:
    """The deletion has checked that no session is open and deleted the agent, not yet
    committed, when the log-in begins: the log-in waits for it, then finds no agent (401).
    Reading the agent without the lock, the log-in went on to insert a session for the agent
    being deleted, and failed on the foreign key once the deletion committed."""
    alice = desk.agent("SIPSIP1", member_of=False)
    token = desk.token(alice)["Authorization"].removeprefix("Bearer ")
    who = container.agent_desk.authenticate(token)
    tenant = desk.account.tenant
    outcome: list[BaseException | object] = []

    def log_in() -> None:
        try:
            outcome.append(container.agent_desk.login(who, {"phone": "sim:agent-1"}))
        except BaseException as exc:  # noqa: BLE001 (the test reports what it was)
            outcome.append(exc)

    racer = threading.Thread(target=log_in)
    with container.store.write() as session:
        assert session.agents.lock_agent(tenant.id, alice) is not None
        assert session.agent_sessions.open_session_of(tenant.id, alice) is None
        assert session.catalog.delete_catalog_entry(tenant.id, "agent", alice)
        racer.start()
        if database_url.startswith("postgres"):
            _wait_until_a_lock_is_awaited(database_url)
        # (SQLite: the log-in waits for the writer lock this transaction holds.)
    racer.join()
    assert len(outcome) == 1
    assert isinstance(outcome[0], Unauthorized), repr(outcome[0])
    assert desk.session(alice) is None

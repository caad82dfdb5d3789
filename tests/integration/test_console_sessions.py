"""Console sessions at the HTTP level, on SQLite and PostgreSQL (docs/console.md): the cookie
opens what the API key or agent token it was opened with opens, every change needs the CSRF
token, and logging out, rotating the key or revoking the token ends the session."""

import os
import time
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.domain.console_session import IDLE_LIMIT
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import Account

SESSION = "/api/session"
CAMPAIGNS = "/api/campaign/voice"


def log_in(client: TestClient, **body: str) -> str:
    """Open a session in the client's cookie jar; its CSRF token."""
    answer = client.post(SESSION, json=body)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["csrfToken"]
    return token


def test_log_in_sets_an_http_only_strict_cookie_and_answers_who(
    client: TestClient, account: Account
) -> None:
    answer = client.post(SESSION, json={"apiKey": account.key})
    assert answer.status_code == 201, answer.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("dialer_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS it is Secure (below)
    assert account.key not in cookie
    body = answer.json()
    assert body["kind"] == "manager"
    assert body["agent"] is None
    assert body["tenant"] == {"id": account.tenant.id, "name": "Acme"}
    again = client.get(SESSION)
    assert again.status_code == 200
    assert again.json()["csrfToken"] == body["csrfToken"]
    listed = client.get(CAMPAIGNS)  # the cookie alone, no Authorization header
    assert listed.status_code == 200, listed.text


def test_the_cookie_is_secure_when_the_request_came_over_tls(
    container: Container, account: Account
) -> None:
    with TestClient(container.app(), base_url="https://testserver") as tls:
        answer = tls.post(SESSION, json={"apiKey": account.key})
    assert answer.status_code == 201
    assert "Secure" in answer.headers["set-cookie"]


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, account: Account
) -> None:
    csrf = log_in(client, apiKey=account.key)
    refused = client.post(CAMPAIGNS, json=account.campaign())
    assert refused.status_code == 403, refused.text
    assert refused.json()["title"] == "Forbidden"
    wrong = client.post(CAMPAIGNS, json=account.campaign(), headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status_code == 403
    foreign = client.post(
        CAMPAIGNS,
        json=account.campaign(),
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert client.get(CAMPAIGNS).json() == []
    made = client.post(
        CAMPAIGNS,
        json=account.campaign(),
        headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"},
    )
    assert made.status_code == 201, made.text
    assert len(client.get(CAMPAIGNS).json()) == 1


def test_logging_out_ends_the_session_on_the_server(client: TestClient, account: Account) -> None:
    csrf = log_in(client, apiKey=account.key)
    cookie = client.cookies["dialer_session"]
    assert client.delete(SESSION).status_code == 403  # logging out is a change: CSRF too
    assert client.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 204
    # The same cookie sent again (a copy kept by an attacker, or the back button) opens nothing.
    client.cookies.set("dialer_session", cookie)
    assert client.get(CAMPAIGNS).status_code == 401
    assert client.get(SESSION).status_code == 401


def test_a_managers_session_sees_only_its_own_tenant(
    client: TestClient, account: Account, other_account: Account
) -> None:
    theirs = client.post(CAMPAIGNS, json=other_account.campaign(), headers=other_account.headers)
    assert theirs.status_code == 201
    campaign_id = theirs.json()["id"]
    csrf = log_in(client, apiKey=account.key)
    assert client.get(CAMPAIGNS).json() == []
    assert client.get(f"{CAMPAIGNS}/{campaign_id}").status_code == 404
    changed = client.put(
        f"{CAMPAIGNS}/{campaign_id}", json=other_account.campaign(), headers={"X-CSRF-Token": csrf}
    )
    assert changed.status_code == 404
    gone = client.delete(f"{CAMPAIGNS}/{campaign_id}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 404
    assert (
        client.get(f"{CAMPAIGNS}/{campaign_id}", headers=other_account.headers).status_code == 200
    )


def test_rotating_the_api_key_ends_the_managers_sessions(
    client: TestClient, container: Container, account: Account
) -> None:
    log_in(client, apiKey=account.key)
    assert client.get(CAMPAIGNS).status_code == 200
    container.tenants.rotate_key(account.tenant.id)
    assert client.get(CAMPAIGNS).status_code == 401
    assert client.get(SESSION).status_code == 401


def test_an_agents_session_reaches_the_desk_only(
    client: TestClient, container: Container, account: Account
) -> None:
    agent = container.catalog.add_agent(account.tenant, "SIPSIP1", "Walter Melon")
    token = container.agent_desk.issue_token(account.tenant, agent.id)[1]
    csrf = log_in(client, agentToken=token)
    who = client.get(SESSION).json()
    assert who["kind"] == "agent"
    assert who["agent"] == {"id": agent.id, "member": "SIPSIP1", "name": "Walter Melon"}
    me = client.get("/api/agents/me")
    assert me.status_code == 200, me.text
    for path in (CAMPAIGNS, "/api/dnc", "/api/webhook", "/api/agents/sessions"):
        refused = client.get(path)
        assert refused.status_code == 403, (path, refused.text)
    made = client.post(CAMPAIGNS, json=account.campaign(), headers={"X-CSRF-Token": csrf})
    assert made.status_code == 403
    rotated = client.post("/api/tenant/api-key", headers={"X-CSRF-Token": csrf})
    assert rotated.status_code == 403
    # Revoking the agent's tokens ends the desk's session too.
    container.agent_desk.revoke_tokens(account.tenant, agent.id, None)
    assert client.get("/api/agents/me").status_code == 401


def test_a_managers_session_does_not_open_the_desk(client: TestClient, account: Account) -> None:
    log_in(client, apiKey=account.key)
    assert client.get("/api/agents/me").status_code == 403


def test_a_bad_or_idle_cookie_is_401(
    client: TestClient, container: Container, account: Account
) -> None:
    client.cookies.set("dialer_session", "not-a-session")
    assert client.get(CAMPAIGNS).status_code == 401
    client.cookies.clear()
    log_in(client, apiKey=account.key)
    container.clock.advance(IDLE_LIMIT - timedelta(minutes=1))
    assert client.get(CAMPAIGNS).status_code == 200  # seen: the idle limit starts again
    container.clock.advance(IDLE_LIMIT - timedelta(minutes=1))
    assert client.get(CAMPAIGNS).status_code == 200
    container.clock.advance(IDLE_LIMIT)
    assert client.get(CAMPAIGNS).status_code == 401


def test_a_bad_log_in_is_refused_without_a_cookie(client: TestClient, account: Account) -> None:
    wrong = client.post(SESSION, json={"apiKey": "dk_wrong"})
    assert wrong.status_code == 401
    assert "set-cookie" not in wrong.headers
    both = client.post(SESSION, json={"apiKey": account.key, "agentToken": "agt_x"})
    assert both.status_code == 400
    assert client.post(SESSION, json={"apiKey": 7}).status_code == 401
    assert client.post(SESSION, json=["x"]).status_code == 400
    # Another site's page cannot log the browser in to its own tenant (login CSRF).
    forged = client.post(
        SESSION, json={"apiKey": account.key}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    # An API key is not an agent token, nor the other way round.
    assert client.post(SESSION, json={"agentToken": account.key}).status_code == 401


def test_the_api_key_header_still_works_beside_a_cookie(
    client: TestClient, account: Account, other_account: Account
) -> None:
    """An Authorization header wins over the cookie and needs no CSRF token."""
    log_in(client, apiKey=account.key)
    made = client.post(CAMPAIGNS, json=other_account.campaign(), headers=other_account.headers)
    assert made.status_code == 201
    assert client.get(CAMPAIGNS).json() == []


def test_logging_out_ends_the_consoles_open_live_events(
    settings: Settings, container: Container, account: Account
) -> None:
    """GET /api/events, opened with a manager's session, ends with ``event: revoked`` once the
    console logs out: the tenant's live figures stop reaching a logged-out browser."""
    env = {**os.environ, "DIALER_DATABASE_URL": settings.database_url}
    with (
        serving(env, "--no-engine") as (_, base),
        httpx.Client(base_url=base, timeout=httpx.Timeout(30.0, read=60.0)) as http,
    ):
        opened = http.post(SESSION, json={"apiKey": account.key})
        assert opened.status_code == 201, opened.text
        csrf = opened.json()["csrfToken"]
        with http.stream("GET", "/api/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            assert http.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 204
            rest = []
            deadline = time.monotonic() + 60  # pings come every 15 s: a stream going on ends
            for line in lines:
                rest.append(line)
                if time.monotonic() > deadline:
                    break
        assert "event: revoked" in rest


def test_logging_out_ends_the_desks_open_event_stream(
    settings: Settings, container: Container, account: Account
) -> None:
    """The desk's event stream, opened with the session, ends with ``event: revoked`` once the
    console logs out (a live server: the stream is an endless answer)."""
    agent = container.catalog.add_agent(account.tenant, "SIPSIP1", "Walter Melon")
    token = container.agent_desk.issue_token(account.tenant, agent.id)[1]
    env = {**os.environ, "DIALER_DATABASE_URL": settings.database_url}
    with (
        serving(env, "--no-engine") as (_, base),
        httpx.Client(base_url=base, timeout=httpx.Timeout(30.0, read=60.0)) as http,
    ):
        opened = http.post(SESSION, json={"agentToken": token})
        assert opened.status_code == 201, opened.text
        csrf = opened.json()["csrfToken"]
        with http.stream("GET", "/api/agents/me/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            assert http.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 204
            # The server ends the stream; a keep-alive comes every 15 s, so a stream that goes
            # on is seen going on past a generous deadline instead of hanging the test.
            rest = []
            deadline = time.monotonic() + 60
            for line in lines:
                rest.append(line)
                if time.monotonic() > deadline:
                    break
        assert "event: revoked" in rest
        http.cookies.set("dialer_session", "")
        assert http.get("/api/agents/me").status_code == 401

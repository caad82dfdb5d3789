"""GET /api/agents/me/events from a live `dialer serve`, on SQLite and PostgreSQL: the changes
another process makes (here the test's, through the store and its own app) arrive in order,
with the screen pop; Last-Event-ID resumes; a revoked token ends the stream."""

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import Account
from tests.integration.agent_support import ME, Desk


@pytest.fixture
def live(settings: Settings, container: Container) -> Iterator[str]:
    env = {**os.environ, "DIALER_DATABASE_URL": settings.database_url}
    with serving(env, "--no-engine") as (_, base):
        yield base


def _events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The next ``count`` events of a stream (comments and the retry hint skipped)."""
    found: list[dict[str, Any]] = []
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "event" in event:
                found.append(event)
                if len(found) == count:
                    return found
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value
    return found


def test_the_stream_tails_changes_in_order_with_the_screen_pop_and_resumes(
    live: str, container: Container, client: TestClient, account: Account
) -> None:
    desk = Desk(container, client, account)
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    with httpx.Client(base_url=live, headers=token, timeout=10) as http:
        with http.stream("GET", f"{ME}/events") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            desk.post(token, "login", {"phone": "sim:agent-1"})
            desk.answered(alice)
            desk.reserve(alice)
            desk.bridged(alice)
            desk.call_over(alice)
            desk.post(token, "ready")
            events = _events(stream.iter_lines(), 6)
        states = [event["data"]["state"] for event in events]
        assert states == ["paused", "ready", "reserved", "talking", "wrap-up", "ready"]
        ids = [int(event["id"]) for event in events]
        assert ids == sorted(ids)
        assert ids == [event["data"]["id"] for event in events]
        assert all(event["event"] == "state" for event in events)
        assert events[0]["data"]["reason"] == "phone-connecting"
        for event in events[2:5]:
            pop = event["data"]["customer"]
            assert pop["number"] == "+447722123456"
            assert pop["name"] == "ben"
            assert pop["customData"] == {"var_leadID": 889}
        assert events[3]["data"]["customer"]["bridgedAt"] is not None
        assert events[5]["data"]["customer"] is None

        # A reconnecting client names the last event it saw and gets everything after it.
        resume = {"Last-Event-ID": str(ids[1])}
        with http.stream("GET", f"{ME}/events", headers=resume) as stream:
            again = _events(stream.iter_lines(), 4)
        assert [int(event["id"]) for event in again] == ids[2:]

        # Without Last-Event-ID the stream begins with the agent's current state.
        with http.stream("GET", f"{ME}/events") as stream:
            lines = stream.iter_lines()
            (current,) = _events(lines, 1)
            assert int(current["id"]) == ids[-1]
            assert current["data"]["state"] == "ready"
            revoked = client.delete(f"/api/agents/{alice}/tokens", headers=account.headers)
            assert revoked.status_code == 204
            (last,) = _events(lines, 1)
            assert last["event"] == "revoked"
            assert list(lines) == []  # and the server ends the stream

        assert http.get(f"{ME}/events").status_code == 401


def test_a_bad_last_event_id_is_a_400(live: str, container: Container, client: TestClient) -> None:
    account = Account(container, "Acme")
    desk = Desk(container, client, account)
    token = desk.token(desk.agent("SIPSIP1"))
    with httpx.Client(base_url=live, headers=token, timeout=10) as http:
        for bad in ("x", "-1", "1.5", "99999999999999999999"):
            answer = http.get(f"{ME}/events", headers={"Last-Event-ID": bad})
            assert answer.status_code == 400, bad
        assert http.get(f"{ME}/events", headers=account.headers).status_code == 401

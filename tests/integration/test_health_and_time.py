"""GET /health (store and engine) and GET /api/time (the service clock), on both stores."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container, build
from dialer.clocks import RealTimer
from dialer.settings import Settings
from dialer.testing.postgres import PostgresServer
from tests.integration.engine_support import Rig


def test_health_is_ok_when_the_store_answers(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "store": "ok", "engine": "not run by this process"}


def test_health_is_503_naming_the_store_when_postgresql_stops() -> None:
    """A PostgreSQL server of its own, stopped under the running service (SQLite is a file the
    process opens itself: there is no server to lose)."""
    server = PostgresServer().start()
    running = True
    try:
        container = build(Settings(database_url=server.create_database()))
        try:
            with TestClient(container.app(), raise_server_exceptions=False) as client:
                assert client.get("/health").status_code == 200
                server.stop()
                running = False
                answer = client.get("/health")
        finally:
            container.close()
    finally:
        if running:
            server.stop()
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["store"].startswith("the store does not answer")
    assert body["engine"] == "not run by this process"


def test_health_reports_an_engine_that_stopped(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = rig.engine()
    assert runtime.problem() == "the engine has not started"

    async def crash(stop: asyncio.Event) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("lost its network")

    monkeypatch.setattr(runtime.engine, "run", crash)
    seen: list[str | None] = []

    async def scenario() -> None:
        async with runtime.running():
            seen.append(runtime.problem())
            for _ in range(10):  # let the engine task run to its end
                await asyncio.sleep(0)
            seen.append(runtime.problem())

    with pytest.raises(RuntimeError, match="lost its network"):  # re-raised when stopping
        asyncio.run(scenario())
    assert seen == [None, "the engine stopped: RuntimeError: lost its network"]
    with TestClient(rig.container.app(None, runtime.problem)) as client:
        answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "store": "ok",
        "engine": "the engine stopped: RuntimeError: lost its network",
    }


def test_time_is_the_injected_clock(client: TestClient, container: Container) -> None:
    answer = client.get("/api/time")
    assert answer.status_code == 200
    body = answer.json()
    assert body["now"] == "2025-09-30T08:00:00.000Z"  # the ManualClock of the fixtures
    assert body["speed"] == 1.0
    assert body["anchor"] is None
    assert body["wallClock"] != body["now"]


def test_time_under_a_speed_runs_from_its_anchor(database_url: str, tmp_path: Path) -> None:
    anchor = datetime.now(UTC) - timedelta(hours=1)
    container = build(Settings(database_url=database_url), clock=RealTimer(60.0, anchor))
    try:
        with TestClient(container.app()) as client:
            body = client.get("/api/time").json()
    finally:
        container.close()
    assert body["speed"] == 60.0
    assert body["anchor"] == anchor.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    now = datetime.fromisoformat(body["now"])
    wall = datetime.fromisoformat(body["wallClock"])
    # An hour of wall time since the anchor is sixty hours of service time.
    assert now - anchor >= 59 * (wall - anchor)
    assert now > wall + timedelta(hours=50)

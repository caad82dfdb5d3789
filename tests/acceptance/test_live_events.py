"""GET /api/events across processes, on SQLite and PostgreSQL: a `dialer worker` dials a
campaign on the simulated network while a browser-like client reads the stream of a
`dialer serve --no-engine` process; the campaign's summary in the stream reaches its final
counts (PostgreSQL: LISTEN/NOTIFY; SQLite: the data_version watch). Another tenant's stream,
open all along, shows none of it."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import Account
from tests.integration.engine_support import all_day_body, drama

NUMBERS = 12


async def _events(
    http: httpx.AsyncClient, key: str, into: list[tuple[str, Any]], until: Any = None
) -> None:
    """Read the stream into ``into`` until ``until(event, data)`` says so (or for ever)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with http.stream("GET", "/api/events", headers=headers) as stream:
        assert stream.status_code == 200, await stream.aread()
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event is not None:
                data = json.loads(line.removeprefix("data: "))
                into.append((event, data))
                if until is not None and until(event, data):
                    return


def test_a_workers_progress_reaches_the_stream_of_a_serve_process(
    database_url: str, tmp_path: Path
) -> None:
    container = build(Settings(database_url=database_url))
    try:
        # Acme may call at any hour: the worker runs on the wall clock (sped up), and the
        # default calling hours (08:00-21:00, callee-local) would hold every call at night.
        acme = Account(container, "Acme", calling_hours="00:00-23:59")
        globex = Account(container, "Globex")
        today = datetime.now(ZoneInfo("Europe/London")).date()
        body = all_day_body(today, acme.callflow_id, acme.cli_id, drama(0))
        body["phoneNumbers"] = [{"number": drama(n)} for n in range(NUMBERS)]
        campaign_id = container.campaigns.create(acme.tenant, body).campaign.id
    finally:
        container.close()

    env = {**os.environ, "DIALER_DATABASE_URL": database_url}
    worker_out = tmp_path / "worker.out"
    with serving(env, "--no-engine") as (_, base):
        acme_seen: list[tuple[str, Any]] = []
        globex_seen: list[tuple[str, Any]] = []

        def first_summary(event: str, data: Any) -> bool:
            return event == "campaign" and data["id"] == campaign_id

        def finished(event: str, data: Any) -> bool:
            return first_summary(event, data) and data["done"] == NUMBERS

        async def scenario() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                others = asyncio.create_task(_events(http, globex.key, globex_seen))
                reading = asyncio.create_task(_events(http, acme.key, acme_seen, finished))
                # The stream begins with the campaign as it is, nothing dialled; only then
                # does the worker start, so what follows came from the other process.
                while not any(first_summary(*seen) for seen in acme_seen):
                    assert not reading.done(), reading
                    await asyncio.sleep(0.05)
                assert acme_seen[0][1]["pending"] == NUMBERS
                with worker_out.open("wb") as out:
                    worker = subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "dialer",
                            "worker",
                            "--database",
                            database_url,
                            "--speed",
                            "60",
                            "--seed",
                            "3",
                        ],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                try:
                    await asyncio.wait_for(reading, timeout=120)
                finally:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(timeout=60)
                others.cancel()

        started = time.monotonic()
        try:
            asyncio.run(scenario())
        except TimeoutError:
            raise AssertionError(worker_out.read_text(errors="replace")[-3000:]) from None
        assert time.monotonic() - started < 300
    final = acme_seen[-1][1]
    assert (final["done"], final["pending"], final["claimed"]) == (NUMBERS, 0, 0)
    assert sum(final["outcomes"].values()) == NUMBERS
    assert final["state"] == "Finished"
    # The other tenant's stream carried nothing of Acme's (it has no campaign of its own).
    assert not [data for event, data in globex_seen if event == "campaign"]


def test_an_open_events_stream_does_not_keep_the_server_from_stopping(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    container = build(Settings(database_url=url))
    try:
        _, key = container.tenants.create("Acme")
    finally:
        container.close()
    headers = {"Authorization": f"Bearer {key}"}
    with serving({**os.environ, "DIALER_DATABASE_URL": url}, "--no-engine") as (process, base):
        with (
            httpx.Client(base_url=base, headers=headers, timeout=20) as http,
            http.stream("GET", "/api/events") as stream,
        ):
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            process.send_signal(signal.SIGTERM)
            # The server ends the stream (a ping comes every 15 s while it lives).
            deadline = time.monotonic() + 20
            for line in lines:
                assert time.monotonic() < deadline, "the stream outlived the stop signal"
                assert line in ("", "event: ping", "data: {}"), line
        # uvicorn re-raises the SIGTERM once it has shut down cleanly.
        assert process.wait(timeout=20) == -signal.SIGTERM

"""`dialer serve` stops on SIGTERM while an agent's event stream is open: the stream ends (its
client reconnects elsewhere with Last-Event-ID) instead of holding the server up for ever."""

import os
import signal
import time
from pathlib import Path

import httpx

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving


def test_an_open_event_stream_does_not_keep_the_server_from_stopping(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    container = build(Settings(database_url=url))
    try:
        tenant, _ = container.tenants.create("Acme")
        agent = container.catalog.add_agent(tenant, "SIPSIP1", "Alice")
        _, token = container.agent_desk.issue_token(tenant, agent.id)
    finally:
        container.close()
    headers = {"Authorization": f"Bearer {token}"}
    with serving({**os.environ, "DIALER_DATABASE_URL": url}, "--no-engine") as (process, base):
        with (
            httpx.Client(base_url=base, headers=headers, timeout=20) as http,
            http.stream("GET", "/api/agents/me/events") as stream,
        ):
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            process.send_signal(signal.SIGTERM)
            # The server ends the stream (a keep-alive comes every 15 s while it lives).
            deadline = time.monotonic() + 20
            for line in lines:
                assert time.monotonic() < deadline, "the stream outlived the stop signal"
                assert line in ("", ": keep-alive"), line
        # uvicorn re-raises the SIGTERM once it has shut down cleanly.
        assert process.wait(timeout=20) == -signal.SIGTERM

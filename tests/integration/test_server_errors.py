"""An unexpected error is a 500 problem that keeps the client's keep-alive connection open
(issue 10: each REST 500 used to close it), with the trace in the server's log only."""

import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from dialer.bootstrap import Container
from dialer.testing.server import free_port
from tests.conftest import Account


@pytest.fixture
def broken_server(container: Container) -> Iterator[int]:
    """The real app on a real uvicorn, with the DNC listing broken as a bug would break it."""
    app = container.app()

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    app.state.dnc.listed = broken
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=30)


def test_a_500_keeps_the_connection(broken_server: int, account: Account) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", broken_server, timeout=10)
    connection.request("GET", "/api/dnc", headers=account.headers)
    failed = connection.getresponse()
    body = json.loads(failed.read())
    assert (failed.status, body["title"], body["detail"]) == (
        500,
        "Internal Server Error",
        "The error was logged.",
    )
    assert "a bug" not in json.dumps(body)
    socket = connection.sock
    connection.request("GET", "/api/dnc?number=07700900123", headers=account.headers)
    fine = connection.getresponse()
    assert (fine.status, json.loads(fine.read())["listed"]) == (200, False)
    assert connection.sock is socket  # the same connection carried both
    connection.close()

"""Stopping `dialer serve`, gently or not, leaves none of its worker processes behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.acceptance.test_cli_and_server import free_port


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return found
    for child in children:
        found |= {int(child), *descendants(int(child))}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_workers_go_with_the_server(stop: signal.Signals, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "dialer", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
    helpers = descendants(server.pid)
    assert len(helpers) >= 2, "the number-parsing pool should be running"
    server.send_signal(stop)
    server.wait(timeout=30)
    # Bounded wait, not a timing assertion: the helpers notice their server is gone and leave.
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in helpers if alive(pid)] == []

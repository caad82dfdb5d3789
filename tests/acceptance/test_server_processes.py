"""Stopping `dialer serve`, gently or not, leaves none of its worker processes behind."""

import os
import signal
import time
from pathlib import Path

import pytest

from dialer.testing.server import serving


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
    except (FileNotFoundError, ProcessLookupError):
        # Gone before the open, or reaped between the open and the read (the kernel answers
        # ESRCH then): either way, not alive.
        return False
    return state != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_workers_go_with_the_server(stop: signal.Signals, tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    with serving(env) as (server, _):
        helpers = descendants(server.pid)
        assert len(helpers) >= 2, "the number-parsing pool should be running"
        server.send_signal(stop)
        server.wait(timeout=30)
    # Bounded wait, not a timing assertion: the helpers notice their server is gone and leave.
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in helpers if alive(pid)] == []

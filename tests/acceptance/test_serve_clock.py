"""`dialer serve --speed N` says where its clock is anchored, and a restart can carry on from it;
/health and /api/time answer on the real server."""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx

from dialer.testing.server import free_port


@contextmanager
def serve(env: dict[str, str], *extra: str) -> Iterator[tuple[str, str]]:
    """A real server; yields its base URL and the line it printed about its clock."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dialer", "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        clock_line = ""
        for line in process.stdout:
            if line.startswith("clock:"):
                clock_line = line.strip()
                break
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "dialer serve exited"
                assert time.monotonic() < deadline, "dialer serve did not answer"
                time.sleep(0.2)
        yield base, clock_line
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_anchor_is_printed_and_reused(tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    with serve(env, "--speed", "60") as (base, line):
        found = re.search(r"--speed 60 --clock-anchor (\d+\.\d+)$", line)
        assert found, line
        anchor = float(found.group(1))
        first = httpx.get(f"{base}/api/time").json()
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "store": "ok", "engine": "ok"}
    assert first["speed"] == 60.0
    assert abs(datetime.fromisoformat(first["anchor"]).timestamp() - anchor) < 0.001  # ms in JSON
    with serve(env, "--speed", "60", "--clock-anchor", found.group(1)) as (base, line):
        again = httpx.get(f"{base}/api/time").json()
        assert f"--clock-anchor {found.group(1)}" in line
    # The same anchor: the service's time carried on from where it was, at 60 times real time.
    assert again["anchor"] == first["anchor"]
    assert datetime.fromisoformat(again["now"]) > datetime.fromisoformat(first["now"])

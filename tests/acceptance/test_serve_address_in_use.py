"""A second `dialer serve` on an address another server holds fails at once, with one line.

SO_REUSEPORT (for --workers) used to let it join the first server's port silently, and the
kernel then split requests between two servers, even ones on different stores.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from dialer.testing.server import serving


def _serve(env: dict[str, str], port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dialer", "serve", "--port", str(port), "--no-engine", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _env(path: Path) -> dict[str, str]:
    return {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{path}"}


def test_a_second_server_on_the_port_of_a_running_one_is_refused(tmp_path: Path) -> None:
    with serving(_env(tmp_path / "first.db"), "--no-engine", "--workers", "2") as (_, base):
        port = int(base.rsplit(":", 1)[1])
        for extra in ((), ("--workers", "2")):
            second = _serve(_env(tmp_path / "second.db"), port, *extra)
            assert second.returncode == 2
            assert second.stderr.splitlines() == [f"error: 127.0.0.1:{port} is already in use"]
        # The second store was never touched, and the first server still answers every request.
        assert not (tmp_path / "second.db").exists()
        for _ in range(20):
            with httpx.Client() as client:
                assert client.get(f"{base}/openapi.json").status_code == 200


def test_a_port_held_by_another_program_is_refused(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        second = _serve(_env(tmp_path / "dialer.db"), port)
    assert second.returncode == 2
    assert second.stderr.splitlines() == [f"error: 127.0.0.1:{port} is already in use"]

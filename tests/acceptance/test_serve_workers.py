"""`dialer serve --workers N`: API copies share the port, and die with the serving process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dialer.testing.postgres import PostgresServer
from dialer.testing.server import free_port, serving


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _copies(pid: int) -> list[int]:
    return [
        child
        for child in _children(pid)
        if b"--api-copy" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent's wait is missing.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_copies_answer_on_the_same_port_and_die_with_the_server(tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    with serving(env, "--no-engine", "--workers", "3") as (process, base):
        copies = _copies(process.pid)
        assert len(copies) == 2
        # New connections are spread over the three listeners; all of them must answer.
        for _ in range(30):
            with httpx.Client() as client:
                assert client.get(f"{base}/openapi.json").status_code == 200
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 20
        while any(_alive(copy) for copy in copies):
            assert time.monotonic() < deadline, "API copies outlived the killed server"
            time.sleep(0.1)


def test_a_wrong_worker_count_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "serve", "--workers", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers must be between 1 and 64" in done.stderr


def test_the_store_password_is_in_no_output_and_no_command_line(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    # The throwaway server trusts local connections, so any password connects.
    url = postgres_server.create_database().replace("://dialer@", "://dialer:hunter2@")
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    out = tmp_path / "serve.out"
    port = str(free_port())
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dialer",
                "serve",
                "--no-engine",
                "--workers",
                "2",
                "--port",
                port,
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while len(_copies(process.pid)) < 1 or b"serving on" not in out.read_bytes():
                assert process.poll() is None, out.read_text()
                assert time.monotonic() < deadline, "dialer serve did not start its copy"
                time.sleep(0.2)
            for copy in _copies(process.pid):
                assert b"hunter2" not in Path(f"/proc/{copy}/cmdline").read_bytes()
        finally:
            process.terminate()
            process.wait(timeout=30)
    printed = out.read_text()
    assert "serving on" in printed
    assert "hunter2" not in printed

"""A real `dialer serve` process on a free loopback port, for tests and benchmarks."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(env: dict[str, str], *extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start `dialer serve` with ``env``, wait until it answers, stop it (SIGTERM) afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dialer", "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError as exc:
                if process.poll() is not None:
                    raise RuntimeError(f"dialer serve exited with {process.returncode}") from exc
                if time.monotonic() > deadline:
                    raise RuntimeError("dialer serve did not answer within 60 s") from exc
                time.sleep(0.05)  # a poll interval: the tests wait for this start
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)

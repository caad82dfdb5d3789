"""Shared by the benchmarks: a real `dialer serve` process with a tenant, and a light client."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialer.testing.server import serving


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "dialer", *args], env=env, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the number-parsing workers sit under a forkserver)."""
    found: list[int] = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += [int(child), *descendants(int(child))]
    return found


@dataclass
class Server:
    base: str
    pid: int
    tenant: dict[str, Any]
    callflow_id: int
    cli_id: int


@contextmanager
def running_server(
    url: str,
    workdir: Path,
    region: str = "GB",
    cli_number: str = "+441632960000",
    workers: int = 1,
) -> Iterator[Server]:
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    tenant = cli(env, "tenant", "create", "Bench", "--region", region)
    flow = workdir / "flow.yaml"
    flow.write_text("message: 'Hello {Name}, {Parameter1} {Parameter2}'\nsms: 'Hi {Name}'\n")
    tid = str(tenant["id"])
    callflow = cli(env, "callflow", "create", "--tenant", tid, "--name", "b", str(flow))
    caller = cli(env, "cli", "create", "--tenant", tid, cli_number)
    # The APIs alone: an engine dialling in the same process would share their two cores
    # (bench/engine_throughput.py measures the engine).
    with serving(env, "--no-engine", "--workers", str(workers)) as (process, base):
        yield Server(base, process.pid, tenant, callflow["id"], caller["id"])


class RawHttp:
    """A minimal keep-alive HTTP/1.1 client for GETs: httpx spent as much CPU per request as
    the server did, on the same two cores, so the figures measured the client."""

    def __init__(self, base: str) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)

    async def __aenter__(self) -> "RawHttp":
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.writer.close()

    async def get(self, path_and_query: str) -> tuple[int, bytes]:
        self.writer.write(f"GET {path_and_query} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

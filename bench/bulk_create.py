"""POST one campaign of 100,000 numbers (each with a name and two parameters), then GET it back.

Runs a real `dialer serve` per backend (a SQLite file, then a throwaway PostgreSQL server) and
prints numbers/s for each step and the server's peak RSS (its worker processes listed apart).

    .venv/bin/python bench/bulk_create.py [--numbers 100000] [--backends sqlite,postgres]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from dialer.testing.postgres import PostgresServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "dialer", *args], env=env, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, object] = json.loads(out)
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


def run(backend: str, url: str, count: int, workdir: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": url}
    tenant = cli(env, "tenant", "create", "Bench")
    flow = workdir / "flow.yaml"
    flow.write_text("message: 'Hello {Name}, {Parameter1} {Parameter2}'\nsms: 'Hi {Name}'\n")
    callflow = cli(
        env, "callflow", "create", "--tenant", str(tenant["id"]), "--name", "b", str(flow)
    )
    caller = cli(env, "cli", "create", "--tenant", str(tenant["id"]), "+441632960000")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dialer", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        body = {
            "name": "Bulk",
            "startDate": "2026-12-01",
            "startTime": "09:00",
            "finishTime": "18:00",
            "callflow_Id": callflow["id"],
            "cli_Id": caller["id"],
            "attempts": [
                {"interval": 15, "attemptNumber": 1},
                {"interval": 60, "attemptNumber": 2},
            ],
            "phoneNumbers": [
                {
                    "number": f"07{700000000 + i * 7:09d}",
                    "name": f"Customer {i}",
                    "parameters": [
                        {"parameter": 1, "value": f"INV-{i:07d}"},
                        {"parameter": 2, "value": f"{(i % 997) + 0.5:.2f}"},
                    ],
                }
                for i in range(count)
            ],
        }
        payload = json.dumps(body).encode()
        headers = {
            "Authorization": f"Bearer {tenant['api_key']}",
            "Content-Type": "application/json",
        }
        with httpx.Client(timeout=600) as client:
            started = time.perf_counter()
            created = client.post(f"{base}/api/campaign/voice", content=payload, headers=headers)
            post_s = time.perf_counter() - started
            assert created.status_code == 201, created.text[:500]
            campaign_id = created.json()["id"]
            started = time.perf_counter()
            fetched = client.get(f"{base}/api/campaign/voice/{campaign_id}", headers=headers)
            get_s = time.perf_counter() - started
            assert len(fetched.json()["phoneNumbers"]) == count
        helpers = ", ".join(f"{peak_rss_mb(p):.0f}" for p in descendants(server.pid)) or "none"
        print(
            f"{backend:9s} POST {count} numbers: {post_s:6.2f} s = {count / post_s:8.0f} numbers/s"
            f" | GET: {get_s:5.2f} s = {count / get_s:8.0f} numbers/s"
            f" | end to end {count / (post_s + get_s):7.0f} numbers/s"
            f" | body {len(payload) / 1e6:.1f} MB"
            f" | server peak RSS {peak_rss_mb(server.pid):.0f} MB"
            f" (helper processes: {helpers} MB)",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"bulk_create: {args.numbers} numbers, {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                run("sqlite", f"sqlite:///{tmp}/bench.db", args.numbers, Path(tmp))
            else:
                server = PostgresServer().start()
                try:
                    run("postgres", server.create_database("bench"), args.numbers, Path(tmp))
                finally:
                    server.stop()


if __name__ == "__main__":
    main()

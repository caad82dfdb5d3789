"""POST one campaign of 100,000 numbers (each with a name and two parameters), then GET it back.

Runs a real `dialer serve` per backend (a SQLite file, then a throwaway PostgreSQL server) and
prints numbers/s for each step and the server's peak RSS (its worker processes listed apart).

    .venv/bin/python bench/bulk_create.py [--numbers 100000] [--backends sqlite,postgres]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from dialer.testing.postgres import PostgresServer
from server import descendants, peak_rss_mb, running_server

# A month ahead: the service refuses a campaign whose last window has closed, and the
# benchmark wants it accepted but not dialling.
FUTURE_DAY = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()


def run(backend: str, url: str, count: int, workdir: Path) -> None:
    with running_server(url, workdir) as server:
        body = {
            "name": "Bulk",
            "startDate": FUTURE_DAY,
            "startTime": "09:00",
            "finishTime": "18:00",
            "callflow_Id": server.callflow_id,
            "cli_Id": server.cli_id,
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
            "Authorization": f"Bearer {server.tenant['api_key']}",
            "Content-Type": "application/json",
        }
        with httpx.Client(timeout=600) as client:
            started = time.perf_counter()
            created = client.post(
                f"{server.base}/api/campaign/voice", content=payload, headers=headers
            )
            post_s = time.perf_counter() - started
            assert created.status_code == 201, created.text[:500]
            campaign_id = created.json()["id"]
            # GET answers a page at a time (docs/rest-api.md): read them all, 10,000 a page.
            started = time.perf_counter()
            fetched, after = 0, 0
            while after is not None:
                page = client.get(
                    f"{server.base}/api/campaign/voice/{campaign_id}",
                    params={"numbersLimit": 10_000, "numbersAfter": after},
                    headers=headers,
                ).json()
                fetched += len(page["phoneNumbers"])
                after = page["phoneNumbersNext"]
            get_s = time.perf_counter() - started
            assert fetched == count
        helpers = ", ".join(f"{peak_rss_mb(p):.0f}" for p in descendants(server.pid)) or "none"
        print(
            f"{backend:9s} POST {count} numbers: {post_s:6.2f} s = {count / post_s:8.0f} numbers/s"
            f" | GET: {get_s:5.2f} s = {count / get_s:8.0f} numbers/s"
            f" | POST+GET {count / (post_s + get_s):7.0f} numbers/s"
            f" | body {len(payload) / 1e6:.1f} MB"
            f" | server peak RSS {peak_rss_mb(server.pid):.0f} MB"
            f" (helper processes: {helpers} MB)",
            flush=True,
        )


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

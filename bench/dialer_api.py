"""The Dialer API under load: 100 AddCallsBulk requests of 1,000 destinations, then 5,000 single
AddCall GET requests from 8 concurrent clients; on SQLite and on PostgreSQL.

    .venv/bin/python bench/dialer_api.py [--bulk 100] [--bulk-size 1000] [--bulk-clients 4]
        [--calls 5000] [--clients 8] [--workers 2] [--backends sqlite,postgres]
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from dialer.testing.postgres import PostgresServer
from server import RawHttp, peak_rss_mb, running_server

# A month ahead: the service refuses a campaign whose last window has closed, and the
# benchmark wants it accepted but not dialling.
FUTURE_DAY = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

BASE = "/ForwardDialer/Dialer"


async def bulk(base: str, code: str, requests: int, size: int, clients: int) -> float:
    """AddCallsBulk bodies are built and encoded before the clock starts: making up test data is
    the client's work, and on two shared cores it was a fifth of a core taken from the server."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for r in range(requests):
        items = [
            {
                "Campaign": code,
                "Target": f"05{(r * size + i) % 100_000_000:08d}",
                "CustomerName": f"Lead {r}-{i}",
                "Priority": i % 10,
                "CustomData": {"var_LeadID": r * size + i},
            }
            for i in range(size)
        ]
        queue.put_nowait(orjson.dumps(items))
    headers = {"Content-Type": "application/json"}

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            response = await client.post(
                f"{base}{BASE}/AddCallsBulk", content=body, headers=headers
            )
            results = orjson.loads(response.content)["AddResult"]
            assert all(x["ErrorCode"] == 0 for x in results), results[:3]

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return time.perf_counter() - started


async def single_calls(base: str, code: str, total: int, clients: int) -> list[float]:
    """Each client a keep-alive connection sending one GET at a time (RawHttp: httpx's CPU per
    request, on the same two cores, was measured as server latency)."""
    latencies: list[float] = []
    per_client = total // clients

    async def client_loop(c: int) -> None:
        async with RawHttp(base) as http:
            for i in range(per_client):
                query = urlencode(
                    {
                        "Campaign": code,
                        "Target": f"052{(c * per_client + i):07d}",
                        "CustomerName": "JohnDoe",
                        "Priority": "42",
                        "var_leadID": str(i),
                    }
                )
                started = time.perf_counter()
                status, body = await http.get(f"{BASE}/AddCall?{query}")
                latencies.append(time.perf_counter() - started)
                assert status == 200, body
                assert orjson.loads(body)["ErrorCode"] == 0, body

    await asyncio.gather(*(client_loop(c) for c in range(clients)))
    return latencies


def run(backend: str, url: str, args: argparse.Namespace, workdir: Path) -> None:
    with running_server(
        url, workdir, region="IL", cli_number="0722776772", workers=args.workers
    ) as server:
        body = {
            "name": "Dialer API bench",
            "startDate": FUTURE_DAY,
            "startTime": "09:00",
            "finishTime": "18:00",
            "callflow_Id": server.callflow_id,
            "cli_Id": server.cli_id,
            "phoneNumbers": [{"number": "0501111111"}],
        }
        headers = {"Authorization": f"Bearer {server.tenant['api_key']}"}
        created = httpx.post(f"{server.base}/api/campaign/voice", json=body, headers=headers)
        code = created.json()["code"]
        bulk_s = asyncio.run(bulk(server.base, code, args.bulk, args.bulk_size, args.bulk_clients))
        added = args.bulk * args.bulk_size
        latencies = asyncio.run(single_calls(server.base, code, args.calls, args.clients))
        ms = sorted(x * 1000 for x in latencies)
        p50 = statistics.median(ms)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        wall = sum(latencies) / args.clients  # each client's requests run back to back
        print(
            f"{backend:9s} AddCallsBulk {args.bulk}x{args.bulk_size}"
            f" ({args.bulk_clients} clients, {args.workers} API processes):"
            f" {bulk_s:6.2f} s = {added / bulk_s:7.0f} destinations/s"
            f" | AddCall x{len(ms)} ({args.clients} clients): p50 {p50:5.1f} ms, p99 {p99:5.1f} ms,"
            f" ~{len(ms) / wall:5.0f} calls/s | server peak RSS {peak_rss_mb(server.pid):.0f} MB",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bulk", type=int, default=100)
    parser.add_argument("--bulk-size", type=int, default=1000)
    parser.add_argument("--bulk-clients", type=int, default=4)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=2, help="dialer serve --workers: API processes"
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                run("sqlite", f"sqlite:///{tmp}/bench.db", args, Path(tmp))
            else:
                pg = PostgresServer().start()
                try:
                    run("postgres", pg.create_database("bench"), args, Path(tmp))
                finally:
                    pg.stop()


if __name__ == "__main__":
    main()

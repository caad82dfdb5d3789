"""The cost of N open live consoles: N clients read GET /api/events from a real `dialer serve
--no-engine` while a `dialer worker` dials 20 campaigns on the simulated network (SQLite);
for N = 1, 10, 50 the server's CPU per second and RSS, and the events each client received.

    .venv/bin/python bench/live_events.py [--seconds 12] [--counts 1,10,50]

The worker shares the machine's cores with the server, so the figures are indicative.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from server import running_server

CAMPAIGNS = 20
NUMBERS = 500
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def reader(host: str, port: int, key: str, counts: list[int], slot: int) -> None:
    """A raw reader (httpx would spend as much CPU as the server): counts `event:` lines."""
    r, w = await asyncio.open_connection(host, port)
    w.write(
        f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
    )
    await w.drain()
    try:
        while chunk := await r.read(65536):
            counts[slot] += chunk.count(b"event: campaign")
    finally:
        w.close()


async def measure(base: str, pid: int, key: str, n: int, seconds: float) -> str:
    host, _, port = base.removeprefix("http://").partition(":")
    counts = [0] * n
    tasks = [asyncio.create_task(reader(host, int(port), key, counts, i)) for i in range(n)]
    await asyncio.sleep(2)  # connected, snapshots sent
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    before = list(counts)
    await asyncio.sleep(seconds)
    cpu = (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)
    rss = rss_mb(pid)
    events = [c - b for c, b in zip(counts, before, strict=True)]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return (
        f"{n:>4} {cpu * 100:>10.1f}% {rss:>9.1f} {min(events):>10} {max(events):>10}"
        f" {sum(events) / seconds:>10.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--counts", default="1,10,50")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'dialer.db'}"
        with running_server(url, workdir) as server:
            key = server.tenant["api_key"]
            headers = {"Authorization": f"Bearer {key}"}
            today = datetime.now(ZoneInfo("Europe/London")).date()
            day = {"startTime": "00:00", "finishTime": "23:59"}
            for c in range(CAMPAIGNS):
                body = {
                    "name": f"Campaign {c}",
                    "startDate": today.isoformat(),
                    **day,
                    "runoverDays": [{"date": (today + timedelta(days=1)).isoformat(), **day}],
                    "callflow_Id": server.callflow_id,
                    "cli_Id": server.cli_id,
                    "attempts": [{"attemptNumber": 1, "interval": 1}],
                    "answerMachineDetected": 0,
                    "smsOnBusy": 0,
                    "phoneNumbers": [{"number": f"+4477009{c:02d}{n:03d}"} for n in range(NUMBERS)],
                }
                made = httpx.post(
                    f"{server.base}/api/campaign/voice", json=body, headers=headers, timeout=60
                )
                made.raise_for_status()
            worker = subprocess.Popen(
                [sys.executable, "-m", "dialer", "worker", "--database", url, "--speed", "4"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                print(f"SQLite, {CAMPAIGNS} campaigns being dialled; {args.seconds:g} s per row")
                print(
                    f"{'N':>4} {'server CPU':>11} {'RSS MB':>9} {'min events':>10}"
                    f" {'max events':>10} {'events/s':>10}"
                )
                for n in (int(x) for x in args.counts.split(",")):
                    line = asyncio.run(measure(server.base, server.pid, key, n, args.seconds))
                    print(line, flush=True)
            finally:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=60)


if __name__ == "__main__":
    main()

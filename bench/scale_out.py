"""Scale-out: 1, 2 and 3 `dialer worker` processes on one PostgreSQL, zero-duration calls.

Two modes:

- ``open``: limits wide open, so only the machine holds the workers back (raw scale-out);
- ``limits``: every worker started with the same shared limits (calls in flight per campaign,
  calls per second per campaign, tenant and trunk) and a per-process capacity.

Each run makes a fresh database with three campaigns (two of one tenant, one of another), starts
N workers in real time (``--speed 1``) with the simulated network's zero-duration profile and a
``--call-log`` each, and waits until every destination is done. From the call logs (engine
clock): attempts/s from the first claim to the last call's end (process start-up is not
counted), and for each limit the most seen against the limit: claims in any one-second window
from the logs; calls in flight as the leases held, sampled every 10 ms from the database while
the run lasts (a zero-duration call holds its lease from claim to recording). ``+0`` or below
is kept; above is an overshoot.

    .venv/bin/python bench/scale_out.py [--numbers 3000] [--workers 1,2,3] [--modes open,limits]

What bounds it on a 2-core machine with PostgreSQL on it too: the cores. A worker dialling
flat out takes about one core (the engine is one Python event loop) and PostgreSQL a good part
of the other, so a second worker adds little and a third nothing; with limits open the only
row claims share is their campaign's (held a few milliseconds per claim of up to 200 calls),
so on more cores (or machines) the workers add up until PostgreSQL's CPU or disk is full, or,
for one campaign dialled flat out, its claims' turns. With the
limits set, the limits are what holds the rate, whatever the number of workers.

Figures are printed, never asserted. Keep runs short on a shared machine (the defaults take
about a minute here, in each mode; ``--modes limits`` runs one).
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from dialer.bootstrap import build
from dialer.domain.campaign import PhoneNumber
from dialer.settings import Settings
from dialer.testing.call_log import SECOND, LoggedCall, most_at_once, most_in_a_second, read_calls
from dialer.testing.postgres import PostgresServer

ZONE = "Europe/London"
FLOW = "message: 'Hello {Name}.'\nsms: 'Hi {Name}'\n"
# The limits of the "limits" mode: set so that each binds somewhere.
IN_FLIGHT, CAMPAIGN_CPS, TENANT_CPS, TRUNK_CPS, PROCESS_CALLS = 20, 150, 200, 300, 60
OPEN = ("--max-calls", "1000", "--max-cps", "1000000")
OPEN += ("--campaign-max-calls", "1000", "--campaign-cps", "1000000")
LIMITED = ("--max-calls", str(PROCESS_CALLS), "--max-cps", "1000000")
LIMITED += ("--campaign-max-calls", str(IN_FLIGHT), "--campaign-cps", str(CAMPAIGN_CPS))
LIMITED += ("--tenant-cps", str(TENANT_CPS), "--trunk-cps", str(TRUNK_CPS))


def national(i: int) -> str:
    return f"075{i:08d}"


def fill(url: str, numbers: int) -> dict[str, tuple[int, int]]:
    """Campaigns A, B (tenant 1) and C (tenant 2), ``numbers`` destinations between them:
    {name: (campaign id, tenant number)}."""
    container = build(Settings(database_url=url))
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    day = {"startTime": "00:00", "finishTime": "23:59"}
    made: dict[str, tuple[int, int]] = {}
    try:
        accounts = {}
        for n in (1, 2):
            tenant, _ = container.tenants.create(f"Bench {n}", "GB", ZONE, "00:00-23:59")
            flow = container.catalog.add_callflow(tenant, "bench", FLOW)
            cli = container.catalog.add_cli(tenant, "+441632960000")
            accounts[n] = (tenant, flow.id, cli.id)
        share = numbers // 3
        for k, (name, n) in enumerate((("A", 1), ("B", 1), ("C", 2))):
            tenant, flow, cli = accounts[n]
            first = k * share
            body = {
                "name": name,
                "startDate": today.isoformat(),
                **day,
                "runoverDays": [{"date": (today + timedelta(days=1)).isoformat(), **day}],
                "callflow_Id": flow,
                "cli_Id": cli,
                "phoneNumbers": [{"number": national(first), "name": "C"}],
            }
            campaign = container.campaigns.create(tenant, body).campaign
            rows = [
                PhoneNumber(national(i), "+44" + national(i)[1:], "C", ())
                for i in range(first + 1, first + share)
            ]
            with container.store.write() as session:
                session.destinations.add_numbers(campaign.id, rows, datetime.now(UTC))
            made[name] = (int(campaign.id), n)
        return made
    finally:
        container.close()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process, with its reaped children's (PostgreSQL's exited backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICK


def postgres_cpu(server: PostgresServer) -> float:
    """The server's CPU so far: the postmaster with every backend, live or gone."""
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    total = cpu_seconds(postmaster)
    for child in children:
        with suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:13]) / TICK
    return total


def run(server: PostgresServer, folder: Path, workers: int, mode: str, numbers: int) -> str:
    url = server.create_database()
    campaigns = fill(url, numbers)
    ids = [cid for cid, _ in campaigns.values()]
    profile = folder / "zero.yaml"
    profile.write_text("zero_durations: true\n")
    flags = OPEN if mode == "open" else LIMITED
    logs = [folder / f"calls-{mode}-{workers}-{n}.log" for n in range(workers)]
    processes = []
    worker_cpu = 0.0
    database_cpu = postgres_cpu(server)
    try:
        for n, log in enumerate(logs):
            out = (folder / f"worker-{mode}-{workers}-{n}.out").open("wb")
            processes.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "dialer", "worker", "--database", url),
                        *("--profile", str(profile), "--call-log", str(log), *flags),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        leases = {"campaign": 0, "worker": 0}
        with psycopg.connect(url, autocommit=True) as conn:
            deadline = time.monotonic() + 120
            while True:
                sample(conn, leases)
                row = conn.execute(
                    "SELECT count(*) FROM destinations WHERE campaign_id = ANY(%s)"
                    " AND state <> 'done'",
                    (ids,),
                ).fetchone()
                if row is not None and row[0] == 0:
                    break
                if time.monotonic() > deadline:
                    return f"{workers} workers, {mode}: not done in 120 s ({row} left)"
                time.sleep(0.01)
            owner = dict(conn.execute("SELECT id, campaign_id FROM destinations").fetchall())
        worker_cpu = sum(cpu_seconds(p.pid) for p in processes)
        database_cpu = postgres_cpu(server) - database_cpu
    finally:
        for process in processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
    calls = [c for n, log in enumerate(logs) for c in read_calls(log, str(n))]
    cpu = f" | CPU: workers {worker_cpu:.1f} s, PostgreSQL {database_cpu:.1f} s (start-up included)"
    return report(calls, campaigns, owner, leases, workers, mode) + cpu


def sample(conn: psycopg.Connection[Any], most: dict[str, int]) -> None:
    """The live leases now, per campaign and per worker: what the limit on calls in flight
    counts (a zero-duration call is on the line for no time, but holds its lease from its claim
    until it is recorded). Sampled, so the true most may be higher than seen."""
    now = int(time.time() * SECOND)
    rows = conn.execute(
        "SELECT campaign_id, worker, count(*) FROM in_flight WHERE lease_until >= %s"
        " GROUP BY campaign_id, worker",
        (now,),
    ).fetchall()
    for key, column in (("campaign", 0), ("worker", 1)):
        totals: dict[Any, int] = {}
        for row in rows:
            totals[row[column]] = totals.get(row[column], 0) + int(row[2])
        most[key] = max([most[key], *totals.values()])


def report(
    calls: list[LoggedCall],
    campaigns: dict[str, tuple[int, int]],
    owner: dict[int, int],
    leases: dict[str, int],
    workers: int,
    mode: str,
) -> str:
    first = min(c.claimed for c in calls)
    last = max(c.ended or c.started for c in calls)
    seconds = max(1, last - first) / SECOND
    by_campaign = {
        name: [c for c in calls if owner[c.destination] == cid]
        for name, (cid, _) in campaigns.items()
    }
    # Calls on the line (from the logs) or leases held (sampled), whichever is more.
    in_flight = max(leases["campaign"], *(most_at_once(cs) for cs in by_campaign.values()))
    per_process = max(
        leases["worker"],
        *(most_at_once(c for c in calls if c.source == str(n)) for n in range(workers)),
    )
    campaign_window = max(most_in_a_second(c.claimed for c in cs) for cs in by_campaign.values())
    tenant_window = most_in_a_second(c.claimed for c in by_campaign["A"] + by_campaign["B"])
    trunk_window = most_in_a_second(c.claimed for c in calls)
    line = (
        f"{workers} worker{'s' if workers > 1 else ' '} {mode:6} {len(calls):6} attempts in"
        f" {seconds:5.1f} s = {len(calls) / seconds:7.0f} attempts/s | most seen"
    )
    if mode == "open":
        return (
            f"{line}: campaign in flight {in_flight}, per process {per_process}, calls in a"
            f" second: campaign {campaign_window}, tenant {tenant_window}, all {trunk_window}"
        )
    return (
        f"{line} (overshoot): campaign in flight {in_flight}/{IN_FLIGHT}"
        f" ({in_flight - IN_FLIGHT:+d}), per process {per_process}/{PROCESS_CALLS}"
        f" ({per_process - PROCESS_CALLS:+d}), a second: campaign"
        f" {campaign_window}/{CAMPAIGN_CPS} ({campaign_window - CAMPAIGN_CPS:+d}), tenant"
        f" {tenant_window}/{TENANT_CPS} ({tenant_window - TENANT_CPS:+d}), trunk"
        f" {trunk_window}/{TRUNK_CPS} ({trunk_window - TRUNK_CPS:+d})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=3000, help="destinations per run")
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--modes", default="open,limits")
    args: Any = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    modes = args.modes.split(",")
    print(
        f"scale_out: {args.numbers} destinations a run, zero-duration calls, {os.cpu_count()}"
        f" cores, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="dialer-scale-") as scratch:
            for mode in modes:
                for workers in counts:
                    # The limits mode runs at their pace: half the destinations say as much.
                    numbers = args.numbers if mode == "open" else args.numbers // 2
                    print(run(server, Path(scratch), workers, mode, numbers), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

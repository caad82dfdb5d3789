"""Two `dialer worker` processes on PostgreSQL; one is killed with SIGKILL again and again.

The issue's crash test: during a 5,000-destination campaign worker A is killed (SIGKILL, at
moments when it holds leased calls) and restarted, over and over, while worker B keeps running.
Afterwards no attempt was originated twice, every destination ended with a final outcome, and
every call the killed worker had in flight was recorded (as NoConnection, lease expired) by an
engine still alive. Both workers share one simulated clock (same --speed and --clock-anchor):
a simulated minute, the retry interval, is a real second.

Timing only paces the kills; every assertion holds whatever the machine's speed.
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dialer.bootstrap import build
from dialer.domain.codes import Outcome
from dialer.domain.retry import FINAL, RETRYABLE
from dialer.settings import Settings
from dialer.testing.postgres import PostgresServer

pytestmark = pytest.mark.postgres

SEED = 20251001
DESTINATIONS = 5_000
ATTEMPTS = 3
ZONE = "Europe/London"
# Kills that found worker A holding leased calls; it is killed this often at least.
HITS = 6
MAX_KILLS = 20
SPEED = 60  # simulated seconds per real second
LEASE_SECONDS = 20  # simulated: a third of a real second
# New calls per simulated second, per worker: 180 a real second. The rate, not the machine,
# sets how long the campaign lasts at the least (5,000 first attempts by two workers: 14 s),
# so the kills always fall inside it, on a fast machine too.
CPS = 3
FINISH_WITHIN = 240.0  # real seconds for the whole campaign; a bound, not a measurement
FLOW = "message: 'Hello {Name}, press 1 to confirm.'\nsms: 'Hi {Name}, we called.'\n"
REFERENCE = re.compile(r"(\d+):(\d+)")


def uk_mobiles(seed: int, count: int) -> list[str]:
    """``count`` distinct +447 numbers (prefixes 071-075 and 078 are all valid mobiles)."""
    rng = random.Random(seed)
    numbers: dict[str, None] = {}
    while len(numbers) < count:
        numbers[f"+447{rng.choice('123458')}{rng.randrange(10**8):08d}"] = None
    return list(numbers)


def campaign_body(callflow_id: int, cli_id: int, numbers: list[str]) -> dict[str, Any]:
    """Open all day today and the next two days in the tenant's zone, whenever the test runs."""
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    day = {"startTime": "00:00", "finishTime": "23:59"}
    return {
        "name": "Crash test",
        "startDate": today.isoformat(),
        **day,
        "runoverDays": [{"date": (today + timedelta(days=n)).isoformat(), **day} for n in (1, 2)],
        "callflow_Id": callflow_id,
        "cli_Id": cli_id,
        "attempts": [{"attemptNumber": n, "interval": 1} for n in range(1, ATTEMPTS + 1)],
        "answerMachineDetected": 1,
        "smsOnBusy": 1,
        "phoneNumbers": [{"number": n, "name": f"P{i}"} for i, n in enumerate(numbers)],
    }


def create_campaign(url: str, numbers: list[str]) -> int:
    container = build(Settings(database_url=url))
    try:
        tenant, _ = container.tenants.create("Crash", "GB", ZONE, "00:00-23:59")
        flow = container.catalog.add_callflow(tenant, "Reminder", FLOW)
        cli = container.catalog.add_cli(tenant, "+441632960000")
        detail = container.campaigns.create(tenant, campaign_body(flow.id, cli.id, numbers))
        return int(detail.campaign.id)
    finally:
        container.close()


class Worker:
    """One `dialer worker` process, restartable; output and origination log are appended to."""

    def __init__(
        self, name: str, folder: Path, url: str, anchor: float, speed: int = SPEED
    ) -> None:
        self.name = name
        self.origination_log = folder / f"originated-{name}.log"
        self.output = folder / f"worker-{name}.out"
        self._args = [
            sys.executable,
            "-m",
            "dialer",
            "worker",
            "--database",
            url,
            "--speed",
            str(speed),
            "--clock-anchor",
            repr(anchor),
            "--lease-seconds",
            str(LEASE_SECONDS),
            "--max-calls",
            "300",
            "--max-cps",
            str(CPS),
            "--campaign-max-calls",
            "300",
            "--campaign-cps",
            str(CPS),
            "--origination-log",
            str(self.origination_log),
            "--seed",
            str(SEED),
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        with self.output.open("ab") as out:
            out.write(f"--- start {len(self.started) + 1} of worker {self.name}\n".encode())
            out.flush()
            # A session of its own: the whole process group can be killed, children too.
            self.process = subprocess.Popen(
                self._args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(self.process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, as an operator would; returns the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=60)

    def clean_up(self) -> None:
        """Leave no process of any start behind, whatever happened."""
        for process in self.started:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            # The leader may be gone while a child lives on: sweep its group either way.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        if not self.output.exists():
            return f"(worker {self.name}: no output)"
        text = self.output.read_text(errors="replace").splitlines()[-lines:]
        return f"--- worker {self.name}, last {lines} lines of output:\n" + "\n".join(text)


def held_by(conn: psycopg.Connection[Any], pid: int) -> list[tuple[int, int]]:
    """The (destination, attempt) leases held by the worker process ``pid``."""
    rows = conn.execute(
        "SELECT destination_id, attempt_number FROM in_flight WHERE worker LIKE %s",
        (f"%:{pid}:%",),
    ).fetchall()
    return [(int(d), int(a)) for d, a in rows]


def progress(conn: psycopg.Connection[Any], campaign: int) -> dict[str, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM dial_queue WHERE campaign_id = %(c)s),"
        " (SELECT count(*) FROM in_flight WHERE campaign_id = %(c)s),"
        " (SELECT count(*) FROM destinations WHERE campaign_id = %(c)s AND state <> 'done'),"
        " (SELECT count(*) FROM destinations WHERE campaign_id = %(c)s),"
        " (SELECT count(*) FROM attempts WHERE campaign_id = %(c)s)",
        {"c": campaign},
    ).fetchone()
    assert row is not None
    queued, in_flight, not_done, destinations, attempts = (int(v) for v in row)
    return {
        "queued": queued,
        "in_flight": in_flight,
        "not_done": not_done,
        "destinations": destinations,
        "attempts": attempts,
    }


def stuck(conn: psycopg.Connection[Any], campaign: int, anchor: float) -> str:
    """What keeps a campaign from finishing, for a failure message."""
    rows = conn.execute(
        "SELECT d.id, d.state, d.attempts_made, d.last_outcome, q.due_at, f.attempt_number,"
        " f.worker, f.lease_until FROM destinations d"
        " LEFT JOIN dial_queue q ON q.destination_id = d.id"
        " LEFT JOIN in_flight f ON f.destination_id = d.id"
        " WHERE d.campaign_id = %s AND d.state <> 'done' ORDER BY d.id LIMIT 10",
        (campaign,),
    ).fetchall()
    leases = conn.execute(
        "SELECT worker, count(*), min(lease_until), max(lease_until) FROM in_flight GROUP BY worker"
    ).fetchall()
    return (
        "not done (id, state, attempts made, last outcome, queued due, leased attempt, worker,"
        f" lease until): {rows}\nleases by worker (count, earliest, latest): {leases}"
        f"\nsimulated now: {int((anchor + (time.time() - anchor) * SPEED) * 1e6)}"
    )


def finished(state: dict[str, int]) -> bool:
    return state["queued"] == 0 and state["in_flight"] == 0 and state["not_done"] == 0


def originations(worker: Worker) -> list[tuple[int, int]]:
    if not worker.origination_log.exists():
        return []
    lines = worker.origination_log.read_text().splitlines()
    bad = [line for line in lines if not REFERENCE.fullmatch(line)]
    assert bad == [], f"malformed lines in {worker.origination_log.name}: {bad[:5]}"
    return [(int(d), int(a)) for d, a in (line.split(":") for line in lines)]


def test_killing_a_worker_again_and_again_loses_and_repeats_no_call(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    numbers = uk_mobiles(SEED, DESTINATIONS)
    campaign = create_campaign(url, numbers)
    anchor = time.time()
    a = Worker("A", tmp_path, url, anchor)
    b = Worker("B", tmp_path, url, anchor)
    pace = random.Random(SEED)
    # Per kill, the leases worker A died holding.
    orphans: list[set[tuple[int, int]]] = []

    def diagnosis(state: dict[str, int] | None = None) -> str:
        return (
            f"campaign {state}; {len(orphans)} kills, leases left by each "
            f"{[len(o) for o in orphans]}\n{a.tail()}\n{b.tail()}"
        )

    def timed_out(conn: psycopg.Connection[Any], state: dict[str, int]) -> str:
        # Stopped first, so that what the workers say on the way out is in the message.
        report = stuck(conn, campaign, anchor)
        a.clean_up()
        b.clean_up()
        return f"the campaign did not finish within {FINISH_WITHIN:.0f} s; {report}\n" + (
            diagnosis(state)
        )

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            b.start()
            a.start()
            deadline = time.monotonic() + FINISH_WITHIN
            # Kill A at a seeded-random moment 1-2 s after each start, once it holds calls.
            while sum(1 for o in orphans if o) < HITS and len(orphans) < MAX_KILLS:
                time.sleep(pace.uniform(1.0, 2.0))
                while not held_by(conn, a.pid):
                    state = progress(conn, campaign)
                    assert not finished(state), (
                        "the campaign finished before worker A was killed often enough; "
                        + diagnosis(state)
                    )
                    assert a.alive(), "worker A exited by itself\n" + diagnosis(state)
                    if time.monotonic() > deadline:
                        pytest.fail(timed_out(conn, state))
                    time.sleep(0.02)
                a.kill()
                # A is dead: what it still holds only an engine alive can record.
                orphans.append(set(held_by(conn, a.pid)))
                assert b.alive(), "worker B exited by itself\n" + diagnosis()
                a.start()

            # Both run on until the campaign is over.
            while not finished(state := progress(conn, campaign)):
                assert a.alive(), "worker A exited by itself\n" + diagnosis(state)
                assert b.alive(), "worker B exited by itself\n" + diagnosis(state)
                if time.monotonic() > deadline:
                    pytest.fail(timed_out(conn, state))
                time.sleep(0.2)

            destinations = conn.execute(
                "SELECT id, number_e164, state, attempts_made, last_outcome FROM destinations"
                " WHERE campaign_id = %s",
                (campaign,),
            ).fetchall()
            attempts = conn.execute(
                "SELECT destination_id, attempt_number, outcome, cause FROM attempts"
                " WHERE campaign_id = %s ORDER BY destination_id, attempt_number",
                (campaign,),
            ).fetchall()
        # Stopped as an operator would; A's last start may still be importing, and so die of
        # the SIGTERM itself. A failure the engine survived shows as a traceback in its output.
        assert b.stop() == 0, diagnosis()
        assert a.stop() in (0, -signal.SIGTERM), diagnosis()
    finally:
        a.clean_up()
        b.clean_up()
    for worker in (a, b):
        assert "Traceback" not in worker.output.read_text(errors="replace"), worker.tail(80)

    # (6) Every destination is there, each once.
    assert len(destinations) == DESTINATIONS
    assert sorted(row[1] for row in destinations) == sorted(numbers)

    # (1) No attempt was originated twice, by either worker, in any of their lives.
    placed = originations(a) + originations(b)
    twice = {ref: n for ref, n in Counter(placed).items() if n > 1}
    assert twice == {}, f"attempts originated more than once, (destination, attempt): {twice}"

    # (2) Every destination is done, with a final outcome or out of attempts.
    made = {int(row[0]): int(row[3]) for row in destinations}
    not_done = [row for row in destinations if row[2] != "done"]
    assert not_done == [], f"{len(not_done)} destinations not done, e.g. {not_done[:5]}"
    final = {o.value for o in FINAL}
    retryable = {o.value for o in RETRYABLE}
    unfinished = [
        row
        for row in destinations
        if not (row[4] in final or (row[4] in retryable and row[3] == ATTEMPTS))
    ]
    assert unfinished == [], f"{len(unfinished)} without a final outcome: {unfinished[:5]}"

    # (3) Attempts run 1..attempts_made, no gap, none extra; the last one is the destination's.
    by_destination: dict[int, list[int]] = {d: [] for d in made}
    last_outcome: dict[int, int] = {}
    for dest, number, outcome, _ in attempts:
        by_destination.setdefault(int(dest), []).append(int(number))
        last_outcome[int(dest)] = int(outcome)
    gaps = {
        d: (made.get(d), got)
        for d, got in by_destination.items()
        if not got or got != list(range(1, made.get(d, 0) + 1))
    }
    assert gaps == {}, f"attempt numbers not 1..attempts_made: {dict(list(gaps.items())[:5])}"
    mismatched = [row for row in destinations if last_outcome.get(int(row[0])) != row[4]]
    assert mismatched == [], f"last_outcome is not the last attempt's: {mismatched[:5]}"

    # (4) No call placed was lost: each one originated has its attempt recorded.
    recorded = {(int(d), int(n)) for d, n, _, _ in attempts}
    lost = sorted(set(placed) - recorded)
    assert lost == [], f"{len(lost)} calls placed but never recorded: {lost[:10]}"

    # (5) The kills hit calls in flight, and an engine alive recorded each as a lost lease.
    # (A live engine stalled for longer than a lease, a third of a second here, loses its
    # leases too: on a starved machine some other attempts may end so; none is a failure.)
    assert sum(1 for o in orphans if o) >= HITS, diagnosis()
    lease_lost = {
        (int(d), int(n))
        for d, n, outcome, cause in attempts
        if outcome == Outcome.NO_CONNECTION.value and "lease" in (cause or "")
    }
    left = set().union(*orphans)
    assert left - lease_lost == set(), (
        f"calls a killed worker held, not recorded as lost leases: {sorted(left - lease_lost)[:10]}"
    )


def test_a_live_worker_keeps_the_leases_of_calls_longer_than_a_lease(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """A call ringing out (30 simulated s) outlasts the lease (20 s): renewals keep it held.

    Neither worker dies, so no attempt may be recorded as a lost lease: the network's own
    outcome (NoAnswer) is kept. At 30x the lease is 2/3 of a real second and the call a whole
    one; an engine that waited for its call to end (up to a second) without renewing its
    leases let the other engine record every attempt as NoConnection. Renewed every 2/9 s,
    a lease survives all but a stall of nearly half a second.
    """
    url = postgres_server.create_database()
    campaign = create_campaign(url, ["+447700900007"])  # rings until the ring timeout
    anchor = time.time()
    workers = [Worker(name, tmp_path, url, anchor, speed=30) for name in "AB"]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 120
        with psycopg.connect(url, autocommit=True) as conn:
            while not finished(state := progress(conn, campaign)):
                assert time.monotonic() < deadline, f"campaign {state}\n" + "\n".join(
                    w.tail() for w in workers
                )
                time.sleep(0.1)
            attempts = conn.execute(
                "SELECT attempt_number, outcome, cause FROM attempts WHERE campaign_id = %s"
                " ORDER BY attempt_number",
                (campaign,),
            ).fetchall()
        assert [w.stop() for w in workers] == [0, 0]
    finally:
        for worker in workers:
            worker.clean_up()
    no_answer = Outcome.NO_ANSWER.value
    assert [(n, o) for n, o, _ in attempts] == [(1, no_answer), (2, no_answer), (3, no_answer)], (
        f"{attempts}\n" + "\n".join(w.tail() for w in workers)
    )

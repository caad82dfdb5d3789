"""Giving an answered customer to an agent: the store's reserve_agent transaction (pick the
longest-ready member on this engine, write the reserved session and its change, commit), then
the reservation undone (the agent ready again, last in line), on SQLite and PostgreSQL, by one
engine and by two engines at once on PostgreSQL (each its own agents, on one campaign).

    .venv/bin/python bench/agent_reserve.py [--agents 50] [--rounds 1000]
        [--backends sqlite,postgres]
"""

import argparse
import itertools
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from dialer.domain import agent_session
from dialer.domain.agent_session import Customer
from dialer.domain.campaign import CampaignSpec, CampaignStatus, CampaignType
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.schedule import Schedule, Window
from dialer.storage.database import PostgresDatabase, SqliteDatabase
from dialer.storage.migrations import migrate
from dialer.storage.sql_store import SqlStore
from dialer.testing.postgres import PostgresServer

T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
_tick = itertools.count(1)


def _now() -> datetime:
    # A distinct instant per step keeps longest-ready order strict.
    return T0 + timedelta(milliseconds=next(_tick))


def floor(store: SqlStore, engines: int, agents: int) -> CampaignId:
    """One agent campaign; ``agents`` ready members on each of ``engines`` workers."""
    with store.write() as s:
        tenant = s.tenants.add_tenant("Bench", "GB", "Europe/London", "bench-hash", T0)
        flow = s.catalog.add_callflow(tenant.id, "f", "message: hi\n", T0)
        cli = s.catalog.add_cli(tenant.id, "+441632960000", T0)
        spec = CampaignSpec(
            name="agents",
            schedule=Schedule(date(2025, 10, 1), Window(clock_time(9), clock_time(17))),
            callflow_id=flow.id,
            cli_id=cli.id,
            attempts=(AttemptRule(1, 15),),
            answerphone=MessagePolicy.NEVER,
            sms_on_busy=MessagePolicy.NEVER,
            kind=CampaignType.AGENT,
        )
        cid = s.campaigns.add_campaign(tenant.id, "bench", spec, CampaignStatus.ENABLED, T0)
        team = [
            s.agents.add_agent(tenant.id, str(1000 + i), f"Agent {i}", T0)
            for i in range(engines * agents)
        ]
        s.agents.add_members(cid, [a.id for a in team], T0)
    for i, agent in enumerate(team):
        worker = f"w{i % engines}"
        with store.write() as s:
            repo = s.agent_sessions
            repo.open_session(tenant.id, agent.id, "sim:agent", T0)
            for held in repo.adopt_sessions(worker, T0, T0 + timedelta(days=1), 10):
                after, change = agent_session.phone_answered(held, _now())
                repo.save_session(after, change, held.version)
    return cid


def engine(store: SqlStore, cid: CampaignId, worker: str, rounds: int) -> list[float]:
    customer = Customer(cid, DestinationId(1), 1, "+447700900123", None, (), None, "", T0)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        with store.write() as s:
            got = s.agent_sessions.reserve_agent(cid, worker, customer, _now())
        times.append((time.perf_counter() - started) * 1000)
        assert got is not None, "no ready agent"
        with store.write() as s:
            after, change = agent_session.unreserve(got, _now())
            assert s.agent_sessions.save_session(after, change, got.version)
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{label:<34} {len(times):>6} reservations  p50 {statistics.median(times):6.2f} ms"
        f"  p95 {p95:6.2f} ms"
    )


def run(label: str, store: SqlStore, engines: int, agents: int, rounds: int) -> None:
    cid = floor(store, engines, agents)
    results: list[list[float]] = [[] for _ in range(engines)]
    start = threading.Barrier(engines)

    def work(i: int) -> None:
        start.wait()
        results[i] = engine(store, cid, f"w{i}", rounds)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(engines)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    times = [t for r in results for t in r]
    report(f"{label}, {engines} engine(s)", times)
    print(f"{'':<34} {len(times) / wall:8.0f} reserve+undo cycles/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=50, help="ready agents per engine")
    parser.add_argument("--rounds", type=int, default=1000, help="reservations per engine")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as folder:
            database = SqliteDatabase(Path(folder) / "bench.db")
            migrate(database)
            store = SqlStore(database)
            run("SQLite", store, 1, args.agents, args.rounds)
            store.close()
    if "postgres" in backends:
        server = PostgresServer().start()
        try:
            for engines in (1, 2):
                database = PostgresDatabase(server.create_database("bench"), max_connections=4)
                migrate(database)
                store = SqlStore(database)
                run("PostgreSQL", store, engines, args.agents, args.rounds)
                store.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()

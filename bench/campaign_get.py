"""REST GET of one campaign of 1,000,000 numbers on a real `dialer serve`: the first page
(what a plain GET answers) and every page in turn, with the server's RSS before and its peak
after, on SQLite (and PostgreSQL with --backends).

    .venv/bin/python bench/campaign_get.py [--numbers 1000000] [--backends sqlite,postgres]
"""

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from dialer.storage.sql_numbers import COUNT_ADDED_SQLITE
from dialer.testing.postgres import PostgresServer
from server import peak_rss_mb, running_server

# Rows made by the database itself: this measures reading them, not parsing a million numbers.
_FILL = {
    "postgres": "INSERT INTO destinations (campaign_id, number_raw, number_e164, name, state,"
    " created_at) SELECT %s, '07' || lpad(g::text, 9, '0'), '+447' || lpad(g::text, 9, '0'),"
    " 'Customer ' || g, 'pending', 0 FROM generate_series(1, %s) g",
    "sqlite": "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?)"
    " INSERT INTO destinations (campaign_id, number_raw, number_e164, name, state, created_at)"
    " SELECT ?, '07' || printf('%09d', x), '+447' || printf('%09d', x), 'Customer ' || x,"
    " 'pending', 0 FROM g",
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fill(backend: str, url: str, campaign_id: int, count: int) -> None:
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            (first,) = conn.execute("SELECT max(id) FROM destinations").fetchone()
            conn.execute(_FILL["sqlite"], (count, campaign_id))
            # What add_numbers would have counted (SQLite has no INSERT trigger).
            conn.execute(COUNT_ADDED_SQLITE.replace("%s", "?"), (campaign_id, first))
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(_FILL["postgres"].encode(), (campaign_id, count))
            # As autovacuum soon would: with no statistics yet, the planner reads every row of
            # the table for a page (bench/pending_calls.py does the same).
            pg.execute(b"ANALYZE destinations")


def run(backend: str, url: str, count: int, workdir: Path) -> None:
    with running_server(url, workdir) as server:
        headers = {"Authorization": f"Bearer {server.tenant['api_key']}"}
        body = {
            "name": "Big",
            "startDate": "2026-12-01",
            "startTime": "09:00",
            "finishTime": "18:00",
            "callflow_Id": server.callflow_id,
            "cli_Id": server.cli_id,
            "phoneNumbers": [{"number": "07700900000"}],
        }
        with httpx.Client(timeout=600) as client:
            created = client.post(f"{server.base}/api/campaign/voice", json=body, headers=headers)
            url_of = f"{server.base}/api/campaign/voice/{created.json()['id']}"
            fill(backend, url, created.json()["id"], count - 1)
            before = rss_mb(server.pid)
            started = time.perf_counter()
            first = client.get(url_of, headers=headers)
            first_s = time.perf_counter() - started
            assert first.json()["progress"]["pending"] == count
            seen, pages, after = 0, 0, 0
            started = time.perf_counter()
            while after is not None:
                page = client.get(
                    url_of, params={"numbersLimit": 10_000, "numbersAfter": after}, headers=headers
                ).json()
                seen += len(page["phoneNumbers"])
                pages += 1
                after = page["phoneNumbersNext"]
            all_s = time.perf_counter() - started
            assert seen == count
        print(
            f"{backend:9s} {count} numbers | GET (first 1,000): {first_s * 1000:5.0f} ms,"
            f" {len(first.content) / 1e6:.2f} MB | every page of 10,000 ({pages}): {all_s:5.1f} s"
            f" | server RSS before {before:.0f} MB, peak {peak_rss_mb(server.pid):.0f} MB",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
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

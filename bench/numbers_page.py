"""GET /api/campaign/voice/{id}/numbers on a campaign of 1,000,000 numbers, on a real
`dialer serve`: page 1, page 500 (of 100 and of 1,000 numbers), a search by number prefix, by
a name (the worst case: one match, near the end) and a filter by last outcome, on SQLite and
PostgreSQL. Each figure is the best of 3 GETs, client round trip included.

    .venv/bin/python bench/numbers_page.py [--numbers 1000000] [--backends sqlite,postgres]
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
from server import running_server

# Every tenth number done as Busy (3), the others pending and queued, as a campaign under way;
# all mobiles (number type 1), as add_numbers records them.
_FILL = {
    "postgres": "INSERT INTO destinations (campaign_id, number_raw, number_e164, name, state,"
    " last_outcome, attempts_made, number_type, created_at, is_final)"
    " SELECT %s, '07' || lpad(g::text, 9, '0'),"
    " '+447' || lpad(g::text, 9, '0'), 'Customer ' || g,"
    " CASE WHEN mod(g, 10) = 0 THEN 'done' ELSE 'pending' END,"
    " CASE WHEN mod(g, 10) = 0 THEN 3 END, CASE WHEN mod(g, 10) = 0 THEN 1 ELSE 0 END, 1, 0,"
    " CASE WHEN mod(g, 10) = 0 THEN 1 ELSE 0 END FROM generate_series(1, %s) g",
    "sqlite": "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?)"
    " INSERT INTO destinations (campaign_id, number_raw, number_e164, name, state,"
    " last_outcome, attempts_made, number_type, created_at, is_final)"
    " SELECT ?, '07' || printf('%09d', x), '+447' || printf('%09d', x), 'Customer ' || x,"
    " CASE WHEN x % 10 = 0 THEN 'done' ELSE 'pending' END,"
    " CASE WHEN x % 10 = 0 THEN 3 END, CASE WHEN x % 10 = 0 THEN 1 ELSE 0 END, 1, 0,"
    " CASE WHEN x % 10 = 0 THEN 1 ELSE 0 END FROM g",
}
_QUEUE = (
    "INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
    " SELECT id, campaign_id, 0, 0 FROM destinations WHERE campaign_id = {mark}"
    " AND state = 'pending' ON CONFLICT (destination_id) DO NOTHING"
)


def fill(backend: str, url: str, campaign_id: int, count: int) -> None:
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            (first,) = conn.execute("SELECT max(id) FROM destinations").fetchone()
            conn.execute(_FILL["sqlite"], (count, campaign_id))
            conn.execute(COUNT_ADDED_SQLITE.replace("%s", "?"), (campaign_id, first))
            conn.execute(_QUEUE.format(mark="?"), (campaign_id,))
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(_FILL["postgres"].encode(), (campaign_id, count))
            pg.execute(_QUEUE.format(mark="%s").encode(), (campaign_id,))
            # As autovacuum soon would (bench/campaign_get.py does the same).
            pg.execute(b"VACUUM ANALYZE destinations")
            pg.execute(b"VACUUM ANALYZE dial_queue")


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
            campaign_id = created.json()["id"]
            fill(backend, url, campaign_id, count - 1)
            url_of = f"{server.base}/api/campaign/voice/{campaign_id}/numbers"

            def best(params: dict[str, object], expect: int) -> str:
                times = []
                for _ in range(3):
                    started = time.perf_counter()
                    got = client.get(url_of, params=params, headers=headers)
                    times.append(time.perf_counter() - started)
                    assert got.status_code == 200, got.text
                    assert len(got.json()["numbers"]) == expect, (params, got.text[:200])
                return f"{min(times) * 1000:6.1f} ms"

            cases = [
                ("page 1 (100)", {"page": 1}, 100),
                ("page 500 (100)", {"page": 500}, 100),
                ("page 500 (1,000)", {"page": 500, "limit": 1000}, 1000),
                ("q=07000123 (number prefix)", {"q": "07000123"}, 100),
                ("q=customer 999998 (name)", {"q": "customer 999998"}, 1),
                ("outcome=Busy page 500", {"outcome": "Busy", "page": 500}, 100),
            ]
            print(f"{backend}, {count:,} numbers:", flush=True)
            for label, params, expect in cases:
                print(f"  {label:28s} {best(params, expect)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
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

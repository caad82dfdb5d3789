"""GetCampaignPendingCalls, GetCampaignDetails, GetCampaignList and the REST GET (a page of
numbers, the progress) and list on a campaign with 1,000,000 pending destinations, through the
services (no HTTP), on SQLite and PostgreSQL.

    .venv/bin/python bench/pending_calls.py [--pending 1000000] [--backends sqlite,postgres]
"""

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from dialer.bootstrap import build
from dialer.services.dialer_input import Params
from dialer.settings import Settings
from dialer.storage.sql_numbers import COUNT_ADDED_SQLITE
from dialer.testing.postgres import PostgresServer

# A month ahead: the service refuses a campaign whose last window has closed, and the
# benchmark wants it accepted but not dialling.
FUTURE_DAY = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

_FILL = {
    # Rows made by the database itself: this measures reading them, not parsing a million numbers.
    "postgres": "INSERT INTO destinations (campaign_id, number_raw, number_e164, state, created_at,"
    " priority) SELECT %s, '05' || lpad(g::text, 8, '0'), '+9725' || lpad(g::text, 8, '0'),"
    " 'pending', 0, g %% 10 FROM generate_series(1, %s) g",
    "sqlite": "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?)"
    " INSERT INTO destinations (campaign_id, number_raw, number_e164, state, created_at, priority)"
    " SELECT ?, '05' || printf('%08d', x), '+9725' || printf('%08d', x), 'pending', 0, x % 10"
    " FROM g",
}
# Their ready-queue rows, as add_numbers would have written them.
_QUEUE = (
    "INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
    " SELECT id, campaign_id, priority, 0 FROM destinations WHERE campaign_id = %s"
    " ON CONFLICT (destination_id) DO NOTHING"
)


def timed_ms(action: object, runs: int = 5) -> float:
    """The median of a few runs: one run alone also times a cold connection or cache."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(backend: str, url: str, count: int) -> None:
    container = build(Settings(database_url=url))
    try:
        tenant, key = container.tenants.create("Bench", "IL", "Asia/Jerusalem")
        flow = container.catalog.add_callflow(tenant, "f", "message: a\nsms: b\n")
        cli = container.catalog.add_cli(tenant, "0722776772")
        body = {
            "startDate": FUTURE_DAY,
            "startTime": "09:00",
            "finishTime": "18:00",
            "callflow_Id": flow.id,
            "cli_Id": cli.id,
            "phoneNumbers": [{"number": "0501111111"}],
        }
        campaign = container.campaigns.create(tenant, body).campaign
        with container.store.write() as session:
            conn = session._conn  # the bench fills the table directly, see _FILL
            if backend == "postgres":
                conn.execute(_FILL["postgres"], (campaign.id, count))
            else:
                (first,) = session.destinations.destination_ids(campaign.id)
                conn._raw.execute(_FILL["sqlite"], (count, campaign.id))  # type: ignore[attr-defined]
                # What add_numbers would have counted (SQLite has no INSERT trigger).
                conn.execute(COUNT_ADDED_SQLITE, (campaign.id, first))
            conn.execute(_QUEUE, (campaign.id,))
        if backend == "postgres":
            with container.store.write() as session:
                session._conn.execute("ANALYZE destinations")
        service = container.dialer
        first = service.pending(Params({"Campaign": campaign.code}))
        cursor = "5.500000"
        results = {
            "first page": timed_ms(lambda: service.pending(Params({"Campaign": campaign.code}))),
            "deep page": timed_ms(
                lambda: service.pending(Params({"Campaign": campaign.code, "Cursor": cursor}))
            ),
            "GetCampaignDetails": timed_ms(
                lambda: service.details(Params({"Campaign": campaign.code}))
            ),
            "GetCampaignList": timed_ms(lambda: service.campaign_list(Params({"Code": key}))),
            "REST GET": timed_ms(lambda: container.campaigns.get(tenant, campaign.id)),
            "REST list": timed_ms(lambda: container.campaigns.list(tenant)),
        }
        figures = ", ".join(f"{name} {ms:.0f} ms" for name, ms in results.items())
        print(
            f"{backend:9s} {first.view.counts.pending} pending, pages of 1000: {figures}",
            flush=True,
        )
    finally:
        container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                run("sqlite", f"sqlite:///{os.path.join(tmp, 'bench.db')}", args.pending)
            else:
                server = PostgresServer().start()
                try:
                    run("postgres", server.create_database("bench"), args.pending)
                finally:
                    server.stop()


if __name__ == "__main__":
    main()

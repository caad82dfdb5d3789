"""PostgreSQL plans of the hot statements at 100,000 pending destinations.

Each statement is the production text: the claim's is ``sql_engine.PG_CLAIM``, and the reads
are captured from the store's own methods through a connection that EXPLAINs what they run.
Both plans PostgreSQL may use are checked: the custom plan for the values at hand, and the
generic plan, which psycopg's automatic preparation (from a statement's sixth run in one
connection) lets the server switch to.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dialer.domain.ids import CampaignId
from dialer.services.campaigns import NUMBERS_PAGE
from dialer.services.dialer import DEFAULT_PAGE_SIZE
from dialer.settings import EngineSettings
from dialer.storage.database import PostgresConnection, PostgresDatabase, Row
from dialer.storage.migrations import migrate
from dialer.storage.rows import to_us
from dialer.storage.sql_engine import PG_CLAIM
from dialer.storage.sql_store import SqlSession
from dialer.testing.postgres import PostgresServer

pytestmark = pytest.mark.postgres

PENDING = 100_000
DONE = 50_000  # another campaign's finished destinations, so the campaign filter matters
NOW = datetime(2025, 10, 1, 9, 30, tzinfo=UTC)
PLANS = ["custom", "generic"]


@dataclass(frozen=True)
class Scan:
    node: str
    relation: str | None
    index: str | None


def _scans(plan: dict[str, Any]) -> Iterator[Scan]:
    yield Scan(plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name"))
    for child in plan.get("Plans", ()):
        yield from _scans(child)


def plan(raw: psycopg.Connection[Row], text: str, params: Sequence[Any], mode: str) -> Any:
    """The top node of the statement's plan, as EXPLAIN (FORMAT JSON) gives it."""
    if mode == "custom":
        rows = raw.execute(f"EXPLAIN (FORMAT JSON) {text}".encode(), tuple(params)).fetchall()
    else:
        # PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN): prepare with $n and force the generic plan.
        numbered = iter(range(1, len(params) + 1))
        prepared = re.sub("%s", lambda _: f"${next(numbered)}", text)
        raw.execute(f"PREPARE hot AS {prepared}".encode())
        try:
            raw.execute(b"SET plan_cache_mode = force_generic_plan")
            values = sql.SQL(", ").join(sql.Literal(v) for v in params)
            rows = raw.execute(
                sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE hot ({})").format(values)
            ).fetchall()
        finally:
            raw.execute(b"RESET plan_cache_mode")
            raw.execute(b"DEALLOCATE hot")
    return rows[0][0][0]["Plan"]


def explain(
    raw: psycopg.Connection[Row], text: str, params: Sequence[Any], mode: str
) -> list[Scan]:
    return list(_scans(plan(raw, text, params, mode)))


def assert_no_full_scan(scans: list[Scan], text: str) -> None:
    full = [
        s for s in scans if s.node == "Seq Scan" and s.relation in ("dial_queue", "destinations")
    ]
    assert not full, f"{full} in the plan of:\n{text}\n{scans}"


def assert_reads(scans: list[Scan], index: str, text: str) -> None:
    used = {s.index for s in scans if s.node in ("Index Scan", "Index Only Scan")}
    assert index in used, f"{index} not read by an index scan in:\n{text}\n{scans}"


def assert_reads_in_order(scans: list[Scan], text: str) -> None:
    """A page read from an index in its order, stopping at the page's end: no Sort, which
    would read every waiting row of the campaign to give a thousand."""
    assert not [s for s in scans if s.node in ("Sort", "Incremental Sort")], f"{text}\n{scans}"
    assert any(
        s.node in ("Index Scan", "Index Only Scan") and s.relation == "destinations" for s in scans
    ), f"{text}\n{scans}"


class ExplainingConnection(PostgresConnection):
    """Runs what the store asks, and first EXPLAINs each query in the given plan mode."""

    def __init__(self, raw: psycopg.Connection[Row], mode: str) -> None:
        super().__init__(raw)
        self.raw = raw
        self.mode = mode
        self.plans: list[tuple[str, list[Scan]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            self.plans.append((sql, explain(self.raw, sql, params, self.mode)))
        return super().execute(sql, params)


def migrated(url: str) -> None:
    """Bring a new database to the latest schema."""
    database = PostgresDatabase(url, max_connections=1)
    try:
        migrate(database)
    finally:
        database.close()


def tenant_flow_cli(raw: psycopg.Connection[Row], stamp: int) -> tuple[int, int, int]:
    """A tenant with a call flow and a caller ID, for campaigns made by hand."""
    tenant = scalar(
        raw,
        b"INSERT INTO tenants (name, region, timezone, api_key_hash, created_at)"
        b" VALUES ('Acme', 'GB', 'Europe/London', 'h', %s) RETURNING id",
        (stamp,),
    )
    flow = scalar(
        raw,
        b"INSERT INTO callflows (tenant_id, name, definition, created_at)"
        b" VALUES (%s, 'f', 'message: hi', %s) RETURNING id",
        (tenant, stamp),
    )
    cli = scalar(
        raw,
        b"INSERT INTO clis (tenant_id, number, created_at) VALUES (%s, '+441632960000', %s)"
        b" RETURNING id",
        (tenant, stamp),
    )
    return tenant, flow, cli


def scalar(raw: psycopg.Connection[Row], statement: bytes, params: Sequence[Any]) -> Any:
    row = raw.execute(statement, params).fetchone()
    assert row is not None
    return row[0]


@dataclass(frozen=True)
class Filled:
    url: str
    campaign: CampaignId


@pytest.fixture(scope="module")
def filled(postgres_server: PostgresServer) -> Filled:
    """A campaign with 100,000 pending destinations in the ready queue, beside another's 50,000
    done ones; one INSERT ... SELECT each, then ANALYZE, as autovacuum would have by now."""
    url = postgres_server.create_database("plans")
    migrated(url)
    stamp = to_us(NOW - timedelta(days=1))
    with psycopg.connect(url) as raw:
        tenant, flow, cli = tenant_flow_cli(raw, stamp)
        campaigns = []
        for code in ("busy", "finished"):
            campaign = scalar(
                raw,
                b"INSERT INTO campaigns (tenant_id, code, name, kind, status, start_date,"
                b" start_time, finish_time, runover_days, attempts, callflow_id, cli_id,"
                b" answerphone_policy, sms_on_busy, created_at, updated_at) VALUES"
                b" (%s, %s, %s, 'ivr', 'enabled', '2025-10-01', '09:00', '17:00', '[]', '[]',"
                b" %s, %s, 0, 0, %s, %s) RETURNING id",
                (tenant, code, code, flow, cli, stamp, stamp),
            )
            campaigns.append(campaign)
        busy, finished = campaigns
        for campaign, count, state in ((finished, DONE, "done"), (busy, PENDING, "pending")):
            # Three priorities; one in ten scheduled for later (an OriginateTime), due then.
            raw.execute(
                b"INSERT INTO destinations (campaign_id, number_raw, number_e164, name, state,"
                b" attempts_made, last_outcome, created_at, priority, originate_at, number_type,"
                b" is_final)"
                b" SELECT %s, '07700' || lpad(i::text, 6, '0'), '+447700' || lpad(i::text, 6, '0'),"
                b" 'Name ' || i, %s, CASE WHEN %s = 'done' THEN 1 ELSE 0 END,"
                b" CASE WHEN %s = 'done' THEN 1 END, %s, i %% 3,"
                b" CASE WHEN i %% 10 = 0 THEN %s END, 1, CASE WHEN %s = 'done' THEN 1 ELSE 0 END"
                b" FROM generate_series(1, %s) AS i",
                (campaign, *[state] * 3, stamp, to_us(NOW + timedelta(hours=2)), state, count),
            )
        raw.execute(
            b"INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
            b" SELECT id, campaign_id, priority, coalesce(originate_at, 0) FROM destinations"
            b" WHERE state = 'pending'"
        )
        raw.commit()
        raw.autocommit = True
        raw.execute(b"ANALYZE")
        queued = scalar(raw, b"SELECT count(*) FROM dial_queue", ())
    assert queued == PENDING
    return Filled(url, CampaignId(busy))


@pytest.fixture
def raw(filled: Filled) -> Iterator[psycopg.Connection[Row]]:
    with psycopg.connect(filled.url) as conn:
        yield conn
        conn.rollback()


def _claim_params(campaign: CampaignId, limit: int) -> tuple[Any, ...]:
    """What EngineQueries.claim passes to PG_CLAIM."""
    settings = EngineSettings()
    return (
        campaign,
        to_us(NOW),
        limit,
        to_us(NOW - timedelta(minutes=30)),
        "worker-1",
        to_us(NOW + timedelta(seconds=settings.lease_seconds)),
    )


@pytest.mark.parametrize("limit", [1, EngineSettings().claim_batch])
def test_the_claim_reads_the_ready_queue_by_its_index(
    filled: Filled, raw: psycopg.Connection[Row], limit: int
) -> None:
    scans = explain(raw, PG_CLAIM, _claim_params(filled.campaign, limit), "custom")
    assert_no_full_scan(scans, PG_CLAIM)
    assert_reads(scans, "dial_queue_order", PG_CLAIM)
    # Each claimed destination is found by its key, not by reading the campaign's.
    assert_reads(scans, "dial_queue_pkey", PG_CLAIM)
    assert_reads(scans, "destinations_pkey", PG_CLAIM)


def test_the_server_keeps_planning_the_claim_for_its_values(
    filled: Filled, raw: psycopg.Connection[Row]
) -> None:
    """The generic plan of the claim cannot know its LIMIT, guesses a tenth of the queue and
    joins by reading dial_queue and destinations whole. psycopg prepares the claim from its
    sixth run on a connection, and the server's plan cache (plan_cache_mode = auto) then
    takes the generic plan only if it costs less than the custom plans made so far (plus
    their planning): this holds it to costing well over the custom plan of a full batch."""
    batch = _claim_params(filled.campaign, EngineSettings().claim_batch)
    custom = plan(raw, PG_CLAIM, batch, "custom")["Total Cost"]
    generic = plan(raw, PG_CLAIM, batch, "generic")
    if any(s.node == "Seq Scan" for s in _scans(generic)):
        assert generic["Total Cost"] > 2 * custom, (generic["Total Cost"], custom)


@pytest.mark.parametrize("mode", PLANS)
def test_a_pending_calls_page_reads_indexes_only(
    filled: Filled, raw: psycopg.Connection[Row], mode: str
) -> None:
    """GetCampaignPendingCalls: the campaign's counts, then a page, first and deep."""
    conn = ExplainingConnection(raw, mode)
    session = SqlSession(conn)
    session.campaigns.campaign_counts([filled.campaign], NOW)
    first = session.destinations.waiting_calls(filled.campaign, None, DEFAULT_PAGE_SIZE + 1)
    deep = session.destinations.waiting_calls(
        filled.campaign, (1, DONE + PENDING - 300), DEFAULT_PAGE_SIZE + 1
    )
    assert len(first) == len(deep) == DEFAULT_PAGE_SIZE + 1
    assert len(conn.plans) == 5  # tallies, counts extra, one page, then a deep one (two)
    for text, scans in conn.plans:
        assert_no_full_scan(scans, text)
    for text, scans in conn.plans[2:]:
        assert_reads_in_order(scans, text)
    # The first page starts at the top of the dial order, which only this index holds.
    assert_reads(conn.plans[2][1], "destinations_waiting", conn.plans[2][0])


@pytest.mark.parametrize("mode", PLANS)
def test_a_campaign_get_reads_indexes_only(
    filled: Filled, raw: psycopg.Connection[Row], mode: str
) -> None:
    """GET /api/campaign/{id}: a deep page of numbers, the counters and the invalid ones."""
    conn = ExplainingConnection(raw, mode)
    session = SqlSession(conn)
    numbers = session.destinations.list_numbers(
        filled.campaign, PENDING // 2 + DONE, NUMBERS_PAGE + 1
    )
    progress = session.results.progress(filled.campaign)
    not_valid = session.destinations.count_not_valid(filled.campaign)
    assert (len(numbers), progress.pending, not_valid) == (NUMBERS_PAGE + 1, PENDING, 0)
    assert len(conn.plans) == 3
    for text, scans in conn.plans:
        assert_no_full_scan(scans, text)
    page_text, page_scans = conn.plans[0]
    assert_reads_in_order(page_scans, page_text)
    not_valid_text, not_valid_scans = conn.plans[2]
    assert any(s.index == "destinations_not_valid" for s in not_valid_scans), not_valid_text

"""Plans of the abandoned-call counts. PostgreSQL's on four months of history: 240,000 attempts
of eight campaigns (60,000 destinations, four attempts each, ending over 120 days), and 240,000
calls to 60,000 numbers in ``number_calls`` across two tenants, 200 calls on the line
(``in_flight``), vacuumed and analysed.

The engine tallies each agent campaign's window at its first pass and every housekeeping, and
screens every claimed batch by its numbers: neither may read the history. The tally reads
attempts through ``attempts_campaign_ended`` only, whatever the window (24 hours or 30 days);
a batch's lookup reads ``number_calls_by_number``. The statements are the store's own,
captured through a connection that EXPLAINs them, in the custom and the generic plan. SQLite's
(planned by its rules alone): the same statements read both tables through those indexes.
"""

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.storage.database import Row, SqliteConnection, SqliteDatabase, _to_sqlite
from dialer.storage.migrations import migrate
from dialer.storage.rows import to_us
from dialer.storage.sql_store import SqlSession
from dialer.testing.postgres import PostgresServer
from tests.integration.test_query_plans import (
    PLANS,
    ExplainingConnection,
    Scan,
    migrated,
    scalar,
    tenant_flow_cli,
)

DESTINATIONS = 60_000
ATTEMPTS_EACH = 4
CAMPAIGNS = 8
NOW = datetime(2025, 10, 31, 12, 0, tzinfo=UTC)
HISTORY_US = 120 * 24 * 3600 * 1_000_000  # four months
# A claimed batch of 500, half of them numbers of the tenant asked about (d.id = i + 1 even).
BATCH = [f"+4477009{i:05d}" for i in range(500, 1_000)]


@pytest.fixture(scope="module")
def history(postgres_server: PostgresServer) -> tuple[str, TenantId, CampaignId]:
    url = postgres_server.create_database("abandon_plans")
    migrated(url)
    start = to_us(NOW) - HISTORY_US
    with psycopg.connect(url) as raw:
        tenant, flow, cli = tenant_flow_cli(raw, start)
        other = scalar(
            raw,
            b"INSERT INTO tenants (name, region, timezone, api_key_hash, created_at)"
            b" VALUES ('Globex', 'GB', 'Europe/London', 'h2', %s) RETURNING id",
            (start,),
        )
        campaigns = [
            scalar(
                raw,
                b"INSERT INTO campaigns (tenant_id, code, name, kind, status, start_date,"
                b" start_time, finish_time, runover_days, attempts, callflow_id, cli_id,"
                b" answerphone_policy, sms_on_busy, created_at, updated_at) VALUES"
                b" (%s, %s, %s, 'agent', 'enabled', '2025-10-01', '09:00', '17:00', '[]', '[]',"
                b" %s, %s, 0, 0, %s, %s) RETURNING id",
                (tenant, f"c{i}", f"c{i}", flow, cli, start, start),
            )
            for i in range(CAMPAIGNS)
        ]
        raw.execute(
            b"INSERT INTO destinations (campaign_id, number_raw, number_e164, state,"
            b" attempts_made, created_at, is_final)"
            b" SELECT (%s::bigint[])[i %% %s + 1], 'n' || i,"
            b"  '+4477009' || lpad(i::text, 5, '0'), 'done', %s, %s, 1"
            b" FROM generate_series(0, %s) i",
            (campaigns, CAMPAIGNS, ATTEMPTS_EACH, start, DESTINATIONS - 1),
        )
        # Outcome by k: answered (some CallDropped), answerphone, no answer; ends spread over
        # the four months.
        raw.execute(
            b"INSERT INTO attempts (destination_id, campaign_id, attempt_number, outcome, stage,"
            b" queued_at, originated_at, answered_at, ended_at)"
            b" SELECT d.id, d.campaign_id, k, (ARRAY[1, 1, 4, 6])[(d.id + k) %% 4 + 1],"
            b"  CASE WHEN (d.id + k) %% 4 IN (0, 1) AND (d.id / 7) %% 10 = 0 THEN 20 ELSE 0 END,"
            b"  e, e, e, e"
            b" FROM destinations d, generate_series(1, %s) k,"
            b"  LATERAL (SELECT %s + (d.id * 2654435761 + k * 250000007) %% 1000000007 * 10368"
            b"   %% %s AS e) t",
            (ATTEMPTS_EACH, start, HISTORY_US),
        )
        raw.execute(
            b"INSERT INTO number_calls (tenant_id, number_e164, ended_at, abandoned)"
            b" SELECT CASE WHEN d.id %% 2 = 0 THEN %s ELSE %s END, d.number_e164, a.ended_at,"
            b"  CASE WHEN a.stage = 20 THEN 1 ELSE 0 END"
            b" FROM attempts a JOIN destinations d ON d.id = a.destination_id",
            (tenant, other),
        )
        # 200 calls on the line now, across the campaigns.
        raw.execute(
            b"INSERT INTO in_flight (destination_id, campaign_id, attempt_number, worker,"
            b" lease_until, queued_at)"
            b" SELECT id, campaign_id, 5, 'w1', %s, %s FROM destinations WHERE id %% 300 = 0",
            (to_us(NOW) + 60_000_000, to_us(NOW)),
        )
        raw.commit()
        raw.autocommit = True
        raw.execute(b"VACUUM ANALYZE")
        assert scalar(raw, b"SELECT count(*) FROM number_calls", ()) == (
            DESTINATIONS * ATTEMPTS_EACH
        )
    return url, TenantId(tenant), CampaignId(campaigns[0])


@pytest.fixture
def raw(history: tuple[str, TenantId, CampaignId]) -> Iterator[psycopg.Connection[Row]]:
    with psycopg.connect(history[0]) as conn:
        yield conn
        conn.rollback()


def _by_index(plans: list[tuple[str, list[Scan]]], table: str, index: str) -> None:
    """``table`` is read through ``index`` and no other way (an index or bitmap scan)."""
    assert plans
    for text, scans in plans:
        whole = [s for s in scans if s.node == "Seq Scan"]
        assert not whole, f"{whole} in the plan of:\n{text}\n{scans}"
        assert {s.index for s in scans if s.index} == {index}, f"{text}\n{scans}"
        assert {s.relation for s in scans if s.relation} == {table}, f"{text}\n{scans}"


@pytest.mark.postgres
@pytest.mark.parametrize("mode", PLANS)
@pytest.mark.parametrize("window", [timedelta(hours=24), timedelta(days=30)])
def test_a_campaigns_tally_reads_its_index_alone(
    history: tuple[str, TenantId, CampaignId],
    raw: psycopg.Connection[Row],
    mode: str,
    window: timedelta,
) -> None:
    _, _, campaign = history
    conn = ExplainingConnection(raw, mode)
    tally = SqlSession(conn).abandonment.tally(campaign, NOW - window)
    assert tally.live > 0
    assert tally.abandoned > 0
    assert tally.machines > 0
    _by_index(conn.plans, "attempts", "attempts_campaign_ended")


@pytest.mark.postgres
@pytest.mark.parametrize("mode", PLANS)
def test_a_batchs_recent_calls_are_looked_up_by_number(
    history: tuple[str, TenantId, CampaignId], raw: psycopg.Connection[Row], mode: str
) -> None:
    _, tenant, _ = history
    conn = ExplainingConnection(raw, mode)
    found = SqlSession(conn).abandonment.recent(tenant, BATCH, NOW - timedelta(hours=72))
    assert found
    _by_index(conn.plans, "number_calls", "number_calls_by_number")


@pytest.mark.postgres
@pytest.mark.parametrize("mode", PLANS)
def test_a_batchs_calls_in_flight_read_destinations_by_key(
    history: tuple[str, TenantId, CampaignId], raw: psycopg.Connection[Row], mode: str
) -> None:
    _, tenant, _ = history
    conn = ExplainingConnection(raw, mode)
    numbers = [f"+4477009{i:05d}" for i in range(299, DESTINATIONS, 300)]  # id = i + 1
    batch = [DestinationId(i) for i in range(1, 200)]
    found = SqlSession(conn).abandonment.calls_in_flight(tenant, numbers, batch)
    assert found
    assert conn.plans
    for text, scans in conn.plans:
        # in_flight is read whole (it holds only the calls on the line), destinations by key.
        whole = [s for s in scans if s.node == "Seq Scan" and s.relation == "destinations"]
        assert not whole, f"{whole} in the plan of:\n{text}\n{scans}"
        assert "destinations_pkey" in {s.index for s in scans}, f"{text}\n{scans}"


class SqliteExplaining(SqliteConnection):
    def __init__(self, raw: sqlite3.Connection) -> None:
        super().__init__(raw)
        self.raw = raw
        self.plans: list[tuple[str, list[str]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if sql.lstrip().upper().startswith("SELECT"):
            steps = self.raw.execute(f"EXPLAIN QUERY PLAN {_to_sqlite(sql)}", tuple(params))
            self.plans.append((sql, [row[3] for row in steps]))
        return super().execute(sql, params)


def test_sqlite_reads_both_by_their_indexes(tmp_path: Path) -> None:
    path = tmp_path / "plans.db"
    database = SqliteDatabase(path)
    migrate(database)
    database.close()
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        conn = SqliteExplaining(raw)
        repo = SqlSession(conn).abandonment
        repo.tally(CampaignId(1), NOW - timedelta(days=30))
        repo.recent(TenantId(1), BATCH, NOW - timedelta(hours=72))
    finally:
        raw.close()
    (tally_sql, tally_steps), (recent_sql, recent_steps) = conn.plans
    assert tally_steps == [
        "SEARCH attempts USING COVERING INDEX attempts_campaign_ended"
        " (campaign_id=? AND ended_at>?)"
    ], tally_sql
    assert len(recent_steps) == 1, recent_steps
    assert recent_steps[0].startswith(
        "SEARCH number_calls USING COVERING INDEX number_calls_by_number (tenant_id=? AND"
    ), recent_sql

"""Plans of the agent sessions' statements. PostgreSQL's on a floor with weeks of history: 500
agents, 20,000 sessions (250 open, 125 of them ready, on five engines), 60,000 state changes.

The engine reserves an agent for every answered customer and polls its sessions every 200 ms,
and the desk's event streams tail the changes: none of them may read the history. The engine's
statements read open sessions only, through the partial indexes that hold nothing else; the
changes are read by agent or by time. The statements are the store's own (SqlSession on a
connection that EXPLAINs what it runs), in the custom plan and the generic plan psycopg's
automatic preparation lets the server switch to. SQLite's (which the dialer never ANALYZEs, so
it plans by its rules alone, whatever the data): the same statements read no table whole and
agent_sessions only through its indexes of open sessions or by key.
"""

import re
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dialer.domain.agent_session import Customer
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.storage.database import (
    PostgresConnection,
    Row,
    SqliteConnection,
    SqliteDatabase,
    _to_sqlite,
)
from dialer.storage.migrations import migrate
from dialer.storage.rows import to_us
from dialer.storage.sql_store import SqlSession
from dialer.testing.postgres import PostgresServer
from tests.integration.test_query_plans import (
    PLANS,
    Scan,
    explain,
    migrated,
    scalar,
    tenant_flow_cli,
)

AGENTS = 500
SESSIONS_EACH = 40
CHANGES_EACH = 3
NOW = datetime(2025, 10, 1, 9, 30, tzinfo=UTC)
_TABLES = ("agent_sessions", "agent_state_changes")
# The indexes that hold open sessions only (migration 0012).
_OPEN_ONLY = {
    "agent_sessions_open",
    "agent_sessions_ready",
    "agent_sessions_held",
    "agent_sessions_lease",
}


class Explaining(PostgresConnection):
    """Runs what the store asks, first EXPLAINing each SELECT and UPDATE in the plan mode."""

    def __init__(self, raw: psycopg.Connection[Row], mode: str) -> None:
        super().__init__(raw)
        self.raw = raw
        self.mode = mode
        self.plans: list[tuple[str, list[Scan]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            self.plans.append((sql, explain(self.raw, sql, params, self.mode)))
        return super().execute(sql, params)

    def take(self) -> list[tuple[str, list[Scan]]]:
        plans, self.plans = self.plans, []
        return plans


def assert_indexed(plans: list[tuple[str, list[Scan]]]) -> None:
    assert plans
    for text, scans in plans:
        full = [s for s in scans if s.node == "Seq Scan" and s.relation in _TABLES]
        assert not full, f"{full} in the plan of:\n{text}\n{scans}"


def assert_open_sessions_only(plans: list[tuple[str, list[Scan]]]) -> None:
    """Every read of agent_sessions is through an index of open sessions (or by key)."""
    assert plans
    for text, scans in plans:
        wrong = [
            s
            for s in scans
            if s.relation == "agent_sessions"
            and s.node != "ModifyTable"
            and s.index not in (*_OPEN_ONLY, "agent_sessions_pkey")
        ]
        assert not wrong, f"{wrong} in the plan of:\n{text}\n{scans}"


@pytest.fixture(scope="module")
def floor(postgres_server: PostgresServer) -> tuple[str, TenantId, CampaignId]:
    """Agent i is a member of campaign i % 3; its last session is open when i is even, ready
    when i % 4 == 0, held by worker w(i % 5); its earlier sessions are offline history."""
    url = postgres_server.create_database("agent_plans")
    migrated(url)
    stamp = to_us(NOW - timedelta(days=1))
    with psycopg.connect(url) as raw:
        tenant, flow, cli = tenant_flow_cli(raw, stamp)
        campaigns = [
            scalar(
                raw,
                b"INSERT INTO campaigns (tenant_id, code, name, kind, status, start_date,"
                b" start_time, finish_time, runover_days, attempts, callflow_id, cli_id,"
                b" answerphone_policy, sms_on_busy, created_at, updated_at) VALUES"
                b" (%s, %s, %s, 'agent', 'enabled', '2025-10-01', '09:00', '17:00', '[]', '[]',"
                b" %s, %s, 0, 0, %s, %s) RETURNING id",
                (tenant, f"c{i}", f"c{i}", flow, cli, stamp, stamp),
            )
            for i in range(3)
        ]
        raw.execute(
            b"INSERT INTO agents (tenant_id, member, display_name, created_at)"
            b" SELECT %s, (1000 + i)::text, 'Agent ' || i, %s FROM generate_series(0, %s) i",
            (tenant, stamp, AGENTS - 1),
        )
        raw.execute(
            b"INSERT INTO campaign_members (campaign_id, agent_id, added_at)"
            b" SELECT (ARRAY[%s, %s, %s]::bigint[])[a.id %% 3 + 1], a.id, %s FROM agents a",
            (*campaigns, stamp),
        )
        raw.execute(
            b"INSERT INTO agent_sessions (tenant_id, agent_id, phone, state, since, started_at,"
            b" reason, ready_since, worker, lease_until)"
            b" SELECT %s, a.id, 'sim:agent',"
            b"  CASE WHEN k < %s OR a.id %% 2 = 1 THEN 'offline'"
            b"   WHEN a.id %% 4 = 0 THEN 'ready' ELSE 'paused' END,"
            b"  %s + k, %s + k, NULL,"
            b"  CASE WHEN k = %s AND a.id %% 4 = 0 THEN %s - a.id END,"
            b"  'w' || (a.id %% 5), %s"
            b" FROM agents a, generate_series(1, %s) k",
            (
                tenant,
                SESSIONS_EACH,
                stamp,
                stamp,
                SESSIONS_EACH,
                stamp,
                to_us(NOW + timedelta(seconds=30)),
                SESSIONS_EACH,
            ),
        )
        raw.execute(
            b"INSERT INTO agent_state_changes (session_id, tenant_id, agent_id, state, at)"
            b" SELECT s.id, s.tenant_id, s.agent_id, 'paused', s.since + k"
            b" FROM agent_sessions s, generate_series(1, %s) k",
            (CHANGES_EACH,),
        )
        raw.commit()
        raw.autocommit = True
        raw.execute(b"ANALYZE")
        assert scalar(raw, b"SELECT count(*) FROM agent_state_changes", ()) == (
            AGENTS * SESSIONS_EACH * CHANGES_EACH
        )
    return url, TenantId(tenant), CampaignId(campaigns[0])


@pytest.fixture
def raw(floor: tuple[str, TenantId, CampaignId]) -> Iterator[psycopg.Connection[Row]]:
    with psycopg.connect(floor[0]) as conn:
        yield conn
        conn.rollback()  # what the store's statements changed


def _customer(campaign: CampaignId) -> Customer:
    return Customer(campaign, DestinationId(1), 1, "+447700900123", None, (), None, "", NOW)


@pytest.mark.postgres
@pytest.mark.parametrize("mode", PLANS)
def test_a_reservation_reads_the_workers_ready_agents_by_index(
    floor: tuple[str, TenantId, CampaignId], raw: psycopg.Connection[Row], mode: str
) -> None:
    _, _, campaign = floor
    conn = Explaining(raw, mode)
    repo = SqlSession(conn).agent_sessions
    reserved = repo.reserve_agent(campaign, "w0", _customer(campaign), NOW)
    assert reserved is not None
    preferred = repo.reserve_agent(campaign, "w0", _customer(campaign), NOW, reserved.agent_id)
    assert preferred is not None
    assert repo.ready_agents("w0")
    assert repo.ready_sessions("w0")
    assert_open_sessions_only(conn.take())


@pytest.mark.postgres
@pytest.mark.parametrize("mode", PLANS)
def test_the_engines_lease_statements_read_open_sessions_by_index(
    floor: tuple[str, TenantId, CampaignId], raw: psycopg.Connection[Row], mode: str
) -> None:
    conn = Explaining(raw, mode)
    repo = SqlSession(conn).agent_sessions
    assert len(repo.worker_sessions("w0")) == AGENTS // 2 // 5
    assert repo.renew_sessions("w0", NOW + timedelta(minutes=1)) == AGENTS // 2 // 5
    assert len(repo.adopt_sessions("w9", NOW + timedelta(seconds=31), NOW, 10)) == 10
    assert_open_sessions_only(conn.take())


@pytest.mark.postgres
@pytest.mark.parametrize("mode", PLANS)
def test_the_desks_reads_use_indexes(
    floor: tuple[str, TenantId, CampaignId], raw: psycopg.Connection[Row], mode: str
) -> None:
    _, tenant, _ = floor
    conn = Explaining(raw, mode)
    repo = SqlSession(conn).agent_sessions
    session = repo.open_session_of(tenant, 4)
    assert session is not None
    assert_open_sessions_only(conn.take())
    latest = repo.state_changes(tenant, agent_id=4, after_id=0, limit=1000)
    assert len(latest) == SESSIONS_EACH * CHANGES_EACH
    assert repo.state_changes(tenant, agent_id=4, after_id=latest[-1].id or 0) == []
    day = repo.state_changes(tenant, since=NOW - timedelta(days=1), until=NOW, limit=50)
    assert len(day) == 50
    assert len(repo.last_changes_before(tenant, NOW)) == AGENTS
    assert len(repo.tenant_sessions(tenant)) == AGENTS
    assert_indexed(conn.take())


class SqliteExplaining(SqliteConnection):
    """Runs what the store asks, first asking SQLite how it plans each SELECT and UPDATE."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        super().__init__(raw)
        self.raw = raw
        self.plans: list[tuple[str, list[str]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            steps = self.raw.execute(f"EXPLAIN QUERY PLAN {_to_sqlite(sql)}", tuple(params))
            self.plans.append((sql, [row[3] for row in steps]))
        return super().execute(sql, params)


# A step that reads a table whole, or reads an index other than the open sessions' in full.
_WHOLE = re.compile(
    r"^SCAN \w+$|^SCAN \w+ USING (COVERING )?INDEX (?!" + "|".join(_OPEN_ONLY) + ")"
)


def test_sqlite_reads_no_table_whole_and_only_open_sessions(tmp_path: Path) -> None:
    path = tmp_path / "plans.db"
    database = SqliteDatabase(path)
    migrate(database)
    database.close()
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        conn = SqliteExplaining(raw)
        repo = SqlSession(conn).agent_sessions
        tenant, campaign = TenantId(1), CampaignId(1)
        repo.reserve_agent(campaign, "w0", _customer(campaign), NOW, 4)
        repo.ready_agents("w0")
        repo.ready_sessions("w0")
        repo.worker_sessions("w0")
        repo.renew_sessions("w0", NOW)
        repo.adopt_sessions("w1", NOW, NOW, 10)
        repo.open_session_of(tenant, 4)
        repo.get_session(4)
        repo.tenant_sessions(tenant)
        repo.state_changes(tenant, agent_id=4, after_id=10)
        repo.state_changes(tenant, since=NOW, until=NOW)
        repo.last_changes_before(tenant, NOW)
        repo.agent_by_token("hash")
    finally:
        raw.close()
    assert len(conn.plans) == 14
    for text, steps in conn.plans:
        whole = [step for step in steps if _WHOLE.search(step)]
        assert not whole, f"{whole} in the plan of:\n{text}\n{steps}"

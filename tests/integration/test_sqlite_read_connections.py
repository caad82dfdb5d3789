"""SQLite's read transactions run on a read-only connection of their own (issue 11,
docs/engine.md "Throughput"): switching one connection with ``PRAGMA query_only`` per read
expired every statement it had prepared, so the writes after each read were parsed and
planned again."""

import sqlite3
from pathlib import Path

import pytest

from dialer.storage import migrations
from dialer.storage.database import SqliteConnection, SqliteDatabase


def _raw(conn: object) -> sqlite3.Connection:
    assert isinstance(conn, SqliteConnection)
    return conn._raw


@pytest.fixture
def database(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(tmp_path / "store.db")
    database.prepare()
    migrations.migrate(database)
    return database


def test_a_read_runs_nothing_on_the_connection_writes_use(database: SqliteDatabase) -> None:
    try:
        with database.transaction(write=True) as conn:
            writer = _raw(conn)
            conn.execute("SELECT count(*) FROM tenants")
        seen: list[str] = []
        writer.set_trace_callback(seen.append)
        with database.transaction(write=False) as conn:
            conn.execute("SELECT count(*) FROM tenants")
        writer.set_trace_callback(None)
        assert seen == []
        with database.transaction(write=True) as conn:
            assert _raw(conn) is writer  # one writer's connection per thread, kept
    finally:
        database.close()


def test_reads_refuse_writes_each_time_on_the_kept_connections(database: SqliteDatabase) -> None:
    insert = (
        "INSERT INTO tenants (name, region, timezone, api_key_hash, created_at)"
        " VALUES ('A', 'GB', 'Europe/London', %s, 0)"
    )
    try:
        for key in ("first", "second"):  # the second time on the thread's kept connections
            with (
                pytest.raises(sqlite3.OperationalError, match="readonly"),
                database.transaction(write=False) as conn,
            ):
                conn.execute(insert, (f"read-{key}",))
            with database.transaction(write=True) as conn:
                conn.execute(insert, (key,))
        with database.transaction(write=False) as conn:
            keys = conn.execute("SELECT api_key_hash FROM tenants ORDER BY id")
        assert keys == [("first",), ("second",)]
    finally:
        database.close()

"""SQLite keeps the dial queue and the leases in WITHOUT ROWID tables (migration 0025,
docs/engine.md "Throughput"): keyed by destination_id alone, each row is written into one
b-tree fewer by every claim, lease and recording than in a rowid table with a BIGINT key."""

import sqlite3
from pathlib import Path

import pytest

from dialer.storage import migrations
from dialer.storage.database import open_database

ENGINE_TABLES = ("dial_queue", "in_flight")
ROWS = {
    "dial_queue": [(41, 7, 2, 1_000), (40, 7, 0, 1_000), (43, 8, 1, 900)],
    "in_flight": [(52, 7, 1, "worker-1", 2_000, 1_500), (51, 7, 2, "worker-2", 2_000, 1_400)],
}


def _without_rowid(path: Path) -> dict[str, bool]:
    with sqlite3.connect(path) as raw:
        listed = raw.execute("SELECT name, wr FROM pragma_table_list WHERE schema = 'main'")
        return {name: bool(wr) for name, wr in listed if name in ENGINE_TABLES}


def _indexes(raw: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL ORDER BY name",
        (table,),
    ).fetchall()


def test_the_queue_and_the_leases_are_without_rowid_tables_after_migrations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    database = open_database(f"sqlite:///{path}")
    try:
        migrations.migrate(database)
    finally:
        database.close()
    assert _without_rowid(path) == {"dial_queue": True, "in_flight": True}


def test_migration_0025_keeps_every_row_key_and_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    everything = migrations.available
    monkeypatch.setattr(
        migrations, "available", lambda dialect: [m for m in everything(dialect) if m.version < 25]
    )
    database = open_database(f"sqlite:///{path}")
    try:
        migrations.migrate(database)
        assert _without_rowid(path) == {"dial_queue": False, "in_flight": False}
        with sqlite3.connect(path) as raw:
            for table, rows in ROWS.items():
                marks = ", ".join("?" for _ in rows[0])
                raw.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            before = {table: _indexes(raw, table) for table in ENGINE_TABLES}
            columns = {
                table: raw.execute(f"PRAGMA table_info({table})").fetchall()
                for table in ENGINE_TABLES
            }
        # Up to 0025 only: later migrations are not this test's business.
        monkeypatch.setattr(
            migrations,
            "available",
            lambda dialect: [m for m in everything(dialect) if m.version <= 25],
        )
        assert [m.version for m in migrations.migrate(database)] == [25]
    finally:
        database.close()
    assert _without_rowid(path) == {"dial_queue": True, "in_flight": True}
    with sqlite3.connect(path) as raw:
        for table, rows in ROWS.items():
            assert raw.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == sorted(rows)
            assert _indexes(raw, table) == before[table]
            assert raw.execute(f"PRAGMA table_info({table})").fetchall() == columns[table]
            # The key still refuses a second row for a destination.
            with pytest.raises(sqlite3.IntegrityError):
                raw.execute(
                    f"INSERT INTO {table} VALUES ({', '.join('?' for _ in rows[0])})", rows[0]
                )

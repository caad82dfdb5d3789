"""The SQLite and PostgreSQL schemas match after every migration.

One set of queries serves both stores (storage/database.py), so a column, index or constraint
that one dialect's migrations have and the other's lack is a bug waiting for the store that
misses it. Each schema is read from the database itself (SQLite's PRAGMAs and sqlite_master,
PostgreSQL's catalogs), normalised to what both dialects can express, and compared. The
differences that are there on purpose are listed below, each with its reason: any other
difference fails the test.
"""

import re
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from dialer.storage import migrations
from dialer.storage.database import PostgresDatabase, SqliteDatabase, open_database
from dialer.storage.migrations import available, migrate
from dialer.testing.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Column:
    family: str  # integer, text, real, blob
    not_null: bool
    default: str | None
    generated_key: bool  # PostgreSQL identity, SQLite INTEGER PRIMARY KEY AUTOINCREMENT


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str, ...]  # a descending column ends in " desc"
    unique: bool
    predicate: str | None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]
    on_delete: str
    on_update: str


@dataclass
class Schema:
    columns: dict[str, dict[str, Column]]
    primary_keys: dict[str, tuple[str, ...]]
    # Indexes made by CREATE INDEX, by name; UNIQUE constraints are compared by their columns,
    # since each dialect names the index behind one its own way.
    indexes: dict[str, Index]
    uniques: set[tuple[str, tuple[str, ...]]]
    foreign_keys: set[tuple[str, ForeignKey]]
    checks: set[tuple[str, str]]
    triggers: set[str]


# Differences on purpose. Each entry is removed from the schema it belongs to before the
# comparison, and must be there (a stale entry fails too, so this list stays true).
POSTGRES_ONLY_TRIGGERS = {
    # LISTEN/NOTIFY wakes engines of every process (0004); SQLite engines watch
    # PRAGMA data_version instead (storage/notify.py).
    "dial_queue_notify",
    # Statement-level counting of inserted rows (0006); on SQLite add_numbers counts what it
    # added in one statement, since a row trigger doubled the cost of a big list.
    "destinations_counted_insert",
    # Live events (0017): an API process LISTENs for changes of counts, campaigns and agents'
    # states; on SQLite it watches PRAGMA data_version (storage/change_watch.py).
    "destination_counts_notify",
    "campaigns_notify",
    "agent_state_changes_notify",
    # ... and of the pacer's saved counts, which the summaries show (0021).
    "campaign_pacing_notify",
    # ... and of a rotated API key, which ends the bearer streams opened with it (0022).
    "tenants_notify",
}
# PostgreSQL appends signed deltas to destination_counts so that concurrent writers never
# queue on one hot row (0006); readers sum them by campaign through this index. SQLite admits
# one writer at a time and keeps one row per key, under a primary key instead.
POSTGRES_ONLY_INDEXES = {"destination_counts_campaign"}
SQLITE_ONLY_PRIMARY_KEYS = {"destination_counts": ("campaign_id", "state", "outcome")}
# PostgreSQL only: the trigger functions of 0004 and 0006 live outside tables and are not
# compared; SQLite's sqlite_sequence (AUTOINCREMENT's counters) is internal to SQLite.


_FAMILIES = {
    "integer": "integer",
    "bigint": "integer",
    "smallint": "integer",
    "int": "integer",
    "text": "text",
    "character varying": "text",
    "varchar": "text",
    "real": "real",
    "double precision": "real",
    "bytea": "blob",
    "blob": "blob",
}


def _family(declared: str) -> str:
    family = _FAMILIES.get(declared.lower().strip())
    assert family is not None, f"a column type the parity test does not know: {declared!r}"
    return family


def _default(text: str | None) -> str | None:
    """'08:00'::text and '08:00' alike; NULL defaults are no default."""
    if text is None:
        return None
    text = re.sub(r"::[a-z ]+$", "", text.strip())
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return None if text.upper() == "NULL" else text


def _expression(text: str) -> str:
    """An expression as both dialects print it: PostgreSQL's ``x = ANY (ARRAY[...])`` for
    ``x IN (...)``, without its casts and its parentheses around every term."""
    text = re.sub(r"::[a-z]+(\[\])?", "", text)
    text = re.sub(r"(\w+) = ANY \(ARRAY\[([^\]]*)\]\)", r"\1 IN (\2)", text)
    text = text.replace("(", " ").replace(")", " ")
    return " ".join(text.split()).lower()


def _sqlite_checks(table_sql: str) -> list[str]:
    """The CHECK expressions of a CREATE TABLE statement (SQLite has no PRAGMA for them)."""
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", table_sql, re.IGNORECASE):
        depth, start = 1, match.end()
        end = start
        while depth:
            depth += {"(": 1, ")": -1}.get(table_sql[end], 0)
            end += 1
        found.append(table_sql[start : end - 1])
    return found


def sqlite_schema(path: Path) -> Schema:
    raw = sqlite3.connect(path)
    try:
        schema = Schema({}, {}, {}, set(), set(), set(), set())
        tables = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        for table, table_sql in tables:
            info = raw.execute(f"PRAGMA table_info({table})").fetchall()
            key = tuple(name for _, name, *_rest, pk in sorted(info, key=lambda r: r[5]) if pk)
            rowid_alias = len(key) == 1 and any(
                r[1] == key[0] and r[2].upper() == "INTEGER" for r in info
            )
            autoincrement = rowid_alias and "AUTOINCREMENT" in table_sql.upper()
            schema.columns[table] = {
                name: Column(
                    _family(declared),
                    # A rowid alias cannot hold NULL though PRAGMA reports it nullable.
                    bool(not_null) or (rowid_alias and name == key[0]),
                    _default(default),
                    autoincrement and name == key[0],
                )
                for _, name, declared, not_null, default, _pk in info
            }
            if key:
                schema.primary_keys[table] = key
            for _, name, unique, origin, partial in raw.execute(
                f"PRAGMA index_list({table})"
            ).fetchall():
                if origin == "pk":
                    continue
                columns = tuple(
                    f"{col} desc" if desc else col
                    for _, _, col, desc, _, is_key in raw.execute(
                        f"PRAGMA index_xinfo({name})"
                    ).fetchall()
                    if is_key
                )
                if origin == "u":
                    schema.uniques.add((table, columns))
                    continue
                predicate = None
                if partial:
                    (index_sql,) = raw.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                        (name,),
                    ).fetchone()
                    predicate = _expression(re.split(r"\bWHERE\b", index_sql, flags=re.I)[1])
                schema.indexes[name] = Index(table, columns, bool(unique), predicate)
            rows = raw.execute(f"PRAGMA foreign_key_list({table})").fetchall()
            for fk_id in sorted({row[0] for row in rows}):
                parts = sorted((r for r in rows if r[0] == fk_id), key=lambda r: r[1])
                schema.foreign_keys.add(
                    (
                        table,
                        ForeignKey(
                            tuple(r[3] for r in parts),
                            parts[0][2],
                            tuple(r[4] for r in parts),
                            parts[0][6].upper(),
                            parts[0][5].upper(),
                        ),
                    )
                )
            schema.checks |= {(table, _expression(c)) for c in _sqlite_checks(table_sql)}
        schema.triggers = {
            name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        return schema
    finally:
        raw.close()


_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


def postgres_schema(url: str) -> Schema:
    schema = Schema({}, {}, {}, set(), set(), set(), set())
    with psycopg.connect(url) as conn:
        for table, name, declared, nullable, default, identity in conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " ORDER BY table_name, ordinal_position"
        ):
            schema.columns.setdefault(table, {})[name] = Column(
                _family(declared), nullable == "NO", _default(default), identity == "YES"
            )
        constraints = conn.execute(
            "SELECT t.relname, c.contype,"
            " array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
            "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
            " r.relname,"
            " array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
            "   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),"
            " c.confdeltype, c.confupdtype, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " LEFT JOIN pg_class r ON r.oid = c.confrelid"
            " WHERE t.relnamespace = current_schema()::regnamespace"
        )
        for (
            table,
            kind,
            columns,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
            definition,
        ) in constraints:
            if kind == "p":
                schema.primary_keys[table] = tuple(columns)
            elif kind == "u":
                schema.uniques.add((table, tuple(columns)))
            elif kind == "f":
                fk = ForeignKey(
                    tuple(columns),
                    ref_table,
                    tuple(ref_columns),
                    _ACTIONS[on_delete],
                    _ACTIONS[on_update],
                )
                schema.foreign_keys.add((table, fk))
            elif kind == "c":
                body = re.fullmatch(r"CHECK \((.*)\)", definition)
                assert body is not None, definition
                schema.checks.add((table, _expression(body[1])))
            else:
                raise AssertionError(f"a constraint the parity test does not know: {definition}")
        for name, table, unique, options, predicate, columns in conn.execute(
            "SELECT i.relname, t.relname, x.indisunique, x.indoption::int2[],"
            " pg_get_expr(x.indpred, x.indrelid),"
            " array(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, i)"
            "   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.i)"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class t ON t.oid = x.indrelid"
            " WHERE t.relnamespace = current_schema()::regnamespace"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ):
            assert len(columns) == len(options), f"an expression index: {name}"
            schema.indexes[name] = Index(
                table,
                # indoption bit 0: DESC
                tuple(
                    f"{col} desc" if opt & 1 else col
                    for col, opt in zip(columns, options, strict=True)
                ),
                unique,
                None if predicate is None else _expression(predicate),
            )
        schema.triggers = {
            name
            for (name,) in conn.execute(
                "SELECT DISTINCT trigger_name FROM information_schema.triggers"
                " WHERE trigger_schema = current_schema()"
            )
        }
    return schema


@pytest.fixture
def schemas(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[tuple[Schema, Schema]]:
    path = tmp_path / "parity.db"
    sqlite = SqliteDatabase(path)
    url = postgres_server.create_database("parity")
    postgres = PostgresDatabase(url, max_connections=2)
    try:
        migrate(sqlite)
        migrate(postgres)
        yield sqlite_schema(path), postgres_schema(url)
    finally:
        sqlite.close()
        postgres.close()


def _assert_listed(found: Collection[str], expected: set[str], where: str) -> None:
    missing = expected - set(found)
    assert not missing, f"listed as {where} but not there (update the allowed list): {missing}"


def test_both_dialects_have_the_same_migrations() -> None:
    sqlite = [(m.version, m.name) for m in available("sqlite")]
    assert sqlite == [(m.version, m.name) for m in available("postgres")]


def test_the_tables_and_columns_match(schemas: tuple[Schema, Schema]) -> None:
    sqlite, postgres = schemas
    assert sorted(sqlite.columns) == sorted(postgres.columns)
    for table in sorted(sqlite.columns):
        assert sqlite.columns[table] == postgres.columns[table], table
        # In the same order too, for any INSERT or SELECT * that would rely on it.
        assert list(sqlite.columns[table]) == list(postgres.columns[table]), table


def test_the_keys_and_constraints_match(schemas: tuple[Schema, Schema]) -> None:
    sqlite, postgres = schemas
    for table, key in SQLITE_ONLY_PRIMARY_KEYS.items():
        assert sqlite.primary_keys.pop(table) == key
        assert table not in postgres.primary_keys
    assert sqlite.primary_keys == postgres.primary_keys
    assert sqlite.uniques == postgres.uniques
    assert sqlite.foreign_keys == postgres.foreign_keys
    assert sqlite.checks == postgres.checks
    # The parity test would pass on two empty schemas; these show it read what is there.
    assert ("campaigns", "kind in 'ivr', 'agent'") in sqlite.checks
    assert ("tenants", ("api_key_hash",)) in sqlite.uniques
    cascade = ForeignKey(("destination_id",), "destinations", ("id",), "CASCADE", "NO ACTION")
    assert ("attempts", cascade) in sqlite.foreign_keys


def test_the_indexes_match(schemas: tuple[Schema, Schema]) -> None:
    sqlite, postgres = schemas
    _assert_listed(postgres.indexes, POSTGRES_ONLY_INDEXES, "PostgreSQL only")
    for name in POSTGRES_ONLY_INDEXES:
        assert name not in sqlite.indexes
        del postgres.indexes[name]
    assert sorted(sqlite.indexes) == sorted(postgres.indexes)
    for name in sorted(sqlite.indexes):
        assert sqlite.indexes[name] == postgres.indexes[name], name
    assert sqlite.indexes["destinations_waiting"].predicate == "is_final = 0"


def test_the_triggers_match(schemas: tuple[Schema, Schema]) -> None:
    sqlite, postgres = schemas
    _assert_listed(postgres.triggers, POSTGRES_ONLY_TRIGGERS, "PostgreSQL only")
    assert not POSTGRES_ONLY_TRIGGERS & sqlite.triggers
    assert sqlite.triggers == postgres.triggers - POSTGRES_ONLY_TRIGGERS


_KEYED_ROWS = {
    "dial_queue": ("destination_id, campaign_id, priority, due_at", (41, 7, 2, 1_000)),
    "in_flight": (
        "destination_id, campaign_id, attempt_number, worker, lease_until, queued_at",
        (42, 7, 1, "worker-1", 2_000, 1_500),
    ),
    "idempotency_keys": ("idem_key, request_hash, response, created_at", ("k1", "h", "{}", 3)),
}


def test_the_key_migration_keeps_every_row_and_refuses_null_keys(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0009 rebuilds four SQLite tables: what they held is there after (their indexes are
    compared above), and a NULL key is refused by both stores."""
    everything = migrations.available
    monkeypatch.setattr(
        migrations, "available", lambda dialect: [m for m in everything(dialect) if m.version < 9]
    )
    database = open_database(database_url)
    try:
        migrations.migrate(database)
        with database.transaction(write=True) as conn:
            (tenant,) = conn.execute(
                "INSERT INTO tenants (name, region, timezone, api_key_hash, created_at)"
                " VALUES ('Acme', 'GB', 'Europe/London', 'h', 0) RETURNING id"
            )[0]
            rows = {
                **_KEYED_ROWS,
                "webhooks": ("tenant_id, url, secret, created_at", (tenant, "https://x/", "s", 4)),
            }
            for table, (columns, values) in rows.items():
                conn.execute(
                    f"INSERT INTO {table} ({columns}) VALUES ({', '.join('%s' for _ in values)})",
                    values,
                )
        monkeypatch.setattr(migrations, "available", everything)
        assert next(m.version for m in migrations.migrate(database)) == 9
        with database.transaction(write=False) as conn:
            for table, (columns, values) in rows.items():
                assert conn.execute(f"SELECT {columns} FROM {table}") == [values], table
        for table, (columns, values) in rows.items():
            null_key = (None, *values[1:])
            with (
                pytest.raises((sqlite3.IntegrityError, psycopg.errors.NotNullViolation)),
                database.transaction(write=True) as conn,
            ):
                conn.execute(
                    f"INSERT INTO {table} ({columns}) VALUES ({', '.join('%s' for _ in values)})",
                    null_key,
                )
    finally:
        database.close()

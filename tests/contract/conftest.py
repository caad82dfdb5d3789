"""The ``store`` fixture of the contract tier: every test here runs on the in-memory store,
a real SQLite file and the real PostgreSQL alike, so the three cannot drift apart.

Each test gets an empty, migrated store. The migrations run once per session per dialect: a
SQLite test gets a copy of a migrated file, and the PostgreSQL tests share one migrated
database, emptied before each test (cloning a template database took 0.5 s a test).
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dialer.ports.store import Store
from dialer.storage.database import PostgresDatabase, SqliteDatabase
from dialer.storage.memory import MemoryStore
from dialer.storage.migrations import migrate
from dialer.storage.sql_store import SqlStore
from dialer.testing.postgres import PostgresServer

# The PostgreSQL runs carry the suite's ``postgres`` marker: ``-m "not postgres"`` leaves them out.
STORES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "template.db"
    database = SqliteDatabase(path)
    migrate(database)
    database.close()
    return path


@pytest.fixture(scope="session")
def postgres_contract(postgres_server: PostgresServer) -> tuple[str, str]:
    """One migrated database for the whole tier, and the script that empties it."""
    url = postgres_server.create_database("contract")
    database = PostgresDatabase(url)
    migrate(database)
    database.close()
    with psycopg.connect(url, autocommit=True) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'schema_migrations'"
            )
        }
        parents = conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f'"
        ).fetchall()
    # Children before their parents; then every table once more, since deleting rows fires
    # triggers that write counters (migration 0006).
    order: list[str] = []
    while len(order) < len(tables):
        left = tables - set(order)
        order += sorted(t for t in left if not any(p == t and c in left for c, p in parents))
    return url, "; ".join(f"DELETE FROM {table}" for table in order + order)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "dialer.db"
        shutil.copyfile(template, path)
        made = SqlStore(SqliteDatabase(path))
    else:
        url, empty = request.getfixturevalue("postgres_contract")
        # DELETE, not TRUNCATE: on tables this small it is 50 times quicker.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(empty.encode())
        made = SqlStore(PostgresDatabase(url, max_connections=4))
    yield made
    made.close()

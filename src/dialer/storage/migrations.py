"""Versioned SQL migrations: ``migrations/<dialect>/NNNN_name.sql``, applied in order, once each."""

import time
from dataclasses import dataclass
from importlib import resources

from dialer.storage.database import PostgresDatabase, SqliteDatabase

# Any fixed number will do; it only has to be the same in every process migrating this database.
_PG_MIGRATION_LOCK = 0x6469616C


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available(dialect: str) -> list[Migration]:
    folder = resources.files("dialer.storage") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(
                Migration(int(version), rest.removesuffix(".sql"), entry.read_text("utf-8"))
            )
    return sorted(found, key=lambda m: m.version)


def migrate(database: SqliteDatabase | PostgresDatabase) -> list[Migration]:
    """Apply what is missing, all in one transaction; safe when several processes start at once."""
    database.prepare()
    applied: list[Migration] = []
    with database.transaction(write=True) as conn:
        if conn.dialect == "postgres":
            # Serialises concurrent migrators; SQLite's BEGIN IMMEDIATE already does.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in available(conn.dialect):
            if migration.version in done:
                continue
            conn.execute_script(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (migration.version, migration.name, time.time_ns() // 1000),
            )
            applied.append(migration)
    return applied

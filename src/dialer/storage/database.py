"""Connections to SQLite or PostgreSQL behind one small interface, so one SQL store serves both.

Queries are written once with ``%s`` placeholders (psycopg's style); the SQLite connection
rewrites them to ``?`` and drops row-lock clauses, since a SQLite write transaction
(``BEGIN IMMEDIATE``) already holds the whole database.
"""

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool

Row = tuple[Any, ...]


class Connection(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def execute_script(self, sql: str) -> None: ...
    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None: ...


class Database(Protocol):
    dialect: str

    def transaction(self, *, write: bool) -> AbstractContextManager[Connection]: ...
    def close(self) -> None: ...


@lru_cache(maxsize=512)
def _to_sqlite(sql: str) -> str:
    return re.sub(r"\s+FOR UPDATE\b", "", sql).replace("%s", "?")


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._raw.execute(_to_sqlite(sql), tuple(params)).fetchall()

    def execute_script(self, sql: str) -> None:
        # executescript would commit the open transaction first; run statement by statement.
        for statement in _split_statements(sql):
            self._raw.execute(statement)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        self._raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class PostgresConnection:
    dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[Row]) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._raw.cursor() as cur:
            cur.execute(sql.encode(), tuple(params))
            return cur.fetchall() if cur.description is not None else []

    def execute_script(self, sql: str) -> None:
        self._raw.execute(sql.encode())

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        # COPY is several times faster than batched INSERTs for campaign-sized lists.
        with self._raw.cursor() as cur:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cur.copy(statement.encode()) as copy:
                for row in rows:
                    copy.write_row(row)


def _split_statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA busy_timeout = 30000")
        raw.execute("PRAGMA synchronous = NORMAL")
        return raw

    def prepare(self) -> None:
        """Switch the file to WAL once, so readers never wait for the writer."""
        raw = self._connect()
        try:
            raw.execute("PRAGMA journal_mode = WAL")
        finally:
            raw.close()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        # A connection per transaction: cheap for SQLite, and no connection crosses threads.
        raw = self._connect()
        try:
            raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield SqliteConnection(raw)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
        finally:
            raw.close()

    def close(self) -> None:
        """Nothing is held open between transactions."""


class PostgresDatabase:
    dialect = "postgres"

    def __init__(self, url: str, max_connections: int = 10) -> None:
        self.url = url
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url, min_size=1, max_size=max_connections, open=True, timeout=30
        )

    def prepare(self) -> None:
        self._pool.wait(timeout=30)

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        # The pool commits when the block ends normally and rolls back on an exception.
        with self._pool.connection() as raw:
            if not write:
                raw.execute(b"SET TRANSACTION READ ONLY")
            yield PostgresConnection(raw)

    def close(self) -> None:
        self._pool.close()


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: str
    target: str

    @classmethod
    def parse(cls, url: str) -> "DatabaseUrl":
        scheme = urlsplit(url).scheme
        if scheme == "sqlite":
            path = url.removeprefix("sqlite://")
            if not path.startswith("/") or path == "/":
                raise ValueError(f"a SQLite URL looks like sqlite:///dialer.db; got {url!r}")
            # sqlite:///rel.db is relative, sqlite:////abs/x.db absolute (as SQLAlchemy reads them).
            return cls("sqlite", path[1:])
        if scheme in ("postgresql", "postgres"):
            return cls("postgres", url)
        raise ValueError(
            f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://..."
        )


def open_database(url: str) -> SqliteDatabase | PostgresDatabase:
    parsed = DatabaseUrl.parse(url)
    if parsed.dialect == "sqlite":
        return SqliteDatabase(Path(parsed.target))
    return PostgresDatabase(parsed.target)

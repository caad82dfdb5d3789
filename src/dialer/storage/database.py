"""Connections to SQLite or PostgreSQL behind one small interface, so one SQL store serves both.

Queries are written once with ``%s`` placeholders (psycopg's style); the SQLite connection
rewrites them to ``?`` and drops row-lock clauses, since a SQLite write transaction
(``BEGIN IMMEDIATE``) already holds the whole database.
"""

import contextlib
import itertools
import re
import sqlite3
import threading
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
_SMALL_INSERT = 20


class Connection(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def execute_script(self, sql: str) -> None: ...
    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run ``sql`` once per row; how many rows the runs changed in all."""
        ...

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None: ...


class Database(Protocol):
    dialect: str

    def transaction(self, *, write: bool) -> AbstractContextManager[Connection]: ...
    def close(self) -> None: ...


@lru_cache(maxsize=128)
def _insert_chunk(columns: int, values: int) -> int:
    """The most rows one SQLite INSERT takes: a power of two, at most 512, and within the
    connection's limit of values a statement (32,766 by default since SQLite 3.32)."""
    return 1 << (max(1, min(512, values // max(columns, 1))).bit_length() - 1)


@lru_cache(maxsize=512)
def _rows_insert(table: str, columns: tuple[str, ...], rows: int) -> str:
    """The INSERT of ``rows`` rows; cached, so a batch pays no Python to build its text."""
    marks = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([marks] * rows)


@lru_cache(maxsize=512)
def _to_sqlite(sql: str) -> str:
    return re.sub(r"\s+FOR (UPDATE|KEY SHARE)( SKIP LOCKED)?\b", "", sql).replace("%s", "?")


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._raw.execute(_to_sqlite(sql), tuple(params)).fetchall()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._raw.executemany(_to_sqlite(sql), rows).rowcount

    def execute_script(self, sql: str) -> None:
        # executescript would commit the open transaction first; run statement by statement.
        for statement in _split_statements(sql):
            self._raw.execute(statement)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        # Multi-row INSERTs, not executemany: SQLite runs a statement's set-up once per
        # execution, and executemany executes once per row (for the attempts: the AUTOINCREMENT
        # counter's look-up in sqlite_sequence and a NULL for each column not named, 38 of
        # their 105 VM instructions a row; docs/engine.md, "ninth round"). A chunk's size is a
        # power of two, so a table's inserts compile at most ten texts, cached by the module.
        names = tuple(columns)
        widest = _insert_chunk(len(names), self._raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, widest)):
            start, end = 0, len(chunk)
            while start < end:
                size = 1 << ((end - start).bit_length() - 1)
                values = [*itertools.chain(*chunk[start : start + size])]
                self._raw.execute(_rows_insert(table, names, size), values)
                start += size


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

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        # psycopg pipelines executemany: one round trip for the batch, not one per row.
        with self._raw.cursor() as cur:
            cur.executemany(sql.encode(), rows)
            return cur.rowcount

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        # COPY is several times faster than INSERTs for campaign-sized lists, but takes three
        # round trips: a handful of rows (an AddCall) goes in one INSERT.
        iterator = iter(rows)
        head = list(itertools.islice(iterator, _SMALL_INSERT + 1))
        if len(head) <= _SMALL_INSERT:
            if head:
                marks = ", ".join("%s" for _ in columns)
                values = ", ".join(f"({marks})" for _ in head)
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"
                self._raw.execute(statement.encode(), [v for row in head for v in row])
            return
        with self._raw.cursor() as cur:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cur.copy(statement.encode()) as copy:
                for row in itertools.chain(head, iterator):
                    copy.write_row(row)


def _split_statements(sql: str) -> list[str]:
    """Statements of a script; a trigger's body, with its own semicolons, stays whole."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements: list[str] = []
    pending = ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip().removesuffix(";").strip())
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip().removesuffix(";").strip())
    return [s for s in statements if s]


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection per thread, kept open: closing the last connection to a WAL database
        # checkpoints and deletes the WAL, which cost 1.3 ms of a 4 ms AddCall when done per
        # transaction.
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # SQLite takes one writer at a time. Writers of this process queue here; only writers
        # of other processes meet SQLite's busy handler, which sleeps up to 100 ms per try (it
        # gave AddCall a 180 ms p99 with 8 concurrent clients).
        self._writer = threading.Lock()

    def _connect(self, *, read_only: bool = False) -> sqlite3.Connection:
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA busy_timeout = 30000")
        raw.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            # A read refuses writes, as PostgreSQL's READ ONLY transaction does: without it a
            # write in a read block would pass here, past the writer lock, and fail only there.
            raw.execute("PRAGMA query_only = ON")
        return raw

    def prepare(self) -> None:
        """Switch the file to WAL once, so readers never wait for the writer."""
        raw = self._connect()
        try:
            raw.execute("PRAGMA journal_mode = WAL")
        finally:
            raw.close()

    def _thread_connection(self, *, write: bool) -> sqlite3.Connection:
        """The thread's connection for writes, or its read-only one for reads. Two, not one
        switched by ``PRAGMA query_only`` per read: setting that pragma expires every statement
        the connection has prepared, so each read made the next transaction's statements (the
        engine's of 500 to 2,500 values among them) be parsed and planned again (issue 11)."""
        name = "writer" if write else "reader"
        raw: sqlite3.Connection | None = getattr(self._local, name, None)
        if raw is None:
            raw = self._connect(read_only=not write)
            setattr(self._local, name, raw)
            with self._lock:
                self._all.append(raw)
        return raw

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        # The thread's one connection cannot hold two transactions, and a nested write would
        # wait forever on the writer lock: refuse at once, loudly.
        if getattr(self._local, "busy", False):
            raise RuntimeError("a store transaction was opened inside another on this thread")
        raw = self._thread_connection(write=write)
        self._local.busy = True
        try:
            with self._writer if write else contextlib.nullcontext():
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield SqliteConnection(raw)
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
        finally:
            self._local.busy = False

    def close(self) -> None:
        with self._lock:
            for raw in self._all:
                raw.close()
            self._all.clear()
        self._local = threading.local()


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

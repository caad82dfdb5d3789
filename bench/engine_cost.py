"""What one engine run costs, in measures the machine's load does not move (issue 11).

Wall time on a shared 2-core machine swings by a third between runs of the same tree; these
two measures do not, so trees can be compared on them while others work:

- ``calls``: one ``bench/engine_throughput.py`` throughput run under cProfile, the store's
  threads run inline so one profiler sees them; prints Python function calls per attempt and
  the functions called most per attempt (``--top``), and saves the profile (``--save``);
- ``record``: the same run on SQLite without the profiler, every transaction's SQL recorded in
  order, saved with a copy of the store as it was before the run; prints the transactions and
  the authorizer's checks, which SQLite makes for each table and column of a statement it
  compiles (again, when its prepared form was expired): the work of preparing statements;
- ``replay``: the recording replayed on fresh copies of that store, one thread, SQLite's own
  CPU time per statement kind (``time.thread_time`` around each call), best of ``--reps``;
  ``--ddl`` runs SQL on the copy first (to try a schema change on the same workload).

Each tree is measured with its own code and its own ``bench/engine_throughput.py`` (so an
older release such as e483cb8 can be measured too)::

    PYTHONPATH=<tree>/src .venv/bin/python bench/engine_cost.py calls <tree> [--numbers 20000]
    PYTHONPATH=<tree>/src .venv/bin/python bench/engine_cost.py record <tree> out.pkl
    .venv/bin/python bench/engine_cost.py replay out.pkl [--reps 6] [--ddl "..."]
"""

import argparse
import asyncio
import cProfile
import importlib
import os
import pickle
import pstats
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Statement = tuple[str, str, Any]  # ("x", sql, params) or ("m", sql, rows)
Unit = tuple[bool, list[Statement]]  # (a write transaction?, its statements in order)


def _bench_of(tree: str) -> Any:
    """The tree's own engine_throughput module (its phases build that tree's engine)."""
    sys.path.insert(0, str(Path(tree, "bench")))
    return importlib.import_module("engine_throughput")


def _fill(bench: Any, url: str, numbers: int) -> dict[str, Any]:
    """A filled store whose campaign is open at the returned throughput arguments' start."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    start = bench.noon(day).isoformat()
    bench.phase_fill({"url": url, "numbers": numbers, "first_day": day.isoformat(), "clock": start})
    return {"url": url, "start": start, "max_in_flight": 1000, "claim_batch": 500}


async def _inline(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def calls(opts: argparse.Namespace) -> None:
    bench = _bench_of(opts.tree)
    with tempfile.TemporaryDirectory(prefix="dialer-cost-") as tmp:
        args = _fill(bench, f"sqlite:///{tmp}/t.db", opts.numbers)
        # The store's work runs in threads (asyncio.to_thread); inline, one profiler sees it
        # and the count is the same.
        asyncio.to_thread = _inline  # type: ignore[assignment]
        profile = cProfile.Profile()
        profile.enable()
        result = bench.phase_throughput(args)
        profile.disable()
    if opts.save:
        profile.dump_stats(opts.save)
    recorded = result["recorded"]
    stats: Any = pstats.Stats(profile).stats
    total = sum(entry[1] for entry in stats.values())
    print(
        f"{opts.tree}: {recorded} attempts, {total} Python calls"
        f" = {total / recorded:.1f} per attempt"
    )
    rows = sorted(stats.items(), key=lambda item: -item[1][1])[: opts.top]
    for (path, line, name), entry in rows:
        where = path.split("/src/")[-1] if "/src/" in path else path
        print(f"  {entry[1] / recorded:7.2f}  {where}:{line}({name})")


def record(opts: argparse.Namespace) -> None:
    from dialer.storage import database as db

    bench = _bench_of(opts.tree)
    units: list[Unit] = []
    local = threading.local()
    lock = threading.Lock()

    def log(item: Statement) -> None:
        current = getattr(local, "unit", None)
        if current is not None:
            current.append(item)

    run_one, run_many = db.SqliteConnection.execute, db.SqliteConnection.execute_many
    run_insert = db.SqliteConnection.insert_many

    def execute(self: Any, sql: str, params: Any = ()) -> Any:
        log(("x", db._to_sqlite(sql), tuple(params)))
        return run_one(self, sql, params)

    def execute_many(self: Any, sql: str, rows: Any) -> Any:
        rows = [tuple(row) for row in rows]
        log(("m", db._to_sqlite(sql), rows))
        return run_many(self, sql, rows)

    def insert_many(self: Any, table: str, columns: Any, rows: Any) -> Any:
        # Whatever the tree's insert_many runs on its raw connection (one statement per row
        # through executemany, or multi-row INSERTs), recorded as it is run.
        raw = self._raw

        class Spy:
            def __getattr__(self, name: str) -> Any:
                return getattr(raw, name)

            def execute(self, sql: str, params: Any = ()) -> Any:
                log(("x", sql, tuple(params)))
                return raw.execute(sql, params)

            def executemany(self, sql: str, many: Any) -> Any:
                many = [tuple(row) for row in many]
                log(("m", sql, many))
                return raw.executemany(sql, many)

        self._raw = Spy()
        try:
            return run_insert(self, table, columns, rows)
        finally:
            self._raw = raw

    # Each statement SQLite compiles (or compiles again, its prepared form expired) asks the
    # authorizer about every table and column it touches: a count of compilation work.
    checks = [0]

    def authorize(*_: Any) -> int:
        checks[0] += 1
        return sqlite3.SQLITE_OK

    connect = db.SqliteDatabase._connect

    def connect_counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        raw = connect(self, *args, **kwargs)
        raw.set_authorizer(authorize)
        return raw

    opened = db.SqliteDatabase.transaction

    @contextmanager
    def transaction(self: Any, *, write: bool) -> Iterator[Any]:
        with opened(self, write=write) as conn:
            local.unit = []
            try:
                yield conn
            finally:
                unit, local.unit = local.unit, None
            with lock:
                units.append((write, unit))

    db.SqliteConnection.execute = execute
    db.SqliteConnection.execute_many = execute_many
    db.SqliteConnection.insert_many = insert_many
    db.SqliteDatabase.transaction = transaction
    db.SqliteDatabase._connect = connect_counted
    with tempfile.TemporaryDirectory(prefix="dialer-cost-") as tmp:
        args = _fill(bench, f"sqlite:///{tmp}/t.db", opts.numbers)
        source, copy = sqlite3.connect(f"{tmp}/t.db"), sqlite3.connect(opts.out + ".db")
        source.backup(copy)
        source.close()
        copy.close()
        units.clear()
        checks[0] = 0
        result = bench.phase_throughput(args)
    with open(opts.out, "wb") as out:
        pickle.dump(units, out)
    print(
        f"{opts.tree}: {result['recorded']} attempts, {len(units)} transactions recorded,"
        f" {checks[0]} authorizer checks (statements compiled: their tables and columns)"
    )


def _kind(sql: str) -> str:
    """A statement's kind: its text with runs of placeholders folded, cut short."""
    text = re.sub(r"\s+", " ", sql)
    text = re.sub(r"\(\?(?:, \?)+\)", "(..)", text)
    text = re.sub(r"(\(\.\.\)(, )?)+", "(..)", text)
    return text[:100]


STEP = 100  # SQLite VM instructions per progress-handler call (--count)


def _replay_once(
    units: list[Unit], store: str, ddl: str, count: bool
) -> tuple[float, dict[str, float], int]:
    """One replay: SQLite CPU per statement kind (or, with ``count``, VM instructions in
    hundreds), and the pages written (WAL frames, no checkpoint meanwhile)."""
    with tempfile.TemporaryDirectory(prefix="dialer-replay-") as tmp:
        path = f"{tmp}/replay.db"
        shutil.copy(store, path)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        if ddl:
            conn.executescript(ddl)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        steps = [0]

        def step() -> int:
            steps[0] += 1
            return 0

        if count:
            conn.set_progress_handler(step, STEP)
        clock = (lambda: float(steps[0])) if count else time.thread_time
        spent: dict[str, float] = defaultdict(float)
        for write, statements in units:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            for kind, sql, params in statements:
                began = clock()
                if kind == "m":
                    conn.executemany(sql, params)
                else:
                    conn.execute(sql, params).fetchall()
                spent[("MANY " if kind == "m" else "") + _kind(sql)] += clock() - began
            began = clock()
            conn.execute("COMMIT")
            spent["COMMIT"] += clock() - began
        conn.set_progress_handler(None, 0)
        frames = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        conn.close()
    return sum(spent.values()), spent, frames


def replay(opts: argparse.Namespace) -> None:
    with open(opts.recording, "rb") as source:
        units: list[Unit] = pickle.load(source)  # noqa: S301 (our own recording)
    if opts.count:
        # Counts, not time: one replay says it all, whatever the machine's load.
        total, spent, frames = _replay_once(units, opts.recording + ".db", opts.ddl, True)
        print(
            f"{opts.recording}: {total * STEP / 1e6:.2f} M SQLite VM instructions,"
            f" {frames} pages written"
        )
        for kind, steps in sorted(spent.items(), key=lambda item: -item[1])[: opts.top]:
            print(f"  {steps * STEP / 1e6:6.2f} M  {kind}")
        return
    runs = [_replay_once(units, opts.recording + ".db", opts.ddl, False) for _ in range(opts.reps)]
    best_total = min(total for total, _, _ in runs)
    every = " ".join(f"{total:.3f}" for total, _, _ in runs)
    # Each kind's best over the replays: a busy machine slows some statements of a replay and
    # not others, so the sum of the bests is steadier than the best replay's total.
    kinds = {kind: min(spent.get(kind, 0.0) for _, spent, _ in runs) for kind in runs[0][1]}
    print(
        f"{opts.recording}: SQL {best_total:.3f} s best replay, {sum(kinds.values()):.3f} s"
        f" each statement kind at its best ({opts.reps} replays: {every});"
        f" {runs[0][2]} pages written"
    )
    for kind, seconds in sorted(kinds.items(), key=lambda item: -item[1])[: opts.top]:
        print(f"  {seconds:6.3f}  {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("calls", "record"):
        command = sub.add_parser(name)
        command.add_argument("tree", help="the tree whose src/ is on PYTHONPATH")
        command.add_argument("--numbers", type=int, default=20_000)
        if name == "calls":
            command.add_argument("--top", type=int, default=25)
            command.add_argument("--save", help="write the cProfile stats here")
        else:
            command.add_argument("out", help="the recording (the store's copy: out + '.db')")
    command = sub.add_parser("replay")
    command.add_argument("recording")
    command.add_argument("--reps", type=int, default=6)
    command.add_argument("--ddl", default="", help="SQL run on each copy before the replay")
    command.add_argument("--top", type=int, default=10)
    command.add_argument(
        "--count", action="store_true", help="VM instructions per statement kind, not CPU time"
    )
    opts = parser.parse_args()
    src = str(Path(opts.tree, "src").resolve()) if hasattr(opts, "tree") else ""
    if src and src not in [os.path.abspath(p) for p in sys.path]:
        sys.path.insert(0, src)
    {"calls": calls, "record": record, "replay": replay}[opts.command](opts)


if __name__ == "__main__":
    main()

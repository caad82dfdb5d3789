"""SQLite writes the engine's batches in a few statements, not one per destination: each
statement on destinations pays a set-up cost for its row trigger, whether it counts or not
(docs/engine.md, "Throughput"); and what it writes lies where a batch costs fewest pages."""

import logging
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from dialer.bootstrap import build
from dialer.clocks import ManualClock
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, TenantId
from dialer.settings import Settings
from dialer.storage import migrations, sql_counts, sql_outcomes
from dialer.storage.database import SqliteDatabase
from tests.conftest import Account
from tests.integration.engine_support import claimed_on_sqlite
from tests.integration.test_destination_counts import counted, finish, recount


@contextmanager
def _traced(conn: Any) -> Iterator[tuple[sqlite3.Connection, list[str]]]:
    """A store connection's SQLite connection, and the SQL it runs inside the block."""
    raw: sqlite3.Connection = conn._raw
    traced: list[str] = []
    raw.set_trace_callback(traced.append)
    try:
        yield raw, traced
    finally:
        raw.set_trace_callback(None)


def _destination_updates(statements: list[str]) -> int:
    # The trace repeats a statement (with its values) each time its row trigger starts:
    # distinct texts are the statements run.
    return len({s for s in statements if "UPDATE destinations" in s})


# One UPDATE per chunk and state taken (done, or pending again for a retry): each chunk of the
# test's batch holds both.
@pytest.mark.parametrize(("chunk", "statements"), [(1000, 2), (16, 6)])
def test_sqlite_records_a_batch_of_outcomes_in_one_update_per_chunk_and_state(
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    statements: int,
) -> None:
    monkeypatch.setattr(sql_outcomes, "NOTE_CHUNK", chunk)
    claimed = claimed_on_sqlite(tmp_path / "batches.db", clock, 40)
    with claimed as (container, account, campaign, jobs, now):
        outcomes = [Outcome.ANSWERED, Outcome.BUSY, Outcome.NO_ANSWER]
        with container.store.write() as session, _traced(session._conn) as (_raw, traced):
            recorded = session.finish_attempts(
                [finish(j, outcomes[i % 3], now, retry=i % 4 == 1) for i, j in enumerate(jobs)],
                "engine-a",
                now,
            )
        assert len(recorded) == 40
        assert _destination_updates(traced) == statements
        with container.store.read() as session:
            # Each destination got its own outcome, state and attempt count.
            rows = session._conn.execute(
                "SELECT id, state, last_outcome, attempts_made FROM destinations"
                " WHERE campaign_id = %s ORDER BY id",
                (campaign.id,),
            )
            by_job = {j.destination_id: i for i, j in enumerate(jobs)}
            assert [(r[1], r[2], r[3]) for r in rows] == [
                (
                    "pending" if by_job[r[0]] % 4 == 1 else "done",
                    outcomes[by_job[r[0]] % 3].value,
                    1,
                )
                for r in rows
            ]
            assert counted(session, account, campaign.id, now) == recount(session, campaign.id, now)
            assert session.destination_tallies([CampaignId(0)]) == {0: {}}


def test_recording_a_batch_runs_no_enum_python_code_per_attempt(
    tmp_path: Path, clock: ManualClock
) -> None:
    # Enum's .value and __hash__ are Python code in 3.11: several calls per attempt on the
    # engine's hottest write, where a dict look-up keyed by member costs none (docs/engine.md).
    claimed = claimed_on_sqlite(tmp_path / "codes.db", clock, 20)
    with claimed as (container, _, _, jobs, now):
        batch = [finish(j, Outcome.BUSY, now, retry=False) for j in jobs]
        enum_calls: list[str] = []

        def profile(frame: FrameType, event: str, arg: object) -> None:
            if event == "call" and frame.f_code.co_filename.endswith("enum.py"):
                enum_calls.append(frame.f_code.co_qualname)

        with container.store.write() as session:
            sys.setprofile(profile)
            try:
                recorded = session.finish_attempts(batch, "engine-a", now)
            finally:
                sys.setprofile(None)
        assert len(recorded) == 20
        assert enum_calls == []


def test_attempts_ending_at_one_instant_lie_in_their_index_in_the_order_recorded(
    tmp_path: Path, clock: ManualClock
) -> None:
    """``attempts_campaign_ended`` ordered the attempts of one instant by outcome and stage, so
    a recorded batch was written at one place of the index per (outcome, stage), a leaf page
    each; with the attempt's id first (migration 0027) a batch is appended at one place: 740
    of 6,217 pages written per 20,000 attempts of the engine's bench (docs/engine.md)."""
    claimed = claimed_on_sqlite(tmp_path / "ended.db", clock, 40)
    with claimed as (container, _, campaign, jobs, now):
        outcomes = [Outcome.ANSWERED, Outcome.BUSY, Outcome.NO_ANSWER]
        stages = [Stage.NONE, Stage.CORRECT_CALLEE]
        for batch in (jobs[:20], jobs[20:]):
            with container.store.write() as session:
                recorded = session.finish_attempts(
                    [
                        FinishedAttempt(
                            AttemptRecord(
                                j.destination_id,
                                j.attempt_number,
                                outcomes[i % 3],
                                stages[i % 2],
                                now,
                                now,
                                None,
                                now,
                            ),
                            j.campaign_id,
                            TenantId(1),
                            j.priority,
                            None,
                        )
                        for i, j in enumerate(batch)
                    ],
                    "engine-a",
                    now,
                )
            assert len(recorded) == 20
        with container.store.read() as session:
            ids = [
                row[0]
                for row in session._conn.execute(
                    "SELECT id FROM attempts INDEXED BY attempts_campaign_ended"
                    " WHERE campaign_id = %s AND ended_at = %s",
                    (campaign.id, int(now.timestamp() * 1_000_000)),
                )
            ]
        assert len(ids) == 40
        assert ids == sorted(ids)


def test_sqlite_recording_counts_its_batch_from_the_rows_it_changed(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The recording's UPDATE returns no rows (a RETURNING clause cost 15% of its time): it
    learns how many destinations were in flight from SQLite's count of rows changed. Were that
    count wrong, the counters would still come out right, by counting the campaign again from
    its destinations at every batch: what this test rules out."""
    claimed = claimed_on_sqlite(tmp_path / "changed.db", clock, 30)
    with claimed as (container, account, campaign, jobs, now):
        with (
            caplog.at_level(logging.ERROR, logger="dialer.storage.sql_counts"),
            container.store.write() as session,
        ):
            recorded = session.finish_attempts(
                [finish(j, Outcome.BUSY, now, retry=i % 3 == 0) for i, j in enumerate(jobs)],
                "engine-a",
                now,
            )
        assert len(recorded) == 30
        assert not [r for r in caplog.records if "again" in r.getMessage()]
        with container.store.read() as session:
            assert counted(session, account, campaign.id, now) == recount(session, campaign.id, now)


def _indexes_written(raw: sqlite3.Connection, statement: str) -> set[str]:
    """The indexes SQLite's program for ``statement`` opens to write (it opens only those
    whose entry may change: one whose columns or predicate name a column set)."""
    names = dict(
        raw.execute("SELECT rootpage, name FROM sqlite_master WHERE type = 'index'").fetchall()
    )
    program = raw.execute(f"EXPLAIN {statement}").fetchall()
    return {names[row[3]] for row in program if row[1] == "OpenWrite" and row[3] in names}


def test_the_sqlite_claim_leaves_the_waiting_index_alone(
    tmp_path: Path, clock: ManualClock
) -> None:
    """destinations_waiting's predicate named state, so every claim (pending -> in_flight, both
    waiting) deleted and re-inserted an identical entry per row: 0.58 M VM instructions and
    295 pages written per 20,000 attempts. Since migration 0028 it names is_final, which the
    claim does not set; the recording still writes it (a done destination leaves the list)."""
    container = build(Settings(database_url=f"sqlite:///{tmp_path}/waiting.db"), clock=clock)
    try:
        account = Account(container, "Acme")
        now = clock.now()
        body = account.campaign(phoneNumbers=[{"number": f"+4411349{n:05d}"} for n in range(10)])
        campaign = container.campaigns.create(account.tenant, body).campaign
        with container.store.write() as session:
            with _traced(session._conn) as (raw, traced):
                jobs = session.claim(campaign.id, now, 10, "engine-a", now + timedelta(minutes=1))
                session.finish_attempts(
                    [finish(j, Outcome.BUSY, now, retry=False) for j in jobs], "engine-a", now
                )
            (claim,) = {s for s in traced if "SET state = 'in_flight'" in s}
            (record,) = {s for s in traced if "SET attempts_made" in s}
            claimed, recorded = _indexes_written(raw, claim), _indexes_written(raw, record)
        assert len(jobs) == 10
        assert "destinations_waiting" not in claimed, claimed
        assert "destinations_waiting" in recorded, recorded
    finally:
        container.close()


def test_the_sqlite_recording_of_a_retry_leaves_the_waiting_index_alone(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A retry goes from in flight back to pending: it stays on GetWaitingCalls' list, its
    destinations_waiting entry unchanged. The recording set is_final for the whole batch
    (is_final = state = 'done'), and SQLite rewrites the entry of an index whose predicate
    names a column set, whatever the value: each retry deleted and re-inserted an identical
    entry. Its UPDATE now names is_final only for the destinations that are done."""
    claimed = claimed_on_sqlite(tmp_path / "retry.db", clock, 10)
    with claimed as (container, account, campaign, jobs, now):
        with container.store.write() as session:
            with _traced(session._conn) as (raw, traced):
                session.finish_attempts(
                    [finish(j, Outcome.BUSY, now, retry=i % 2 == 0) for i, j in enumerate(jobs)],
                    "engine-a",
                    now,
                )
            recordings = {s for s in traced if "SET attempts_made" in s}
            (retried,) = {s for s in recordings if "state = 'pending'" in s}
            (done,) = {s for s in recordings if "state = 'done'" in s}
            assert "destinations_waiting" not in _indexes_written(raw, retried)
            assert "destinations_waiting" in _indexes_written(raw, done)
        with container.store.read() as session:
            states = session._conn.execute(
                "SELECT state, is_final, count(*) FROM destinations WHERE campaign_id = %s"
                " GROUP BY state, is_final ORDER BY state",
                (campaign.id,),
            )
            assert [tuple(r) for r in states] == [("done", 1, 5), ("pending", 0, 5)]
            assert counted(session, account, campaign.id, now) == recount(session, campaign.id, now)


def test_the_sqlite_counting_of_a_batch_runs_python_per_kind_of_move_not_per_destination(
    tmp_path: Path, clock: ManualClock
) -> None:
    """counted_by_hand turned each destination's move into two counter updates in Python;
    a batch's moves are a few kinds repeated, now counted by kind first (in C): its own lines
    run as often for a batch of 30 as for one of 5 of the same outcome."""
    code = sql_counts.counted_by_hand.__code__
    lines: list[int] = []

    def tracer(frame: FrameType, event: str, arg: object) -> object:
        if frame.f_code is not code:
            return None
        if event == "line":
            lines[-1] += 1
        return tracer

    claimed = claimed_on_sqlite(tmp_path / "kinds.db", clock, 35)
    with claimed as (container, account, campaign, jobs, now):
        for batch in (jobs[:5], jobs[5:]):
            lines.append(0)
            with container.store.write() as session:
                sys.settrace(tracer)
                try:
                    session.finish_attempts(
                        [finish(j, Outcome.BUSY, now, retry=False) for j in batch], "engine-a", now
                    )
                finally:
                    sys.settrace(None)
        with container.store.read() as session:
            assert counted(session, account, campaign.id, now) == recount(session, campaign.id, now)
    assert lines[0] > 0
    assert lines[1] == lines[0]


def _inserts_into(statements: list[str], table: str) -> int:
    return sum(1 for s in statements if s.startswith(f"INSERT INTO {table} "))


def test_a_recorded_batch_goes_into_attempts_in_one_insert_per_power_of_two_of_its_rows(
    tmp_path: Path, clock: ManualClock
) -> None:
    """executemany ran the attempts' INSERT once per row, and SQLite runs a statement's set-up
    (the AUTOINCREMENT counter's look-up, a NULL for each column not named) each time: 38 of
    its 105 VM instructions a row. A batch of 40 is now two statements (32 rows and 8)."""
    claimed = claimed_on_sqlite(tmp_path / "inserts.db", clock, 40)
    with claimed as (container, _account, campaign, jobs, now):
        with container.store.write() as session, _traced(session._conn) as (_raw, traced):
            recorded = session.finish_attempts(
                [finish(j, Outcome.BUSY, now, retry=False) for j in jobs], "engine-a", now
            )
        assert _inserts_into(traced, "attempts") == 2
        with container.store.read() as session:
            rows = session._conn.execute(
                "SELECT id, destination_id, attempt_number, outcome FROM attempts"
                " WHERE campaign_id = %s ORDER BY id",
                (campaign.id,),
            )
    assert len(recorded) == 40
    # Every attempt written once, in the batch's order.
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (j.destination_id, 1, Outcome.BUSY.value) for j in jobs
    ]


@pytest.mark.parametrize(("rows", "statements"), [(0, 0), (1, 1), (7, 3), (512, 1), (1300, 5)])
def test_sqlite_insert_many_writes_every_row_in_order_in_power_of_two_chunks(
    tmp_path: Path, rows: int, statements: int
) -> None:
    """The leases' INSERT (and every other insert_many on SQLite): at most 512 rows a statement
    (1300 = 512 + 512 + 256 + 16 + 4), all rows in the order given, from any iterable."""
    database = SqliteDatabase(tmp_path / "chunks.db")
    database.prepare()
    migrations.migrate(database)
    columns = ("destination_id", "campaign_id", "attempt_number", "worker", "lease_until")
    columns += ("queued_at",)
    wanted = [(n + 1, 7, 1 + n % 3, f"w{n % 2}", 1_000 + n, 500 + n) for n in range(rows)]
    try:
        with database.transaction(write=True) as conn, _traced(conn) as (_raw, traced):
            conn.insert_many("in_flight", columns, (row for row in wanted))
        with database.transaction(write=False) as conn:
            got = conn.execute(f"SELECT {', '.join(columns)} FROM in_flight ORDER BY queued_at")
    finally:
        database.close()
    assert _inserts_into(traced, "in_flight") == statements
    assert [tuple(r) for r in got] == wanted

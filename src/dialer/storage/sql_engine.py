"""Store queries of the dialing engine: claim due work, finish attempts, recover leases.

The ready queue (``dial_queue``) holds one row per pending destination. Claiming deletes rows
from it, marks their destinations in flight and takes a lease (``in_flight``), in one statement
on PostgreSQL (``FOR UPDATE SKIP LOCKED`` lets engines claim side by side) and in one
``BEGIN IMMEDIATE`` transaction on SQLite (which admits one writer at a time, so the three
statements cannot interleave with another claim).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import chain
from operator import attrgetter

from dialer.domain.attempt import AttemptRecord, DialJob, FinishedAttempt
from dialer.domain.campaign import DialingContext
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.result_row import webhook_body
from dialer.storage.database import Connection, Row
from dialer.storage.rows import (
    CAMPAIGN_COLUMNS,
    campaign_from_row,
    from_us,
    opt_us,
    parameters_from_column,
    to_us,
)
from dialer.storage.sql_abandonment import (
    COMPLIANCE_COLUMNS,
    compliance_from_row,
    note_number_calls,
)
from dialer.storage.sql_agent_calls import AGENT_COLUMNS, agent_values, note_agent_calls
from dialer.storage.sql_counts import Move, counted_by_hand
from dialer.storage.sql_outcomes import note_outcomes_sqlite
from dialer.storage.sql_sms import queue_texts

_JOB_COLUMNS = (
    "d.id, d.campaign_id, d.attempts_made + 1 AS attempt, d.number_raw, d.number_e164, d.name,"
    " d.parameters, d.caller_id, d.custom_data, d.ignore_dnc, d.priority, d.callback_agent_id"
)


def _outcome_moves(
    finished: Sequence[FinishedAttempt],
    by_id: Mapping[DestinationId, tuple[int, int, int, str]],
    updated: int,
) -> list[Move] | None:
    """Each recorded destination's move out of in_flight; None (count again) if some row was
    not in flight after all, which nothing should make happen."""
    if updated != len(by_id):
        return None
    # Comprehensions, not a loop appending: no Python call per attempt.
    notes = [by_id[f.record.destination_id] for f in finished]
    return [
        (f.campaign_id, _IN_FLIGHT, (note[3], note[1] if note[3] == "done" else 0))
        for f, note in zip(finished, notes, strict=True)
    ]


# The stored codes, looked up by member: an Enum's .value is Python code (a descriptor and a
# property), four calls a recorded attempt; a dict look-up is not (docs/engine.md, Throughput).
_OUTCOME_CODE: dict[Outcome, int] = {o: o.value for o in Outcome}
_STAGE_CODE: dict[Stage, int] = {s: s.value for s in Stage}

_BY_ID = attrgetter("destination_id")
_BY_PRIORITY = attrgetter("priority")


def _in_dial_order(jobs: list[DialJob]) -> None:
    """Sort claimed jobs highest priority first, then by id: two stable sorts keyed by a
    field getter (C), where one keyed by a lambda is a Python call per destination
    (docs/engine.md, "eighth round")."""
    jobs.sort(key=_BY_ID)
    jobs.sort(key=_BY_PRIORITY, reverse=True)


# Counter keys (storage/sql_counts.py) of the states the engine moves destinations between.
_PENDING = ("pending", 0)
_IN_FLIGHT = ("in_flight", 0)

# Public so that tests/integration/test_query_plans.py EXPLAINs this very text.
PG_CLAIM = f"""
WITH picked AS (
    SELECT destination_id FROM dial_queue WHERE campaign_id = %s AND due_at <= %s
    ORDER BY priority DESC, destination_id LIMIT %s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM dial_queue q USING picked WHERE q.destination_id = picked.destination_id
    RETURNING q.destination_id, q.due_at
), moved AS (
    UPDATE destinations d SET state = 'in_flight' FROM gone
    WHERE d.id = gone.destination_id AND d.state = 'pending'
    RETURNING {_JOB_COLUMNS}, GREATEST(gone.due_at, d.created_at, %s) AS queued
), held AS (
    INSERT INTO in_flight (destination_id, campaign_id, attempt_number, worker, lease_until,
        queued_at)
    SELECT id, campaign_id, attempt, %s, %s, queued FROM moved
)
SELECT * FROM moved
"""

_OUTCOME_COLUMNS = (
    "destination_id",
    "attempt_number",
    "outcome",
    "stage",
    "queued_at",
    "originated_at",
    "answered_at",
    "ended_at",
    "cause",
    "keys",
    "sms_sent",
    "campaign_id",
)
_IN_FLIGHT_COLUMNS = (
    "destination_id",
    "campaign_id",
    "attempt_number",
    "worker",
    "lease_until",
    "queued_at",
)
_ENQUEUE_WEBHOOK = (
    "INSERT INTO webhook_outbox (tenant_id, payload, next_try_at, created_at)"
    " SELECT tenant_id, %s, %s, %s FROM webhooks WHERE tenant_id = %s"
)


def _marks(values: Sequence[object]) -> str:
    # A list, not a generator: no Python call per value (the engine's batches; issue 11).
    return ", ".join(["%s"] * len(values))


def _key(record: AttemptRecord) -> tuple[int, int]:
    return (record.destination_id, record.attempt_number)


def _job(row: Row, queued: int) -> DialJob:
    dest, campaign, attempt, raw, e164, name, params, cli, data, ignore, prio, agent = row[:12]
    return DialJob(
        DestinationId(dest),
        CampaignId(campaign),
        int(attempt),
        raw,
        e164,
        name,
        parameters_from_column(params),
        cli,
        data,
        bool(ignore),
        int(prio),
        from_us(queued),
        agent,
    )


class EngineQueries:
    _conn: Connection

    def dialing_contexts(self) -> list[DialingContext]:
        """Every campaign with destinations waiting in the ready queue, with its tenant's rules."""
        columns = ", ".join(f"c.{c.strip()}" for c in CAMPAIGN_COLUMNS.split(","))
        compliance = ", ".join(f"t.{c}" for c in COMPLIANCE_COLUMNS)
        rows = self._conn.execute(
            f"SELECT {columns}, t.timezone, t.region, t.calling_hours_start, t.calling_hours_end,"
            f" aq.name, {compliance}"
            " FROM campaigns c JOIN tenants t ON t.id = c.tenant_id"
            " LEFT JOIN queues aq ON aq.id = c.strategy_queue_id AND aq.tenant_id = c.tenant_id"
            " WHERE EXISTS (SELECT 1 FROM dial_queue q WHERE q.campaign_id = c.id)"
            " OR EXISTS (SELECT 1 FROM in_flight f WHERE f.campaign_id = c.id)"
            " ORDER BY c.id"
        )
        n = len(COMPLIANCE_COLUMNS)
        contexts = []
        for full in rows:
            row, settings = full[:-n], full[-n:]
            contexts.append(
                DialingContext(
                    campaign_from_row(row[:-5]),
                    row[-5],
                    row[-4],
                    f"{row[-3]}-{row[-2]}",
                    row[-1],
                    compliance_from_row(settings),
                )
            )
        return contexts

    def next_due(self, campaign_id: CampaignId) -> datetime | None:
        rows = self._conn.execute(
            "SELECT min(due_at) FROM dial_queue WHERE campaign_id = %s", (campaign_id,)
        )
        return None if rows[0][0] is None else from_us(rows[0][0])

    def dialling_identity(self, campaign_id: CampaignId) -> tuple[CallFlowId, CliId] | None:
        rows = self._conn.execute(
            "SELECT callflow_id, cli_id FROM campaigns WHERE id = %s", (campaign_id,)
        )
        return (CallFlowId(rows[0][0]), CliId(rows[0][1])) if rows else None

    def claim(
        self,
        campaign_id: CampaignId,
        now: datetime,
        limit: int,
        worker: str,
        lease_until: datetime,
        opened_at: datetime | None = None,
    ) -> list[DialJob]:
        """Take up to ``limit`` due destinations in dial order, leased to ``worker``.

        Each job's ``queued_at`` is when it fell due: the latest of when it was added, its due
        time, and ``opened_at``, the start of the dialling window it is claimed in (a number
        uploaded days before its window opens falls due when the window opens).
        """
        opened = 0 if opened_at is None else to_us(opened_at)
        if self._conn.dialect == "postgres":
            rows = self._conn.execute(
                PG_CLAIM, (campaign_id, to_us(now), limit, opened, worker, to_us(lease_until))
            )
            jobs = [_job(row, row[12]) for row in rows]
            _in_dial_order(jobs)
            return jobs
        picked = self._conn.execute(
            "SELECT destination_id, due_at FROM dial_queue WHERE campaign_id = %s"
            " AND due_at <= %s ORDER BY priority DESC, destination_id LIMIT %s",
            (campaign_id, to_us(now), limit),
        )
        return self._take([(i, max(due, opened)) for i, due in picked], worker, lease_until)

    def _take(self, picked: list[Row], worker: str, lease_until: datetime) -> list[DialJob]:
        """SQLite's claim, and the out-of-time sweep's: dequeue ``picked`` and mark in flight."""
        if not picked:
            return []
        ids = [row[0] for row in picked]
        due = {row[0]: row[1] for row in picked}
        self._conn.execute(f"DELETE FROM dial_queue WHERE destination_id IN ({_marks(ids)})", ids)
        rows = counted_by_hand(
            self._conn,
            lambda: self._conn.execute(
                f"UPDATE destinations SET state = 'in_flight' WHERE id IN ({_marks(ids)})"
                f" AND state = 'pending' RETURNING {_JOB_COLUMNS.replace('d.', '')}, created_at",
                ids,
            ),
            # Every row returned was pending (the WHERE says so) and is in flight now.
            lambda taken: [(row[1], _PENDING, _IN_FLIGHT) for row in taken],
        )
        jobs = [_job(row, max(due[row[0]], row[12])) for row in rows]
        _in_dial_order(jobs)
        lease_us = to_us(lease_until)  # once a batch, not once a destination
        self._conn.insert_many(
            "in_flight",
            (
                "destination_id",
                "campaign_id",
                "attempt_number",
                "worker",
                "lease_until",
                "queued_at",
            ),
            [
                (
                    j.destination_id,
                    j.campaign_id,
                    j.attempt_number,
                    worker,
                    lease_us,
                    to_us(j.queued_at),
                )
                for j in jobs
            ],
        )
        return jobs

    def claim_for_closing(
        self, campaign_id: CampaignId, limit: int, worker: str, lease_until: datetime
    ) -> list[DialJob]:
        """Take waiting destinations whatever their due time: the campaign's time is over."""
        if self._conn.dialect == "postgres":
            picked = self._conn.execute(
                "SELECT destination_id, due_at FROM dial_queue WHERE campaign_id = %s"
                " ORDER BY destination_id LIMIT %s FOR UPDATE SKIP LOCKED",
                (campaign_id, limit),
            )
        else:
            picked = self._conn.execute(
                "SELECT destination_id, due_at FROM dial_queue WHERE campaign_id = %s"
                " ORDER BY destination_id LIMIT %s",
                (campaign_id, limit),
            )
        return self._take(picked, worker, lease_until)

    def extend_leases(
        self, worker: str, lease_until: datetime, destination_ids: Sequence[DestinationId]
    ) -> int:
        """Renew the worker's leases on these destinations; how many it still held."""
        renewed = 0
        for start in range(0, len(destination_ids), 500):
            chunk = destination_ids[start : start + 500]
            renewed += len(
                self._conn.execute(
                    f"UPDATE in_flight SET lease_until = %s WHERE worker = %s"
                    f" AND destination_id IN ({_marks(chunk)}) RETURNING destination_id",
                    (to_us(lease_until), worker, *chunk),
                )
            )
        return renewed

    def take_expired(self, now: datetime, limit: int) -> list[DialJob]:
        """Leases that ran out (their worker died): removed, to be finished by the caller."""
        lock = " FOR UPDATE SKIP LOCKED" if self._conn.dialect == "postgres" else ""
        picked = self._conn.execute(
            "SELECT destination_id FROM in_flight WHERE lease_until < %s"
            f" ORDER BY lease_until LIMIT %s{lock}",
            (to_us(now), limit),
        )
        if not picked:
            return []
        ids = [row[0] for row in picked]
        held = self._conn.execute(
            f"DELETE FROM in_flight WHERE destination_id IN ({_marks(ids)})"
            " RETURNING destination_id, attempt_number, queued_at",
            ids,
        )
        attempt = {row[0]: (row[1], row[2]) for row in held}
        rows = self._conn.execute(
            f"SELECT {_JOB_COLUMNS} FROM destinations d WHERE d.id IN ({_marks(ids)})", ids
        )
        jobs = []
        for row in rows:
            number, queued = attempt[row[0]]
            job = _job(row, queued)
            jobs.append(job._replace(attempt_number=int(number)))
        return jobs

    def release(self, jobs: Sequence[tuple[DialJob, datetime]], worker: str) -> int:
        """Give claimed destinations back undialled, due again at the given times."""
        if not jobs:
            return 0
        ids = [job.destination_id for job, _ in jobs]
        owned = {
            row[0]
            for row in self._conn.execute(
                f"DELETE FROM in_flight WHERE destination_id IN ({_marks(ids)}) AND worker = %s"
                " RETURNING destination_id",
                (*ids, worker),
            )
        }
        back = [(job, due) for job, due in jobs if job.destination_id in owned]
        if not back:
            return 0
        back_ids = [job.destination_id for job, _ in back]
        # A leased destination is in flight, and SQLite's trigger leaves that move to us
        # (migration 0027). One that was not (nothing makes one) is moved all the same, by a
        # statement the trigger counts.
        moved = counted_by_hand(
            self._conn,
            lambda: self._conn.execute(
                f"UPDATE destinations SET state = 'pending' WHERE id IN ({_marks(back_ids)})"
                " AND state = 'in_flight' RETURNING id, campaign_id",
                back_ids,
            ),
            lambda rows: [(row[1], _IN_FLIGHT, _PENDING) for row in rows],
        )
        if len(moved) != len(back_ids):
            self._conn.execute(
                f"UPDATE destinations SET state = 'pending', is_final = 0"
                f" WHERE id IN ({_marks(back_ids)}) AND state <> 'in_flight'",
                back_ids,
            )
        self._conn.insert_many(
            "dial_queue",
            ("destination_id", "campaign_id", "priority", "due_at"),
            [(j.destination_id, j.campaign_id, j.priority, to_us(due)) for j, due in back],
        )
        return len(back)

    def finish_attempts(
        self, finished: Sequence[FinishedAttempt], worker: str | None, now: datetime
    ) -> list[FinishedAttempt]:
        """Record attempts and what follows each; with ``worker``, only those it still holds
        (a lease another engine recovered is that engine's to record). Returns how many."""
        if not finished:
            return []
        if worker is not None:
            # The attempt too, not only the destination: after its lease on attempt N was
            # recovered, this worker may hold the same destination again for attempt N + 1,
            # and the late result of N is no longer its to record.
            ids = [f.record.destination_id for f in finished]
            pairs = [(f.record.destination_id, f.record.attempt_number) for f in finished]
            if self._conn.dialect == "postgres":
                # Two arrays, not three parameters an attempt: one statement text for every
                # batch (psycopg prepares it once), and no 1,500 values adapted one by one.
                deleted = self._conn.execute(
                    "DELETE FROM in_flight f USING unnest(%s::bigint[], %s::bigint[])"
                    " AS v(destination_id, attempt_number)"
                    " WHERE f.destination_id = v.destination_id"
                    " AND f.attempt_number = v.attempt_number AND f.worker = %s"
                    " RETURNING f.destination_id, f.attempt_number",
                    (ids, [pair[1] for pair in pairs], worker),
                )
            else:
                deleted = self._conn.execute(
                    f"DELETE FROM in_flight WHERE destination_id IN ({_marks(ids)})"
                    " AND worker = %s AND (destination_id, attempt_number) IN"
                    f" ({', '.join(['(%s, %s)'] * len(pairs))})"
                    " RETURNING destination_id, attempt_number",
                    (*ids, worker, *chain.from_iterable(pairs)),
                )
            owned = {(row[0], row[1]) for row in deleted}
            finished = [
                f for f in finished if (f.record.destination_id, f.record.attempt_number) in owned
            ]
            if not finished:
                return []
        rows = [
            (
                f.record.destination_id,
                f.record.attempt_number,
                _OUTCOME_CODE[f.record.outcome],
                _STAGE_CODE[f.record.stage],
                to_us(f.record.queued_at),
                # opt_us written out: a Python call less for each of the three, per attempt.
                None if f.record.originated_at is None else to_us(f.record.originated_at),
                None if f.record.answered_at is None else to_us(f.record.answered_at),
                None if f.record.ended_at is None else to_us(f.record.ended_at),
                f.record.cause,
                f.record.keys,
                int(f.record.sms_sent),
                f.campaign_id,
            )
            for f in finished
        ]
        # A batch with agent calls writes their columns too; others keep the narrower insert.
        agent_calls = [f for f in finished if f.record.agent is not None]
        if agent_calls:
            self._conn.insert_many(
                "attempts",
                _OUTCOME_COLUMNS + AGENT_COLUMNS,
                [
                    (*row, *agent_values(f.record.agent))
                    for row, f in zip(rows, finished, strict=True)
                ],
            )
            note_agent_calls(self._conn, agent_calls, to_us(now))
        else:
            self._conn.insert_many("attempts", _OUTCOME_COLUMNS, rows)
        self._note_outcomes(finished)
        note_number_calls(self._conn, finished, now)
        retries = [f for f in finished if f.retry_at is not None]
        if retries:
            self._conn.insert_many(
                "dial_queue",
                ("destination_id", "campaign_id", "priority", "due_at"),
                [
                    (f.record.destination_id, f.campaign_id, f.priority, opt_us(f.retry_at))
                    for f in retries
                ],
            )
        queue_texts(self._conn, [f for f in finished if f.record.texts], now)
        hooks = [f for f in finished if f.webhook is not None]
        if hooks:
            stamp = to_us(now)
            attempt_ids = self._attempt_ids([f.record for f in hooks])
            self._conn.execute_many(
                _ENQUEUE_WEBHOOK,
                [
                    (webhook_body(f, attempt_ids[_key(f.record)]), stamp, stamp, f.tenant_id)
                    for f in hooks
                ],
            )
        return list(finished)

    def _note_outcomes(self, finished: Sequence[FinishedAttempt]) -> None:
        """Each destination's attempts made, last outcome and state after these attempts."""
        by_id = {
            f.record.destination_id: (
                # The attempt number is attempts_made + 1 at the claim, so the number before
                # it is attempts_made unchanged.
                f.record.attempt_number - (0 if f.record.counted else 1),
                _OUTCOME_CODE[f.record.outcome],
                _STAGE_CODE[f.record.stage],
                "done" if f.retry_at is None else "pending",
            )
            for f in finished
        }
        ids = sorted(by_id)  # one lock order for every writer
        if self._conn.dialect == "postgres":
            # One statement for the batch, not one per attempt: the counting trigger
            # (migration 0006) is a statement trigger, so it runs and appends its delta rows
            # once per batch instead of once per attempt, and the batch is one round trip.
            rows = [by_id[i] for i in ids]
            self._conn.execute(
                "UPDATE destinations d SET attempts_made = v.made, last_outcome = v.outcome,"
                " last_stage = v.stage, state = v.state,"
                " is_final = CASE WHEN v.state = 'done' THEN 1 ELSE 0 END FROM unnest(%s::bigint[],"
                " %s::integer[], %s::integer[], %s::integer[], %s::text[])"
                " AS v(id, made, outcome, stage, state) WHERE d.id = v.id",
                (ids, *([row[k] for row in rows] for k in range(4))),
            )
            return
        # SQLite's triggers run per row whatever the statement: the batch is counted by hand.
        # Only the engine moves a destination out of in_flight, and it records only what it
        # holds, so each row it updates leaves in_flight for the key its record says.
        counted_by_hand(
            self._conn,
            lambda: note_outcomes_sqlite(self._conn, by_id, ids),
            lambda updated: _outcome_moves(finished, by_id, updated),
            recount=sorted({f.campaign_id for f in finished}),
        )

    def _attempt_ids(self, records: Sequence[AttemptRecord]) -> dict[tuple[int, int], int]:
        """The ids just given to these attempts, by (destination id, attempt number)."""
        wanted = {(r.destination_id, r.attempt_number) for r in records}
        found: dict[tuple[int, int], int] = {}
        destinations = sorted({r.destination_id for r in records})
        for start in range(0, len(destinations), 500):
            chunk = destinations[start : start + 500]
            for attempt_id, destination, number in self._conn.execute(
                "SELECT id, destination_id, attempt_number FROM attempts"
                f" WHERE destination_id IN ({_marks(chunk)})",
                chunk,
            ):
                if (destination, number) in wanted:
                    found[(destination, number)] = attempt_id
        return found

    def set_calls_on_line(self, worker: str, calls: Mapping[CampaignId, int]) -> None:
        """Publish how many calls ``worker`` has on the line, for these campaigns."""
        busy = [(worker, cid, n) for cid, n in calls.items() if n > 0]
        idle = [cid for cid, n in calls.items() if n <= 0]
        if busy:
            self._conn.execute_many(
                "INSERT INTO engine_lines (worker, campaign_id, calls) VALUES (%s, %s, %s)"
                " ON CONFLICT (worker, campaign_id) DO UPDATE SET calls = excluded.calls",
                busy,
            )
        if idle:
            self._conn.execute(
                f"DELETE FROM engine_lines WHERE worker = %s AND campaign_id IN ({_marks(idle)})",
                (worker, *idle),
            )

    def forget_lost_lines(self) -> None:
        """Drop the lines of engines that hold no lease (dead, or stopped)."""
        self._conn.execute(
            "DELETE FROM engine_lines WHERE NOT EXISTS"
            " (SELECT 1 FROM in_flight f WHERE f.worker = engine_lines.worker)"
        )

    def calls_on_line(self, campaign_id: CampaignId) -> int:
        """Calls of the campaign on the line now, by the engines that still hold its leases."""
        rows = self._conn.execute(
            "SELECT coalesce(sum(l.calls), 0) FROM engine_lines l WHERE l.campaign_id = %s"
            " AND EXISTS (SELECT 1 FROM in_flight f"
            " WHERE f.worker = l.worker AND f.campaign_id = l.campaign_id)",
            (campaign_id,),
        )
        return int(rows[0][0])

    def webhook_tenants(self) -> list[TenantId]:
        return [TenantId(row[0]) for row in self._conn.execute("SELECT tenant_id FROM webhooks")]

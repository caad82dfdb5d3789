"""The Store over SQL: one implementation, run on SQLite and PostgreSQL alike."""

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from dialer.domain.attempt import AttemptRecord
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignSummary,
    PhoneNumber,
    StoredNumber,
)
from dialer.domain.codes import Outcome, Stage
from dialer.domain.destination import DestinationState
from dialer.domain.errors import Conflict
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant
from dialer.storage.database import Connection, PostgresDatabase, SqliteDatabase
from dialer.storage.notify import SqliteWatcher, WorkListener
from dialer.storage.rows import (
    CAMPAIGN_COLUMNS,
    campaign_from_row,
    from_us,
    opt_us,
    parameters_from_column,
    parameters_to_column,
    spec_columns,
    to_us,
)
from dialer.storage.sql_accounts import AccountQueries
from dialer.storage.sql_destinations import DestinationQueries
from dialer.storage.sql_engine import EngineQueries
from dialer.storage.sql_results import ResultQueries
from dialer.storage.sql_webhooks import WebhookQueries

_NUMBER_COLUMNS = (
    "campaign_id",
    "number_raw",
    "number_e164",
    "name",
    "parameters",
    "state",
    "last_outcome",
    "created_at",
    "priority",
    "caller_id",
    "custom_data",
    "originate_time",
    "is_date_local",
    "originate_at",
    "ignore_dnc",
)


WORK_CHANNEL = "dialer_work"
_SMALL_BATCH = 20  # at most this many numbers go in one INSERT statement


class SqlSession(DestinationQueries, AccountQueries, EngineQueries, WebhookQueries, ResultQueries):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.work_added = False
        self._notified = False

    def _work_added(self, *, notify: bool = True) -> None:
        """Destinations became due: wake engines once this transaction commits.

        PostgreSQL delivers the NOTIFY to listening engines of every process at commit (and
        drops it on rollback); SqlStore.write rings this process's own listeners. Rows added
        to the ready queue notify by themselves (a trigger, migration 0004), so adding
        destinations costs no extra round trip."""
        if notify and not self._notified and self._conn.dialect == "postgres":
            self._notified = True
            self._conn.execute(f"NOTIFY {WORK_CHANNEL}")
        self.work_added = True

    # tenants

    def add_tenant(
        self, name: str, region: str, timezone: str, api_key_hash: str, now: datetime
    ) -> Tenant:
        rows = self._conn.execute(
            "INSERT INTO tenants (name, region, timezone, api_key_hash, created_at)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (name, region, timezone, api_key_hash, to_us(now)),
        )
        return Tenant(TenantId(rows[0][0]), name, region, timezone, from_us(to_us(now)))

    def set_calling_hours(self, tenant_id: TenantId, start: str, end: str) -> None:
        self._conn.execute(
            "UPDATE tenants SET calling_hours_start = %s, calling_hours_end = %s WHERE id = %s",
            (start, end, tenant_id),
        )

    def _tenant_where(self, clause: str, value: object) -> Tenant | None:
        rows = self._conn.execute(
            f"SELECT id, name, region, timezone, created_at FROM tenants WHERE {clause} = %s",
            (value,),
        )
        if not rows:
            return None
        tid, name, region, timezone, created = rows[0]
        return Tenant(TenantId(tid), name, region, timezone, from_us(created))

    def tenant_by_key_hash(self, api_key_hash: str) -> Tenant | None:
        return self._tenant_where("api_key_hash", api_key_hash)

    def get_tenant(self, tenant_id: TenantId) -> Tenant | None:
        return self._tenant_where("id", tenant_id)

    # call flows and caller IDs

    def add_callflow(
        self, tenant_id: TenantId, name: str, definition: str, now: datetime
    ) -> CallFlowRecord:
        rows = self._conn.execute(
            "INSERT INTO callflows (tenant_id, name, definition, created_at)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (tenant_id, name, definition, to_us(now)),
        )
        return CallFlowRecord(CallFlowId(rows[0][0]), tenant_id, name, definition, now)

    def list_callflows(self, tenant_id: TenantId) -> list[CallFlowRecord]:
        rows = self._conn.execute(
            "SELECT id, name, definition, created_at FROM callflows WHERE tenant_id = %s"
            " ORDER BY id",
            (tenant_id,),
        )
        return [CallFlowRecord(CallFlowId(i), tenant_id, n, d, from_us(c)) for i, n, d, c in rows]

    def callflow_owned(self, tenant_id: TenantId, callflow_id: CallFlowId) -> bool:
        return bool(
            self._conn.execute(
                "SELECT 1 FROM callflows WHERE id = %s AND tenant_id = %s", (callflow_id, tenant_id)
            )
        )

    def add_cli(self, tenant_id: TenantId, number: str, now: datetime) -> CallerId:
        if self._conn.execute(
            "SELECT 1 FROM clis WHERE tenant_id = %s AND number = %s", (tenant_id, number)
        ):
            raise Conflict(f"caller ID {number} is already registered for this tenant")
        rows = self._conn.execute(
            "INSERT INTO clis (tenant_id, number, created_at) VALUES (%s, %s, %s) RETURNING id",
            (tenant_id, number, to_us(now)),
        )
        return CallerId(CliId(rows[0][0]), tenant_id, number, now)

    def list_clis(self, tenant_id: TenantId) -> list[CallerId]:
        rows = self._conn.execute(
            "SELECT id, number, created_at FROM clis WHERE tenant_id = %s ORDER BY id", (tenant_id,)
        )
        return [CallerId(CliId(i), tenant_id, n, from_us(c)) for i, n, c in rows]

    def cli_owned(self, tenant_id: TenantId, cli_id: CliId) -> bool:
        return bool(
            self._conn.execute(
                "SELECT 1 FROM clis WHERE id = %s AND tenant_id = %s", (cli_id, tenant_id)
            )
        )

    # campaigns

    def add_campaign(
        self,
        tenant_id: TenantId,
        code: str,
        spec: CampaignSpec,
        status: CampaignStatus,
        now: datetime,
    ) -> CampaignId:
        rows = self._conn.execute(
            "INSERT INTO campaigns (tenant_id, code, status, created_at, updated_at, name, kind,"
            " start_date, start_time, finish_time, runover_days, attempts, callflow_id, cli_id,"
            " answerphone_policy, sms_on_busy)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (tenant_id, code, status.value, to_us(now), to_us(now), *spec_columns(spec)),
        )
        return CampaignId(rows[0][0])

    def get_campaign(
        self, tenant_id: TenantId, campaign_id: CampaignId, *, for_update: bool = False
    ) -> Campaign | None:
        lock = " FOR UPDATE" if for_update else ""
        rows = self._conn.execute(
            f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = %s AND tenant_id = %s{lock}",
            (campaign_id, tenant_id),
        )
        return campaign_from_row(rows[0]) if rows else None

    def list_campaigns(
        self, tenant_id: TenantId, *, count_numbers: bool = True
    ) -> list[CampaignSummary]:
        campaigns = [
            campaign_from_row(row)
            for row in self._conn.execute(
                f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE tenant_id = %s ORDER BY id",
                (tenant_id,),
            )
        ]
        counts: dict[int, int] = {}
        if count_numbers:
            counts = dict(
                self._conn.execute(
                    "SELECT d.campaign_id, count(*) FROM destinations d"
                    " JOIN campaigns c ON c.id = d.campaign_id WHERE c.tenant_id = %s"
                    " GROUP BY d.campaign_id",
                    (tenant_id,),
                )
            )
        return [CampaignSummary(c, counts.get(c.id, 0)) for c in campaigns]

    def update_campaign(self, campaign_id: CampaignId, spec: CampaignSpec, now: datetime) -> None:
        self._conn.execute(
            "UPDATE campaigns SET updated_at = %s, name = %s, kind = %s, start_date = %s,"
            " start_time = %s, finish_time = %s, runover_days = %s, attempts = %s,"
            " callflow_id = %s, cli_id = %s, answerphone_policy = %s, sms_on_busy = %s"
            " WHERE id = %s",
            (to_us(now), *spec_columns(spec), campaign_id),
        )

    def delete_campaign(self, campaign_id: CampaignId) -> None:
        # destinations has no foreign key (see the migration), so their rows go explicitly.
        self._conn.execute(
            "DELETE FROM attempts WHERE destination_id IN"
            " (SELECT id FROM destinations WHERE campaign_id = %s)",
            (campaign_id,),
        )
        self._conn.execute("DELETE FROM dial_queue WHERE campaign_id = %s", (campaign_id,))
        self._conn.execute("DELETE FROM in_flight WHERE campaign_id = %s", (campaign_id,))
        self._conn.execute("DELETE FROM destinations WHERE campaign_id = %s", (campaign_id,))
        self._conn.execute("DELETE FROM campaigns WHERE id = %s", (campaign_id,))

    # a campaign's numbers

    def add_numbers(
        self, campaign_id: CampaignId, numbers: Iterable[PhoneNumber], now: datetime
    ) -> None:
        stamp = to_us(now)
        invalid = Outcome.INVALID_NUMBER.value
        pending, done = DestinationState.PENDING.value, DestinationState.DONE.value
        # A number that is not even possible is recorded as done with InvalidNumber: never dialled.
        rows = (
            (
                campaign_id,
                n.raw,
                n.e164,
                n.name,
                parameters_to_column(n.parameters),
                pending if n.possible else done,
                None if n.possible else invalid,
                stamp,
                n.priority,
                n.caller_id,
                n.custom_data,
                n.originate_time,
                None if n.is_date_local is None else int(n.is_date_local),
                opt_us(n.originate_at),
                int(n.ignore_dnc),
            )
            for n in numbers
        )
        # dial_queue's trigger notifies PostgreSQL engines; this process's ring needs the flag.
        self._work_added(notify=False)
        head = list(itertools.islice(rows, _SMALL_BATCH + 1))
        if len(head) <= _SMALL_BATCH and self._conn.dialect == "postgres":
            # An AddCall: the destination and its queue row in one round trip.
            if head:
                marks = ", ".join("%s" for _ in _NUMBER_COLUMNS)
                self._conn.execute(
                    f"WITH added AS (INSERT INTO destinations ({', '.join(_NUMBER_COLUMNS)})"
                    f" VALUES {', '.join(f'({marks})' for _ in head)}"
                    " RETURNING id, campaign_id, priority, originate_at, state)"
                    " INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
                    " SELECT id, campaign_id, priority, coalesce(originate_at, 0) FROM added"
                    " WHERE state = 'pending'",
                    [value for row in head for value in row],
                )
            return
        before = self._conn.execute(
            "SELECT coalesce(max(id), 0) FROM destinations WHERE campaign_id = %s", (campaign_id,)
        )[0][0]
        self._conn.insert_many("destinations", _NUMBER_COLUMNS, itertools.chain(head, rows))
        # Queue the new pending rows for the engine. Rows another transaction adds to the same
        # campaign at once are queued by it too; ON CONFLICT keeps that harmless.
        self._conn.execute(
            "INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
            " SELECT id, campaign_id, priority, coalesce(originate_at, 0) FROM destinations"
            " WHERE campaign_id = %s AND id > %s AND state = 'pending'"
            " ON CONFLICT (destination_id) DO NOTHING",
            (campaign_id, before),
        )

    def list_numbers(self, campaign_id: CampaignId) -> list[StoredNumber]:
        rows = self._conn.execute(
            "SELECT number_raw, number_e164, name, parameters, attempts_made, last_outcome,"
            " last_stage FROM destinations WHERE campaign_id = %s ORDER BY id",
            (campaign_id,),
        )
        return [
            StoredNumber(
                PhoneNumber(raw, e164, name, parameters_from_column(params)),
                made,
                None if outcome is None else Outcome(outcome),
                None if stage is None else Stage(stage),
            )
            for raw, e164, name, params, made, outcome, stage in rows
        ]

    def dialled_numbers(self, campaign_id: CampaignId) -> list[tuple[DestinationId, str]]:
        rows = self._conn.execute(
            "SELECT id, coalesce(number_e164, number_raw) FROM destinations"
            " WHERE campaign_id = %s AND (attempts_made > 0 OR state = 'in_flight') ORDER BY id",
            (campaign_id,),
        )
        return [(DestinationId(i), key) for i, key in rows]

    def delete_undialled_numbers(self, campaign_id: CampaignId) -> None:
        self._conn.execute(
            "DELETE FROM dial_queue WHERE campaign_id = %s AND destination_id IN"
            " (SELECT id FROM destinations WHERE campaign_id = %s AND attempts_made = 0)",
            (campaign_id, campaign_id),
        )
        self._conn.execute(
            "DELETE FROM destinations"
            " WHERE campaign_id = %s AND attempts_made = 0 AND state IN ('pending', 'done')",
            (campaign_id,),
        )

    def update_number_details(
        self,
        destination_id: DestinationId,
        name: str | None,
        parameters: tuple[tuple[int, str], ...],
    ) -> None:
        self._conn.execute(
            "UPDATE destinations SET name = %s, parameters = %s WHERE id = %s",
            (name, parameters_to_column(parameters), destination_id),
        )

    # attempts

    def record_attempt(self, attempt: AttemptRecord) -> None:
        self._conn.execute(
            "INSERT INTO attempts (destination_id, attempt_number, outcome, stage, queued_at,"
            " originated_at, answered_at, ended_at, cause, keys, sms_sent)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                attempt.destination_id,
                attempt.attempt_number,
                attempt.outcome.value,
                attempt.stage.value,
                to_us(attempt.queued_at),
                opt_us(attempt.originated_at),
                opt_us(attempt.answered_at),
                opt_us(attempt.ended_at),
                attempt.cause,
                attempt.keys,
                int(attempt.sms_sent),
            ),
        )
        self._conn.execute(
            "UPDATE destinations SET attempts_made = %s, last_outcome = %s, last_stage = %s"
            " WHERE id = %s",
            (
                attempt.attempt_number,
                attempt.outcome.value,
                attempt.stage.value,
                attempt.destination_id,
            ),
        )

    def destination_ids(self, campaign_id: CampaignId) -> list[DestinationId]:
        rows = self._conn.execute(
            "SELECT id FROM destinations WHERE campaign_id = %s ORDER BY id", (campaign_id,)
        )
        return [DestinationId(r[0]) for r in rows]


class SqlStore:
    def __init__(self, database: SqliteDatabase | PostgresDatabase) -> None:
        self.database = database
        self._listeners: list[Callable[[], None]] = []
        self._listening: WorkListener | SqliteWatcher | None = None

    @property
    def dialect(self) -> str:
        return self.database.dialect

    @contextmanager
    def read(self) -> Iterator[SqlSession]:
        with self.database.transaction(write=False) as conn:
            yield SqlSession(conn)

    @contextmanager
    def write(self) -> Iterator[SqlSession]:
        with self.database.transaction(write=True) as conn:
            session = SqlSession(conn)
            yield session
        if session.work_added:
            self._ring()

    def _ring(self) -> None:
        for listener in list(self._listeners):
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from any thread) after new work is committed: through this store,
        or on PostgreSQL by any process. Returns the function that unsubscribes."""
        self._listeners.append(listener)
        if self._listening is None:
            if isinstance(self.database, PostgresDatabase):
                self._listening = WorkListener(self.database.url, WORK_CHANNEL, self._ring)
            else:
                self._listening = SqliteWatcher(self.database.path, self._ring)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        if self._listening is not None:
            self._listening.stop()
        self.database.close()

"""The Store over SQL: one implementation, run on SQLite and PostgreSQL alike."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from dialer.domain.abandonment import default_regime
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignSummary,
)
from dialer.domain.errors import Conflict
from dialer.domain.ids import CallFlowId, CampaignId, CliId, TenantId
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant
from dialer.storage.database import Connection, PostgresDatabase, SqliteDatabase
from dialer.storage.notify import SqliteWatcher, WorkListener
from dialer.storage.roles import AllRoles, EveryRole
from dialer.storage.rows import (
    CAMPAIGN_COLUMNS,
    campaign_from_row,
    from_us,
    spec_columns,
    to_us,
)
from dialer.storage.sql_abandonment import AbandonmentQueries, ComplianceQueries
from dialer.storage.sql_accounts import AccountQueries
from dialer.storage.sql_agent_sessions import AgentSessionQueries
from dialer.storage.sql_catalog import CatalogQueries
from dialer.storage.sql_console_sessions import ConsoleSessionQueries
from dialer.storage.sql_counts import CountQueries, destination_tallies
from dialer.storage.sql_destinations import DestinationQueries
from dialer.storage.sql_engine import EngineQueries
from dialer.storage.sql_lifecycle import LifecycleQueries
from dialer.storage.sql_limits import LimitQueries
from dialer.storage.sql_number_pages import NumberPageQueries
from dialer.storage.sql_numbers import NumberQueries
from dialer.storage.sql_pacing_history import PacingHistoryQueries
from dialer.storage.sql_sms import SmsQueries
from dialer.storage.sql_webhooks import WebhookQueries

WORK_CHANNEL = "dialer_work"


class SqlSession(
    EveryRole,
    CountQueries,
    NumberQueries,
    NumberPageQueries,
    DestinationQueries,
    AccountQueries,
    CatalogQueries,
    AgentSessionQueries,
    LimitQueries,  # before EngineQueries, which it extends
    EngineQueries,
    WebhookQueries,
    SmsQueries,  # and ResultQueries, which it extends
    AbandonmentQueries,
    ComplianceQueries,
    LifecycleQueries,
    ConsoleSessionQueries,
    PacingHistoryQueries,
):
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
            "INSERT INTO tenants (name, region, timezone, api_key_hash, created_at, regime)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (name, region, timezone, api_key_hash, to_us(now), default_regime(region).value),
        )
        return Tenant(TenantId(rows[0][0]), name, region, timezone, from_us(to_us(now)))

    def set_calling_hours(self, tenant_id: TenantId, start: str, end: str) -> None:
        self._conn.execute(
            "UPDATE tenants SET calling_hours_start = %s, calling_hours_end = %s WHERE id = %s",
            (start, end, tenant_id),
        )

    def calling_hours(self, tenant_id: TenantId) -> tuple[str, str] | None:
        rows = self._conn.execute(
            "SELECT calling_hours_start, calling_hours_end FROM tenants WHERE id = %s",
            (tenant_id,),
        )
        return None if not rows else (str(rows[0][0]), str(rows[0][1]))

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
            " answerphone_policy, sms_on_busy, agent_options)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
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
            tallies = destination_tallies(self._conn, [c.id for c in campaigns])
            counts = {cid: sum(tally.values()) for cid, tally in tallies.items()}
        return [CampaignSummary(c, counts.get(c.id, 0)) for c in campaigns]

    def update_campaign(self, campaign_id: CampaignId, spec: CampaignSpec, now: datetime) -> None:
        self._conn.execute(
            "UPDATE campaigns SET updated_at = %s, name = %s, kind = %s, start_date = %s,"
            " start_time = %s, finish_time = %s, runover_days = %s, attempts = %s,"
            " callflow_id = %s, cli_id = %s, answerphone_policy = %s, sms_on_busy = %s,"
            " agent_options = %s WHERE id = %s",
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
        self.forget_counts(campaign_id)
        self._conn.execute("DELETE FROM campaign_pacing WHERE campaign_id = %s", (campaign_id,))
        self._conn.execute("DELETE FROM pacing_history WHERE campaign_id = %s", (campaign_id,))
        self._conn.execute("DELETE FROM campaigns WHERE id = %s", (campaign_id,))


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


def _every_role(session: SqlSession) -> AllRoles:
    return session  # mypy checks here that a SqlSession implements every role it gives

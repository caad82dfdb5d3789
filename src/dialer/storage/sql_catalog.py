"""Store queries that read one catalog entry (call flow, caller ID, agent, queue), delete it, find
the campaigns that use it, and rotate a tenant's API key. Every query names the tenant: an id
of another tenant's entry finds nothing."""

from collections.abc import Sequence

from dialer.domain.agent import Agent, Queue
from dialer.domain.ids import CallFlowId, CampaignId, CliId, TenantId
from dialer.domain.tenant import CallerId, CallFlowRecord
from dialer.storage.database import Connection
from dialer.storage.rows import from_us

# What "still dialling" means for a campaign that uses an entry: numbers left to call.
_DIALLING = (
    "EXISTS (SELECT 1 FROM destinations d WHERE d.campaign_id = c.id"
    " AND d.state IN ('pending', 'in_flight'))"
)


class CatalogQueries:
    _conn: Connection

    def get_callflow(self, tenant_id: TenantId, callflow_id: int) -> CallFlowRecord | None:
        rows = self._conn.execute(
            "SELECT name, definition, created_at FROM callflows WHERE id = %s AND tenant_id = %s",
            (callflow_id, tenant_id),
        )
        if not rows:
            return None
        name, definition, created = rows[0]
        return CallFlowRecord(
            CallFlowId(callflow_id), tenant_id, name, definition, from_us(created)
        )

    def get_cli(self, tenant_id: TenantId, cli_id: int) -> CallerId | None:
        rows = self._conn.execute(
            "SELECT number, created_at FROM clis WHERE id = %s AND tenant_id = %s",
            (cli_id, tenant_id),
        )
        return CallerId(CliId(cli_id), tenant_id, rows[0][0], from_us(rows[0][1])) if rows else None

    def list_agents(self, tenant_id: TenantId) -> list[Agent]:
        rows = self._conn.execute(
            "SELECT id, member, display_name, created_at, phone FROM agents WHERE tenant_id = %s"
            " ORDER BY id",
            (tenant_id,),
        )
        return [Agent(i, tenant_id, m, n, from_us(c), p) for i, m, n, c, p in rows]

    def get_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None:
        return self._agent(tenant_id, agent_id, "")

    def lock_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None:
        # PostgreSQL: FOR UPDATE (SQLite's writer lock already holds the whole database).
        return self._agent(tenant_id, agent_id, " FOR UPDATE")

    def _agent(self, tenant_id: TenantId, agent_id: int, lock: str) -> Agent | None:
        rows = self._conn.execute(
            "SELECT member, display_name, created_at, phone FROM agents"
            f" WHERE id = %s AND tenant_id = %s{lock}",
            (agent_id, tenant_id),
        )
        return (
            Agent(agent_id, tenant_id, rows[0][0], rows[0][1], from_us(rows[0][2]), rows[0][3])
            if rows
            else None
        )

    def get_queue(self, tenant_id: TenantId, queue_id: int) -> Queue | None:
        rows = self._conn.execute(
            "SELECT name, created_at FROM queues WHERE id = %s AND tenant_id = %s",
            (queue_id, tenant_id),
        )
        return Queue(queue_id, tenant_id, rows[0][0], from_us(rows[0][1])) if rows else None

    def campaigns_using(
        self, tenant_id: TenantId, what: str, entry_id: int
    ) -> list[tuple[CampaignId, bool]]:
        """(campaign id, still dialling) of the tenant's campaigns that use a ``callflow``,
        ``cli``, ``agent`` (as a member) or ``queue`` (as its strategy's queue)."""
        where = {
            "callflow": "c.callflow_id = %s",
            "cli": "c.cli_id = %s",
            "queue": "c.strategy_queue_id = %s",
            "agent": "c.id IN (SELECT m.campaign_id FROM campaign_members m WHERE m.agent_id = %s)",
        }[what]
        rows = self._conn.execute(
            f"SELECT c.id, {_DIALLING} FROM campaigns c WHERE c.tenant_id = %s AND {where}"
            " ORDER BY c.id",
            (tenant_id, entry_id),
        )
        return [(CampaignId(i), bool(dialling)) for i, dialling in rows]

    def delete_catalog_entry(self, tenant_id: TenantId, what: str, entry_id: int) -> bool:
        """Delete the tenant's ``callflow``, ``cli``, ``agent`` or ``queue``; False if there is
        none with that id. The caller has checked that nothing uses it."""
        table = {"callflow": "callflows", "cli": "clis", "agent": "agents", "queue": "queues"}[what]
        # The table name comes from the fixed map above, never from input.
        rows = self._conn.execute(
            f"DELETE FROM {table} WHERE id = %s AND tenant_id = %s RETURNING id",
            (entry_id, tenant_id),
        )
        return bool(rows)

    def set_api_key_hash(self, tenant_id: TenantId, api_key_hash: str) -> bool:
        rows = self._conn.execute(
            "UPDATE tenants SET api_key_hash = %s WHERE id = %s RETURNING id",
            (api_key_hash, tenant_id),
        )
        return bool(rows)

    def callflow_definitions(self, tenant_id: TenantId) -> Sequence[tuple[CallFlowId, str]]:
        rows = self._conn.execute(
            "SELECT id, definition FROM callflows WHERE tenant_id = %s ORDER BY id", (tenant_id,)
        )
        return [(CallFlowId(i), d) for i, d in rows]

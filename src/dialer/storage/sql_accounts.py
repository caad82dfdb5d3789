"""Store queries for a tenant's agents, queues, campaign members, do-not-call list, and
AddCallsBulk's idempotency keys."""

from collections.abc import Sequence
from datetime import datetime

from dialer.domain.agent import Agent, Queue
from dialer.domain.errors import Conflict
from dialer.domain.ids import CampaignId, TenantId
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us


class AccountQueries:
    _conn: Connection

    # agents and queues

    def add_agent(self, tenant_id: TenantId, member: str, name: str, now: datetime) -> Agent:
        if self._conn.execute(
            "SELECT 1 FROM agents WHERE tenant_id = %s AND member = %s", (tenant_id, member)
        ):
            raise Conflict(f"agent {member} already exists for this tenant")
        rows = self._conn.execute(
            "INSERT INTO agents (tenant_id, member, display_name, created_at)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (tenant_id, member, name, to_us(now)),
        )
        return Agent(rows[0][0], tenant_id, member, name, now)

    def agents_by_member(self, tenant_id: TenantId, members: Sequence[str]) -> dict[str, Agent]:
        if not members:
            return {}
        marks = ", ".join("%s" for _ in members)
        rows = self._conn.execute(
            "SELECT id, member, display_name, created_at, phone FROM agents"
            f" WHERE tenant_id = %s AND member IN ({marks})",
            (tenant_id, *members),
        )
        return {m: Agent(i, tenant_id, m, n, from_us(c), p) for i, m, n, c, p in rows}

    def set_agent_phone(self, tenant_id: TenantId, agent_id: int, phone: str | None) -> bool:
        rows = self._conn.execute(
            "UPDATE agents SET phone = %s WHERE id = %s AND tenant_id = %s RETURNING id",
            (phone, agent_id, tenant_id),
        )
        return bool(rows)

    def add_queue(self, tenant_id: TenantId, name: str, now: datetime) -> Queue:
        # Call flows transfer to queues by name, so a name means one queue (unique index too).
        if self._conn.execute(
            "SELECT 1 FROM queues WHERE tenant_id = %s AND name = %s", (tenant_id, name)
        ):
            raise Conflict(f"queue {name!r} already exists for this tenant")
        rows = self._conn.execute(
            "INSERT INTO queues (tenant_id, name, created_at) VALUES (%s, %s, %s) RETURNING id",
            (tenant_id, name, to_us(now)),
        )
        return Queue(rows[0][0], tenant_id, name, now)

    def list_queues(self, tenant_id: TenantId) -> list[Queue]:
        rows = self._conn.execute(
            "SELECT id, name, created_at FROM queues WHERE tenant_id = %s ORDER BY id",
            (tenant_id,),
        )
        return [Queue(i, tenant_id, n, from_us(c)) for i, n, c in rows]

    def queue_owned(self, tenant_id: TenantId, queue_id: int) -> bool:
        return bool(
            self._conn.execute(
                "SELECT 1 FROM queues WHERE id = %s AND tenant_id = %s", (queue_id, tenant_id)
            )
        )

    # campaign members

    def campaign_members(self, campaign_id: CampaignId) -> list[Agent]:
        rows = self._conn.execute(
            "SELECT a.id, a.tenant_id, a.member, a.display_name, a.created_at, a.phone"
            " FROM campaign_members m JOIN agents a ON a.id = m.agent_id"
            " WHERE m.campaign_id = %s ORDER BY m.added_at, a.id",
            (campaign_id,),
        )
        return [Agent(i, TenantId(t), m, n, from_us(c), p) for i, t, m, n, c, p in rows]

    def add_members(self, campaign_id: CampaignId, agent_ids: Sequence[int], now: datetime) -> int:
        added = 0
        for agent_id in agent_ids:
            if not self._conn.execute(
                "SELECT 1 FROM campaign_members WHERE campaign_id = %s AND agent_id = %s",
                (campaign_id, agent_id),
            ):
                self._conn.execute(
                    "INSERT INTO campaign_members (campaign_id, agent_id, added_at)"
                    " VALUES (%s, %s, %s)",
                    (campaign_id, agent_id, to_us(now)),
                )
                added += 1
        return added

    def remove_members(self, campaign_id: CampaignId, agent_ids: Sequence[int]) -> int:
        removed = 0
        for agent_id in agent_ids:
            removed += len(
                self._conn.execute(
                    "DELETE FROM campaign_members WHERE campaign_id = %s AND agent_id = %s"
                    " RETURNING agent_id",
                    (campaign_id, agent_id),
                )
            )
        return removed

    # do-not-call list

    def add_dnc(self, tenant_id: TenantId, numbers: Sequence[str], now: datetime) -> int:
        listed = self.dnc_listed(tenant_id, numbers)
        fresh = sorted(set(numbers) - listed)
        self._conn.insert_many(
            "dnc_numbers",
            ("tenant_id", "number", "created_at"),
            ((tenant_id, n, to_us(now)) for n in fresh),
        )
        return len(fresh)

    def remove_dnc(self, tenant_id: TenantId, numbers: Sequence[str]) -> int:
        removed = 0
        for number in set(numbers):
            removed += len(
                self._conn.execute(
                    "DELETE FROM dnc_numbers WHERE tenant_id = %s AND number = %s RETURNING number",
                    (tenant_id, number),
                )
            )
        return removed

    def dnc_listed(self, tenant_id: TenantId, numbers: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            values: list[object]
            if self._conn.dialect == "postgres":
                # One array: one statement text for every batch (the engine's claims),
                # prepared once, and no 500 values adapted one by one.
                where, values = "= ANY(%s::text[])", [batch]
            else:
                where, values = f"IN ({', '.join(['%s'] * len(batch))})", list(batch)
            found.update(
                row[0]
                for row in self._conn.execute(
                    f"SELECT number FROM dnc_numbers WHERE tenant_id = %s AND number {where}",
                    (tenant_id, *values),
                )
            )
        return found

    def list_dnc(self, tenant_id: TenantId, after: str | None, limit: int) -> list[str]:
        rows = self._conn.execute(
            "SELECT number FROM dnc_numbers WHERE tenant_id = %s AND number > %s"
            " ORDER BY number LIMIT %s",
            (tenant_id, after or "", limit),
        )
        return [row[0] for row in rows]

    # idempotency keys of AddCallsBulk

    def claim_idempotency_key(
        self, key: str, request_hash: str, now: datetime
    ) -> tuple[str, str | None] | None:
        """Claim the key for this request; or, if an earlier request holds it, its (hash, response).

        On PostgreSQL a concurrent request with the same key waits here until the first commits.
        """
        claimed = self._conn.execute(
            "INSERT INTO idempotency_keys (idem_key, request_hash, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (idem_key) DO NOTHING RETURNING idem_key",
            (key, request_hash, to_us(now)),
        )
        if claimed:
            return None
        rows = self._conn.execute(
            "SELECT request_hash, response FROM idempotency_keys WHERE idem_key = %s", (key,)
        )
        return rows[0][0], rows[0][1]

    def store_idempotent_response(self, key: str, response: str) -> None:
        self._conn.execute(
            "UPDATE idempotency_keys SET response = %s WHERE idem_key = %s", (response, key)
        )

    def forget_idempotency_keys(self, before: datetime) -> None:
        self._conn.execute("DELETE FROM idempotency_keys WHERE created_at < %s", (to_us(before),))

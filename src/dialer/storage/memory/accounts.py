"""Tenants, their catalog (call flows, caller IDs, agents, queues, campaign members), their
do-not-call lists and idempotency keys: storage/sql_store.py, sql_accounts.py and sql_catalog.py
in memory. Every lookup names the tenant: another tenant's id finds nothing."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from dialer.domain.abandonment import ComplianceSettings, default_regime
from dialer.domain.agent import Agent, Queue
from dialer.domain.campaign import Campaign
from dialer.domain.errors import Conflict
from dialer.domain.ids import CallFlowId, CampaignId, CliId, TenantId
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant
from dialer.storage.memory.base import SessionBase, refers, unique
from dialer.storage.memory.tables import EntryRow, IdempotencyRow, TenantRow, from_us, to_us

_ENTRY_TABLES = {"callflow": "callflows", "cli": "clis", "agent": "agents", "queue": "queues"}


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(row.id, row.name, row.region, row.timezone, from_us(row.created_at))


class AccountParts(SessionBase):
    # tenants

    def add_tenant(
        self, name: str, region: str, timezone: str, api_key_hash: str, now: datetime
    ) -> Tenant:
        tenants = self._w("tenants")
        unique(any(t.api_key_hash == api_key_hash for t in tenants.values()), "that API key")
        row = TenantRow(
            TenantId(self._new_id("tenants")),
            name,
            region,
            timezone,
            api_key_hash,
            to_us(now),
            compliance=ComplianceSettings(regime=default_regime(region)),
        )
        tenants[row.id] = row
        return _tenant(row)

    def tenant_by_key_hash(self, api_key_hash: str) -> Tenant | None:
        for row in self._t.tenants.values():
            if row.api_key_hash == api_key_hash:
                return _tenant(row)
        return None

    def get_tenant(self, tenant_id: TenantId) -> Tenant | None:
        row = self._t.tenants.get(tenant_id)
        return None if row is None else _tenant(row)

    def set_calling_hours(self, tenant_id: TenantId, start: str, end: str) -> None:
        row = self._t.tenants.get(tenant_id)
        if row is not None:
            self._w("tenants")[tenant_id] = dataclasses.replace(
                row, hours_start=start, hours_end=end
            )

    def calling_hours(self, tenant_id: TenantId) -> tuple[str, str] | None:
        row = self._t.tenants.get(tenant_id)
        return None if row is None else (row.hours_start, row.hours_end)

    def set_api_key_hash(self, tenant_id: TenantId, api_key_hash: str) -> bool:
        row = self._t.tenants.get(tenant_id)
        if row is None:
            return False
        others = (t for t in self._t.tenants.values() if t.id != tenant_id)
        unique(any(t.api_key_hash == api_key_hash for t in others), "that API key")
        self._w("tenants")[tenant_id] = dataclasses.replace(row, api_key_hash=api_key_hash)
        return True

    # catalog entries

    def _entries(self, name: str, tenant_id: TenantId) -> list[EntryRow]:
        rows: dict[int, EntryRow] = getattr(self._t, name)
        return sorted((r for r in rows.values() if r.tenant_id == tenant_id), key=lambda r: r.id)

    def _entry(self, name: str, tenant_id: TenantId, entry_id: int) -> EntryRow | None:
        rows: dict[int, EntryRow] = getattr(self._t, name)
        row = rows.get(entry_id)
        return row if row is not None and row.tenant_id == tenant_id else None

    def _add_entry(
        self, name: str, tenant_id: TenantId, text: str, extra: str, now: datetime
    ) -> int:
        refers(tenant_id in self._t.tenants, f"no tenant {tenant_id}")
        row = EntryRow(self._new_id(name), tenant_id, text, extra, to_us(now))
        self._w(name)[row.id] = row
        return row.id

    def add_callflow(
        self, tenant_id: TenantId, name: str, definition: str, now: datetime
    ) -> CallFlowRecord:
        entry_id = self._add_entry("callflows", tenant_id, name, definition, now)
        # The SQL store hands back ``now`` as given here (and rounded when read back).
        return CallFlowRecord(CallFlowId(entry_id), tenant_id, name, definition, now)

    def list_callflows(self, tenant_id: TenantId) -> list[CallFlowRecord]:
        return [
            CallFlowRecord(CallFlowId(r.id), tenant_id, r.text, r.extra, from_us(r.created_at))
            for r in self._entries("callflows", tenant_id)
        ]

    def get_callflow(self, tenant_id: TenantId, callflow_id: int) -> CallFlowRecord | None:
        r = self._entry("callflows", tenant_id, callflow_id)
        if r is None:
            return None
        return CallFlowRecord(CallFlowId(r.id), tenant_id, r.text, r.extra, from_us(r.created_at))

    def callflow_owned(self, tenant_id: TenantId, callflow_id: CallFlowId) -> bool:
        return self._entry("callflows", tenant_id, callflow_id) is not None

    def callflow_definitions(self, tenant_id: TenantId) -> Sequence[tuple[CallFlowId, str]]:
        return [(CallFlowId(r.id), r.extra) for r in self._entries("callflows", tenant_id)]

    def add_cli(self, tenant_id: TenantId, number: str, now: datetime) -> CallerId:
        if any(r.text == number for r in self._entries("clis", tenant_id)):
            raise Conflict(f"caller ID {number} is already registered for this tenant")
        entry_id = self._add_entry("clis", tenant_id, number, "", now)
        return CallerId(CliId(entry_id), tenant_id, number, now)

    def list_clis(self, tenant_id: TenantId) -> list[CallerId]:
        return [
            CallerId(CliId(r.id), tenant_id, r.text, from_us(r.created_at))
            for r in self._entries("clis", tenant_id)
        ]

    def get_cli(self, tenant_id: TenantId, cli_id: int) -> CallerId | None:
        r = self._entry("clis", tenant_id, cli_id)
        return (
            None if r is None else CallerId(CliId(r.id), tenant_id, r.text, from_us(r.created_at))
        )

    def cli_owned(self, tenant_id: TenantId, cli_id: CliId) -> bool:
        return self._entry("clis", tenant_id, cli_id) is not None

    def campaigns_using(
        self, tenant_id: TenantId, what: str, entry_id: int
    ) -> list[tuple[CampaignId, bool]]:
        """(campaign id, still dialling: numbers left to call) of the tenant's campaigns that
        use a ``callflow``, ``cli``, ``agent`` (as a member) or ``queue`` (strategy's queue)."""

        def uses(c: Campaign) -> bool:
            if what == "callflow":
                return c.spec.callflow_id == entry_id
            if what == "cli":
                return c.spec.cli_id == entry_id
            if what == "queue":
                return c.strategy is not None and c.strategy.queue_id == entry_id
            if what == "agent":
                return (c.id, entry_id) in self._t.members
            raise KeyError(what)

        using = sorted(
            c.id for c in self._t.campaigns.values() if c.tenant_id == tenant_id and uses(c)
        )
        dialling = {
            d.campaign_id
            for d in self._t.destinations.values()
            if d.state in ("pending", "in_flight")
        }
        return [(c, c in dialling) for c in using]

    def delete_catalog_entry(self, tenant_id: TenantId, what: str, entry_id: int) -> bool:
        name = _ENTRY_TABLES[what]
        if self._entry(name, tenant_id, entry_id) is None:
            return False
        campaigns = self._t.campaigns.values()
        used = {
            "callflow": any(c.spec.callflow_id == entry_id for c in campaigns),
            "cli": any(c.spec.cli_id == entry_id for c in campaigns),
            "agent": any(agent == entry_id for _, agent in self._t.members),
            "queue": False,  # a strategy names its queue without a foreign key
        }[what]
        refers(not used, f"{what} {entry_id} is still referenced")
        if what == "agent":
            self._drop_agent_rows(entry_id)
        del self._w(name)[entry_id]
        return True

    # agents and queues

    def add_agent(self, tenant_id: TenantId, member: str, name: str, now: datetime) -> Agent:
        if any(r.text == member for r in self._entries("agents", tenant_id)):
            raise Conflict(f"agent {member} already exists for this tenant")
        agent_id = self._add_entry("agents", tenant_id, member, name, now)
        return Agent(agent_id, tenant_id, member, name, now)

    def agents_by_member(self, tenant_id: TenantId, members: Sequence[str]) -> dict[str, Agent]:
        wanted = set(members)
        return {
            r.text: _agent(r, tenant_id)
            for r in self._entries("agents", tenant_id)
            if r.text in wanted
        }

    def list_agents(self, tenant_id: TenantId) -> list[Agent]:
        return [_agent(r, tenant_id) for r in self._entries("agents", tenant_id)]

    def get_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None:
        r = self._entry("agents", tenant_id, agent_id)
        return None if r is None else _agent(r, tenant_id)

    def lock_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None:
        return self.get_agent(tenant_id, agent_id)  # a write transaction holds the whole store

    def set_agent_phone(self, tenant_id: TenantId, agent_id: int, phone: str | None) -> bool:
        row = self._entry("agents", tenant_id, agent_id)
        if row is None:
            return False
        self._w("agents")[agent_id] = dataclasses.replace(row, phone=phone)
        return True

    def add_queue(self, tenant_id: TenantId, name: str, now: datetime) -> Queue:
        # Call flows transfer to queues by name, so a name means one queue.
        if any(r.text == name for r in self._entries("queues", tenant_id)):
            raise Conflict(f"queue {name!r} already exists for this tenant")
        queue_id = self._add_entry("queues", tenant_id, name, "", now)
        return Queue(queue_id, tenant_id, name, now)

    def list_queues(self, tenant_id: TenantId) -> list[Queue]:
        return [
            Queue(r.id, tenant_id, r.text, from_us(r.created_at))
            for r in self._entries("queues", tenant_id)
        ]

    def get_queue(self, tenant_id: TenantId, queue_id: int) -> Queue | None:
        r = self._entry("queues", tenant_id, queue_id)
        return None if r is None else Queue(r.id, tenant_id, r.text, from_us(r.created_at))

    def queue_owned(self, tenant_id: TenantId, queue_id: int) -> bool:
        return self._entry("queues", tenant_id, queue_id) is not None

    # campaign members

    def campaign_members(self, campaign_id: CampaignId) -> list[Agent]:
        joined = [
            (added, agent)
            for (cid, agent_id), added in self._t.members.items()
            if cid == campaign_id and (agent := self._t.agents.get(agent_id)) is not None
        ]
        joined.sort(key=lambda pair: (pair[0], pair[1].id))
        return [_agent(a, a.tenant_id) for _, a in joined]

    def add_members(self, campaign_id: CampaignId, agent_ids: Sequence[int], now: datetime) -> int:
        added = 0
        for agent_id in agent_ids:
            if (campaign_id, agent_id) not in self._t.members:
                refers(campaign_id in self._t.campaigns, f"no campaign {campaign_id}")
                refers(agent_id in self._t.agents, f"no agent {agent_id}")
                self._w("members")[(campaign_id, agent_id)] = to_us(now)
                added += 1
        return added

    def remove_members(self, campaign_id: CampaignId, agent_ids: Sequence[int]) -> int:
        removed = 0
        for agent_id in agent_ids:
            if (campaign_id, agent_id) in self._t.members:
                del self._w("members")[(campaign_id, agent_id)]
                removed += 1
        return removed

    # do-not-call list

    def add_dnc(self, tenant_id: TenantId, numbers: Sequence[str], now: datetime) -> int:
        fresh = sorted(set(numbers) - self.dnc_listed(tenant_id, numbers))
        if fresh:
            refers(tenant_id in self._t.tenants, f"no tenant {tenant_id}")
            dnc = self._w("dnc")
            for number in fresh:
                dnc[(tenant_id, number)] = to_us(now)
        return len(fresh)

    def remove_dnc(self, tenant_id: TenantId, numbers: Sequence[str]) -> int:
        gone = [n for n in set(numbers) if (tenant_id, n) in self._t.dnc]
        if gone:
            dnc = self._w("dnc")
            for number in gone:
                del dnc[(tenant_id, number)]
        return len(gone)

    def dnc_listed(self, tenant_id: TenantId, numbers: Sequence[str]) -> set[str]:
        return {n for n in numbers if (tenant_id, n) in self._t.dnc}

    def list_dnc(self, tenant_id: TenantId, after: str | None, limit: int) -> list[str]:
        start = after or ""
        listed = sorted(n for t, n in self._t.dnc if t == tenant_id and n > start)
        return listed[: max(limit, 0)]

    # idempotency keys

    def claim_idempotency_key(
        self, key: str, request_hash: str, now: datetime
    ) -> tuple[str, str | None] | None:
        """Claim the key for this request; or, if an earlier request holds it, its
        (hash, response). One writer at a time, so a concurrent request waits for the first."""
        held = self._t.idempotency.get(key)
        if held is not None:
            return held.request_hash, held.response
        self._w("idempotency")[key] = IdempotencyRow(request_hash, None, to_us(now))
        return None

    def store_idempotent_response(self, key: str, response: str) -> None:
        held = self._t.idempotency.get(key)
        if held is not None:
            self._w("idempotency")[key] = dataclasses.replace(held, response=response)

    def forget_idempotency_keys(self, before: datetime) -> None:
        cutoff = to_us(before)
        old = [k for k, row in self._t.idempotency.items() if row.created_at < cutoff]
        if old:
            keys = self._w("idempotency")
            for key in old:
                del keys[key]


def _agent(row: EntryRow, tenant_id: TenantId) -> Agent:
    return Agent(row.id, tenant_id, row.text, row.extra, from_us(row.created_at), row.phone)

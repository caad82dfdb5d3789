"""What GET /api/events sends (docs/rest-api.md, "Live events"): a tenant's campaign summaries
and its agents' state changes, read by the one watcher of an API process (api/live_hub.py)."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from dialer.domain.agent_session import StateChange
from dialer.domain.ids import CampaignId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, Store
from dialer.services.campaign_summary import SummaryService, summary_json
from dialer.services.results import iso_utc

AGENT_PAGE = 1000


def agent_json(change: StateChange) -> dict[str, Any]:
    return {
        "agentId": change.agent_id,
        "state": change.state.value,
        "since": iso_utc(change.at),
        "reason": change.reason,
        "campaignId": change.campaign_id,
    }


@dataclass(frozen=True, slots=True)
class AgentNews:
    changes: dict[int, dict[str, Any]]  # agent id -> its latest state (latest wins)
    last_id: int


class LiveFeed:
    def __init__(self, store: Store, clock: Clock, summaries: SummaryService) -> None:
        self._store = store
        self._clock = clock
        self._summaries = summaries

    def campaigns(self, tenant: Tenant) -> dict[CampaignId, dict[str, Any]]:
        return {s.campaign.id: summary_json(s) for s in self._summaries.summaries(tenant)}

    def keys_alive(self, tenant: Tenant, key_hashes: Collection[str]) -> set[str]:
        """Those of these API key hashes that still open ``tenant`` (a rotated key opens
        nothing): one indexed look-up each, as a request's authentication."""
        with self._store.read() as session:
            return {
                h
                for h in key_hashes
                if (found := session.tenants.tenant_by_key_hash(h)) is not None
                and found.id == tenant.id
            }

    def agents_now(self, tenant: Tenant) -> AgentNews:
        """Each agent's current state, and the id later changes are read after."""
        with self._store.read() as session:
            last = session.agent_sessions.last_changes_before(tenant.id, self._clock.now())
        return AgentNews(
            {c.agent_id: agent_json(c) for c in last}, max((c.id or 0 for c in last), default=0)
        )

    def agents_after(self, tenant: Tenant, after: int) -> AgentNews:
        latest: dict[int, dict[str, Any]] = {}
        with self._store.read() as session:
            while True:
                changes = session.agent_sessions.state_changes(
                    tenant.id, after_id=after, limit=AGENT_PAGE
                )
                for change in changes:
                    latest[change.agent_id] = agent_json(change)
                    after = max(after, change.id or 0)
                if len(changes) < AGENT_PAGE:
                    break
        return AgentNews(latest, after)

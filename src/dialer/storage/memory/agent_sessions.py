"""Agents' sessions, their state changes and desk tokens: storage/sql_agent_sessions.py in
memory. One writer at a time (the store's lock), so a reservation or an adoption is one step
and a compare-and-set loses only to a write committed after the caller's read."""

import dataclasses
from datetime import datetime

from dialer.domain import agent_session
from dialer.domain.agent import Agent
from dialer.domain.agent_session import AgentSession, AgentState, Customer, StateChange
from dialer.domain.errors import NotFound
from dialer.domain.ids import CampaignId, TenantId
from dialer.storage.memory.base import SessionBase, refers, unique
from dialer.storage.memory.tables import AgentTokenRow, from_us, opt_from_us, opt_us, to_us

_RESERVE_TRIES = 3


def _round(moment: datetime) -> datetime:
    return from_us(to_us(moment))


def _opt_round(moment: datetime | None) -> datetime | None:
    return opt_from_us(opt_us(moment))


def _stored(session: AgentSession) -> AgentSession:
    """``session`` as a SQL store reads it back: instants to the microsecond, in UTC, naive
    ones refused; a disposition's callback and same-agent flag only with the disposition."""
    customer = session.customer
    if customer is not None:
        customer = dataclasses.replace(
            customer,
            answered_at=_round(customer.answered_at),
            bridged_at=_opt_round(customer.bridged_at),
        )
    disposition = session.disposition
    if disposition is not None:
        disposition = dataclasses.replace(
            disposition, callback_at=_opt_round(disposition.callback_at)
        )
    return dataclasses.replace(
        session,
        since=_round(session.since),
        started_at=_round(session.started_at),
        customer=customer,
        disposition=disposition,
        wrap_up_until=_opt_round(session.wrap_up_until),
        ready_since=_opt_round(session.ready_since),
        lease_until=_opt_round(session.lease_until),
    )


class AgentSessionParts(SessionBase):
    # sessions

    def _agent_owned(self, tenant_id: TenantId, agent_id: int) -> str:
        row = self._t.agents.get(agent_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound(f"agent {agent_id}")
        return row.text

    def _open_of(self, agent_id: int) -> AgentSession | None:
        for session in self._t.agent_sessions.values():
            if session.agent_id == agent_id and session.open:
                return session
        return None

    def open_session(
        self, tenant_id: TenantId, agent_id: int, phone: str, now: datetime
    ) -> AgentSession | None:
        member = self._agent_owned(tenant_id, agent_id)
        if self._open_of(agent_id) is not None:
            return None
        session = _stored(
            AgentSession(
                id=self._new_id("agent_sessions"),
                tenant_id=tenant_id,
                agent_id=agent_id,
                member=member,
                phone=phone,
                state=AgentState.PAUSED,
                since=now,
                started_at=now,
                reason=agent_session.PHONE_CONNECTING,
            )
        )
        self._w("agent_sessions")[session.id] = session
        self._add_change(
            StateChange(
                session.id,
                tenant_id,
                agent_id,
                AgentState.PAUSED,
                session.since,
                agent_session.PHONE_CONNECTING,
            )
        )
        return session

    def open_session_of(self, tenant_id: TenantId, agent_id: int) -> AgentSession | None:
        session = self._open_of(agent_id)
        return session if session is not None and session.tenant_id == tenant_id else None

    def get_session(self, session_id: int) -> AgentSession | None:
        return self._t.agent_sessions.get(session_id)

    def save_session(
        self, session: AgentSession, change: StateChange | None, read_version: int
    ) -> bool:
        """As the SQL store: a compare-and-set on the version; the stored lease is kept while
        the worker is unchanged (renewals do not change the version)."""
        if session.version <= read_version:
            raise ValueError("a saved session needs a version above the one read")
        stored = self._t.agent_sessions.get(session.id)
        if stored is None or stored.tenant_id != session.tenant_id:
            return False
        if stored.version != read_version:
            return False
        same_worker = session.worker is not None and session.worker == stored.worker
        after = _stored(
            dataclasses.replace(
                session,
                tenant_id=stored.tenant_id,
                agent_id=stored.agent_id,
                member=stored.member,
                started_at=stored.started_at,
                lease_until=stored.lease_until if same_worker else session.lease_until,
            )
        )
        if after.open:
            other = self._open_of(after.agent_id)
            unique(other is not None and other.id != after.id, "an open session of the agent")
        self._w("agent_sessions")[after.id] = after
        if change is not None:
            self._add_change(change)
        return True

    def _add_change(self, change: StateChange) -> int:
        refers(change.session_id in self._t.agent_sessions, f"no session {change.session_id}")
        change_id = self._new_id("state_changes")
        self._w("state_changes")[change_id] = dataclasses.replace(
            change, at=_round(change.at), id=change_id
        )
        return change_id

    # the engine's side

    def reserve_agent(
        self,
        campaign_id: CampaignId,
        worker: str,
        customer: Customer,
        now: datetime,
        prefer_agent_id: int | None = None,
    ) -> AgentSession | None:
        campaign = self._t.campaigns.get(campaign_id)
        if campaign is None:
            return None
        ready = sorted(
            (
                s
                for s in self._t.agent_sessions.values()
                if s.worker == worker
                and s.state is AgentState.READY
                and s.tenant_id == campaign.tenant_id
                and (campaign_id, s.agent_id) in self._t.members
            ),
            key=lambda s: (opt_us(s.ready_since) or 0, s.id),
        )
        preferred = [s for s in ready if s.agent_id == prefer_agent_id]
        for chosen in (preferred + ready)[:_RESERVE_TRIES]:
            after, change = agent_session.reserve(chosen, customer, now)
            if self.save_session(after, change, chosen.version):
                return self._t.agent_sessions[after.id]
        return None

    def ready_agents(self, worker: str) -> dict[CampaignId, int]:
        ready = {
            s.agent_id
            for s in self._t.agent_sessions.values()
            if s.worker == worker and s.state is AgentState.READY
        }
        counts: dict[CampaignId, int] = {}
        for campaign_id, agent_id in self._t.members:
            if agent_id in ready:
                counts[campaign_id] = counts.get(campaign_id, 0) + 1
        return counts

    def ready_sessions(self, worker: str) -> int:
        return sum(
            1
            for s in self._t.agent_sessions.values()
            if s.worker == worker and s.state is AgentState.READY
        )

    def adopt_sessions(
        self, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[AgentSession]:
        cutoff = to_us(now)
        free = sorted(
            (
                s
                for s in self._t.agent_sessions.values()
                if s.open
                and (
                    s.worker is None
                    or (s.worker != worker and (opt_us(s.lease_until) or 0) < cutoff)
                )
            ),
            key=lambda s: (opt_us(s.lease_until) or 0, s.id),
        )[: max(limit, 0)]
        adopted = []
        for session in free:
            after = _stored(
                dataclasses.replace(
                    session, worker=worker, lease_until=lease_until, version=session.version + 1
                )
            )
            self._w("agent_sessions")[after.id] = after
            adopted.append(after)
        return adopted

    def renew_sessions(self, worker: str, lease_until: datetime) -> int:
        held = [s for s in self._t.agent_sessions.values() if s.worker == worker and s.open]
        for session in held:
            self._w("agent_sessions")[session.id] = dataclasses.replace(
                session, lease_until=_round(lease_until)
            )
        return len(held)

    def worker_sessions(self, worker: str) -> list[AgentSession]:
        return sorted(
            (s for s in self._t.agent_sessions.values() if s.worker == worker and s.open),
            key=lambda s: s.id,
        )

    def tenant_sessions(self, tenant_id: TenantId) -> list[AgentSession]:
        chosen: dict[int, AgentSession] = {}
        for session in self._t.agent_sessions.values():
            if session.tenant_id != tenant_id:
                continue
            best = chosen.get(session.agent_id)
            if best is None or (session.open, session.id) > (best.open, best.id):
                chosen[session.agent_id] = session
        return [chosen[agent_id] for agent_id in sorted(chosen)]

    def state_changes(
        self,
        tenant_id: TenantId,
        *,
        agent_id: int | None = None,
        after_id: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[StateChange]:
        low = None if since is None else _round(since)
        high = None if until is None else _round(until)
        found = sorted(
            (
                c
                for c in self._t.state_changes.values()
                if c.tenant_id == tenant_id
                and (c.id or 0) > after_id
                and (agent_id is None or c.agent_id == agent_id)
                and (low is None or c.at >= low)
                and (high is None or c.at < high)
            ),
            key=lambda c: c.id or 0,
        )
        return found[: max(limit, 0)]

    def last_changes_before(self, tenant_id: TenantId, before: datetime) -> list[StateChange]:
        cutoff = _round(before)
        last: dict[int, StateChange] = {}
        for change in self._t.state_changes.values():
            if change.tenant_id != tenant_id or change.at >= cutoff:
                continue
            seen = last.get(change.agent_id)
            if seen is None or (change.id or 0) > (seen.id or 0):
                last[change.agent_id] = change
        return [last[agent_id] for agent_id in sorted(last)]

    # desk tokens

    def add_agent_token(
        self, tenant_id: TenantId, agent_id: int, token_hash: str, now: datetime
    ) -> int:
        self._agent_owned(tenant_id, agent_id)
        tokens = self._w("agent_tokens")
        unique(any(t.token_hash == token_hash for t in tokens.values()), "that token")
        token_id = self._new_id("agent_tokens")
        tokens[token_id] = AgentTokenRow(tenant_id, agent_id, token_hash, to_us(now))
        return token_id

    def agent_by_token(self, token_hash: str) -> tuple[TenantId, Agent] | None:
        for token in self._t.agent_tokens.values():
            if token.token_hash != token_hash or token.revoked_at is not None:
                continue
            row = self._t.agents.get(token.agent_id)
            if row is None or row.tenant_id != token.tenant_id:
                return None
            return row.tenant_id, Agent(
                row.id, row.tenant_id, row.text, row.extra, from_us(row.created_at), row.phone
            )
        return None

    def revoke_agent_token(
        self, tenant_id: TenantId, agent_id: int, token_id: int | None, now: datetime
    ) -> int:
        doomed = [
            key
            for key, t in self._t.agent_tokens.items()
            if t.tenant_id == tenant_id
            and t.agent_id == agent_id
            and t.revoked_at is None
            and (token_id is None or key == token_id)
        ]
        for key in doomed:
            tokens = self._w("agent_tokens")
            tokens[key] = dataclasses.replace(tokens[key], revoked_at=to_us(now))
        return len(doomed)

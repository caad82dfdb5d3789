"""Store queries for agents' sessions, their state changes and agents' desk tokens.

A session row is written two ways. ``save_session`` is a compare-and-set on ``version``: the
desk and the engine each read, decide (domain/agent_session.py) and write only if nobody wrote
in between, with the change row in the same transaction. ``adopt_sessions`` and
``renew_sessions`` are the engine's lease on the agent's phone leg: adopting bumps the version
(whoever read before must decide again), renewing does not (a desk write would lose every few
seconds for nothing), so ``save_session`` keeps the stored lease while the worker is unchanged.

Reserving an agent (``reserve_agent``) locks the chosen row with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two engines reserving at once never get one agent and never queue behind each
other; SQLite's ``BEGIN IMMEDIATE`` admits one writer at a time.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialer.domain import agent_session
from dialer.domain.agent import Agent
from dialer.domain.agent_session import (
    AgentSession,
    AgentState,
    Customer,
    StateChange,
)
from dialer.domain.errors import NotFound
from dialer.domain.ids import CampaignId, TenantId
from dialer.storage.agent_rows import (
    change_from_row,
    customer_to_column,
    session_from_row,
)
from dialer.storage.database import Connection, Row
from dialer.storage.rows import from_us, opt_us, to_us

# The columns of a session, the member read from its agent (``a`` or a subquery).
_SESSION_FIELDS = (
    "s.id, s.tenant_id, s.agent_id, {member}, s.phone, s.state, s.since, s.started_at, s.reason,"
    " s.pending, s.pending_reason, s.customer, s.disposition_stage, s.callback_at, s.same_agent,"
    " s.wrap_up_until, s.release_requested, s.ready_since, s.worker, s.lease_until, s.version"
)
_SESSION = _SESSION_FIELDS.format(member="(SELECT a.member FROM agents a WHERE a.id = s.agent_id)")
_CHANGE = (
    "id, session_id, tenant_id, agent_id, state, at, reason, campaign_id, destination_id,"
    " attempt_number"
)
# A few lost races in a row mean something is wrong, not busy: give up rather than spin.
_RESERVE_TRIES = 3
# Ids per "IN (...)": well within both dialects' limit on a statement's parameters.
_IDS_AT_ONCE = 1000


class AgentSessionQueries:
    _conn: Connection

    # sessions

    def _agent_owned(self, tenant_id: TenantId, agent_id: int) -> None:
        if not self._conn.execute(
            "SELECT 1 FROM agents WHERE id = %s AND tenant_id = %s", (agent_id, tenant_id)
        ):
            raise NotFound(f"agent {agent_id}")

    def open_session(
        self, tenant_id: TenantId, agent_id: int, phone: str, now: datetime
    ) -> AgentSession | None:
        self._agent_owned(tenant_id, agent_id)
        at = to_us(now)
        # The unique index on open sessions decides between two log-ins at once: the second
        # waits for the first to commit (PostgreSQL) and then inserts nothing.
        rows = self._conn.execute(
            "INSERT INTO agent_sessions (tenant_id, agent_id, phone, state, since, started_at,"
            " reason) VALUES (%s, %s, %s, 'paused', %s, %s, %s)"
            " ON CONFLICT (agent_id) WHERE state <> 'offline' DO NOTHING RETURNING id",
            (tenant_id, agent_id, phone, at, at, agent_session.PHONE_CONNECTING),
        )
        if not rows:
            return None
        session = self._session_where("s.id = %s", (rows[0][0],))[0]
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

    def _session_where(self, where: str, params: Sequence[Any]) -> list[AgentSession]:
        rows = self._conn.execute(
            f"SELECT {_SESSION} FROM agent_sessions s WHERE {where} ORDER BY s.id", params
        )
        return [session_from_row(row) for row in rows]

    def open_session_of(self, tenant_id: TenantId, agent_id: int) -> AgentSession | None:
        # The tenant is checked here, not in SQL: given both, PostgreSQL reads the agent's every
        # session by agent_sessions_agent rather than its one open session by the unique index.
        found = self._session_where("s.agent_id = %s AND s.state <> 'offline'", (agent_id,))
        return found[0] if found and found[0].tenant_id == tenant_id else None

    def get_session(self, session_id: int) -> AgentSession | None:
        found = self._session_where("s.id = %s", (session_id,))
        return found[0] if found else None

    def save_session(
        self, session: AgentSession, change: StateChange | None, read_version: int
    ) -> bool:
        """Write ``session`` (and ``change``) if the stored version is still ``read_version``.

        The worker and its lease are the engine's: a session whose ``worker`` is the stored
        one keeps the stored ``lease_until`` (renewed meanwhile without a version change);
        a different worker (or None: let go) is written with the session's lease."""
        if session.version <= read_version:
            raise ValueError("a saved session needs a version above the one read")
        disposition = session.disposition
        # In an UPDATE the right-hand side reads the old row: "worker = %s" compares the
        # stored worker with the one saved.
        rows = self._conn.execute(
            "UPDATE agent_sessions SET phone = %s, state = %s, since = %s, reason = %s,"
            " pending = %s, pending_reason = %s, customer = %s, disposition_stage = %s,"
            " callback_at = %s, same_agent = %s, wrap_up_until = %s, release_requested = %s,"
            " ready_since = %s,"
            " lease_until = CASE WHEN worker = %s THEN lease_until ELSE %s END,"
            " worker = %s, version = %s"
            " WHERE id = %s AND tenant_id = %s AND version = %s RETURNING id",
            (
                session.phone,
                session.state.value,
                to_us(session.since),
                session.reason,
                None if session.pending is None else session.pending.value,
                session.pending_reason,
                customer_to_column(session.customer),
                None if disposition is None else disposition.stage.value,
                None if disposition is None else opt_us(disposition.callback_at),
                int(disposition is not None and disposition.same_agent),
                opt_us(session.wrap_up_until),
                int(session.release_requested),
                opt_us(session.ready_since),
                session.worker,
                opt_us(session.lease_until),
                session.worker,
                session.version,
                session.id,
                session.tenant_id,
                read_version,
            ),
        )
        if not rows:
            return False
        # Inserted after the row's update, which holds its lock until commit: one agent's
        # change ids grow in the order the changes commit (the event stream relies on it).
        if change is not None:
            self._add_change(change)
        return True

    def _add_change(self, change: StateChange) -> int:
        rows = self._conn.execute(
            "INSERT INTO agent_state_changes (session_id, tenant_id, agent_id, state, at, reason,"
            " campaign_id, destination_id, attempt_number)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                change.session_id,
                change.tenant_id,
                change.agent_id,
                change.state.value,
                to_us(change.at),
                change.reason,
                change.campaign_id,
                change.destination_id,
                change.attempt_number,
            ),
        )
        change_id: int = rows[0][0]
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
        skipped: list[int] = []
        for _ in range(_RESERVE_TRIES):
            chosen = None
            if prefer_agent_id is not None and prefer_agent_id not in skipped:
                chosen = self._ready_candidate(campaign_id, worker, prefer_agent_id, [])
            if chosen is None:
                chosen = self._ready_candidate(campaign_id, worker, None, skipped)
            if chosen is None:
                return None
            after, change = agent_session.reserve(chosen, customer, now)
            if self.save_session(after, change, chosen.version):
                return after
            skipped.append(chosen.agent_id)
        return None

    def _ready_candidate(
        self, campaign_id: CampaignId, worker: str, agent_id: int | None, skipped: list[int]
    ) -> AgentSession | None:
        """The longest-ready session ``worker`` holds of a member of the campaign (of its
        tenant), locked; on PostgreSQL one another transaction holds is passed over."""
        where = ""
        params: list[Any] = [worker, campaign_id, campaign_id]
        if agent_id is not None:
            where += " AND s.agent_id = %s"
            params.append(agent_id)
        if skipped:
            where += f" AND s.agent_id NOT IN ({', '.join('%s' for _ in skipped)})"
            params += skipped
        rows = self._conn.execute(
            f"SELECT {_SESSION} FROM agent_sessions s"
            " WHERE s.worker = %s AND s.state = 'ready'"
            " AND s.agent_id IN (SELECT m.agent_id FROM campaign_members m"
            "   WHERE m.campaign_id = %s)"
            " AND s.tenant_id = (SELECT c.tenant_id FROM campaigns c WHERE c.id = %s)"
            f"{where} ORDER BY s.ready_since, s.id LIMIT 1 FOR UPDATE SKIP LOCKED",
            params,
        )
        return session_from_row(rows[0]) if rows else None

    def ready_agents(self, worker: str) -> dict[CampaignId, int]:
        rows = self._conn.execute(
            "SELECT m.campaign_id, count(*) FROM agent_sessions s"
            " JOIN campaign_members m ON m.agent_id = s.agent_id"
            " WHERE s.worker = %s AND s.state = 'ready' GROUP BY m.campaign_id",
            (worker,),
        )
        return {CampaignId(cid): int(n) for cid, n in rows}

    def ready_sessions(self, worker: str) -> int:
        rows = self._conn.execute(
            "SELECT count(*) FROM agent_sessions s WHERE s.worker = %s AND s.state = 'ready'",
            (worker,),
        )
        return int(rows[0][0])

    def adopt_sessions(
        self, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[AgentSession]:
        """Open sessions no engine holds, or whose engine's lease ran out (another engine's:
        a worker renews its own), become ``worker``'s with a new version: new log-ins first,
        then the longest expired. On PostgreSQL ``SKIP LOCKED``: engines adopting at once
        take different sessions."""
        # Ordered by an expression, so neither database walks the primary key (every session
        # ever held) for the order: the candidates come from the index of open sessions.
        rows = self._conn.execute(
            "UPDATE agent_sessions SET worker = %s, lease_until = %s, version = version + 1"
            " WHERE id IN (SELECT id FROM agent_sessions WHERE state <> 'offline'"
            "   AND (worker IS NULL OR (lease_until < %s AND worker <> %s))"
            "   ORDER BY coalesce(lease_until, 0), id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING id",
            (worker, to_us(lease_until), to_us(now), worker, limit),
        )
        if not rows:
            return []
        ids = [row[0] for row in rows]
        return self._session_where(f"s.id IN ({', '.join('%s' for _ in ids)})", ids)

    def renew_sessions(self, worker: str, lease_until: datetime) -> int:
        rows = self._conn.execute(
            "UPDATE agent_sessions SET lease_until = %s"
            " WHERE worker = %s AND state <> 'offline' RETURNING id",
            (to_us(lease_until), worker),
        )
        return len(rows)

    def worker_sessions(self, worker: str) -> list[AgentSession]:
        """The open sessions ``worker`` holds; one that leaves the list went offline or was
        adopted by another engine (``get_session`` tells which)."""
        return self._session_where("s.worker = %s AND s.state <> 'offline'", (worker,))

    def tenant_sessions(self, tenant_id: TenantId) -> list[AgentSession]:
        """Per agent (in order of agent id), its open session, else its last one."""
        # Two statements: joined in one, PostgreSQL hashes every session ever held.
        ids = self._conn.execute(
            "SELECT coalesce("
            "   (SELECT x.id FROM agent_sessions x WHERE x.agent_id = a.id"
            "     AND x.state <> 'offline'),"
            "   (SELECT max(x.id) FROM agent_sessions x WHERE x.tenant_id = a.tenant_id"
            "     AND x.agent_id = a.id))"
            " FROM agents a WHERE a.tenant_id = %s",
            (tenant_id,),
        )
        found = self._by_ids([i for (i,) in ids if i is not None], _SESSION, "agent_sessions s")
        return sorted(map(session_from_row, found), key=lambda session: session.agent_id)

    def _by_ids(self, ids: list[int], columns: str, table: str) -> list[Row]:
        rows: list[Row] = []
        for start in range(0, len(ids), _IDS_AT_ONCE):
            batch = ids[start : start + _IDS_AT_ONCE]
            marks = ", ".join("%s" for _ in batch)
            rows += self._conn.execute(
                f"SELECT {columns} FROM {table} WHERE id IN ({marks})", batch
            )
        return rows

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
        where = "tenant_id = %s AND id > %s"
        params: list[Any] = [tenant_id, after_id]
        if agent_id is not None:
            where += " AND agent_id = %s"
            params.append(agent_id)
        if since is not None:
            where += " AND at >= %s"
            params.append(to_us(since))
        if until is not None:
            where += " AND at < %s"
            params.append(to_us(until))
        rows = self._conn.execute(
            f"SELECT {_CHANGE} FROM agent_state_changes WHERE {where} ORDER BY id LIMIT %s",
            (*params, max(limit, 0)),
        )
        return [change_from_row(row) for row in rows]

    def last_changes_before(self, tenant_id: TenantId, before: datetime) -> list[StateChange]:
        # Per agent, walking its changes back from the newest (an index range each); the last
        # by id, which is the last by time for one agent (its changes are written in turn).
        # Then the changes by key: joined in one, PostgreSQL hashes the whole history.
        ids = self._conn.execute(
            "SELECT (SELECT x.id FROM agent_state_changes x WHERE x.tenant_id = a.tenant_id"
            "   AND x.agent_id = a.id AND x.at < %s ORDER BY x.id DESC LIMIT 1)"
            " FROM agents a WHERE a.tenant_id = %s",
            (to_us(before), tenant_id),
        )
        found = self._by_ids([i for (i,) in ids if i is not None], _CHANGE, "agent_state_changes")
        return sorted(map(change_from_row, found), key=lambda change: change.agent_id)

    # desk tokens

    def add_agent_token(
        self, tenant_id: TenantId, agent_id: int, token_hash: str, now: datetime
    ) -> int:
        self._agent_owned(tenant_id, agent_id)
        rows = self._conn.execute(
            "INSERT INTO agent_tokens (tenant_id, agent_id, token_hash, created_at)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (tenant_id, agent_id, token_hash, to_us(now)),
        )
        token_id: int = rows[0][0]
        return token_id

    def agent_by_token(self, token_hash: str) -> tuple[TenantId, Agent] | None:
        rows = self._conn.execute(
            "SELECT a.id, a.tenant_id, a.member, a.display_name, a.created_at, a.phone"
            " FROM agent_tokens t JOIN agents a ON a.id = t.agent_id AND a.tenant_id = t.tenant_id"
            " WHERE t.token_hash = %s AND t.revoked_at IS NULL",
            (token_hash,),
        )
        if not rows:
            return None
        aid, tid, member, name, created, phone = rows[0]
        return TenantId(tid), Agent(aid, TenantId(tid), member, name, from_us(created), phone)

    def revoke_agent_token(
        self, tenant_id: TenantId, agent_id: int, token_id: int | None, now: datetime
    ) -> int:
        where, params = "", [to_us(now), tenant_id, agent_id]
        if token_id is not None:
            where, params = " AND id = %s", [*params, token_id]
        rows = self._conn.execute(
            "UPDATE agent_tokens SET revoked_at = %s"
            f" WHERE tenant_id = %s AND agent_id = %s AND revoked_at IS NULL{where} RETURNING id",
            params,
        )
        return len(rows)

"""The agent floor's transactions on the store (engine/agent_floor.py runs each in a thread):
adopt and read the sessions a worker holds, reserve an agent, decide and compare-and-set one
change, let sessions go. Each is one transaction; none publishes (the floor does, on its loop).
"""

from collections.abc import Callable
from datetime import datetime

from dialer.domain import agent_session as agents
from dialer.domain.agent_session import (
    AgentRefused,
    AgentSession,
    AgentState,
    Changed,
    Customer,
    StateChange,
)
from dialer.domain.events import AgentStateChanged
from dialer.domain.ids import CampaignId
from dialer.ports.store import EngineSession, UnitOfWork

ADOPT_LIMIT = 50  # sessions adopted per look

Decide = Callable[[AgentSession, datetime], Changed | AgentSession | None]
# (the session after, its change or None); None: the race was lost, decide again.
Saved = tuple[AgentSession | None, StateChange | None] | None


class SessionWrites:
    def __init__(self, store: UnitOfWork[EngineSession], worker: str) -> None:
        self._store = store
        self._worker = worker

    def adopt_and_read(
        self, now: datetime, lease_until: datetime
    ) -> tuple[list[AgentSession], list[AgentSession], int]:
        """Adopt what no engine holds; (the worker's open sessions, those ``adopted`` changed,
        how many were taken). A session already waiting for its phone (a new log-in, or one a
        stopping engine let go) is taken as it is."""
        with self._store.write() as tx:
            repo = tx.agent_sessions
            taken = repo.adopt_sessions(self._worker, now, lease_until, ADOPT_LIMIT)
            changed = []
            for session in taken:
                connecting = (
                    session.state is AgentState.PAUSED and session.reason == agents.PHONE_CONNECTING
                )
                if connecting:
                    continue
                after, change = agents.adopted(session, self._worker, now, lease_until)
                if repo.save_session(after, change, session.version):
                    changed.append(after)
            mine = [s for s in repo.worker_sessions(self._worker) if s.open]
        return mine, changed, len(taken)

    def read(self) -> list[AgentSession]:
        with self._store.read() as tx:
            return [s for s in tx.agent_sessions.worker_sessions(self._worker) if s.open]

    def get(self, session_id: int) -> AgentSession | None:
        with self._store.read() as tx:
            return tx.agent_sessions.get_session(session_id)

    def reserve(
        self,
        campaign_id: CampaignId,
        customer: Customer,
        now: datetime,
        prefer_agent_id: int | None,
    ) -> AgentSession | None:
        with self._store.write() as tx:
            return tx.agent_sessions.reserve_agent(
                campaign_id, self._worker, customer, now, prefer_agent_id
            )

    def decide_and_save(self, session_id: int, decide: Decide, now: datetime) -> Saved:
        """Read the session, decide, compare-and-set. (None, None): gone, another engine's,
        or refused; (session, None): the decision changed nothing."""
        with self._store.write() as tx:
            repo = tx.agent_sessions
            current = repo.get_session(session_id)
            if current is None or current.worker != self._worker:
                return None, None
            try:
                decided = decide(current, now)
            except AgentRefused:
                return None, None
            if decided is None:
                return current, None
            after, change = decided if isinstance(decided, tuple) else (decided, None)
            if not repo.save_session(after, change, current.version):
                return None
            return after, change

    def let_go(self, session_ids: list[int], now: datetime) -> list[AgentSession]:
        """Leave these sessions to the next engine (``agent_session.let_go``); those let go."""
        gone = []
        for session_id in session_ids:
            with self._store.write() as tx:
                repo = tx.agent_sessions
                current = repo.get_session(session_id)
                if current is None or not current.open or current.worker != self._worker:
                    continue
                after, change = agents.let_go(current, now)
                if repo.save_session(after, change, current.version):
                    gone.append(after)
        return gone


def state_changed(session: AgentSession) -> AgentStateChanged:
    call = session.customer
    return AgentStateChanged(
        session.tenant_id,
        session.agent_id,
        session.member,
        session.id,
        session.state.value,
        session.since,
        session.reason,
        call.campaign_id if call else None,
        call.destination_id if call else None,
    )

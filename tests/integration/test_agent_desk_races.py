"""A desk request that loses the race to the engine reads the session again and decides again,
on SQLite and PostgreSQL. The race is made deterministic: the desk's first read(s) of the
session are served as they were before the engine's change (what a read just before a
concurrent write sees); the store underneath is the real one."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from dialer.bootstrap import Container
from dialer.domain import agent_session as sessions
from dialer.domain.agent_session import AgentSession, AgentState
from dialer.domain.errors import Conflict
from dialer.services.agent_desk import ATTEMPTS, AgentDeskService, AgentIdentity
from tests.conftest import Account


class _StaleRepo:
    def __init__(self, repo: Any, stale: list[AgentSession]) -> None:
        self._repo = repo
        self._stale = stale

    def open_session_of(self, tenant_id: int, agent_id: int) -> AgentSession | None:
        if self._stale:
            return self._stale.pop(0)
        found: AgentSession | None = self._repo.open_session_of(tenant_id, agent_id)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


class _StaleSession:
    def __init__(self, session: Any, stale: list[AgentSession]) -> None:
        self._session = session
        self.agent_sessions = _StaleRepo(session.agent_sessions, stale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class StaleReads:
    """The container's store, but the next writes first read ``stale`` sessions."""

    def __init__(self, container: Container) -> None:
        self._store = container.store
        self.stale: list[AgentSession] = []

    def read(self) -> Any:
        return self._store.read()

    @contextmanager
    def write(self) -> Iterator[Any]:
        with self._store.write() as session:
            yield _StaleSession(session, self.stale)


@pytest.fixture
def logged_in(container: Container, account: Account) -> tuple[AgentIdentity, AgentSession]:
    agent = container.catalog.add_agent(account.tenant, "SIPSIP1", "Alice")
    _, token = container.agent_desk.issue_token(account.tenant, agent.id)
    who = container.agent_desk.authenticate(token)
    session = container.agent_desk.login(who, {"phone": "sim:agent-1"})
    return who, session


def _engine_answers(container: Container, before: AgentSession) -> AgentSession:
    after, change = sessions.phone_answered(before, container.clock.now())
    with container.store.write() as session:
        assert session.agent_sessions.save_session(after, change, before.version)
    return after


def test_a_pause_decided_on_a_stale_read_is_decided_again(
    container: Container, logged_in: tuple[AgentIdentity, AgentSession]
) -> None:
    who, connecting = logged_in
    _engine_answers(container, connecting)  # the agent picked up: ready
    racing = StaleReads(container)
    desk = AgentDeskService(racing, container.clock)  # type: ignore[arg-type]
    racing.stale = [connecting]  # the desk read the session just before the engine wrote

    paused = desk.pause(who, {"reason": "lunch"})

    # On the stale read the pause would have been pending (the phone was still connecting);
    # read again, the agent is ready, so they are paused now.
    assert (paused.state, paused.reason, paused.pending) == (AgentState.PAUSED, "lunch", None)
    stored = container.agent_desk.current(who)
    assert stored == paused


def test_a_desk_that_keeps_losing_gives_up_with_a_conflict_and_changes_nothing(
    container: Container, logged_in: tuple[AgentIdentity, AgentSession]
) -> None:
    who, connecting = logged_in
    ready = _engine_answers(container, connecting)
    racing = StaleReads(container)
    desk = AgentDeskService(racing, container.clock)  # type: ignore[arg-type]
    racing.stale = [connecting] * ATTEMPTS

    with pytest.raises(Conflict, match="kept changing"):
        desk.pause(who, {"reason": "lunch"})

    assert container.agent_desk.current(who) == ready

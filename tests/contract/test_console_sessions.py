"""ConsoleSessionRepo: the console's browser sessions, by their token's hash."""

from datetime import timedelta

from dialer.domain.console_session import ConsoleKind, ConsoleSession
from dialer.ports.store import Store
from tests.contract.support import T0


def session(store: Store, token_hash: str, *, seen_minutes: int = 0) -> ConsoleSession:
    with store.write() as s:
        tenant = s.tenants.add_tenant("Acme", "GB", "Europe/London", "k" + token_hash, T0)
        made = ConsoleSession(
            token_hash,
            ConsoleKind.MANAGER,
            tenant.id,
            None,
            "k" + token_hash,
            "csrf-" + token_hash,
            T0,
            T0 + timedelta(hours=12),
            T0 + timedelta(minutes=seen_minutes),
        )
        s.console_sessions.add_console_session(made)
    return made


def test_a_session_reads_back_by_its_hash_and_ends(store: Store) -> None:
    made = session(store, "h1")
    with store.read() as s:
        assert s.console_sessions.console_session("h1") == made
        assert s.console_sessions.console_session("h2") is None
    with store.write() as s:
        s.console_sessions.touch_console_session("h1", T0 + timedelta(minutes=5))
    with store.read() as s:
        found = s.console_sessions.console_session("h1")
    assert found is not None
    assert found.last_seen_at == T0 + timedelta(minutes=5)
    with store.write() as s:
        assert s.console_sessions.end_console_session("h1") is True
        assert s.console_sessions.end_console_session("h1") is False
    with store.read() as s:
        assert s.console_sessions.console_session("h1") is None


def test_forgetting_deletes_the_expired_and_idle_only(store: Store) -> None:
    session(store, "old", seen_minutes=0)
    session(store, "recent", seen_minutes=90)
    with store.write() as s:
        gone = s.console_sessions.forget_console_sessions(
            T0 + timedelta(hours=2), idle_since=T0 + timedelta(minutes=30)
        )
    assert gone == 1
    with store.read() as s:
        assert s.console_sessions.console_session("old") is None
        assert s.console_sessions.console_session("recent") is not None
    with store.write() as s:
        assert s.console_sessions.forget_console_sessions(T0 + timedelta(hours=12), T0) == 1


def test_an_agents_console_sessions_go_with_the_agent(store: Store) -> None:
    with store.write() as s:
        tenant = s.tenants.add_tenant("Acme", "GB", "Europe/London", "key", T0)
        agent = s.agents.add_agent(tenant.id, "1001", "Ann", T0)
        s.console_sessions.add_console_session(
            ConsoleSession(
                "desk",
                ConsoleKind.AGENT,
                tenant.id,
                agent.id,
                "token",
                "csrf",
                T0,
                T0 + timedelta(hours=12),
                T0,
            )
        )
    with store.write() as s:
        assert s.catalog.delete_catalog_entry(tenant.id, "agent", agent.id)
    with store.read() as s:
        assert s.console_sessions.console_session("desk") is None

"""Console sessions: log in with an API key or an agent token, get a session the browser holds
in an HttpOnly cookie; each request with the cookie is checked here (docs/console.md).

A session speaks for the credential it was opened with only while that credential still works:
each check looks the credential's hash up again, so a rotated API key or a revoked agent token
ends its sessions at once. The session token and the CSRF token are 256 random bits each; the
store keeps the session token's SHA-256 only.
"""

import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from dialer.domain.agent import Agent
from dialer.domain.console_session import IDLE_LIMIT, LIFETIME, ConsoleKind, ConsoleSession
from dialer.domain.errors import Unauthorized
from dialer.domain.tenant import Tenant
from dialer.ports import Clock
from dialer.ports.store import AgentSessionRepo, ConsoleSessionRepo, TenantRepo, UnitOfWork
from dialer.services.agent_desk import AgentDeskService, AgentIdentity
from dialer.services.tenants import TenantService, hash_key

MAX_TOKEN_LENGTH = 200
_EXPIRED = "the console session has ended; log in again"


class ConsoleStoreSession(Protocol):
    @property
    def tenants(self) -> TenantRepo: ...
    @property
    def agent_sessions(self) -> AgentSessionRepo: ...
    @property
    def console_sessions(self) -> ConsoleSessionRepo: ...


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: the token for the cookie (shown once), and who it speaks for."""

    token: str
    session: ConsoleSession
    tenant: Tenant
    agent: Agent | None


@dataclass(frozen=True, slots=True)
class Resolved:
    """A live session, and who it speaks for now."""

    session: ConsoleSession
    tenant: Tenant
    agent: AgentIdentity | None

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(
            sent.encode(), self.session.csrf_token.encode()
        )


class ConsoleSessions:
    def __init__(
        self,
        store: UnitOfWork[ConsoleStoreSession],
        clock: Clock,
        tenants: TenantService,
        desk: AgentDeskService,
    ) -> None:
        self._store = store
        self._clock = clock
        self._tenants = tenants
        self._desk = desk

    def open_manager(self, api_key: object) -> Opened:
        if not isinstance(api_key, str):
            raise Unauthorized("a valid API key is required")
        tenant = self._tenants.authenticate(api_key.strip())
        return self._open(ConsoleKind.MANAGER, tenant, None, hash_key(api_key.strip()))

    def open_agent(self, agent_token: object) -> Opened:
        if not isinstance(agent_token, str):
            raise Unauthorized("a valid agent token is required")
        who = self._desk.authenticate(agent_token.strip())
        tenant = self._tenants.get(who.tenant_id)
        return self._open(ConsoleKind.AGENT, tenant, who.agent, who.token_hash)

    def _open(
        self, kind: ConsoleKind, tenant: Tenant, agent: Agent | None, credential_hash: str
    ) -> Opened:
        now = self._clock.now()
        token = secrets.token_urlsafe(32)
        session = ConsoleSession(
            token_hash=hash_key(token),
            kind=kind,
            tenant_id=tenant.id,
            agent_id=None if agent is None else agent.id,
            credential_hash=credential_hash,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + LIFETIME,
            last_seen_at=now,
        )
        with self._store.write() as store:
            # Sessions nobody logged out of go here, a few at a time: no sweeper to run.
            store.console_sessions.forget_console_sessions(now, now - IDLE_LIMIT)
            store.console_sessions.add_console_session(session)
        return Opened(token, session, tenant, agent)

    def resolve(self, token: str | None) -> Resolved:
        """The live session the cookie names, or Unauthorized (unknown, expired, idle, or its
        credential no longer works)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized(_EXPIRED)
        token_hash = hash_key(token)
        now = self._clock.now()
        with self._store.read() as store:
            session = store.console_sessions.console_session(token_hash)
            if session is None or not session.alive(now):
                raise Unauthorized(_EXPIRED)
            if session.kind is ConsoleKind.MANAGER:
                tenant = store.tenants.tenant_by_key_hash(session.credential_hash)
                agent = None
            else:
                found = store.agent_sessions.agent_by_token(session.credential_hash)
                tenant = store.tenants.get_tenant(session.tenant_id) if found else None
                agent = (
                    AgentIdentity(found[0], found[1], session.credential_hash)
                    if found is not None and found[1].id == session.agent_id
                    else None
                )
                if agent is None:
                    tenant = None
        if tenant is None or tenant.id != session.tenant_id:
            raise Unauthorized(_EXPIRED)
        if session.stale(now):
            with self._store.write() as store:
                store.console_sessions.touch_console_session(token_hash, now)
        return Resolved(session, tenant, agent)

    def close(self, token: str | None) -> bool:
        """Log out: the session is deleted, so its cookie opens nothing any more."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return False
        with self._store.write() as store:
            return store.console_sessions.end_console_session(hash_key(token))

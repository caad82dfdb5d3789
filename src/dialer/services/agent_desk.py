"""The agent desk: what an agent asks with their token (log in, ready, pause, hang up, dispose,
log out, their screen), and the tokens a tenant issues them.

Each request reads the agent's session, asks the domain (dialer.domain.agent_session) what it
becomes, and writes it back only if nobody (another API process, the engine holding the phone
leg) changed it meanwhile; on a lost race it reads and decides again. A refusal is a Conflict
with the domain's reason and changes nothing. A committed state change is published as
``AgentStateChanged``.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dialer.domain.agent import Agent
from dialer.domain.agent_session import (
    AgentRefused,
    AgentSession,
    AgentState,
    Changed,
    StateChange,
    dispose,
    hang_up_customer,
    logout,
    pause,
    ready,
)
from dialer.domain.errors import Conflict, NotFound, Unauthorized
from dialer.domain.events import AgentStateChanged
from dialer.domain.ids import TenantId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, EventSink
from dialer.ports.store import (
    AgentDeskSession,
    AgentSessionRepo,
    CampaignRepo,
    TenantRepo,
    UnitOfWork,
)
from dialer.services.agent_desk_input import (
    login_phone,
    parse_disposition,
    parse_reason,
)
from dialer.services.tenants import hash_key

TOKEN_PREFIX = "agt_"  # noqa: S105 (a prefix, not a secret)
MAX_TOKEN_LENGTH = 200
# A desk change that keeps losing the race to the engine (which changes a busy agent's session
# a few times a second at most) is given up after this many reads, as a 409 to try again.
ATTEMPTS = 5
# How many changes one poll of an event stream reads at most.
EVENTS_PAGE = 200


class DeskSession(AgentDeskSession, Protocol):
    """The desk's slice: agents, sessions, the tenant (its region reads a phone number) and
    its campaigns (the screen pop names the call's)."""

    @property
    def tenants(self) -> TenantRepo: ...
    @property
    def campaigns(self) -> CampaignRepo: ...


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """Who a desk request comes from: an agent of a tenant, by a token not revoked."""

    tenant_id: TenantId
    agent: Agent
    token_hash: str


@dataclass(frozen=True, slots=True)
class DeskEvent:
    """A stored change of an agent's state, with the session it belongs to as it is now (the
    customer on it is the change's call only while no later call replaced it)."""

    change: StateChange
    session: AgentSession | None
    campaign_name: str | None = None  # of the session's call


Decide = Callable[[AgentSession, datetime], Changed | AgentSession]


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class AgentDeskService:
    def __init__(
        self, store: UnitOfWork[DeskSession], clock: Clock, events: EventSink | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._events = events

    def now(self) -> datetime:
        return self._clock.now()

    # --- tokens (the tenant's side) -------------------------------------------------------

    def issue_token(self, tenant: Tenant, agent_id: int) -> tuple[int, str]:
        """A new token for the agent: (its id, the token, shown only now)."""
        token = new_token()
        with self._store.write() as session:
            if session.agents.get_agent(tenant.id, agent_id) is None:
                raise NotFound(f"agent {agent_id}")
            token_id = session.agent_sessions.add_agent_token(
                tenant.id, agent_id, hash_key(token), self._clock.now()
            )
        return token_id, token

    def agent_by_member(self, tenant: Tenant, member: str) -> Agent:
        """The tenant's agent named ``member`` (the Dialer API's Member, e.g. SIPSIP1)."""
        with self._store.read() as session:
            found = session.agents.agents_by_member(tenant.id, [member.strip()])
        agent = found.get(member.strip())
        if agent is None:
            raise NotFound(f"agent {member.strip()[:100]!r}")
        return agent

    def revoke_tokens(self, tenant: Tenant, agent_id: int, token_id: int | None = None) -> int:
        """Revoke one of the agent's tokens, or (None) all of them; a token id that is not the
        agent's, or already revoked, is NotFound."""
        with self._store.write() as session:
            if session.agents.get_agent(tenant.id, agent_id) is None:
                raise NotFound(f"agent {agent_id}")
            revoked = session.agent_sessions.revoke_agent_token(
                tenant.id, agent_id, token_id, self._clock.now()
            )
        if token_id is not None and revoked == 0:
            raise NotFound(f"token {token_id} of agent {agent_id}")
        return revoked

    def authenticate(self, token: str | None) -> AgentIdentity:
        # A tenant's API key (dk_...) is refused here without a look-up: it never opens a desk.
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
            raise Unauthorized("a valid agent token is required")
        token_hash = hash_key(token)
        with self._store.read() as session:
            found = session.agent_sessions.agent_by_token(token_hash)
        if found is None:
            raise Unauthorized("a valid agent token is required")
        return AgentIdentity(found[0], found[1], token_hash)

    # --- the agent's side -----------------------------------------------------------------

    def login(self, who: AgentIdentity, body: Any) -> AgentSession:
        """Open a session; the engine then calls the phone and the agent is ready once they
        answer. The phone is the one the tenant assigned, or without one a SIP URI or sim:
        phone of the agent's own (login_phone). Refused while a session is open."""
        now = self._clock.now()
        with self._store.write() as session:
            tenant = session.tenants.get_tenant(who.tenant_id)
            # Locked in the transaction that opens the session: a phone the tenant changes at
            # the same moment is either the one used or refused, never bypassed, and a
            # deletion of the agent either sees this session (409) or comes first (401).
            agent = session.agents.lock_agent(who.tenant_id, who.agent.id)
            if tenant is None or agent is None:
                raise Unauthorized("a valid agent token is required")
            phone = login_phone(body, tenant.region, agent.phone)
            opened = session.agent_sessions.open_session(who.tenant_id, who.agent.id, phone, now)
        if opened is None:
            raise Conflict("the agent is already logged in; log out first")
        self._publish(opened, None)
        return opened

    def ready(self, who: AgentIdentity) -> AgentSession:
        return self._change(who, ready)

    def pause(self, who: AgentIdentity, body: Any) -> AgentSession:
        reason = parse_reason(body)
        return self._change(who, lambda session, now: pause(session, reason, now))

    def hang_up(self, who: AgentIdentity) -> AgentSession:
        return self._change(who, lambda session, _: hang_up_customer(session))

    def dispose(self, who: AgentIdentity, body: Any) -> AgentSession:
        disposition = parse_disposition(body, self._clock.now())
        return self._change(who, lambda session, now: dispose(session, disposition, now))

    def logout(self, who: AgentIdentity) -> AgentSession:
        return self._change(who, logout)

    def current(self, who: AgentIdentity) -> AgentSession | None:
        """The agent's open session, else their last one (offline, with why: a dropped phone
        shows as ``phone-dropped``); None if they never logged in."""
        with self._store.read() as session:
            return _current_or_last(session.agent_sessions, who)

    def campaign_name(self, who: AgentIdentity, found: AgentSession | None) -> str | None:
        """The name of the campaign of the call on ``found`` (the screen pop shows it)."""
        if found is None or found.customer is None:
            return None
        with self._store.read() as session:
            return _campaign_name(session.campaigns, who, found, {})

    # --- the event stream -----------------------------------------------------------------

    def latest_event(self, who: AgentIdentity) -> DeskEvent | None:
        """The change that put the agent in their current state (the stream's first event);
        None if the agent never logged in."""
        with self._store.read() as session:
            repo = session.agent_sessions
            current = _current_or_last(repo, who)
            if current is None:
                return None
            changes = repo.state_changes(
                who.tenant_id, agent_id=who.agent.id, since=current.since, limit=EVENTS_PAGE
            )
            latest = changes[-1] if changes else None
            while latest is not None and len(changes) == EVENTS_PAGE:
                changes = repo.state_changes(
                    who.tenant_id,
                    agent_id=who.agent.id,
                    after_id=latest.id or 0,
                    limit=EVENTS_PAGE,
                )
                latest = changes[-1] if changes else latest
            name = _campaign_name(session.campaigns, who, current, {})
        return None if latest is None else DeskEvent(latest, current, name)

    def events_after(self, who: AgentIdentity, after_id: int) -> list[DeskEvent] | None:
        """The agent's changes after ``after_id``, oldest first; None once the token used to
        open the stream is revoked (the stream then ends)."""
        with self._store.read() as session:
            repo = session.agent_sessions
            if repo.agent_by_token(who.token_hash) is None:
                return None
            changes = repo.state_changes(
                who.tenant_id, agent_id=who.agent.id, after_id=after_id, limit=EVENTS_PAGE
            )
            sessions: dict[int, AgentSession | None] = {}
            names: dict[int, str | None] = {}
            for change in changes:
                if change.session_id not in sessions:
                    sessions[change.session_id] = repo.get_session(change.session_id)
            named = {
                session_id: _campaign_name(session.campaigns, who, held, names)
                for session_id, held in sessions.items()
            }
        return [
            DeskEvent(change, sessions[change.session_id], named[change.session_id])
            for change in changes
        ]

    # --- helpers --------------------------------------------------------------------------

    def _change(self, who: AgentIdentity, decide: Decide) -> AgentSession:
        for _ in range(ATTEMPTS):
            now = self._clock.now()
            with self._store.write() as session:
                repo = session.agent_sessions
                before = repo.open_session_of(who.tenant_id, who.agent.id)
                if before is None:
                    raise Conflict("the agent is not logged in")
                try:
                    outcome = decide(before, now)
                except AgentRefused as exc:
                    raise Conflict(str(exc)) from exc
                after, change = outcome if isinstance(outcome, tuple) else (outcome, None)
                saved = repo.save_session(after, change, before.version)
            if saved:
                if change is not None:
                    self._publish(after, change)
                return after
        raise Conflict("the agent's session kept changing meanwhile; try again")

    def _publish(self, session: AgentSession, change: StateChange | None) -> None:
        if self._events is None:
            return
        self._events.publish(
            AgentStateChanged(
                session.tenant_id,
                session.agent_id,
                session.member,
                session.id,
                session.state.value,
                change.at if change is not None else session.since,
                change.reason if change is not None else session.reason,
                change.campaign_id if change is not None else None,
                change.destination_id if change is not None else None,
            )
        )


def _current_or_last(repo: AgentSessionRepo, who: AgentIdentity) -> AgentSession | None:
    found = repo.open_session_of(who.tenant_id, who.agent.id)
    if found is not None:
        return found
    # tenant_sessions gives each agent's last session when none is open.
    last = [s for s in repo.tenant_sessions(who.tenant_id) if s.agent_id == who.agent.id]
    return max(last, key=lambda s: (s.started_at, s.id), default=None)


def _campaign_name(
    campaigns: CampaignRepo,
    who: AgentIdentity,
    held: AgentSession | None,
    known: dict[int, str | None],
) -> str | None:
    if held is None or held.customer is None:
        return None
    campaign_id = held.customer.campaign_id
    if campaign_id not in known:
        campaign = campaigns.get_campaign(who.tenant_id, campaign_id)
        known[campaign_id] = None if campaign is None else campaign.spec.name
    return known[campaign_id]


def in_call(state: AgentState) -> bool:
    """A state whose change shows the customer (the screen pop)."""
    return state in (AgentState.RESERVED, AgentState.TALKING, AgentState.WRAP_UP)

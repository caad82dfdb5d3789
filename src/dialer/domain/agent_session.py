"""An agent's session: the states it moves through, what an agent may ask in each, and why.

A session starts at log-in and ends ``offline``. Its states (the union of VICIdial's and
FreeSWITCH mod_callcenter's, see docs/agents.md):

    offline -> paused("phone-connecting") -> ready <-> paused(reason)
    ready -> reserved -> talking -> wrap-up -> ready | paused | offline
    reserved -> ready (the customer left before the bridge)
    any -> offline (log-out, or the agent's phone leg dropped)

The functions here are pure: each takes a session and returns the session after the change
and the change to record, or raises ``AgentRefused`` with the reason an agent is told. The store
writes the two together, only if the session's version is still the one read (so the desk and
the engine never overwrite each other's change).
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from dialer.domain.codes import Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId

PHONE_CONNECTING = "phone-connecting"  # the pause reason while the dialer calls the agent's phone
PHONE_DROPPED = "phone-dropped"  # the offline reason when the agent's leg ended by itself
PHONE_FAILED = "phone-failed"  # the offline reason when the agent's phone never answered
LOGGED_OUT = "logged-out"
MAX_REASON = 64


class AgentState(Enum):
    OFFLINE = "offline"
    READY = "ready"
    RESERVED = "reserved"  # a customer is being given to this agent
    TALKING = "talking"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"


_NEXT: dict[AgentState, frozenset[AgentState]] = {
    AgentState.OFFLINE: frozenset({AgentState.PAUSED}),
    AgentState.PAUSED: frozenset({AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE}),
    AgentState.READY: frozenset({AgentState.RESERVED, AgentState.PAUSED, AgentState.OFFLINE}),
    AgentState.RESERVED: frozenset({AgentState.TALKING, AgentState.READY, AgentState.OFFLINE}),
    AgentState.TALKING: frozenset({AgentState.WRAP_UP, AgentState.OFFLINE}),
    AgentState.WRAP_UP: frozenset({AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE}),
}

# The Stages an agent may give a call as its disposition (voice-campaign-api.md's codes).
DISPOSITIONS = frozenset(
    {
        Stage.CORRECT_CALLEE,
        Stage.WRONG_CALLEE,
        Stage.CALL_DECLINED,
        Stage.CALLEE_TRANSFER_REQUEST,
        Stage.CALLEE_TRANSFER_ACCEPTED,
        Stage.OPT_IN,
        Stage.OPT_OUT,
        Stage.WRONG_CALLEE_TRANSFER_REQUESTED,
        Stage.TRANSFERRED_TO_PAYMENT_LINE,
        Stage.CALLER_REQUESTED_CALL_BACK,
        Stage.WRONG_CALLEE_TRANSFER_ACCEPTED,
    }
)
# How far ahead a callback may be asked for.
MAX_CALLBACK_AHEAD = timedelta(days=366)


class AgentRefused(Exception):
    """What an agent asked cannot be done in the session's state; ``str()`` says why."""


class Pending(Enum):
    """What an agent asked during a call, done when the call is over (Kazoo's
    ``pending_logged_out``): the call is never cut by a pause or a log-out."""

    PAUSE = "pause"
    LOGOUT = "logout"


@dataclass(frozen=True, slots=True)
class Customer:
    """The call an agent is given: what their screen shows (the screen pop)."""

    campaign_id: CampaignId
    destination_id: DestinationId
    attempt_number: int
    number: str
    name: str | None
    parameters: tuple[tuple[int, str], ...]
    custom_data: str | None  # the JSON object the client sent, as sent
    keys: str  # the keypresses of the IVR path so far
    answered_at: datetime
    bridged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Disposition:
    """How the agent says the call went; a callback asks for the number again at a time."""

    stage: Stage
    callback_at: datetime | None = None
    same_agent: bool = False


@dataclass(frozen=True, slots=True)
class AgentSession:
    id: int
    tenant_id: TenantId
    agent_id: int
    member: str
    phone: str  # how to reach the agent's phone: a SIP URI, a number through the trunk, sim:...
    state: AgentState
    since: datetime  # when the current state began
    started_at: datetime  # log-in
    reason: str | None = None  # the pause reason, or why the session went offline
    pending: Pending | None = None
    pending_reason: str | None = None
    customer: Customer | None = None
    disposition: Disposition | None = None
    wrap_up_until: datetime | None = None  # None in wrap-up: until the agent says ready
    # The agent asked (from the desk) to hang the customer up; the engine does it.
    release_requested: bool = False
    # Longest-ready first: the moment the agent last became ready.
    ready_since: datetime | None = None
    worker: str | None = None  # the engine that holds the agent's phone leg
    lease_until: datetime | None = None
    version: int = 0

    @property
    def open(self) -> bool:
        return self.state is not AgentState.OFFLINE

    @property
    def current_customer(self) -> Customer | None:
        """The customer on the agent's screen now. ``customer`` and ``disposition`` describe
        the last call until the next reservation, so the engine can read how the call was
        disposed after the agent has left wrap-up."""
        in_call = self.state in (AgentState.RESERVED, AgentState.TALKING, AgentState.WRAP_UP)
        return self.customer if in_call else None


@dataclass(frozen=True, slots=True)
class StateChange:
    """One stored, timestamped change of a session's state (reported per agent per day)."""

    session_id: int
    tenant_id: TenantId
    agent_id: int
    state: AgentState
    at: datetime
    reason: str | None = None
    campaign_id: CampaignId | None = None
    destination_id: DestinationId | None = None
    attempt_number: int | None = None
    id: int | None = None  # given by the store; event streams resume after it


Changed = tuple[AgentSession, StateChange]


def move(
    session: AgentSession,
    state: AgentState,
    now: datetime,
    reason: str | None = None,
    **fields: object,
) -> Changed:
    """``session`` in ``state`` from ``now``, with its change record; refuses a move the state
    machine does not have."""
    if state not in _NEXT[session.state]:
        raise AgentRefused(f"an agent cannot go from {session.state.value} to {state.value}")
    if state is AgentState.OFFLINE:
        # A session that ends has nothing left to do later (a pause asked while the phone was
        # connecting stayed pending on the logged-out session).
        fields = {**fields, "pending": None, "pending_reason": None}
    ready_since = now if state is AgentState.READY else None
    after = replace(
        session,
        state=state,
        since=now,
        reason=reason,
        ready_since=ready_since,
        version=session.version + 1,
        **fields,  # type: ignore[arg-type]
    )
    call = after.customer
    change = StateChange(
        session.id,
        session.tenant_id,
        session.agent_id,
        state,
        now,
        reason,
        call.campaign_id if call else None,
        call.destination_id if call else None,
        call.attempt_number if call else None,
    )
    return after, change


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or not reason.isprintable():
        raise AgentRefused(f"a pause reason is 1 to {MAX_REASON} printable characters")
    return reason


# --- what the agent asks (the desk) -------------------------------------------------------


def ready(session: AgentSession, now: datetime) -> Changed:
    """Ready for calls: from a pause, or ending wrap-up early."""
    if session.state is AgentState.PAUSED and session.reason == PHONE_CONNECTING:
        raise AgentRefused("the agent's phone is not answered yet")
    if session.state is AgentState.WRAP_UP:
        return _after_call(session, now, AgentState.READY, None)
    return move(session, AgentState.READY, now, pending=None, pending_reason=None)


def pause(session: AgentSession, reason: str, now: datetime) -> Changed | AgentSession:
    """Pause now, or (during a call) once the call and its wrap-up are over: then only the
    session with its pending pause is returned, and no state changes."""
    reason = check_reason(reason)
    waiting_for_phone = session.state is AgentState.PAUSED and session.reason == PHONE_CONNECTING
    if session.state in (AgentState.RESERVED, AgentState.TALKING) or waiting_for_phone:
        return replace(
            session, pending=Pending.PAUSE, pending_reason=reason, version=session.version + 1
        )
    if session.state is AgentState.WRAP_UP:
        return _after_call(session, now, AgentState.PAUSED, reason)
    return move(session, AgentState.PAUSED, now, reason)


def logout(session: AgentSession, now: datetime) -> Changed | AgentSession:
    """Log out now, or once the call in hand is over (the session then has a pending log-out)."""
    if session.state in (AgentState.RESERVED, AgentState.TALKING):
        return replace(
            session, pending=Pending.LOGOUT, pending_reason=None, version=session.version + 1
        )
    if session.state is AgentState.OFFLINE:
        raise AgentRefused("the agent is not logged in")
    if session.state is AgentState.WRAP_UP:
        return _after_call(session, now, AgentState.OFFLINE, LOGGED_OUT)
    return move(session, AgentState.OFFLINE, now, LOGGED_OUT)


def hang_up_customer(session: AgentSession) -> AgentSession:
    """The agent ends the conversation from the desk: the engine releases the bridge."""
    if session.state is not AgentState.TALKING:
        raise AgentRefused("there is no customer on the line")
    return replace(session, release_requested=True, version=session.version + 1)


def dispose(session: AgentSession, disposition: Disposition, now: datetime) -> AgentSession:
    """Set the call's disposition, while talking or in wrap-up (it may be changed until the
    wrap-up ends); the session with it, no state change."""
    if session.state not in (AgentState.TALKING, AgentState.WRAP_UP) or session.customer is None:
        raise AgentRefused("there is no call to give a disposition to")
    if disposition.stage not in DISPOSITIONS:
        names = ", ".join(sorted(s.api_name for s in DISPOSITIONS))
        raise AgentRefused(f"a disposition is one of {names}")
    callback = disposition.callback_at
    if disposition.stage is Stage.CALLER_REQUESTED_CALL_BACK:
        if callback is None:
            raise AgentRefused("CallerRequestedCallBack needs a callback time")
        if callback.tzinfo is None:
            raise AgentRefused("a callback time needs its UTC offset")
        if not now < callback <= now + MAX_CALLBACK_AHEAD:
            raise AgentRefused("a callback time is in the future, within a year")
    elif callback is not None or disposition.same_agent:
        raise AgentRefused("only CallerRequestedCallBack takes a callback time")
    return replace(session, disposition=disposition, version=session.version + 1)


# --- what the engine does ----------------------------------------------------------------


def phone_answered(session: AgentSession, now: datetime) -> Changed:
    """The agent picked up the leg the dialer called at log-in: ready for calls."""
    if session.state is not AgentState.PAUSED or session.reason != PHONE_CONNECTING:
        raise AgentRefused("the session is not waiting for its phone")
    if session.pending is Pending.LOGOUT:
        return move(session, AgentState.OFFLINE, now, LOGGED_OUT, pending=None)
    if session.pending is Pending.PAUSE:
        return move(
            session,
            AgentState.PAUSED,
            now,
            session.pending_reason,
            pending=None,
            pending_reason=None,
        )
    return move(session, AgentState.READY, now)


def phone_gone(session: AgentSession, now: datetime, answered: bool = True) -> Changed:
    """The agent's leg ended without a log-out (or never answered): the session is over."""
    reason = PHONE_DROPPED if answered else PHONE_FAILED
    return move(session, AgentState.OFFLINE, now, reason, pending=None, release_requested=False)


def reserve(session: AgentSession, customer: Customer, now: datetime) -> Changed:
    return move(
        session,
        AgentState.RESERVED,
        now,
        customer=customer,
        disposition=None,
        release_requested=False,
    )


def adopted(session: AgentSession, worker: str, now: datetime, lease_until: datetime) -> Changed:
    """An engine takes over a session (a new log-in, or its engine died with the phone leg):
    it calls the agent's phone again. Outside the state machine on purpose: whatever the dead
    engine left (a call in hand) is gone with it, and its lease recovery records that call."""
    after = replace(
        session,
        state=AgentState.PAUSED,
        since=now,
        reason=PHONE_CONNECTING,
        customer=None,
        disposition=None,
        release_requested=False,
        wrap_up_until=None,
        ready_since=None,
        worker=worker,
        lease_until=lease_until,
        version=session.version + 1,
    )
    change = StateChange(
        session.id, session.tenant_id, session.agent_id, AgentState.PAUSED, now, PHONE_CONNECTING
    )
    return after, change


def let_go(session: AgentSession, now: datetime) -> Changed:
    """The engine holding the agent's phone leg stops (a graceful shutdown): it has hung the leg
    up and leaves the session to whichever engine adopts it next, which calls the phone again.
    Until then the agent is told the phone is connecting. Like ``adopted``, outside the state
    machine: the call in hand, if any, was recorded by the stopping engine."""
    after, change = adopted(session, "", now, now)
    return replace(after, worker=None, lease_until=None), change


def unreserve(session: AgentSession, now: datetime) -> Changed:
    """The customer left before the bridge: back to ready (or what the agent asked for)."""
    return _after_call(session, now, AgentState.READY, None)


def bridged(session: AgentSession, now: datetime) -> Changed:
    assert session.customer is not None
    return move(
        session,
        AgentState.TALKING,
        now,
        customer=replace(session.customer, bridged_at=now),
        pending=session.pending,
        pending_reason=session.pending_reason,
    )


def call_over(session: AgentSession, now: datetime, wrap_up: timedelta | None) -> Changed:
    """The customer left (or the agent hung them up): wrap-up, for ``wrap_up`` or (None) until
    the agent says ready."""
    until = None if wrap_up is None else now + wrap_up
    return move(
        session,
        AgentState.WRAP_UP,
        now,
        customer=session.customer,
        disposition=session.disposition,
        wrap_up_until=until,
        pending=session.pending,
        pending_reason=session.pending_reason,
    )


def wrap_up_over(session: AgentSession, now: datetime) -> Changed | None:
    """The wrap-up time ran out: ready (or what the agent asked for); None if not yet."""
    if session.state is not AgentState.WRAP_UP:
        return None
    if session.wrap_up_until is None or now < session.wrap_up_until:
        return None
    return _after_call(session, now, AgentState.READY, None)


def _after_call(
    session: AgentSession, now: datetime, asked: AgentState, reason: str | None
) -> Changed:
    """Leave a call (wrap-up, or a reservation that never bridged) for what the agent asked;
    a pending pause or log-out asked during the call wins over a plain ready."""
    if session.pending is Pending.LOGOUT:
        asked, reason = AgentState.OFFLINE, LOGGED_OUT
    elif session.pending is Pending.PAUSE and asked is AgentState.READY:
        asked, reason = AgentState.PAUSED, session.pending_reason
    # customer and disposition stay: the engine reads the call's disposition after the agent
    # has left wrap-up (reserve() replaces them with the next call's).
    return move(
        session,
        asked,
        now,
        reason,
        customer=session.customer,
        disposition=session.disposition,
        wrap_up_until=None,
        pending=None,
        pending_reason=None,
    )

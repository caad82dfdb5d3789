"""The agents' sessions this engine holds the phone legs of (docs/agents-engine.md).

The floor adopts open sessions no engine holds, calls each agent's phone, and keeps the
session in step with its leg: ready when the agent answers, offline when the leg fails or
drops, the leg hung up when the agent logged out from the desk, a bridge released when the agent
hung the customer up from the desk (through that call's own release event, ``release_for``). It
notices the desk's changes by reading its sessions every ``POLL`` of real time while it holds
any (at once for changes it makes itself). Every change is a compare-and-set write of the
session with its StateChange, then an AgentStateChanged event; on a lost race it reads the
session again and decides again.

Calls (engine/agent_calls.py) reserve agents and follow their sessions through the floor.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.domain import agent_session as agents
from dialer.domain.agent_session import AgentSession, AgentState, Changed, Customer
from dialer.domain.ids import CampaignId
from dialer.engine.agent_queue import CustomerQueues
from dialer.engine.agent_writes import Decide, SessionWrites, state_changed
from dialer.engine.state import EngineState
from dialer.ports import AgentLeg, AgentPhones, EventSink, Timer
from dialer.ports.store import EngineSession, UnitOfWork

log = logging.getLogger(__name__)

POLL = 0.2  # real seconds between reads of the held sessions (the desk's changes)
_RACES = 5  # reads and decisions again after a lost compare-and-set


@dataclass(eq=False)
class Held:
    session: AgentSession
    leg: AgentLeg | None = None
    task: asyncio.Task[None] | None = None  # calling the phone, then watching the leg
    # Replaced on every change of the session: a call following it waits for the next one.
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # The call in hand's release, (destination, attempt) and its event: made before the
    # session turns TALKING for it and set when the desk asks to hang that customer up, so a
    # request that comes before the bridge begins is kept, and one for an earlier customer
    # (whose event this is not) ends nothing.
    release: tuple[tuple[int, int], asyncio.Event] | None = None
    # The session as first seen after each call's wrap-up, by (destination, attempt): what the
    # call's task reads, even if the agent has been given the next customer since.
    after_call: dict[tuple[int, int], AgentSession] = field(default_factory=dict)


class AgentFloor:
    def __init__(
        self,
        store: UnitOfWork[EngineSession],
        phones: AgentPhones | None,
        timer: Timer,
        state: EngineState,
        events: EventSink,
        caller_id: str,
        idle_poll: float,
        virtual: bool = False,
    ) -> None:
        self._writes = SessionWrites(store, state.worker)
        self._phones = phones
        self._timer = timer
        self._state = state
        self._events = events
        self._caller_id = caller_id
        # Seconds between looks for new log-ins (or sessions whose engine died) while holding
        # none. On a virtual clock the engine has the floor look whenever it would idle
        # (``due``), and these are the clock's seconds.
        self._idle_poll = idle_poll
        self._virtual = virtual
        self._adopted_at: datetime | None = None
        self.queues = CustomerQueues()
        self._held: dict[int, Held] = {}
        self._kick = asyncio.Event()
        self._hanging_up: set[asyncio.Task[None]] = set()
        self._polling = asyncio.Lock()
        self.closing = asyncio.Event()  # calls waiting for a wrap-up stop waiting

    @property
    def enabled(self) -> bool:
        """This engine's network can call agents' phones."""
        return self._phones is not None

    @property
    def holding(self) -> int:
        return len(self._held)

    def kick(self) -> None:
        """Look now (new work was committed: perhaps a log-in)."""
        self._kick.set()

    @property
    def due(self) -> bool:
        """On a virtual clock: whether the engine, about to idle, should have the floor look
        (it holds sessions, was kicked, or it is time to look for sessions to adopt)."""
        return self.enabled and (bool(self._held) or self._adoption_due(self._timer.now()))

    def _adoption_due(self, now: datetime) -> bool:
        """Adopting is a write: done when kicked (new work was committed) and every
        ``idle_poll`` seconds, not at every look at the held sessions."""
        last = self._adopted_at
        return (
            self._kick.is_set() or last is None or now >= last + timedelta(seconds=self._idle_poll)
        )

    # the loop

    async def run(self, stop: asyncio.Event) -> None:
        if self._phones is None:
            return
        while not stop.is_set():
            try:
                await self.poll()
            except Exception:
                log.exception("agent sessions could not be read; trying again")
            timeout = None
            if not self._virtual:
                timeout = POLL if self._held else self._idle_poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout)

    async def poll(self) -> None:
        """Adopt new sessions, then bring the held ones in step with what the store says."""
        if self._phones is None:
            return
        async with self._polling:  # the loop and an idling engine may both ask
            now = self._timer.now()
            adopt = self._adoption_due(now)
            self._kick.clear()
            if adopt:
                self._adopted_at = now
                lease_until = now + self._state.lease
                mine, changed, taken = await asyncio.to_thread(
                    self._writes.adopt_and_read, now, lease_until
                )
                for session in changed:
                    self._publish(session)
                if taken:
                    log.info("adopted %d agent sessions", taken)
            else:
                mine = await asyncio.to_thread(self._writes.read)
            self._follow(mine)

    def _follow(self, mine: list[AgentSession]) -> None:
        stored = {s.id: s for s in mine}
        for session_id in [i for i in self._held if i not in stored]:
            # Offline (logged out from the desk) or no longer ours (our lease ran out).
            self._drop(session_id)
        for session in mine:
            held = self._held.get(session.id)
            if held is None:
                self._hold(session)
            elif session.version > held.session.version:  # not a read older than our write
                self._noticed(held, session)

    def _hold(self, session: AgentSession) -> None:
        held = Held(session)
        self._held[session.id] = held
        self._state.agents_held = len(self._held)
        held.task = asyncio.create_task(self._connect(held))

    def _noticed(self, held: Held, session: AgentSession) -> None:
        """A change made elsewhere (the desk) reached us."""
        was_ready = held.session.state is AgentState.READY
        self._set(held, session)
        if session.state is AgentState.READY and not was_ready:
            self._agent_ready()

    def _set(self, held: Held, session: AgentSession) -> None:
        before = held.session
        call = before.customer
        if before.state is AgentState.WRAP_UP and session.state is not AgentState.WRAP_UP and call:
            held.after_call[(call.destination_id, call.attempt_number)] = session
        held.session = session
        release, customer = held.release, session.customer
        if (
            release is not None
            and customer is not None
            and session.release_requested
            and session.state is AgentState.TALKING
            and release[0] == (customer.destination_id, customer.attempt_number)
        ):
            release[1].set()
        changed, held.changed = held.changed, asyncio.Event()
        changed.set()

    def _agent_ready(self) -> None:
        self.queues.agent_ready()
        self._state.wake.set()  # the dispatcher may dial for this agent now

    def _drop(self, session_id: int) -> None:
        held = self._held.pop(session_id, None)
        self._state.agents_held = len(self._held)
        if held is None:
            return
        if held.task is not None and held.task is not asyncio.current_task():
            held.task.cancel()
        if held.leg is not None:
            hanging_up = asyncio.create_task(_hang_up(held.leg))
            self._hanging_up.add(hanging_up)
            hanging_up.add_done_callback(self._hanging_up.discard)
        held.changed.set()

    # the agent's phone

    async def _connect(self, held: Held) -> None:
        assert self._phones is not None
        session_id = held.session.id
        try:
            try:
                leg = await self._phones.call_agent(held.session.phone, self._caller_id)
            except Exception as exc:  # noqa: BLE001 - CallNotPlaced or a driver fault: the same
                log.warning("agent %s: phone not called: %s", held.session.member, exc)
                await self._gone(session_id, answered=False)
                return
            held.leg = leg
            try:
                answered = await leg.answered()
            except Exception:
                log.exception("agent %s: phone failed", held.session.member)
                answered = False
            if not answered:
                await self._gone(session_id, answered=False)
                return
            after = await self.change(session_id, lambda s, now: agents.phone_answered(s, now))
            if after is None or after.state is AgentState.OFFLINE:
                self._drop(session_id)
                return
            await leg.ended()
            await self._gone(session_id, answered=True)
        except asyncio.CancelledError:
            if held.leg is not None:
                await asyncio.shield(_hang_up(held.leg))
            raise

    async def _gone(self, session_id: int, answered: bool) -> None:
        def gone(session: AgentSession, now: datetime) -> Changed | None:
            return None if not session.open else agents.phone_gone(session, now, answered)

        await self.change(session_id, gone)
        self._drop(session_id)

    # what calls use

    def session(self, session_id: int) -> AgentSession | None:
        held = self._held.get(session_id)
        return None if held is None else held.session

    def after_call(self, session_id: int, customer: Customer) -> AgentSession | None:
        """The session as it left ``customer``'s wrap-up, once it has (taken: read once)."""
        held = self._held.get(session_id)
        if held is None:
            return None
        return held.after_call.pop((customer.destination_id, customer.attempt_number), None)

    def release_for(self, session_id: int, customer: Customer) -> asyncio.Event:
        """``customer``'s release on this agent's leg, to hand to its bridge: set when the desk
        asks to hang the customer up, from now on (call it before the session turns TALKING
        for them). Replaces the previous customer's."""
        released = asyncio.Event()
        held = self._held.get(session_id)
        if held is not None:
            held.release = ((customer.destination_id, customer.attempt_number), released)
        return released

    def leg(self, session_id: int) -> AgentLeg | None:
        held = self._held.get(session_id)
        if held is None or held.leg is None or not held.leg.up:
            return None
        return held.leg

    def changed(self, session_id: int) -> asyncio.Event:
        """Set at the session's next change (at once if the floor no longer holds it)."""
        held = self._held.get(session_id)
        if held is None:
            gone = asyncio.Event()
            gone.set()
            return gone
        return held.changed

    async def stored(self, session_id: int) -> AgentSession | None:
        return await asyncio.to_thread(self._writes.get, session_id)

    async def reserve(
        self, campaign_id: CampaignId, customer: Customer, prefer_agent_id: int | None
    ) -> AgentSession | None:
        """The longest-ready agent of the campaign on this engine (``prefer_agent_id`` first
        when ready), reserved for ``customer``; None if none is ready."""
        if not self._held:
            return None
        now = self._timer.now()
        reserve = self._writes.reserve
        session = await asyncio.to_thread(reserve, campaign_id, customer, now, prefer_agent_id)
        if session is None:
            return None
        held = self._held.get(session.id)
        if held is not None:
            self._set(held, session)
        self._publish(session)
        return session

    async def change(self, session_id: int, decide: Decide) -> AgentSession | None:
        """Read the session, decide, compare-and-set; again on a lost race. The session after
        (as stored, when the decision changed nothing); None if it is gone or not ours, or the
        decision was refused."""
        for _ in range(_RACES):
            now = self._timer.now()
            outcome = await asyncio.to_thread(self._writes.decide_and_save, session_id, decide, now)
            if outcome is None:
                continue
            session, change = outcome
            held = self._held.get(session_id)
            if held is not None and session is not None:
                was_ready = held.session.state is AgentState.READY
                self._set(held, session)
                if session.state is AgentState.READY and not was_ready:
                    self._agent_ready()
            if session is not None and change is not None:
                self._publish(session)
            if session is not None and not session.open:
                self._drop(session_id)  # logged out or dropped: the leg goes too
            return session
        log.warning("agent session %d: gave up after %d lost races", session_id, _RACES)
        return None

    def _publish(self, session: AgentSession) -> None:
        self._events.publish(state_changed(session))

    # shutdown

    async def close(self) -> None:
        """Hang up every leg this engine holds and let its sessions go: another engine adopts
        them at once and calls the agents' phones again (docs/agents-engine.md)."""
        self.closing.set()
        held, self._held = list(self._held.values()), {}
        self._state.agents_held = 0
        for each in held:
            if each.task is not None:
                each.task.cancel()
        for each in held:
            if each.task is not None:
                with contextlib.suppress(BaseException):
                    await each.task
            if each.leg is not None:
                await _hang_up(each.leg)
        if held:
            ids = [h.session.id for h in held]
            for session in await asyncio.to_thread(self._writes.let_go, ids, self._timer.now()):
                self._publish(session)


async def _hang_up(leg: AgentLeg) -> None:
    try:
        await leg.hangup()
    except Exception:
        log.exception("an agent's phone leg could not be hung up")

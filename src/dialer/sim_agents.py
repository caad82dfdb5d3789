"""Simulated agents for ``dialer simulate --agents N`` (docs/simulated-network.md, Agents).

N agents are members of the simulated agent campaign, each logged in through the desk with a
``sim:`` phone (the engine calls it, as it calls a real agent's). Each then behaves as the
profile's ``agents`` section says, reacting to its own session's changes (the
``AgentStateChanged`` events): in wrap-up it gives a disposition at once (mostly CorrectCallee,
a few callbacks, opt-outs and wrong callees) and says ready after a drawn wrap-up time; it takes
breaks at ``pauses_per_hour`` (a pause asked during a call waits for the call's end, as the
state machine says) for ``pause_seconds``. At the shift's end everyone logs out, once the
calls dialled before it could have been answered (``STAY_AFTER_SHIFT``). Every draw comes
from the agent's own ``random.Random(f"{seed}:sim-agent:{member}")`` and every wait from the
engine's Timer, so on the discrete-event clock a seed gives the same shift.

Everything an agent does goes through ``DeskActions``, the agent desk service as the REST desk
uses it (read, domain decision, compare-and-set), so the engine sees exactly what a person's
clicks would make.
"""

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dialer.domain.agent_session import AgentSession, AgentState
from dialer.domain.errors import Conflict
from dialer.domain.events import AgentStateChanged, Event, Handler
from dialer.domain.tenant import Tenant
from dialer.ports import Timer
from dialer.services.agent_desk import AgentDeskService, AgentIdentity
from dialer.services.catalog import CatalogService
from dialer.telephony.sim_profile import AGENT_DISPOSITIONS, AgentProfile, pick

log = logging.getLogger(__name__)

BREAK = "break"  # the pause reason of a simulated agent's break
STAY_AFTER_SHIFT = timedelta(seconds=90)  # longer than any call's ringing (engine ring timeout)


class DeskActions:
    """What a simulated agent can do at the desk: the desk service, as the REST desk calls it.
    A refusal (the session moved on meanwhile: a 409 for a person) changes nothing and gives
    False. ``on_change`` tells the engines to look at once (the REST desk has them poll)."""

    def __init__(self, desk: AgentDeskService, on_change: Callable[[], None]) -> None:
        self._desk = desk
        self._on_change = on_change

    def identity(self, tenant: Tenant, agent_id: int) -> AgentIdentity:
        _, token = self._desk.issue_token(tenant, agent_id)
        return self._desk.authenticate(token)

    def session(self, who: AgentIdentity) -> AgentSession | None:
        return self._desk.current(who)

    def log_in(self, who: AgentIdentity, phone: str) -> bool:
        return self._do(lambda: self._desk.login(who, {"phone": phone}))

    def ready(self, who: AgentIdentity) -> bool:
        return self._do(lambda: self._desk.ready(who))

    def pause(self, who: AgentIdentity, reason: str) -> bool:
        return self._do(lambda: self._desk.pause(who, {"reason": reason}))

    def dispose(self, who: AgentIdentity, body: dict[str, Any]) -> bool:
        # No state changes: the engine reads the disposition when the wrap-up ends.
        return self._do(lambda: self._desk.dispose(who, body), tell=False)

    def log_out(self, who: AgentIdentity) -> bool:
        return self._do(lambda: self._desk.logout(who))

    def _do(self, act: Callable[[], object], tell: bool = True) -> bool:
        try:
            act()
        except Conflict:
            return False
        if tell:
            self._on_change()
        return True


@dataclass(eq=False)
class SimAgent:
    member: str
    agent_id: int
    phone: str
    who: AgentIdentity
    rng: random.Random
    back: asyncio.Event = field(default_factory=asyncio.Event)  # a break ended


class SimulatedAgents:
    """The team: created and logged in by ``start``, acting until ``stop``."""

    def __init__(
        self,
        desk: DeskActions,
        catalog: CatalogService,
        profile: AgentProfile,
        timer: Timer,
        seed: int,
    ) -> None:
        self._desk = desk
        self._catalog = catalog
        self._profile = profile
        self._timer = timer
        self._seed = seed
        self.agents: list[SimAgent] = []
        self._by_id: dict[int, SimAgent] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[type, Handler] = {AgentStateChanged: self._changed}
        self._home: asyncio.Task[None] | None = None

    # set-up (before the run)

    def create(self, tenant: Tenant, count: int) -> list[str]:
        """``count`` agents of ``tenant`` (members sim-agent-1 ...); their Member names."""
        for n in range(1, count + 1):
            member = f"sim-agent-{n}"
            agent = self._catalog.add_agent(tenant, member, f"Simulated agent {n}")
            rng = random.Random(f"{self._seed}:sim-agent:{member}")
            who = self._desk.identity(tenant, agent.id)
            sim = SimAgent(member, agent.id, f"sim:{member}", who, rng)
            self.agents.append(sim)
            self._by_id[agent.id] = sim
        return [a.member for a in self.agents]

    # the run

    def start(self, shift_end: datetime | None = None) -> None:
        """Log everyone in and start their breaks' clocks (inside the running loop); at
        ``shift_end`` everyone logs out (once the call in hand, if any, is over)."""
        for agent in self.agents:
            self._desk.log_in(agent.who, agent.phone)
            if self._profile.pauses_per_hour > 0:
                self._spawn(self._breaks(agent))
        if shift_end is not None:
            self._home = self._spawn(self._go_home(shift_end))

    async def gone_home(self) -> None:
        """Once everyone has logged out at the shift's end (at once if there is none)."""
        if self._home is not None:
            await asyncio.gather(self._home, return_exceptions=True)

    async def _go_home(self, shift_end: datetime) -> None:
        # The campaign's window closes at the shift's end; calls placed just before it may
        # still be answered (ringing up to the ring timeout): agents stay for them, as a call
        # centre's would, rather than leave those people to the information message.
        await self._timer.sleep_until(shift_end + STAY_AFTER_SHIFT)
        for agent in self.agents:
            self._desk.log_out(agent.who)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # events: each agent reacts to its own session's changes

    def publish(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def handler_for(self, kind: type) -> Handler | None:
        return self._handlers.get(kind)

    def _changed(self, event: AgentStateChanged) -> None:
        agent = self._by_id.get(event.agent_id)
        if agent is None:
            return
        if event.state == AgentState.WRAP_UP.value:
            self._spawn(self._wrap_up(agent, event.at))
        elif event.state == AgentState.PAUSED.value and event.reason == BREAK:
            self._spawn(self._break(agent, event.at))

    async def _wrap_up(self, agent: SimAgent, began: datetime) -> None:
        """Dispose of the call at once, then say ready after the drawn wrap-up time (unless
        the campaign's wrap-up ended it first, or the agent went on)."""
        profile, rng = self._profile, agent.rng
        stage = pick(profile.dispositions, AGENT_DISPOSITIONS, rng.random())
        body: dict[str, Any] = {"stage": stage}
        if stage == "CallerRequestedCallBack":
            ahead = timedelta(seconds=profile.callback_seconds.at(rng.random()))
            body["callbackAt"] = (began + ahead).isoformat()
        wrap_up = profile.wrap_up_seconds.at(rng.random())
        if self._in_wrap_up(agent, began):
            self._desk.dispose(agent.who, body)
        await self._timer.sleep_until(began + timedelta(seconds=wrap_up))
        if self._in_wrap_up(agent, began):
            self._desk.ready(agent.who)

    def _in_wrap_up(self, agent: SimAgent, began: datetime) -> bool:
        # The same wrap-up, not a later one: the agent never acts on a call it did not see.
        session = self._desk.session(agent.who)
        return (
            session is not None and session.state is AgentState.WRAP_UP and session.since == began
        )

    async def _breaks(self, agent: SimAgent) -> None:
        """Breaks as a Poisson process over the agent's working time (breaks excluded)."""
        hourly = self._profile.pauses_per_hour
        while True:
            gap = agent.rng.expovariate(hourly) * 3600
            await self._timer.sleep_until(self._timer.now() + timedelta(seconds=gap))
            session = self._desk.session(agent.who)
            if session is None:
                return  # logged out, or the phone failed: no more shift
            if session.state is AgentState.PAUSED:
                continue  # still connecting the phone, or paused already: no break now
            agent.back.clear()
            if self._desk.pause(agent.who, BREAK):
                await agent.back.wait()  # the pause may wait for a call to end first

    async def _break(self, agent: SimAgent, began: datetime) -> None:
        await self._timer.sleep_until(
            began + timedelta(seconds=self._profile.pause_seconds.at(agent.rng.random()))
        )
        session = self._desk.session(agent.who)
        if session is not None and session.state is AgentState.PAUSED and session.since == began:
            self._desk.ready(agent.who)
        agent.back.set()

    def _spawn(self, work: Any) -> "asyncio.Task[None]":
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a simulated agent failed", exc_info=task.exception())

"""An agent's phone on the simulated network: ``sim:`` phones, called at log-in and kept up.

``sim:<name>`` answers after the profile's ``agents.answer_seconds``; ``sim:fail`` never answers
(``answered()`` is False after ``agents.ring_timeout_seconds``); ``sim:drop-after=SECONDS`` hangs
up by itself that long after answering. Options may be combined after a ``;``
(``sim:agent-3;drop-after=600``). A bridged customer talks for a time drawn from the profile's
``agents`` section and then hangs up (CUSTOMER_LEFT). Every wait goes through the Timer, so on
a virtual clock no real time passes (docs/simulated-network.md, Agents).
"""

import asyncio
import contextlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from dialer.domain.call import BridgeEnd, CallNotPlaced
from dialer.ports import Call, Timer
from dialer.telephony.sim_profile import AgentProfile

SIM_SCHEME = "sim:"


@dataclass(frozen=True, slots=True)
class PhoneOptions:
    """What a ``sim:`` phone URI asks of the simulated agent's phone."""

    fails: bool = False  # never answers
    drop_after: float | None = None  # seconds after the answer when the agent hangs up


def phone_options(phone: str) -> PhoneOptions:
    """The options in a ``sim:`` URI; CallNotPlaced for any other phone or a bad option."""
    if not phone.startswith(SIM_SCHEME):
        raise CallNotPlaced(f"the simulated network reaches only sim: phones, not {phone!r}")
    fails, drop_after = False, None
    for part in phone[len(SIM_SCHEME) :].split(";"):
        name, _, value = part.partition("=")
        if name == "fail" and not value:
            fails = True
        elif name == "drop-after":
            try:
                drop_after = float(value)
            except ValueError:
                drop_after = -1.0
            if not (math.isfinite(drop_after) and drop_after >= 0):
                raise CallNotPlaced(f"drop-after takes seconds (0 or more), not {value!r}")
    return PhoneOptions(fails, drop_after)


@runtime_checkable
class Talker(Protocol):
    """A simulated customer (sim_network.SimCall): talks to an agent as part of its story."""

    def agent_draws(self) -> tuple[float, float]:
        """The uniforms for the next conversation's talk time (kind, quantile)."""
        ...

    async def converse(self, seconds: float) -> bool:
        """Talk for ``seconds`` (on the call's own clock), then hang up."""
        ...


class SimAgentLeg:
    """One agent's phone leg on the simulated network (implements dialer.ports.AgentLeg)."""

    def __init__(
        self,
        phone: str,
        options: PhoneOptions,
        profile: AgentProfile,
        timer: Timer,
        rng: random.Random,
        scale: float = 1.0,
    ) -> None:
        self.phone = phone
        self.bridges = 0  # customers bridged so far
        self._options = options
        self._profile = profile
        self._timer = timer
        self._rng = rng
        self._scale = scale  # 0 under the profile's zero_durations
        self._settled = asyncio.Event()  # answered, or known never to be
        self._answered = False
        self._gone = asyncio.Event()
        self._bridged = False
        self._life = asyncio.create_task(self._ring(rng.random()))

    @property
    def up(self) -> bool:
        return self._answered and not self._gone.is_set()

    async def answered(self) -> bool:
        await self._settled.wait()
        return self._answered

    async def ended(self) -> None:
        await self._gone.wait()

    async def hangup(self) -> None:
        if not self._life.done():
            self._life.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._life
        self._settled.set()
        self._gone.set()

    async def bridge(self, customer: Call, released: asyncio.Event) -> BridgeEnd:
        """The customer talks for a drawn time and leaves, unless ``released`` is set (at once
        if it already is) or the leg ends."""
        if not self.up:
            return BridgeEnd.AGENT_LEFT
        if self._bridged:
            # Never silently: a second customer on one agent is an engine bug.
            raise RuntimeError(f"{self.phone} is already bridged to a customer")
        if released.is_set():
            return BridgeEnd.RELEASED  # hung up from the desk before the bridge began
        self._bridged = True
        self.bridges += 1
        try:
            return await self._talk(customer, released)
        finally:
            self._bridged = False

    async def _talk(self, customer: Call, release: asyncio.Event) -> BridgeEnd:
        talk: asyncio.Future[object]
        if isinstance(customer, Talker):
            # A simulated customer's talk time is part of their story (seeded by their number
            # and attempt), so it does not depend on which agent happens to take them.
            kind, u = customer.agent_draws()
            seconds = self._profile.talk_at(kind, u) * self._scale
            talk = asyncio.ensure_future(customer.converse(seconds))
        else:
            seconds = self._profile.talk_at(self._rng.random(), self._rng.random()) * self._scale
            start = self._timer.now()
            talk = asyncio.ensure_future(
                self._timer.sleep_until(start + timedelta(seconds=seconds))
            )
        released = asyncio.ensure_future(release.wait())
        gone = asyncio.ensure_future(self._gone.wait())
        waits = {talk, released, gone}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if talk.done() and not talk.cancelled():
            return BridgeEnd.CUSTOMER_LEFT
        if self._gone.is_set():
            return BridgeEnd.AGENT_LEFT
        return BridgeEnd.RELEASED

    async def _ring(self, u: float) -> None:
        start = self._timer.now()
        profile = self._profile
        if self._options.fails:
            await self._timer.sleep_until(self._at(start, profile.ring_timeout_seconds))
            self._settled.set()
            self._gone.set()
            return
        await self._timer.sleep_until(self._at(start, profile.answer_seconds.at(u)))
        self._answered = True
        self._settled.set()
        if self._options.drop_after is not None:
            answered = self._timer.now()
            await self._timer.sleep_until(self._at(answered, self._options.drop_after))
            self._gone.set()

    def _at(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds * self._scale)

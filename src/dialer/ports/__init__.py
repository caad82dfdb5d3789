"""The small interfaces the services depend on; adapters implement them, bootstrap wires them."""

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from dialer.domain.call import (
    Answered,
    BridgeEnd,
    Failed,
    Hangup,
    OriginateRequest,
)
from dialer.domain.events import Event
from dialer.ports.store import (
    AgentRepo,
    CampaignRepo,
    CatalogRepo,
    DestinationRepo,
    DncRepo,
    IdempotencyRepo,
    OutboxRepo,
    QueueRepo,
    ResultsRepo,
    Store,
    StoreSession,
    TenantRepo,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, always timezone-aware."""
        ...


class Timer(Protocol):
    """The engine's clock: tells the time and lets it pass (really, scaled, or virtually)."""

    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None:
        """Let time pass for this caller only (a phone ringing); a virtual clock returns at once,
        so simulated calls take no machine time while their timestamps stay realistic."""
        ...

    async def idle_until(self, when: datetime) -> None:
        """The engine has nothing to do before ``when``: wait for it (a virtual clock jumps)."""
        ...

    def real_seconds(self, span: timedelta) -> float | None:
        """How long ``span`` of this clock lasts in real time; None if it never passes by
        itself (a virtual clock)."""
        ...


class Call(Protocol):
    """One call placed by a TelephonyDriver; every method may be awaited once the call exists.

    Media methods return False (or None) when the callee has hung up, so a call flow stops
    where the callee left it.
    """

    async def progress(self) -> Answered | Failed:
        """Wait until the call is answered or ends unanswered (ring timeout included)."""
        ...

    def prepare(self, text: str, voice: str | None) -> None:
        """A hint, given while the phone rings: ``text`` is probably the first thing said, so
        a network that renders speech may start now and speak at once on answer."""
        ...

    async def say(self, text: str, voice: str | None) -> bool:
        """Speak ``text`` to the callee; False if they hung up before it finished."""
        ...

    async def play(self, audio: str) -> bool:
        """Play an audio file (a path the engine resolved) to the callee; False on hang-up."""
        ...

    async def await_greeting_end(self) -> bool:
        """On an answering machine: wait for the beep or silence after its greeting."""
        ...

    async def leave_message(self, text: str, voice: str | None) -> bool:
        """On an answering machine: speak ``text`` so that it is whole on its recording (a
        network that hears the greeting may start it, stop it while the greeting goes on,
        and start it again); False if the call ended first."""
        ...

    async def gather(self, max_digits: int, timeout: timedelta) -> str | None:
        """Keypresses until ``max_digits`` or ``timeout``; None if the callee hung up."""
        ...

    async def transfer(self, target: str) -> bool:
        """Hand the callee to ``target`` (an E.164 number, or ``queue:<name>`` for an agent
        queue) and leave the call; False if the callee hung up or the network refused."""
        ...

    async def hangup(self) -> Hangup:
        """End the call (if the callee has not already) and say how and when it ended."""
        ...


class SpeechSynthesizer(Protocol):
    """Text to speech: 8 kHz mono signed 16-bit little-endian PCM, what a phone line carries."""

    async def render(self, text: str, voice: str | None) -> bytes:
        """The whole of ``text`` as PCM (cached by text and voice)."""
        ...

    def prepare(self, text: str, voice: str | None) -> None:
        """Start rendering the beginning of ``text`` into the cache, without waiting."""
        ...

    def stream(self, text: str, voice: str | None) -> AsyncIterator[bytes]:
        """``text`` as PCM a phrase at a time, the first as soon as it is rendered and the next
        rendered while the previous plays, so a long personalised prompt starts at once."""
        ...


class EventSink(Protocol):
    """Where domain events go (dialer.domain.events); bootstrap wires the subscribers."""

    def publish(self, event: Event) -> None: ...


class TelephonyDriver(Protocol):
    """A telephone network: the simulated one by default, SIP to a carrier in production."""

    async def originate(self, request: OriginateRequest) -> Call: ...
    async def close(self) -> None: ...


class AgentLeg(Protocol):
    """An agent's phone, called once at log-in and kept up for the whole session (VICIdial's
    agent in a conference, mod_callcenter's uuid-standby): each customer is bridged onto it
    with no ringing per call."""

    @property
    def up(self) -> bool:
        """The agent answered and the leg has not ended."""
        ...

    async def answered(self) -> bool:
        """Wait until the agent picks up (True), or the call to their phone fails (False)."""
        ...

    async def bridge(self, customer: Call, released: asyncio.Event) -> BridgeEnd:
        """Play a short tone to the agent, then join the two legs' audio both ways until one
        side leaves or ``released`` is set (the agent hung the customer up from the desk):
        RELEASED at once, with no bridge, if it already is. ``released`` belongs to this
        customer's call (the engine makes it before the agent turns TALKING), so a release
        asked before the bridge began is not lost, and one asked for an earlier customer
        cannot end this one. The customer's call stays up after RELEASED and AGENT_LEFT (the
        engine hangs it up, or gives it to another agent)."""
        ...

    async def ended(self) -> None:
        """Return when the leg is gone: the agent hung up, or the line failed."""
        ...

    async def hangup(self) -> None:
        """End the leg (log-out); idempotent."""
        ...


@runtime_checkable
class AgentPhones(Protocol):
    """A network that can call agents' phones (both drivers implement it)."""

    async def call_agent(self, phone: str, caller_id: str) -> AgentLeg:
        """Call ``phone`` (a SIP URI, a number through the trunk, or sim:... on the simulated
        network); raises CallNotPlaced if it cannot even be tried."""
        ...


class PendingNumbers(Protocol):
    def chunks(self) -> Iterator[list[tuple[str | None, int | None]]]:
        """(E.164, number type code) in input order, a slice at a time, each as soon as it is
        ready; (None, None) where a number is not possible."""
        ...

    def cancel(self) -> None: ...


class NumberNormaliser(Protocol):
    def normalise(self, raws: Sequence[str], region: str) -> list[str | None]:
        """E.164 form of each number as dialled from ``region``; None where it is not possible."""
        ...

    def start(self, raws: Sequence[str], region: str) -> PendingNumbers:
        """Begin normalising, so the caller can do other work until ``result()``."""
        ...


__all__ = [
    "AgentLeg",
    "AgentPhones",
    "AgentRepo",
    "Call",
    "CampaignRepo",
    "CatalogRepo",
    "Clock",
    "DestinationRepo",
    "DncRepo",
    "EventSink",
    "IdempotencyRepo",
    "NumberNormaliser",
    "OutboxRepo",
    "PendingNumbers",
    "QueueRepo",
    "ResultsRepo",
    "SpeechSynthesizer",
    "Store",
    "StoreSession",
    "TelephonyDriver",
    "TenantRepo",
    "Timer",
]

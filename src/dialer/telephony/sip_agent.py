"""An agent's phone on the SIP driver: one call kept up for the whole session, and the bridges
that join each customer to it (the AgentLeg port; docs/agents-sip.md).

The leg is an ordinary SipCall dialled with no answering-machine detection (a desk phone or a
softphone, by URI or through the trunk); once it is answered its audio runs on the shared media
clock, silent between customers. ``bridge`` plays the bridge tone to the agent and then has the
media clock move each side's received PCM to the other's transmit queue on every 20 ms tick
(sip_media.Bridge), until the customer hangs up, the agent's leg ends, or the call's
``released`` is set.
"""

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from dialer.domain.call import Answered, BridgeEnd
from dialer.domain.events import AgentHearsCustomer
from dialer.ports import Call
from dialer.telephony.sip_call import SipCall
from dialer.telephony.sip_media import BYTES_PER_SECOND, Bridge
from dialer.telephony.waits import first_of

if TYPE_CHECKING:
    from dialer.telephony.sip import SipNetwork

log = logging.getLogger(__name__)

# The bridge tone: short, so the agent hears the customer within 200 ms of the verdict, long
# enough to be noticed over a headset (docs/agents-sip.md).
TONE_HZ = 440.0
TONE_SECONDS = 0.1
TONE_LEVEL = 0.25  # of full scale, about -12 dBFS
_FADE_SECONDS = 0.005  # no click at either end


def bridge_tone() -> bytes:
    """The tone as 8 kHz 16-bit little-endian PCM."""
    samples = round(TONE_SECONDS * BYTES_PER_SECOND / 2)
    fade = round(_FADE_SECONDS * BYTES_PER_SECOND / 2)
    out = bytearray()
    for i in range(samples):
        ramp = min(1.0, i / fade, (samples - 1 - i) / fade)
        value = TONE_LEVEL * ramp * math.sin(2 * math.pi * TONE_HZ * i / 8000)
        out += round(value * 32767).to_bytes(2, "little", signed=True)
    return bytes(out)


_TONE = bridge_tone()


class SipAgentLeg:
    def __init__(self, network: "SipNetwork", call: SipCall) -> None:
        self.network = network
        self.call = call
        self._bridged = False
        # The leg answers whether or not anyone is waiting for it yet.
        self._progress = asyncio.ensure_future(call.progress())

    @property
    def up(self) -> bool:
        return (
            self._progress.done()
            and not self._progress.cancelled()
            and isinstance(self._progress.result(), Answered)
            and not self.call.closed.is_set()
        )

    async def answered(self) -> bool:
        result = await asyncio.shield(self._progress)
        return isinstance(result, Answered) and not self.call.closed.is_set()

    async def bridge(self, customer: Call, released: asyncio.Event) -> BridgeEnd:
        if not isinstance(customer, SipCall):
            raise TypeError(f"a SIP agent leg bridges SIP calls only, not {customer!r}")
        if self._bridged:
            raise RuntimeError("this agent leg is already bridged")
        agent_media = self.call.live_media() if self.up else None
        if agent_media is None:
            return BridgeEnd.AGENT_LEFT
        customer_media = customer.live_media()
        if customer_media is None:
            return BridgeEnd.CUSTOMER_LEFT
        if released.is_set():
            return BridgeEnd.RELEASED  # hung up from the desk before the bridge began
        loop = asyncio.get_running_loop()
        started = loop.time()
        events = self.network.events
        bridge = Bridge(
            agent_media,
            customer_media,
            customer_from=started + TONE_SECONDS,
            on_first_customer_audio=lambda at: events.publish(AgentHearsCustomer(at - started)),
        )
        self._bridged = True
        bridge.start(_TONE)
        try:
            await first_of(customer.closed, self.call.closed, released, timeout=None)
        finally:
            bridge.stop()
            self._bridged = False
        if customer.closed.is_set():
            return BridgeEnd.CUSTOMER_LEFT
        if self.call.closed.is_set():
            return BridgeEnd.AGENT_LEFT
        return BridgeEnd.RELEASED

    async def ended(self) -> None:
        await self.call.closed.wait()

    async def hangup(self) -> None:
        await self.call.hangup()
        await asyncio.gather(self._progress, return_exceptions=True)

"""The media clock's bridges, tick by tick, over in-memory audio ports (no SIP stack): the
tone first, the customer's audio on the agent's leg in the tick it arrived, a bounded backlog.
The same bridges against SIPp: tests/integration/test_sip_agents.py."""

import asyncio
from collections import deque

from dialer.telephony.sip_agent import TONE_SECONDS, bridge_tone
from dialer.telephony.sip_media import (
    LIVE_BACKLOG_BYTES,
    TICK_SECONDS,
    Bridge,
    Media,
    MediaClock,
)

FRAME = 320  # 20 ms of 8 kHz 16-bit PCM


class FakeAudio:
    """A call's two rings: what the far end sent (read), what we handed over (write)."""

    def __init__(self, accepts: bool = True) -> None:
        self.incoming: deque[bytes] = deque()
        self.sent = bytearray()
        self.accepts = accepts

    def read(self, max_bytes: int) -> bytes:
        return self.incoming.popleft() if self.incoming else b""

    def write(self, pcm: bytes) -> int:
        if not self.accepts:
            return 0
        self.sent += pcm
        return len(pcm)


told: list[float] = []  # what bridges reported as their first customer audio


def bridged(
    clock: MediaClock, start: float, customer_accepts: bool = True
) -> tuple[FakeAudio, FakeAudio, Bridge]:
    agent, customer = FakeAudio(), FakeAudio(customer_accepts)
    agent_media, customer_media = Media(agent), Media(customer)
    clock.attach(agent_media)
    clock.attach(customer_media)
    bridge = Bridge(
        agent_media,
        customer_media,
        customer_from=start + TONE_SECONDS,
        on_first_customer_audio=told.append,
    )
    bridge.start(bridge_tone())
    return agent, customer, bridge


def test_the_agent_hears_the_tone_then_the_customer_in_the_tick_it_arrived() -> None:
    async def scenario() -> None:
        clock = MediaClock()
        told.clear()
        pairs = [bridged(clock, 0.0) for _ in range(20)]  # some agents tick before their customer
        clock.tick(0.0)
        for agent, _, _ in pairs:
            assert bytes(agent.sent) == bridge_tone()
        # During the tone the customer's words are dropped, not queued behind it.
        for _, customer, _ in pairs:
            customer.incoming.append(b"\x01" * FRAME)
        clock.tick(TICK_SECONDS)
        after_tone = TONE_SECONDS + TICK_SECONDS
        for i, (_, customer, _) in enumerate(pairs):
            customer.incoming.append(bytes([2 + i]) * FRAME)
        clock.tick(after_tone)
        for i, (agent, _, bridge) in enumerate(pairs):
            assert bytes(agent.sent) == bridge_tone() + bytes([2 + i]) * FRAME
            assert bridge.first_customer_audio_at == after_tone
        customer.incoming.append(b"\x09" * FRAME)
        clock.tick(after_tone + TICK_SECONDS)
        assert told == [after_tone] * 20, "each bridge reports its first audio once"
        await clock.close()

    asyncio.run(scenario())


def test_the_customer_hears_the_agent_at_once_and_a_stall_leaves_no_lasting_delay() -> None:
    async def scenario() -> None:
        clock = MediaClock()
        agent, customer, _ = bridged(clock, 0.0, customer_accepts=False)
        for n in range(30):  # the customer's leg takes nothing for 600 ms
            agent.incoming.append(bytes([n]) * FRAME)
            clock.tick(n * TICK_SECONDS)
        customer_media = next(m for m in clock._media if m.audio is customer)
        assert customer_media.queued_bytes <= LIVE_BACKLOG_BYTES
        customer.accepts = True
        clock.tick(30 * TICK_SECONDS)
        kept = LIVE_BACKLOG_BYTES // FRAME
        assert bytes(customer.sent) == b"".join(bytes([n]) * FRAME for n in range(30 - kept, 30))
        await clock.close()

    asyncio.run(scenario())


def test_a_stopped_bridge_relays_nothing() -> None:
    async def scenario() -> None:
        clock = MediaClock()
        agent, customer, bridge = bridged(clock, 0.0)
        clock.tick(0.0)
        bridge.stop()
        customer.incoming.append(b"\x05" * FRAME)
        agent.incoming.append(b"\x06" * FRAME)
        clock.tick(1.0)
        assert bytes(agent.sent) == bridge_tone()
        assert bytes(customer.sent) == b""
        await clock.close()

    asyncio.run(scenario())


def test_a_flush_drops_what_is_queued_and_tells_its_waiters_it_was_not_heard() -> None:
    async def scenario() -> None:
        clock, audio = MediaClock(), FakeAudio()
        media = Media(audio)
        clock.attach(media)
        media.enqueue(b"\x01\x00" * 8000)  # a second of a message
        first = media.drained()
        clock.tick(0.0)
        handed = len(audio.sent)
        assert 0 < handed < 16000
        media.flush()  # the greeting went on: the message stops
        await asyncio.sleep(0)
        assert first.done()
        assert first.result() is False
        for n in range(1, 20):
            clock.tick(n * TICK_SECONDS)
        assert len(audio.sent) == handed  # nothing more of it is sent
        media.enqueue(b"\x02\x00" * 800)  # and it starts again from its beginning
        again = media.drained()
        for n in range(20, 60):
            clock.tick(n * TICK_SECONDS)
        assert bytes(audio.sent[handed:]) == b"\x02\x00" * 800
        assert again.done()
        assert again.result() is True

    asyncio.run(scenario())

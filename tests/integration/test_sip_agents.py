"""Agents' phones on the SIP driver against SIPp on 127.0.0.1: the agent leg, and bridges.

Two SIPp phones (dialer.testing.sipp_phone): one plays the agents' desk phones, dialled by URI,
the other the customers, reached through the trunk. Each sends a steady tone (700 Hz or
1200 Hz) and its answer points the dialer's RTP at a listener of the test's own, so the test
hears what reached each phone. As in test_sip_driver.py, baresip allows one Runtime per process,
so the module shares one loop and one driver.
"""

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from itertools import count
from typing import Any, TypeVar

import pytest

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, AnsweredBy, BridgeEnd, CallNotPlaced, OriginateRequest
from dialer.domain.events import AgentHearsCustomer, AnswerDetected, Recording
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.telephony.sip_agent import TONE_HZ, TONE_SECONDS, SipAgentLeg
from dialer.telephony.sip_call import SipCall
from dialer.testing.sipp import Number, SippCarrier
from dialer.testing.sipp_phone import PCMA, PCMU, PhoneCall, RtpListener, SippPhone

T = TypeVar("T")
CALLER_ID = "+441632960000"
TRUNK_USER, TRUNK_PASSWORD = "dialer-trunk", "s3cret"
HEARD = 0.5  # share of a second's energy at the expected tone
_references = count(1)


class Rig:
    def __init__(self, customers: SippPhone, agents: SippPhone) -> None:
        self.loop = asyncio.new_event_loop()
        self.agents = agents
        trunk = SipSettings(
            host=customers.host,
            port=customers.port,
            local_address="127.0.0.1",
            min_ring_seconds=1.0,
            provisional_timeout_seconds=2.0,
            # The trunk's own credentials: never for an agent's phone dialled by URI.
            username=TRUNK_USER,
            password=TRUNK_PASSWORD,
        )
        self.events = Recording()
        self.network: SipNetwork = build_sip_network(
            NetworkSettings(kind="sip", sip=trunk), RealTimer(), self.events
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def customer(self, call: PhoneCall, detect: bool = False) -> SipCall:
        request = OriginateRequest(
            number=call.user,
            caller_id=CALLER_ID,
            ring_timeout=timedelta(seconds=10),
            reference=f"c:{next(_references)}",
            detect_answer=detect,
        )
        placed = await self.network.originate(request)
        answered = await placed.progress()
        assert isinstance(answered, Answered)
        return placed

    async def agent(self, call: PhoneCall) -> SipAgentLeg:
        leg = await self.network.call_agent(self.agents.uri(call), CALLER_ID)
        assert await leg.answered()
        assert leg.up
        return leg

    def close(self) -> None:
        self.run(self.network.close())
        self.loop.close()


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with SippPhone() as customers, SippPhone() as agents:
        built = Rig(customers, agents)
        yield built
        built.close()


async def until(condition: Callable[[], bool], seconds: float = 8.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (a bound, not a timing claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def hears(listener: RtpListener, hz: int) -> Callable[[], bool]:
    return lambda: listener.tone_level(hz) >= HEARD


def test_audio_crosses_both_ways_between_pcmu_and_pcma_after_the_tone(rig: Rig) -> None:
    with RtpListener() as at_agent, RtpListener() as at_customer:

        async def scenario() -> tuple[BridgeEnd, bool, bool, bool]:
            leg = await rig.agent(PhoneCall(tone=1200, codec=PCMA, rtp_port=at_agent.port))
            customer = await rig.customer(
                PhoneCall(tone=700, codec=PCMU, rtp_port=at_customer.port)
            )
            # Not bridged yet: each phone hears silence from the dialer.
            await asyncio.sleep(0.5)
            assert at_agent.packets > 0
            assert at_customer.packets > 0
            assert at_agent.tone_level(700) < 0.1
            assert at_customer.tone_level(1200) < 0.1
            released = asyncio.Event()
            bridge = asyncio.ensure_future(leg.bridge(customer, released))
            agent_hears = await until(hears(at_agent, 700))
            customer_hears = await until(hears(at_customer, 1200))
            released.set()
            end = await bridge
            still_up = leg.up and customer.live_media() is not None
            await customer.hangup()
            await leg.hangup()
            return end, agent_hears, customer_hears, still_up

        rig.events.events.clear()
        end, agent_hears, customer_hears, still_up = rig.run(scenario())
        assert agent_hears, "the customer's 700 Hz reached the agent's phone"
        assert customer_hears, "the agent's 1200 Hz reached the customer's phone"
        assert end is BridgeEnd.RELEASED
        assert still_up, "a released bridge leaves both calls up"
        # Each leg kept its own codec: the dialer converted through PCM.
        assert at_agent.payload_types == {PCMA}
        assert at_customer.payload_types == {PCMU}
        # The agent heard the bridge tone, then the customer.
        tone, voice = at_agent.first_heard(int(TONE_HZ), 0.5, 0.05), at_agent.first_heard(700)
        assert tone is not None
        assert voice is not None
        assert tone < voice
        (measured,) = rig.events.of(AgentHearsCustomer)
        assert measured.seconds >= TONE_SECONDS


def test_customer_hangs_up_and_the_agent_stays_on_the_leg_for_the_next(rig: Rig) -> None:
    with RtpListener() as at_agent:

        async def scenario() -> tuple[BridgeEnd, bool, bool, BridgeEnd]:
            leg = await rig.agent(PhoneCall(tone=1200, rtp_port=at_agent.port))
            # Each customer's own tone: the first one's last 700 Hz would otherwise still be
            # reaching the agent's listener when the second is answered (the dialer's queue
            # and, on a loaded machine, the listener's unread socket), pass for the second
            # customer's, and have the test release a bridge that had not begun yet.
            first = await rig.customer(PhoneCall(tone=1200, hang_up_after=1))
            end = await asyncio.wait_for(leg.bridge(first, asyncio.Event()), 10)
            up = leg.up
            # The same leg, no new call to the agent: the next customer is heard on it.
            at_agent.clear()
            second = await rig.customer(PhoneCall(tone=700))
            released = asyncio.Event()
            bridge = asyncio.ensure_future(leg.bridge(second, released))
            heard_next = await until(hears(at_agent, 700))
            released.set()
            second_end = await asyncio.wait_for(bridge, 10)
            await second.hangup()
            await leg.hangup()
            return end, up, heard_next, second_end

        end, up, heard_next, second_end = rig.run(scenario())
        assert end is BridgeEnd.CUSTOMER_LEFT
        assert up, "the agent is still on their leg"
        assert heard_next, "the next customer is bridged onto the same leg"
        assert second_end is BridgeEnd.RELEASED


def test_a_release_set_before_the_bridge_begins_ends_it_at_once_and_the_next_talks(
    rig: Rig,
) -> None:
    """The desk hung the customer up between the agent turning TALKING and ``bridge()``: the
    call's release is already set, so the bridge ends at once, with no tone and both calls up
    (a release before the bridge was once dropped, and that bridge lasted until a side hung
    up). That customer's release, set again late, does not end the next customer's bridge."""
    with RtpListener() as at_agent:

        async def scenario() -> tuple[BridgeEnd, bool, BridgeEnd, bool, bool]:
            leg = await rig.agent(PhoneCall(tone=1200, rtp_port=at_agent.port))
            first = await rig.customer(PhoneCall(tone=700))
            released = asyncio.Event()
            released.set()
            end = await asyncio.wait_for(leg.bridge(first, released), 10)
            both_up = leg.up and first.live_media() is not None
            await first.hangup()
            released.set()  # a late repeat of the first customer's release
            second = await rig.customer(PhoneCall(tone=1200, hang_up_after=1))
            second_end = await asyncio.wait_for(leg.bridge(second, asyncio.Event()), 10)
            tone = at_agent.first_heard(int(TONE_HZ), 0.5, 0.05) is not None
            await leg.hangup()
            return end, both_up, second_end, tone, leg.up

        at_agent.clear()
        end, both_up, second_end, tone, _ = rig.run(scenario())
        assert end is BridgeEnd.RELEASED
        assert both_up, "a release leaves both calls up"
        assert second_end is BridgeEnd.CUSTOMER_LEFT, "the next customer talked until they left"
        assert tone, "the second bridge began (its tone reached the agent)"


def test_agent_hangs_up_and_the_customer_stays_up(rig: Rig) -> None:
    async def scenario() -> tuple[BridgeEnd, bool, bool]:
        leg = await rig.agent(PhoneCall(tone=1200, hang_up_after=1))
        customer = await rig.customer(PhoneCall(tone=700))
        end = await asyncio.wait_for(leg.bridge(customer, asyncio.Event()), 10)
        await asyncio.wait_for(leg.ended(), 5)
        customer_up = customer.live_media() is not None and not customer.closed.is_set()
        ended = await customer.hangup()
        return end, customer_up, ended.by_callee

    end, customer_up, by_callee = rig.run(scenario())
    assert end is BridgeEnd.AGENT_LEFT
    assert customer_up, "the engine decides what happens to the customer"
    assert not by_callee


def test_two_agents_and_three_customers_at_once(rig: Rig) -> None:
    listeners = [RtpListener() for _ in range(5)]
    a1, a2, c1, c2, c3 = listeners
    try:

        async def scenario() -> tuple[list[BridgeEnd], bool, bool]:
            legs = [
                await rig.agent(PhoneCall(tone=1200, rtp_port=a1.port)),
                await rig.agent(PhoneCall(tone=700, codec=PCMA, rtp_port=a2.port)),
            ]
            customers = [
                await rig.customer(PhoneCall(tone=700, rtp_port=c1.port)),
                await rig.customer(PhoneCall(tone=1200, codec=PCMA, rtp_port=c2.port)),
                await rig.customer(PhoneCall(tone=700, rtp_port=c3.port)),
            ]
            releases = [asyncio.Event(), asyncio.Event()]
            bridges = [
                asyncio.ensure_future(legs[i].bridge(customers[i], releases[i])) for i in (0, 1)
            ]
            # Each side hears its own partner's tone, and only that one.
            crossed = all(
                [
                    await until(hears(a1, 700)),
                    await until(hears(c1, 1200)),
                    await until(hears(a2, 1200)),
                    await until(hears(c2, 700)),
                ]
            )
            crossed = crossed and a1.tone_level(1200) < 0.1 and a2.tone_level(700) < 0.1
            unbridged_quiet = c3.packets > 0 and max(c3.tone_level(700), c3.tone_level(1200)) < 0.1
            third_up = customers[2].live_media() is not None
            for released in releases:
                released.set()
            ends = list(await asyncio.gather(*bridges))
            for call in customers:
                await call.hangup()
            for leg in legs:
                await leg.hangup()
            return ends, crossed, unbridged_quiet and third_up

        ends, crossed, third_alone = rig.run(scenario())
        assert crossed
        assert third_alone, "the third customer, never bridged, is up and hears nothing"
        assert ends == [BridgeEnd.RELEASED, BridgeEnd.RELEASED]
    finally:
        for listener in listeners:
            listener.close()


def test_no_detection_reports_a_person_at_once(rig: Rig) -> None:
    """detect_answer=False (bridge on answer): a silent line is a person, with no detector."""

    async def scenario() -> Answered | object:
        request = OriginateRequest(
            number=PhoneCall(tone=0).user,
            caller_id=CALLER_ID,
            ring_timeout=timedelta(seconds=10),
            reference=f"c:{next(_references)}",
            detect_answer=False,
        )
        call = await rig.network.originate(request)
        answered = await call.progress()
        await call.hangup()
        return answered

    rig.events.events.clear()
    answered = rig.run(scenario())
    assert isinstance(answered, Answered)
    assert answered.by is AnsweredBy.HUMAN
    assert rig.events.of(AnswerDetected) == [], "no detector ran"


def test_an_agent_phone_through_the_trunk_and_one_that_never_answers(rig: Rig) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        by_number = await rig.network.call_agent(PhoneCall(tone=0).user, CALLER_ID)
        answered = await by_number.answered()
        await by_number.hangup()
        # The desk takes the scheme in any case (RFC 3261: it is case-insensitive).
        shouted = "SIP:" + rig.agents.uri(PhoneCall(tone=0)).removeprefix("sip:")
        by_uri = await rig.network.call_agent(shouted, CALLER_ID)
        uri_answered = await by_uri.answered()
        await by_uri.hangup()
        nobody = await rig.network.call_agent("sip:1001@127.0.0.1:9", CALLER_ID)
        return answered, uri_answered, await nobody.answered()

    answered, uri_answered, nobody_answered = rig.run(scenario())
    assert answered
    assert uri_answered
    assert not nobody_answered


@pytest.mark.parametrize("phone", ["sim:agent-3", "tel:+441632960001", "1001@127.0.0.1"])
def test_a_phone_this_driver_cannot_dial_is_not_placed(rig: Rig, phone: str) -> None:
    with pytest.raises(CallNotPlaced):
        rig.run(rig.network.call_agent(phone, CALLER_ID))


def test_a_phone_dialled_by_uri_never_gets_the_trunks_credentials(rig: Rig) -> None:
    """An agent chooses the URI at log-in: a phone there that challenges (401) must not get a
    digest answer made with the carrier's password (one an attacker could crack offline)."""
    with SippCarrier(auth_user=TRUNK_USER, auth_password=TRUNK_PASSWORD) as challenger:

        async def scenario() -> bool:
            leg = await rig.network.call_agent(challenger.uri(Number.AUTH_REQUIRED), CALLER_ID)
            answered = await leg.answered()
            await leg.hangup()
            return answered

        answered = rig.run(scenario())
        assert not answered
        sent = [value for _, value in challenger.authorizations()]
        assert not any(TRUNK_USER in value for value in sent), sent

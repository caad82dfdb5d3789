"""The simulated network's agent phones (sim:...): answer, fail, drop, bridge, release.

Run on the discrete-event loop (dialer.sim_clock), so every wait passes in virtual time and
the tests read the times at which things happened without any real waiting.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from dialer.domain.call import Answered, BridgeEnd, CallNotPlaced, OriginateRequest
from dialer.domain.errors import ValidationFailed
from dialer.ports import AgentLeg, AgentPhones
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.sim_agent_leg import PhoneOptions, phone_options
from dialer.telephony.sim_network import SimCall, SimulatedNetwork
from dialer.telephony.sim_profile import SimProfile, Spread, default_document

START = datetime(2025, 9, 30, 9, 0, tzinfo=UTC)
PERSON = "+447700900000"  # answers after 3 s, a person who never hangs up by themself
T = TypeVar("T")
Body = Callable[[LoopTimer, SimulatedNetwork], Awaitable[T]]


def profile(**agents: object) -> SimProfile:
    document = default_document()
    document["agents"] = {**document["agents"], **agents}
    return SimProfile.from_document(document)


# Fixed times: answer 4 s; every talk 100 s.
FIXED = profile(
    answer_seconds={"median": 4, "sigma": 0, "min": 4, "max": 4},
    short_call_share=0.0,
    talk_seconds={"median": 100, "sigma": 0, "min": 100, "max": 100},
)


def run(body: Body[T], sim: SimProfile = FIXED, seed: int = 0) -> T:
    timer = LoopTimer(VirtualTimeLoop(), START)
    network = SimulatedNetwork(sim, timer, seed=seed)

    async def main() -> T:
        try:
            return await body(timer, network)
        finally:
            await network.close()

    return timer.run(main())


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


async def customer(network: SimulatedNetwork, number: str = PERSON, ref: str = "1:1") -> SimCall:
    call = await network.originate(OriginateRequest(number, "+441632960000", timedelta(60), ref))
    assert isinstance(await call.progress(), Answered)
    return call


def test_the_network_implements_agent_phones_and_its_legs_agent_legs() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> None:
        phones: AgentPhones = network
        leg: AgentLeg = await phones.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()

    run(body)


def test_a_sim_phone_answers_after_the_profiles_delay_and_stays_up() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        ringing = leg.up
        answered = await leg.answered()
        answered_at = timer.now()
        await timer.sleep_until(at(3600))
        return ringing, answered, answered_at, leg.up

    assert run(body) == (False, True, at(4), True)


def test_sim_fail_never_answers_and_fails_at_the_ring_timeout() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:fail", "+441632960000")
        answered = await leg.answered()
        await leg.ended()
        return answered, timer.now(), leg.up

    assert run(body) == (False, at(30), False)


def test_sim_drop_after_ends_the_leg_that_long_after_the_answer() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-2;drop-after=60", "+441632960000")
        assert await leg.answered()
        await leg.ended()
        return timer.now(), leg.up

    assert run(body) == (at(64), False)


def test_a_bridged_customer_talks_for_the_drawn_time_then_leaves() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        call = await customer(network)  # answered at 4 + 3 s
        end = await leg.bridge(call, asyncio.Event())
        hangup = await call.hangup()
        return end, timer.now(), hangup.ended_at, hangup.by_callee, leg.up

    assert run(body) == (BridgeEnd.CUSTOMER_LEFT, at(107), at(107), True, True)


def test_a_customer_who_waited_for_an_agent_talks_from_the_bridge_on() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        call = await customer(network)  # answered at 7 s
        # The engine listens while the customer waits, and stops listening to bridge them.
        listening = asyncio.create_task(call.gather(1, timedelta(seconds=60)))
        await timer.sleep_until(at(27))
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        end = await leg.bridge(call, asyncio.Event())
        hangup = await call.hangup()
        return end, timer.now(), hangup.ended_at

    assert run(body) == (BridgeEnd.CUSTOMER_LEFT, at(127), at(127))


def test_a_released_bridge_ends_at_once_and_leaves_the_customer_on_the_line() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        call = await customer(network)
        released = asyncio.Event()
        bridge = asyncio.create_task(leg.bridge(call, released))
        await timer.sleep_until(at(37))
        released.set()
        end = await bridge
        released_at = timer.now()
        hangup = await call.hangup()
        return end, released_at, hangup.ended_at, hangup.by_callee, hangup.cause

    assert run(body) == (BridgeEnd.RELEASED, at(37), at(37), False, "normal clearing")


def test_a_release_set_before_the_bridge_begins_ends_it_at_once() -> None:
    """The desk hung the customer up between the agent turning TALKING and the bridge: the
    call's release is already set, and the bridge is over before it began (it was once lost)."""

    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        call = await customer(network)  # answered at 7 s
        released = asyncio.Event()
        released.set()
        end = await leg.bridge(call, released)
        hangup = await call.hangup()
        return end, hangup.ended_at, hangup.by_callee, leg.bridges, leg.up

    assert run(body) == (BridgeEnd.RELEASED, at(7), False, 0, True)


def test_the_last_customers_release_never_ends_the_next_bridge() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        first = await customer(network, ref="1:1")  # answered at 7 s
        first_release = asyncio.Event()
        bridge = asyncio.create_task(leg.bridge(first, first_release))
        await timer.sleep_until(at(10))
        first_release.set()
        assert await bridge is BridgeEnd.RELEASED
        await first.hangup()
        first_release.set()  # asked again, late: it is still the first customer's
        second = await customer(network, ref="2:1")
        end = await leg.bridge(second, asyncio.Event())
        return end, (await second.hangup()).by_callee

    assert run(body) == (BridgeEnd.CUSTOMER_LEFT, True)


def test_a_leg_that_drops_during_a_bridge_ends_it_as_agent_left() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1;drop-after=20", "+441632960000")
        assert await leg.answered()
        call = await customer(network)
        end = await leg.bridge(call, asyncio.Event())
        dropped_at = timer.now()
        again = await leg.bridge(call, asyncio.Event())  # a leg that is gone takes nobody
        hangup = await call.hangup()
        return end, dropped_at, again, hangup.by_callee

    assert run(body) == (BridgeEnd.AGENT_LEFT, at(24), BridgeEnd.AGENT_LEFT, False)


def test_hangup_ends_the_leg_and_a_customer_who_already_left_ends_the_bridge_at_once() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        call = await customer(network, "+447700900012")  # leaves halfway through a message
        assert not await call.say("one two three four five six seven eight nine ten", None)
        left_at = timer.now()
        end = await leg.bridge(call, asyncio.Event())
        bridged_for = timer.now() - left_at
        await leg.hangup()
        await leg.ended()
        await leg.hangup()  # idempotent
        return end, bridged_for, leg.up

    assert run(body) == (BridgeEnd.CUSTOMER_LEFT, timedelta(0), False)


def test_one_leg_never_holds_two_customers_at_once() -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> None:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        released = asyncio.Event()
        first = asyncio.create_task(leg.bridge(await customer(network, ref="1:1"), released))
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already bridged"):
            await leg.bridge(await customer(network, ref="2:1"), asyncio.Event())
        released.set()
        assert await first is BridgeEnd.RELEASED

    run(body)


def talk_times(seed: int) -> list[float]:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> list[float]:
        leg = await network.call_agent("sim:agent-1", "+441632960000")
        assert await leg.answered()
        times = []
        for n in range(20):
            call = await customer(network, PERSON, f"{n}:1")
            began = timer.now()
            assert await leg.bridge(call, asyncio.Event()) is BridgeEnd.CUSTOMER_LEFT
            times.append((timer.now() - began).total_seconds())
        return times

    return run(body, SimProfile.default(), seed)


def test_talk_times_follow_the_seed_and_the_profiles_mixture() -> None:
    first = talk_times(7)
    assert first == talk_times(7)
    assert first != talk_times(8)
    agents = SimProfile.default().agents
    low = min(agents.short_talk_seconds.low, agents.talk_seconds.low)
    high = max(agents.short_talk_seconds.high, agents.talk_seconds.high)
    assert all(low <= t <= high for t in first)


def test_zero_durations_collapse_the_legs_times() -> None:
    document = default_document()
    document["zero_durations"] = True

    async def body(timer: LoopTimer, network: SimulatedNetwork) -> tuple[object, ...]:
        leg = await network.call_agent("sim:agent-1;drop-after=60", "+441632960000")
        assert await leg.answered()
        await leg.ended()
        return (timer.now(),)

    assert run(body, SimProfile.from_document(document)) == (START,)


@pytest.mark.parametrize(
    ("phone", "options"),
    [
        ("sim:agent-3", PhoneOptions()),
        ("sim:fail", PhoneOptions(fails=True)),
        ("sim:drop-after=12.5", PhoneOptions(drop_after=12.5)),
        ("sim:agent-3;drop-after=0", PhoneOptions(drop_after=0.0)),
    ],
)
def test_phone_options(phone: str, options: PhoneOptions) -> None:
    assert phone_options(phone) == options


@pytest.mark.parametrize(
    "phone",
    [
        "sip:1001@192.0.2.10",
        "+441632960001",
        "sim:drop-after=soon",
        "sim:drop-after=-1",
        "sim:drop-after=nan",
    ],
)
def test_other_phones_are_not_placed(phone: str) -> None:
    async def body(timer: LoopTimer, network: SimulatedNetwork) -> None:
        with pytest.raises(CallNotPlaced):
            await network.call_agent(phone, "+441632960000")

    run(body)


def errors(agents: Any) -> dict[str, list[str]]:
    document = default_document()
    document["agents"] = agents
    with pytest.raises(ValidationFailed) as raised:
        SimProfile.from_document(document)
    return raised.value.errors


def test_the_agents_section_is_validated_like_the_rest() -> None:
    good = default_document()["agents"]
    assert "agents.talk_seconds.sigma" in errors({**good, "talk_seconds": {"median": 5}})
    assert "agents.dispositions" in errors(
        {**good, "dispositions": {**good["dispositions"], "OptOut": 0.5}}
    )
    assert "agents.short_call_share" in errors({**good, "short_call_share": 1.5})
    assert "agents.ring_timeout_seconds" in errors({**good, "ring_timeout_seconds": 0})
    assert "agents.pace" in errors({**good, "pace": 1})
    assert "agents.pauses_per_hour" in errors(
        {**{k: v for k, v in good.items() if k != "pauses_per_hour"}}
    )


def test_the_default_agents_section() -> None:
    agents = SimProfile.default().agents
    assert agents.talk_seconds == Spread(170, 0.8, 30, 1800)
    assert agents.short_call_share == 0.25
    assert sum(agents.dispositions.values()) == pytest.approx(1)

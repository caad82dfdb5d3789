"""Speech renders: urgent waiters (a call's first words) go before the rest, else in order."""

import asyncio

from dialer.telephony.slots import PrioritySlots


def test_urgent_waiters_are_served_first_then_arrival_order() -> None:
    async def scenario() -> list[str]:
        slots = PrioritySlots(1)
        served: list[str] = []
        gate = asyncio.Event()

        async def use(name: str, urgent: bool) -> None:
            async with slots.taken(urgent=urgent):
                served.append(name)
                if name == "holder":
                    await gate.wait()

        holder = asyncio.create_task(use("holder", False))
        await asyncio.sleep(0)
        waiters = [
            asyncio.create_task(use(name, urgent))
            for name, urgent in [("later-1", False), ("first-words", True), ("later-2", False)]
        ]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(holder, *waiters)
        return served

    assert asyncio.run(scenario()) == ["holder", "first-words", "later-1", "later-2"]


def test_a_cancelled_waiter_does_not_lose_its_slot() -> None:
    async def scenario() -> int:
        slots = PrioritySlots(1)
        gate = asyncio.Event()

        async def hold() -> None:
            async with slots.taken(urgent=False):
                await gate.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        quitter = asyncio.create_task(hold())
        await asyncio.sleep(0)
        quitter.cancel()
        gate.set()
        await holder
        await asyncio.gather(quitter, return_exceptions=True)
        ran = 0
        for _ in range(3):  # the slot is free again, every time
            async with slots.taken(urgent=True):
                ran += 1
        return ran

    assert asyncio.run(scenario()) == 3

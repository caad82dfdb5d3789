"""Shutting the SIP driver down finishes every SIP transaction first, within a bounded time.

SIGTERM while a call rings: the call rings out to its ring timeout, we CANCEL, the carrier
answers 200 to the CANCEL and 487 to the INVITE, and the stack must ACK that 487 before it
stops; otherwise the carrier retransmits its 487 into the void and counts a failed call.
Each test owns its driver (baresip allows one Runtime per process at a time): closing it is
what is tested.
"""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Failed, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.testing.sipp import Number, SippCarrier, SippMessage


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    with SippCarrier() as sipp:
        yield sipp


def network(carrier: SippCarrier) -> SipNetwork:
    trunk = SipSettings(
        host=carrier.host, port=carrier.port, local_address="127.0.0.1", min_ring_seconds=1.0
    )
    return build_sip_network(NetworkSettings(kind="sip", sip=trunk), RealTimer())


def of_call(carrier: SippCarrier, call_id: str) -> list[SippMessage]:
    return [m for m in carrier.messages() if m.call_id == call_id]


def test_closing_right_after_a_ring_timeout_acks_the_carriers_487(carrier: SippCarrier) -> None:
    async def scenario() -> tuple[Failed, str, float]:
        net = network(carrier)
        request = OriginateRequest(
            number=Number.RINGS_FOREVER,
            caller_id="+441632960000",
            ring_timeout=timedelta(seconds=1),
            reference="shutdown:1",
        )
        call = await net.originate(request)
        result = await call.progress()
        assert isinstance(result, Failed)
        assert call._call is not None
        call_id = call._call.call_id or ""
        started = time.monotonic()
        await net.close()  # what the engine does as soon as its calls have ended
        return result, call_id, time.monotonic() - started

    result, call_id, took = asyncio.run(scenario())
    assert result.outcome is Outcome.NO_ANSWER
    assert took < 10, "the wait is bounded"
    time.sleep(1.0)  # SIPp writes its message log as it goes
    seen = [(m.direction, m.method or m.status) for m in of_call(carrier, call_id)]
    assert ("R", "CANCEL") in seen
    assert ("S", 487) in seen
    after_487 = seen[seen.index(("S", 487)) :]
    assert ("R", "ACK") in after_487, f"the 487 was never ACKed: {seen}"
    assert seen.count(("S", 487)) == 1, f"the carrier had to retransmit its 487: {seen}"


def test_closing_with_a_call_still_ringing_cancels_it_and_acks_the_487(
    carrier: SippCarrier,
) -> None:
    async def scenario() -> str:
        net = network(carrier)
        request = OriginateRequest(
            number=Number.RINGS_FOREVER,
            caller_id="+441632960000",
            ring_timeout=timedelta(seconds=30),
            reference="shutdown:2",
        )
        call = await net.originate(request)
        progress = asyncio.create_task(call.progress())
        while not net.watch.heard(request.reference):
            await asyncio.sleep(0.02)
        assert call._call is not None
        call_id = call._call.call_id or ""
        await net.close()
        progress.cancel()
        await asyncio.gather(progress, return_exceptions=True)
        return call_id

    call_id = asyncio.run(scenario())
    time.sleep(1.0)
    seen = [(m.direction, m.method or m.status) for m in of_call(carrier, call_id)]
    assert ("S", 487) in seen
    assert ("R", "ACK") in seen[seen.index(("S", 487)) :], f"the 487 was never ACKed: {seen}"

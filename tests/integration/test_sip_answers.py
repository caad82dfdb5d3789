"""No answer is ever lost: a call answered before the binding hands us its Call is answered.

The race (baresip-python 0.5.2a3, sip_events.py): the dial command's reply and the call's first
stack events cross from the SIP thread in one queue; the Call only listens once the reply has
reached its waiter, a loop iteration or two later. Under CPU load a carrier that answers within
milliseconds gets its 180 and 200 dispatched in between. Here the ordering is forced at the seam
the binding exposes for tests (``Runtime._push_cmd``, and its dispatcher): the dial's reply is
held back until the call's answer has been dispatched, which is what a busy loop does by chance.
"""

import asyncio
import errno
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import replace
from datetime import timedelta
from itertools import count
from types import TracebackType
from typing import Any, TypeVar

import baresip
import pytest
from baresip._native import lib
from baresip.events import Event

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, CallNotPlaced, Failed, OriginateRequest
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.testing.sipp import Number, SippCarrier

T = TypeVar("T")
_references = count(1)


class Line:
    def __init__(self, carrier: SippCarrier) -> None:
        self.loop = asyncio.new_event_loop()
        trunk = SipSettings(
            host=carrier.host,
            port=carrier.port,
            local_address="127.0.0.1",
            min_ring_seconds=1.0,
            provisional_timeout_seconds=2.0,
            calls_per_second=200.0,
        )
        self.network: SipNetwork = build_sip_network(
            NetworkSettings(kind="sip", sip=trunk), RealTimer()
        )
        self.run(self.network.start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def answer_of(self, number: str, ring_seconds: float) -> Answered | Failed:
        request = OriginateRequest(
            number=number,
            caller_id="+441632960000",
            ring_timeout=timedelta(seconds=ring_seconds),
            reference=f"answers:{next(_references)}",
        )
        call = await self.network.originate(request)
        try:
            return await call.progress()
        finally:
            await call.hangup()

    def close(self) -> None:
        self.run(self.network.close())
        self.loop.close()


class DialReplyAfterAnswer:
    """Dispatches each dial's reply only after its call's answer (or close) was dispatched."""

    def __init__(self, runtime: baresip.Runtime) -> None:
        self.runtime = runtime
        self.push: Callable[..., int] = runtime._push_cmd
        self.dispatch: Callable[..., None] = runtime._dispatch
        self.dial_seqs: set[int] = set()
        self.held: list[tuple[int, int, Any]] = []
        self.reordered = 0

    def _push(self, cmd_id: int, seq: int, args: Any) -> int:
        if cmd_id == lib.BP_CMD_UA_CONNECT:
            self.dial_seqs.add(seq)
        return self.push(cmd_id, seq, args)

    def _dispatch(self, ev: int, handle: int, payload: Any) -> None:
        if ev < lib.BP_EV_BASE and handle in self.dial_seqs:
            self.dial_seqs.discard(handle)
            self.held.append((ev, handle, payload))
            return
        self.dispatch(ev, handle, payload)
        ending = (Event.CALL_ESTABLISHED, Event.CALL_CLOSED)
        if ev >= lib.BP_EV_BASE and Event(ev - lib.BP_EV_BASE) in ending and self.held:
            held, self.held = self.held, []
            self.reordered += len(held)
            for reply in held:
                self.dispatch(*reply)

    def __enter__(self) -> "DialReplyAfterAnswer":
        self.runtime._push_cmd = self._push
        self.runtime._dispatch = self._dispatch  # type: ignore[method-assign]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.runtime._push_cmd = self.push
        del self.runtime._dispatch  # back to the class's method
        for reply in self.held:
            self.dispatch(*reply)


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    # Answers 1 ms after its 180: as fast as a carrier ever does.
    with SippCarrier(ring_seconds=0.001) as sipp:
        yield sipp


@pytest.fixture(scope="module")
def line(carrier: SippCarrier) -> Iterator[Line]:
    phone = Line(carrier)
    yield phone
    phone.close()


def test_an_answer_that_arrives_before_the_dial_returns_is_kept(line: Line) -> None:
    runtime = line.network._runtime
    assert runtime is not None
    with DialReplyAfterAnswer(runtime) as reorder:
        result = line.run(line.answer_of(Number.HUMAN, ring_seconds=3.0))
    assert reorder.reordered == 1, "the answer was dispatched before the dial's reply"
    assert isinstance(result, Answered), f"an answered call was recorded {result}"


def test_a_rejection_that_arrives_before_the_dial_returns_is_kept(line: Line) -> None:
    runtime = line.network._runtime
    assert runtime is not None
    with DialReplyAfterAnswer(runtime) as reorder:
        result = line.run(line.answer_of(Number.BUSY, ring_seconds=3.0))
    assert reorder.reordered == 1
    assert isinstance(result, Failed)
    assert result.cause.startswith("486"), result.cause


def test_calls_answered_at_once_are_all_answered(line: Line) -> None:
    """Forty calls answered within milliseconds, all at once: every one is Answered."""
    line.network.settings = replace(line.network.settings, calls_per_second=1000.0)

    async def forty() -> list[Answered | Failed]:
        return list(await asyncio.gather(*(line.answer_of(Number.HUMAN, 5.0) for _ in range(40))))

    results = line.run(forty())
    lost = [r for r in results if not isinstance(r, Answered)]
    assert not lost, f"{len(lost)} of 40 answered calls were not: {lost[:3]}"
    assert line.network.lines._value == line.network.settings.max_calls


def test_a_dial_the_stack_refuses_is_not_placed_and_gives_its_line_back(line: Line) -> None:
    """Nothing left the process (here a full command queue; under load, no line number left):
    the engine must hear "not placed", not a network outcome."""
    runtime = line.network._runtime
    assert runtime is not None
    push = runtime._push_cmd

    def full(cmd_id: int, seq: int, args: Any) -> int:
        return errno.EAGAIN if cmd_id == lib.BP_CMD_UA_CONNECT else push(cmd_id, seq, args)

    runtime._push_cmd = full
    try:
        with pytest.raises(CallNotPlaced, match="queue full"):
            line.run(line.answer_of(Number.HUMAN, ring_seconds=3.0))
    finally:
        runtime._push_cmd = push
    assert line.network.lines._value == line.network.settings.max_calls
    assert isinstance(line.run(line.answer_of(Number.HUMAN, ring_seconds=3.0)), Answered)

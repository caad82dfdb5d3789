"""The SIP driver against SIPp as a fake carrier on 127.0.0.1 (dialer.testing.sipp's number plan).

Every scenario goes through the driver the engine uses (built by bootstrap, with espeak-ng speech
and the answering-machine detector), not through baresip directly. baresip allows one live
Runtime per process, tied to the loop that started it, so the module shares one loop and one
driver, and each test drives its coroutine on that loop.
"""

import asyncio
import time
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from datetime import timedelta
from itertools import count
from typing import Any, TypeVar

import pytest

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, AnsweredBy, Failed, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.domain.events import (
    AnswerDetected,
    FirstAudio,
    Recording,
    SipResponse,
    SpeechRendered,
)
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.telephony.sip_call import SipCall
from dialer.telephony.sip_detectors import MessageStarting
from dialer.testing.sipp import FAILURE_STATUS, Number, SippCarrier

T = TypeVar("T")
EXPECTED = {
    486: Outcome.BUSY,
    600: Outcome.BUSY,
    404: Outcome.UNOBTAINABLE,
    410: Outcome.UNOBTAINABLE,
    604: Outcome.UNOBTAINABLE,
    484: Outcome.INVALID_NUMBER,
    485: Outcome.INVALID_NUMBER,
    408: Outcome.NO_ANSWER,
    480: Outcome.NO_ANSWER,
    503: Outcome.OVERFLOW,
    500: Outcome.UNKNOWN,
    502: Outcome.UNKNOWN,
    603: Outcome.UNKNOWN,
}
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
        )
        network = NetworkSettings(kind="sip", sip=trunk)
        # What the driver measures goes out as events; the driver keeps none (issue 11).
        self.events = Recording()
        self.network: SipNetwork = build_sip_network(network, RealTimer(), self.events)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def dial(self, number: str, ring_seconds: float = 10.0) -> SipCall:
        request = OriginateRequest(
            number=number,
            caller_id="+441632960000",
            ring_timeout=timedelta(seconds=ring_seconds),
            reference=f"t:{next(_references)}",
        )
        return await self.network.originate(request)

    def close(self) -> None:
        self.run(self.network.close())
        self.loop.close()


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    with SippCarrier(first_key_seconds=1.0, key_interval_seconds=1.0) as sipp:
        yield sipp


@pytest.fixture(scope="module")
def line(carrier: SippCarrier) -> Iterator[Line]:
    phone = Line(carrier)
    yield phone
    phone.close()


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_each_failure_status_reads_as_its_outcome(line: Line, status: int) -> None:
    number = next(n for n, s in FAILURE_STATUS.items() if s == status and n[-3:] == str(status))

    async def scenario() -> Answered | Failed:
        call = await line.dial(number)
        return await call.progress()

    line.events.events.clear()
    result = line.run(scenario())
    assert isinstance(result, Failed)
    assert result.outcome is EXPECTED[status]
    assert result.cause.startswith(str(status)), "the raw status is kept as the cause"
    assert line.events.of(SipResponse) == [SipResponse(status)]


def test_early_media_then_503_is_overflow(line: Line) -> None:
    async def scenario() -> Answered | Failed:
        return await (await line.dial(Number.PROGRESS_THEN_503)).progress()

    result = line.run(scenario())
    assert isinstance(result, Failed)
    assert (result.outcome, result.cause[:3]) == (Outcome.OVERFLOW, "503")


def test_no_provisional_response_is_no_connection_within_seconds(
    line: Line, carrier: SippCarrier
) -> None:
    async def scenario() -> tuple[Answered | Failed, float]:
        started = time.monotonic()
        result = await (await line.dial(Number.NO_RESPONSE)).progress()
        return result, time.monotonic() - started

    cancels = sum(1 for m in carrier.messages() if m.method == "CANCEL")
    result, took = line.run(scenario())
    assert isinstance(result, Failed)
    assert result.outcome is Outcome.NO_CONNECTION
    assert "no provisional response" in result.cause
    assert took < 5, "the INVITE transaction's own 32 s timeout was not waited for"
    # No CANCEL before a 1xx (RFC 3261 9.1), and the cause must not claim one.
    assert "CANCEL" not in result.cause
    line.run(asyncio.sleep(0.5))
    assert sum(1 for m in carrier.messages() if m.method == "CANCEL") == cancels


def test_ring_timeout_sends_cancel_and_is_no_answer(line: Line, carrier: SippCarrier) -> None:
    async def scenario() -> tuple[Answered | Failed, float]:
        started = time.monotonic()
        result = await (await line.dial(Number.RINGS_FOREVER, ring_seconds=2.0)).progress()
        return result, time.monotonic() - started

    before = sum(1 for m in carrier.messages() if m.method == "CANCEL")
    result, took = line.run(scenario())
    assert isinstance(result, Failed)
    assert result.outcome is Outcome.NO_ANSWER
    assert "CANCEL" in result.cause
    assert 2 <= took < 4
    line.run(asyncio.sleep(0.5))  # SIPp writes its message log as it goes
    assert sum(1 for m in carrier.messages() if m.method == "CANCEL") == before + 1


def test_the_minimum_ring_time_outlasts_a_shorter_ring_timeout(line: Line) -> None:
    line.network.settings = replace(line.network.settings, min_ring_seconds=2.5)
    try:

        async def scenario() -> float:
            started = time.monotonic()
            await (await line.dial(Number.RINGS_FOREVER, ring_seconds=0.5)).progress()
            return time.monotonic() - started

        assert line.run(scenario()) >= 2.5
    finally:
        line.network.settings = replace(line.network.settings, min_ring_seconds=1.0)


def test_a_person_is_detected_hears_speech_and_we_hang_up(line: Line) -> None:
    async def scenario() -> tuple[Answered | Failed, bool, bool]:
        call = await line.dial(Number.HUMAN)
        answered = await call.progress()
        spoke = await call.say("Hello. This is a test of the dialer.", None)
        ended = await call.hangup()
        return answered, spoke, ended.by_callee

    line.events.events.clear()
    answered, spoke, by_callee = line.run(scenario())
    assert isinstance(answered, Answered)
    assert answered.by is AnsweredBy.HUMAN
    assert spoke
    assert not by_callee
    assert line.events.of(SipResponse) == [SipResponse(200)]
    assert [d.by for d in line.events.of(AnswerDetected)] == ["human"]
    assert len(line.events.of(SpeechRendered)) == 1
    (first,) = line.events.of(FirstAudio)
    assert first.frame >= first.speech >= 0


@pytest.mark.parametrize(
    "number", [Number.HUMAN_PRESSES_1_RFC2833, Number.HUMAN_PRESSES_9_INFO], ids=["2833", "info"]
)
def test_keys_are_gathered_by_rfc2833_and_sip_info(
    line: Line, carrier: SippCarrier, number: Number
) -> None:
    if number in (Number.HUMAN_PRESSES_1_RFC2833,) and not carrier.rfc2833:
        pytest.fail("RFC 2833 keys need SIPp to run with CAP_NET_RAW (the suite runs as root)")

    async def scenario() -> str | None:
        call = await line.dial(number)
        assert isinstance(await call.progress(), Answered)
        pressed = await call.gather(1, timedelta(seconds=6))
        await call.hangup()
        return pressed

    assert line.run(scenario()) == ("1" if number is Number.HUMAN_PRESSES_1_RFC2833 else "9")


def test_a_callee_who_hangs_up_is_reported_so(line: Line) -> None:
    async def scenario() -> tuple[str | None, bool]:
        call = await line.dial(Number.HUMAN_HANGS_UP)
        assert isinstance(await call.progress(), Answered)
        pressed = await call.gather(1, timedelta(seconds=10))
        return pressed, (await call.hangup()).by_callee

    pressed, by_callee = line.run(scenario())
    assert pressed is None
    assert by_callee


def test_voicemail_is_a_machine_and_the_message_starts_after_the_beep(line: Line) -> None:
    async def scenario() -> tuple[Answered | Failed, float, bool]:
        call = await line.dial(Number.VOICEMAIL)
        answered = await call.progress()
        started = time.monotonic()
        ended = await call.await_greeting_end()
        waited = time.monotonic() - started
        left = await call.say("Please call us back.", None)
        await call.hangup()
        return answered, waited, ended and left

    answered, waited, left = line.run(scenario())
    assert isinstance(answered, Answered)
    assert answered.by is AnsweredBy.MACHINE
    # The greeting lasts about 5 s; detection decides within it, the beep comes at its end.
    assert waited > 0.5
    assert left


def test_a_message_left_on_voicemail_starts_in_the_quiet_and_again_at_the_beep(line: Line) -> None:
    async def scenario() -> tuple[Answered | Failed, bool, int, MessageStarting | None]:
        call = await line.dial(Number.VOICEMAIL)
        answered = await call.progress()
        left = await call.leave_message("Please call us back.", None)
        await call.hangup()
        return answered, left, call.message_starts, call.message_starter

    answered, left, starts, starter = line.run(scenario())
    assert isinstance(answered, Answered)
    assert answered.by is AnsweredBy.MACHINE
    assert left  # played to its end from its last start
    assert starter is not None
    # The 300 ms of quiet before the beep started the message once (a beepless recorder would
    # have been recording by then); the beep stopped it, and its end started it for good.
    assert starts == len(starter.starts) >= 2
    assert [s.reason.split("-")[0] for s in starter.starts][-2:] == ["SILENCE", "BEEP"]
    assert starter.final


@pytest.mark.parametrize("number", [Number.FAX_CED, Number.FAX_CNG], ids=["ced", "cng"])
def test_fax_tones_are_a_fax(line: Line, number: Number) -> None:
    async def scenario() -> Answered | Failed:
        call = await line.dial(number)
        answered = await call.progress()
        await call.hangup()
        return answered

    answered = line.run(scenario())
    assert isinstance(answered, Answered)
    assert answered.by is AnsweredBy.FAX


def test_no_line_was_left_held(line: Line) -> None:
    network = line.network
    assert network.lines._value == network.settings.max_calls


@pytest.mark.parametrize(
    ("number", "outcome", "code"),
    [
        (Number.SIT_NO_CIRCUIT, Outcome.OVERFLOW, "NC"),
        (Number.SIT_NOT_IN_SERVICE, Outcome.UNOBTAINABLE, "IC"),
    ],
    ids=["congestion", "not-in-service"],
)
def test_special_information_tones_in_early_media_end_the_call(
    line: Line, number: Number, outcome: Outcome, code: str
) -> None:
    async def scenario() -> tuple[Answered | Failed, float]:
        started = time.monotonic()
        # The carrier never sends a final response: only the tones can end this call early.
        result = await (await line.dial(number, ring_seconds=30.0)).progress()
        return result, time.monotonic() - started

    result, took = line.run(scenario())
    assert isinstance(result, Failed)
    assert result.outcome is outcome
    assert result.cause.startswith(f"SIT {code}")
    assert took < 10


def test_a_transfer_hands_the_callee_over_with_a_refer(line: Line, carrier: SippCarrier) -> None:
    async def scenario() -> tuple[bool, bool, str]:
        call = await line.dial(Number.TRANSFERABLE)
        assert isinstance(await call.progress(), Answered)
        done = await call.transfer("+442071234567")
        ended = await call.hangup()
        return done, ended.by_callee, ended.cause

    done, by_callee, cause = line.run(scenario())
    assert done
    assert not by_callee, "a completed transfer is our doing, not the callee hanging up"
    assert cause == "transferred to +442071234567"
    line.run(asyncio.sleep(0.5))
    assert any("+442071234567" in refer_to for _, refer_to in carrier.refers())


def test_a_refused_transfer_keeps_the_call(line: Line) -> None:
    async def scenario() -> tuple[bool, bool]:
        call = await line.dial(Number.TRANSFER_TARGET_BUSY)
        assert isinstance(await call.progress(), Answered)
        done = await call.transfer("queue:Sales")
        still_up = await call.say("Sorry, nobody is free. Goodbye.", None)
        await call.hangup()
        return done, still_up

    assert line.run(scenario()) == (False, True)


def test_speech_that_fails_does_not_drop_the_call(line: Line) -> None:
    async def scenario() -> tuple[bool, bool]:
        call = await line.dial(Number.HUMAN)
        assert isinstance(await call.progress(), Answered)
        said = await call.say("Hello.", "xx-no-such-voice")
        return said, (await call.hangup()).by_callee

    assert line.run(scenario()) == (True, False)

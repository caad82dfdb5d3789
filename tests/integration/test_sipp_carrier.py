"""The SIPp fake carrier, proven with baresip-python itself (not the dialer's SIP driver).

baresip allows one live Runtime per process, and a Runtime belongs to the event loop it was
started on. So the module shares one loop and one Runtime, and each test drives its coroutine
on that loop with ``phone.run(...)``: no pytest-asyncio needed.
"""

import asyncio
import shutil
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import numpy as np
import pytest
from baresip import (
    Account,
    Call,
    CallBusy,
    CallDeclined,
    CallFailed,
    CallState,
    CallTimeout,
    Config,
    DigitEvent,
    Event,
    Runtime,
    StackEvent,
    TransferFailed,
    UserAgent,
)
from baresip.errors import AudioNotActive

from dialer.telephony.sit import SitDetector
from dialer.testing.sipp import (
    FAILURE_STATUS,
    INFO_NUMBERS,
    INSTALL_HINT,
    KEYS,
    RFC2833_NUMBERS,
    SCENARIOS,
    SIT_CODES,
    Number,
    SippCarrier,
)

pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None, reason=f"SIPp is not installed ({INSTALL_HINT})"
)

T = TypeVar("T")
RATE = 8000


class Phone:
    """One event loop, one Runtime and two trunk-style agents: keys by RTP and by INFO."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.runtime = Runtime()
        self.run(
            self.runtime.start(
                Config(net_interface="127.0.0.1", max_concurrent_calls=None, audio_driver="aumem")
            )
        )
        self.ua = self.run(self._agent("dialer", "rtpevent"))
        self.info_ua = self.run(self._agent("dialer-info", "info"))

    async def _agent(self, user: str, dtmf_mode: Any) -> UserAgent:
        account = Account(
            user=user, domain="127.0.0.1", password="", reg_interval=0, dtmf_mode=dtmf_mode
        )
        return await UserAgent.create(self.runtime, account)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.runtime.close())
        self.loop.close()


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    with SippCarrier(
        first_key_seconds=1.0, key_interval_seconds=2.0, hang_up_after_seconds=2.0
    ) as c:
        yield c


@pytest.fixture(scope="module")
def phone() -> Iterator[Phone]:
    p = Phone()
    yield p
    p.close()


async def answered(ua: UserAgent, uri: str) -> Call:
    call = await ua.dial(uri)
    await call.wait_established(10)
    return call


async def record(call: Call, seconds: float) -> np.ndarray[Any, np.dtype[np.int16]]:
    """What the far end sent, as 8 kHz samples, read as the dialer would: one frame at a time."""
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and call.state is CallState.ESTABLISHED:
        chunks.append(call.audio.read(65536))
        await asyncio.sleep(0.02)
    assert call.audio.info().rx_sample_rate == RATE
    return np.frombuffer(b"".join(chunks), dtype=np.int16)


async def hang_up(call: Call) -> None:
    if call.state is not CallState.CLOSED:
        await call.hangup()


def rms(pcm: np.ndarray[Any, Any]) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0


def tone_seconds(pcm: np.ndarray[Any, Any], hz: float) -> float:
    """Seconds of 50 ms windows whose strongest frequency is ``hz`` (within 25 Hz)."""
    window = RATE // 20
    found = 0
    for start in range(0, len(pcm) - window, window):
        frame = pcm[start : start + window].astype(np.float64)
        if rms(frame) < 500:
            continue
        spectrum = np.abs(np.fft.rfft(frame * np.hanning(window)))
        peak = float(np.fft.rfftfreq(window, 1 / RATE)[int(np.argmax(spectrum))])
        if abs(peak - hz) <= 25:
            found += 1
    return found * window / RATE


def test_the_plan_names_every_number() -> None:
    assert set(SCENARIOS) == {n.value for n in Number}
    assert all(n.value.startswith("+447700900") for n in Number)


@pytest.mark.parametrize("number", sorted(FAILURE_STATUS), ids=lambda n: n.name)
def test_failure_numbers_answer_their_status(
    phone: Phone, carrier: SippCarrier, number: Number
) -> None:
    async def scenario() -> CallFailed:
        call = await phone.ua.dial(carrier.uri(number))
        with pytest.raises(CallFailed) as caught:
            await call.wait_established(5)
        return caught.value

    failure = phone.run(scenario())
    assert failure.status == FAILURE_STATUS[number]
    if failure.status == 486:
        assert isinstance(failure, CallBusy)
    if failure.status == 603:
        assert isinstance(failure, CallDeclined)


def test_a_number_outside_the_plan_is_not_found(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> CallFailed:
        call = await phone.ua.dial(carrier.uri("+447700900999"))
        with pytest.raises(CallFailed) as caught:
            await call.wait_established(5)
        return caught.value

    failure = phone.run(scenario())
    assert (failure.status, failure.reason) == (404, "Not In Test Number Plan")


def test_no_response_times_out(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> None:
        call = await phone.ua.dial(carrier.uri(Number.NO_RESPONSE))
        with pytest.raises(CallTimeout):
            await call.wait_established(2)

    phone.run(scenario())
    sent_by_sipp = [m for m in carrier.messages() if m.direction == "S"]
    invites = [m for m in carrier.messages() if m.method == "INVITE"]
    assert invites
    assert not any(m.call_id == invites[-1].call_id for m in sent_by_sipp)


def test_ringing_forever_then_cancel(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> str:
        call = await phone.ua.dial(carrier.uri(Number.RINGS_FOREVER))
        ringing = asyncio.get_running_loop().create_future()

        def on_event(event: StackEvent) -> None:
            if event.event is Event.CALL_RINGING and not ringing.done():
                ringing.set_result(None)

        call.on(on_event)
        await asyncio.wait_for(ringing, 5)
        await call.hangup()
        with pytest.raises(CallFailed):
            await call.wait_established(5)
        assert call.call_id is not None
        return call.call_id

    call_id = phone.run(scenario())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        seen = [
            (m.direction, m.method or m.status) for m in carrier.messages() if m.call_id == call_id
        ]
        if ("R", "ACK") in seen:
            break
        time.sleep(0.05)
    assert ("R", "CANCEL") in seen
    assert ("S", 487) in seen, seen
    assert seen[-1] == ("R", "ACK")


def test_a_person_speaks_then_is_quiet(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> np.ndarray[Any, Any]:
        call = await answered(phone.ua, carrier.uri(Number.HUMAN))
        try:
            return await record(call, 2.5)
        finally:
            await hang_up(call)

    pcm = phone.run(scenario())
    assert len(pcm) > 2 * RATE
    assert rms(pcm[: RATE // 2 * 2]) > 1000  # "Hello?"
    assert rms(pcm[int(1.5 * RATE) :]) < 50  # then silence, still streamed


def test_silent_answers_with_silence(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> np.ndarray[Any, Any]:
        call = await answered(phone.ua, carrier.uri(Number.SILENT))
        try:
            return await record(call, 1.0)
        finally:
            await hang_up(call)

    pcm = phone.run(scenario())
    assert len(pcm) > RATE // 2
    assert rms(pcm) < 50


def test_a_person_who_hangs_up(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> float:
        call = await answered(phone.ua, carrier.uri(Number.HUMAN_HANGS_UP))
        started = time.monotonic()
        while call.state is not CallState.CLOSED and time.monotonic() - started < 6:
            await asyncio.sleep(0.05)
        assert call.state is CallState.CLOSED
        return time.monotonic() - started

    assert 1.5 < phone.run(scenario()) < 4


@pytest.mark.parametrize("number", sorted(RFC2833_NUMBERS | INFO_NUMBERS), ids=lambda n: n.name)
def test_keys_arrive(phone: Phone, carrier: SippCarrier, number: Number) -> None:
    if number in RFC2833_NUMBERS and not carrier.rfc2833:
        pytest.skip("RFC 2833 keys need SIPp to have a raw socket (CAP_NET_RAW)")

    async def scenario() -> list[DigitEvent]:
        call = await phone.ua.dial(carrier.uri(number))
        digits: list[DigitEvent] = []
        call.on_dtmf(digits.append)
        await call.wait_established(10)
        try:
            deadline = time.monotonic() + 4
            while not digits and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            await hang_up(call)
        return digits

    digits = phone.run(scenario())
    assert digits, "no key arrived"
    assert digits[0].digit == KEYS[number]
    assert 100 <= digits[0].duration_ms <= 400


def test_voicemail_greets_then_beeps(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> np.ndarray[Any, Any]:
        call = await answered(phone.ua, carrier.uri(Number.VOICEMAIL))
        try:
            return await record(call, 8.5)
        finally:
            await hang_up(call)

    pcm = phone.run(scenario())
    beep_at = next(
        start / RATE
        for start in range(0, len(pcm) - RATE // 10, RATE // 20)
        if tone_seconds(pcm[start : start + RATE // 10], 1000) > 0
    )
    assert 3.0 < beep_at < 8.0  # after a spoken greeting of several seconds
    assert rms(pcm[: int(beep_at * RATE)]) > 1000
    assert 0.25 <= tone_seconds(pcm, 1000) <= 0.5
    assert rms(pcm[int((beep_at + 0.6) * RATE) :]) < 50  # then it records in silence


@pytest.mark.parametrize(("number", "hz"), [(Number.FAX_CED, 2100), (Number.FAX_CNG, 1100)])
def test_fax_tones(phone: Phone, carrier: SippCarrier, number: Number, hz: int) -> None:
    async def scenario() -> np.ndarray[Any, Any]:
        call = await answered(phone.ua, carrier.uri(number))
        try:
            return await record(call, 2.0)
        finally:
            await hang_up(call)

    pcm = phone.run(scenario())
    assert tone_seconds(pcm, hz) >= 0.4


def test_keys_sent_by_info_reach_the_carrier(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> str:
        call = await answered(phone.info_ua, carrier.uri(Number.HUMAN))
        try:
            await call.send_dtmf("5")
            await asyncio.sleep(0.5)
        finally:
            await hang_up(call)
        assert call.call_id is not None
        return call.call_id

    call_id = phone.run(scenario())
    seen = [(m.direction, m.method) for m in carrier.messages() if m.call_id == call_id]
    assert ("R", "INFO") in seen


def sent_and_received(carrier: SippCarrier, call_id: str, last: tuple[str, Any]) -> list[Any]:
    """The call's messages as (direction, method or status), once ``last`` is the latest."""
    deadline = time.monotonic() + 3
    while True:
        seen = [
            (m.direction, m.method or m.status) for m in carrier.messages() if m.call_id == call_id
        ]
        if (seen and seen[-1] == last) or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


@pytest.mark.parametrize("number", sorted(SIT_CODES), ids=lambda n: n.name)
def test_early_media_carries_the_sit(phone: Phone, carrier: SippCarrier, number: Number) -> None:
    async def scenario() -> tuple[str | None, int, str]:
        call = await phone.ua.dial(carrier.uri(number))
        progress = asyncio.get_running_loop().create_future()

        def on_event(event: StackEvent) -> None:
            if event.event is Event.CALL_PROGRESS and not progress.done():
                progress.set_result(None)

        call.on(on_event)
        await asyncio.wait_for(progress, 5)  # only a 1xx with SDP is PROGRESS, not RINGING
        detector = SitDetector()
        heard = 0
        deadline = time.monotonic() + 3
        try:
            while detector.result is None and time.monotonic() < deadline:
                assert call.state is CallState.OUTGOING  # never answered: this is early media
                try:
                    pcm = call.audio.read(65536)
                except AudioNotActive:
                    pcm = b""  # the receive tap may lag the PROGRESS event by a moment
                heard += len(pcm)
                detector.feed(pcm)
                await asyncio.sleep(0.02)
        finally:
            await call.hangup()  # before an answer: a CANCEL
        with pytest.raises(CallFailed):
            await call.wait_established(5)
        assert call.call_id is not None
        return detector.result, heard, call.call_id

    code, heard, call_id = phone.run(scenario())
    assert code == SIT_CODES[number], f"{heard} bytes of early media"
    seen = sent_and_received(carrier, call_id, ("R", "ACK"))
    assert seen[:2] == [("R", "INVITE"), ("S", 183)]
    assert ("S", 200) not in seen[:3]  # no answer before the CANCEL
    assert ("R", "CANCEL") in seen
    assert ("S", 487) in seen, seen


def transfer_target(carrier: SippCarrier) -> str:
    return f"sip:+442071234567@{carrier.host}:{carrier.port}"


def test_a_blind_transfer_completes(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> str:
        call = await answered(phone.ua, carrier.uri(Number.TRANSFERABLE))
        try:
            # At once: the REFER follows the ACK within a millisecond, which SIPp must expect.
            await call.transfer(transfer_target(carrier), timeout=5)
            assert call.state is CallState.CLOSED  # the transfer ends our leg
        finally:
            await hang_up(call)
        assert call.call_id is not None
        return call.call_id

    call_id = phone.run(scenario())
    seen = sent_and_received(carrier, call_id, ("S", 200))
    assert seen[4:] == [
        ("R", "REFER"),
        ("S", 202),
        ("S", "NOTIFY"),
        ("R", 200),
        ("R", "BYE"),
        ("S", 200),
    ], seen
    refer_to = dict(carrier.refers())[call_id]
    assert transfer_target(carrier) in refer_to


def test_a_failed_transfer_keeps_the_call(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> str:
        call = await answered(phone.ua, carrier.uri(Number.TRANSFER_TARGET_BUSY))
        try:
            assert rms((await record(call, 1.0))[: RATE // 2]) > 1000  # "Hello?"
            with pytest.raises(TransferFailed) as caught:
                await call.transfer(transfer_target(carrier), timeout=5)
            assert caught.value.status == 486
            await asyncio.sleep(0.3)
            assert call.state is CallState.ESTABLISHED  # still talking to the callee
        finally:
            await hang_up(call)
        assert call.call_id is not None
        return call.call_id

    call_id = phone.run(scenario())
    seen = sent_and_received(carrier, call_id, ("S", 200))
    assert seen[4:8] == [("R", "REFER"), ("S", 202), ("S", "NOTIFY"), ("R", 200)], seen
    assert seen[-2:] == [("R", "BYE"), ("S", 200)], seen
    assert transfer_target(carrier) in dict(carrier.refers())[call_id]


def test_no_call_went_wrong(carrier: SippCarrier) -> None:
    # Last in the module: every scenario above ran as the plan says, with nothing unexpected.
    time.sleep(1.5)
    assert carrier.stats().failed == 0, carrier.errors()


def test_stats_count_the_calls(phone: Phone, carrier: SippCarrier) -> None:
    async def scenario() -> None:
        for _ in range(3):
            call = await phone.ua.dial(carrier.uri(Number.BUSY))
            with pytest.raises(CallBusy):
                await call.wait_established(5)

    # SIPp writes its statistics once a second: let earlier calls settle first.
    time.sleep(1.5)
    before = carrier.stats()
    phone.run(scenario())
    time.sleep(1.5)
    after = carrier.stats()
    assert after.calls - before.calls == 3
    assert after.successful - before.successful == 3
    assert after.failed == before.failed, carrier.errors()

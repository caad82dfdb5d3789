"""The bind under trouble: a connection dropped mid-burst, throttling, idle links, refused
binds. Time is the virtual loop's: rates and back-offs are counted in its seconds."""

import asyncio
import itertools
import logging
from collections import Counter
from datetime import timedelta

import pytest

from dialer.clocks import VirtualTimer
from dialer.domain.sms import SmppBindMode, SubmitResult, SubmitStatus
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.smpp import SmppProvider, pdu
from dialer.testing.smpp_server import SmppTestServer
from tests.integration.smpp_support import PASSWORD, START, Reports, Rig, run, settings, sms


async def _burst(rig: Rig, count: int) -> list[SubmitResult]:
    return list(
        await asyncio.gather(
            *(rig.provider.submit(sms(n, f"Burst text {n}")) for n in range(count))
        )
    )


def test_a_bind_dropped_before_a_resp_leaves_that_submit_unknown_and_the_rest_retry() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.drop_after(4, before_resp=True)
        results = await _burst(rig, 10)
        statuses = [r.status for r in results]
        assert statuses[:3] == [SubmitStatus.ACCEPTED] * 3
        assert statuses[3] is SubmitStatus.UNKNOWN  # the server has it, unacknowledged
        assert statuses[4:] == [SubmitStatus.RETRY] * 6  # never written
        assert "connection lost" in results[4].reason

        # the provider binds again by itself; the outbox resends only the RETRY ones
        await rig.until(lambda: rig.provider.binds == 2)
        for n in range(4, 10):
            again = await rig.provider.submit(sms(n, f"Burst text {n}"))
            assert again.status is SubmitStatus.ACCEPTED

        sent = Counter(m.text for m in rig.server.messages)
        assert sent == Counter(f"Burst text {n}" for n in range(10))  # nothing twice

        # the unknown one's receipt comes on the new bind, with what it takes to match it
        await rig.until(lambda: len(rig.reports.receipts) == 10)
        known = {i for r in results for i in r.provider_ids}
        unmatched = [r for r in rig.reports.receipts if r.provider_id not in known]
        lost = sms(3, "Burst text 3")
        assert any(r.recipient == lost.to and r.text_prefix == lost.text for r in unmatched)

    run(scenario)


def test_a_bind_dropped_after_a_resp_loses_nothing_and_leaves_nothing_unknown() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.drop_after(4, before_resp=False)
        results = await _burst(rig, 10)
        assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 4 + [SubmitStatus.RETRY] * 6
        assert len(rig.server.parts) == 4

    run(scenario)


def test_reconnects_back_off_doubling_to_the_maximum_and_reset_after_a_bind() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.refuse_binds = pdu.ESME_RBINDFAIL
        rig.server.drop()
        lost = rig.timer.now()
        await rig.until(lambda: len(rig.server.bind_times) == 7, seconds=200)
        attempts = [lost, *rig.server.bind_times[1:]]
        gaps = [round((b - a).total_seconds()) for a, b in itertools.pairwise(attempts)]
        assert gaps == [1, 2, 4, 8, 8, 8]  # reconnect_min 1 doubling, reconnect_max 8
        result = await rig.provider.submit(sms(1, "Hello"))
        assert result.status is SubmitStatus.RETRY
        assert "ESME_RBINDFAIL (0x0d)" in result.reason

        rig.server.refuse_binds = None
        await rig.until(lambda: rig.provider.binds == 2, seconds=20)
        rig.server.drop()
        dropped = rig.timer.now()
        await rig.until(lambda: rig.provider.binds == 3)
        assert rig.server.bind_times[-1] - dropped < timedelta(seconds=1.5)  # min again

    run(scenario)


def test_a_refused_bind_is_retry_and_the_password_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(sms(1, "Hello"))
        assert result.status is SubmitStatus.RETRY
        assert result.reason == "not bound (bind refused: ESME_RINVPASWD (0x0e))"
        assert rig.server.bind_attempts[0] == ("dialer", pdu.ESME_RINVPASWD)
        assert rig.server.parts == []

    run(scenario, bind=False, server_password="other-pw")
    assert "bind refused: ESME_RINVPASWD" in caplog.text
    assert PASSWORD not in caplog.text
    assert "other-pw" not in caplog.text


def test_throttling_slows_the_bind_down_and_it_recovers() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.throttle_next(3)
        pending = [sms(n, f"Throttled {n}") for n in range(60)]
        retries = 0
        while pending:
            results = await asyncio.gather(*(rig.provider.submit(m) for m in pending))
            again = [
                m for m, r in zip(pending, results, strict=True) if r.status is SubmitStatus.RETRY
            ]
            assert all(r.status is not SubmitStatus.RETRY or r.retry_after for r in results)
            retries += len(again)
            pending = again
        assert retries == 3
        assert len(rig.server.messages) == 60
        per_second = Counter(int((t - START).total_seconds()) for t in rig.server.submit_times)
        seconds = [per_second.get(s, 0) for s in range(max(per_second) + 1)]
        assert max(seconds) <= 11  # never above the configured 10 parts/s
        assert seconds[1] <= 3  # right after three refusals: 10 -> 1.25 parts/s
        assert max(seconds[len(seconds) // 2 :]) >= 5  # climbing back towards 10
        assert rig.provider.rate.rate > rig.provider.rate.configured / 8

    run(scenario)


def test_an_idle_bind_sends_enquire_link_and_answers_the_servers() -> None:
    async def scenario(rig: Rig) -> None:
        await rig.idle(95)
        assert rig.server.enquire_links == 3  # at 30, 60 and 90 idle seconds
        assert await rig.server.enquire_link()
        assert rig.provider.binds == 1

    run(scenario)


def test_a_transmitter_bind_sends_texts() -> None:
    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(sms(1, "Hello"))
        assert result.status is SubmitStatus.ACCEPTED
        assert rig.server.bind_attempts == [("dialer", pdu.ESME_ROK)]

    run(scenario, bind_mode=SmppBindMode.TRANSMITTER)


def test_a_submit_without_an_answer_is_unknown_and_a_silent_link_is_rebound() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.silent = True
        result = await rig.provider.submit(sms(1, "Hello"))
        assert result.status is SubmitStatus.UNKNOWN
        assert result.reason == "no response in 5s"
        # 30 s without hearing from the server: enquire_link, unanswered for 5 s, rebind
        await rig.until(lambda: rig.provider.binds == 2, seconds=60)
        assert rig.server.bind_times[-1] - START >= timedelta(seconds=35)
        rig.server.silent = False
        assert (await rig.provider.submit(sms(2, "Hello"))).status is SubmitStatus.ACCEPTED

    run(scenario)


def test_a_later_part_refused_for_now_is_sent_again_and_not_doubled() -> None:
    long = "Part of a long text. " * 20  # three parts

    async def scenario(rig: Rig) -> None:
        rig.server.throttle_next(1, after=1)  # the second part is throttled once
        result = await rig.provider.submit(sms(1, long))
        assert result.status is SubmitStatus.ACCEPTED
        assert len(result.provider_ids) == result.parts == 3
        assert len(rig.server.parts) == 3
        assert [m.text for m in rig.server.messages] == [long]

    run(scenario)


def test_a_long_text_cut_by_a_lost_connection_is_unknown_with_the_parts_taken() -> None:
    long = "Part of a long text. " * 20

    async def scenario(rig: Rig) -> None:
        rig.server.drop_after(2, before_resp=True)
        result = await rig.provider.submit(sms(1, long))
        assert result.status is SubmitStatus.UNKNOWN  # resending would double part one
        assert len(result.provider_ids) == 1
        assert result.reason.startswith("part 2 of 3:")

    run(scenario)


def test_a_timer_whose_waits_do_not_pass_is_refused() -> None:
    with pytest.raises(ValueError, match="waits pass"):
        SmppProvider(settings(2775), VirtualTimer(START))


def test_the_providers_repr_and_results_hold_no_password() -> None:
    async def scenario(rig: Rig) -> None:
        assert PASSWORD not in repr(rig.provider)
        result = await rig.provider.submit(sms(1, "Hello"))
        assert PASSWORD not in repr(result)

    run(scenario)


def test_an_smsc_that_cannot_be_reached_makes_submits_retry() -> None:
    timer = LoopTimer(VirtualTimeLoop(), START)

    async def main() -> None:
        gone = SmppTestServer("dialer", PASSWORD, clock=timer)
        await gone.start()
        port = gone.port
        await gone.close()  # nothing listens there any more
        provider = SmppProvider(settings(port), timer)
        await provider.start(Reports())
        try:
            result = await provider.submit(sms(1, "Hello"))
        finally:
            await provider.close()
        assert result.status is SubmitStatus.RETRY
        assert result.reason.startswith("not bound (cannot connect: ")
        assert provider.binds == 0

    timer.run(main())


def test_an_unbind_from_the_smsc_is_answered_and_the_provider_binds_again() -> None:
    async def scenario(rig: Rig) -> None:
        assert await rig.server.unbind()
        await rig.until(lambda: rig.provider.binds == 2)
        assert (await rig.provider.submit(sms(1, "Hello"))).status is SubmitStatus.ACCEPTED

    run(scenario)


def test_no_more_than_the_window_of_submits_waits_for_answers() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.silent = True
        burst = asyncio.gather(*(rig.provider.submit(sms(n, "Hello")) for n in range(5)))
        await rig.idle(2)
        assert len(rig.server.submit_times) == 3  # the window; the others wait for a slot
        results = await burst
        assert [r.status for r in results] == [SubmitStatus.UNKNOWN] * 5
        assert len(rig.server.submit_times) == 5

    run(scenario, window=3)


def test_a_full_queue_at_the_smsc_is_retry_and_slows_the_bind() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.throttle_next(1, status=pdu.ESME_RMSGQFUL)
        result = await rig.provider.submit(sms(1, "Hello"))
        assert result.status is SubmitStatus.RETRY
        assert result.reason == "ESME_RMSGQFUL (0x14)"
        assert rig.provider.rate.rate == 5.0
        assert result.retry_after == pytest.approx(0.2)

    run(scenario)


def test_a_successful_bind_and_burst_log_no_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario(rig: Rig) -> None:
        await _burst(rig, 5)
        await rig.server.unbind()
        await rig.until(lambda: rig.provider.binds == 2)

    run(scenario)
    assert "bound to 127.0.0.1" in caplog.text
    assert PASSWORD not in caplog.text

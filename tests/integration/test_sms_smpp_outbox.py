"""The SMS outbox's sender through an SMPP bind to the test SMSC, on a real SQLite file and
PostgreSQL: a bind dropped mid-burst (before and after a submit_sm_resp) loses no text and
sends none twice; ESME_RTHROTTLED slows the sender without failing texts. The loop's clock is
virtual (smpp_support), so the 10-minute grace of a text in doubt takes no real time."""

import asyncio
import dataclasses
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from dialer.bootstrap import Container
from dialer.domain.ids import CampaignId
from dialer.domain.sms_outbox import SmsRecord, SmsStatus, SmsText
from dialer.engine.sms_outbox import SmsProviders, SmsSender
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.smpp import SmppProvider, pdu
from dialer.testing.smpp_server import SmppTestServer
from tests.contract import support
from tests.integration.smpp_support import PASSWORD, settings

START = support.T0 + timedelta(minutes=1)
CLI = "+441632960000"
COUNT = 8


def words(i: int) -> str:
    # distinct in their first 20 characters: what an SMPP receipt quotes
    return f"Reminder {i:02d}: your visit is tomorrow at 10:00. Reply STOP to opt out."


@dataclass
class Outbox:
    timer: LoopTimer
    server: SmppTestServer
    provider: SmppProvider
    store: Container
    campaign: CampaignId
    sender: SmsSender

    def statuses(self) -> list[SmsStatus]:
        with self.store.store.read() as session:
            rows = session.results.attempt_results(self.campaign, None, 100)
        return [text.status for row in rows for text in row.sms]

    def settled(self) -> bool:
        return all(s in (SmsStatus.DELIVERED, SmsStatus.FAILED) for s in self.statuses())

    async def until(self, condition: Callable[[], bool], seconds: float = 3600.0) -> None:
        deadline = self.timer.now() + timedelta(seconds=seconds)
        while not condition():
            assert self.timer.now() < deadline, "the condition never held"
            await self.timer.sleep_until(self.timer.now() + timedelta(seconds=0.5))

    def sent_at_smsc(self) -> Counter[tuple[str, str]]:
        return Counter((m.destination, m.text) for m in self.server.messages)


def queue_texts(container: Container, count: int, text: Callable[[int], str] = words) -> CampaignId:
    """``count`` attempts of a new campaign, each recorded with one text queued."""
    acct = support.account(container.store)
    cid = support.campaign(container.store, acct, support.numbers(count))
    done = []
    for i, job in enumerate(support.claim(container.store, cid)):
        attempt = support.finished(job, acct)
        assert job.e164 is not None
        record = dataclasses.replace(
            attempt.record, sms_sent=True, texts=(SmsText(job.e164, CLI, text(i)),)
        )
        done.append(dataclasses.replace(attempt, record=record))
    support.finish(container.store, done)
    return cid


def run_outbox(
    container: Container,
    scenario: Callable[[Outbox], Awaitable[None]],
    *,
    count: int = COUNT,
    running: bool = True,
    server_options: dict[str, Any] | None = None,
    text: Callable[[int], str] = words,
    **setting_changes: Any,
) -> None:
    """The test SMSC, a provider bound to it and the outbox's sender (running, unless
    ``running`` is False), all on one virtual-time loop; the store calls run inline on it."""
    cid = queue_texts(container, count, text)
    timer = LoopTimer(VirtualTimeLoop(), START)

    async def main() -> None:
        server = SmppTestServer("dialer", PASSWORD, clock=timer, **(server_options or {}))
        await server.start()
        provider = SmppProvider(settings(server.port, **setting_changes), timer)
        sender = SmsSender(container.store, timer, SmsProviders(provider))
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop)) if running else None
        try:
            await scenario(Outbox(timer, server, provider, container, cid, sender))
        finally:
            stop.set()
            if task is not None:
                await task
            await server.close()

    timer.run(main())


def expected() -> Counter[tuple[str, str]]:
    return Counter((support.e164(i)[1:], words(i)) for i in range(COUNT))


@pytest.mark.parametrize("before_resp", [True, False], ids=["before-resp", "after-resp"])
def test_a_bind_dropped_mid_burst_loses_no_text_and_sends_none_twice(
    container: Container, before_resp: bool
) -> None:
    async def scenario(outbox: Outbox) -> None:
        outbox.server.drop_after(3, before_resp=before_resp)
        await outbox.until(outbox.settled)

        assert outbox.provider.binds == 2
        assert outbox.sent_at_smsc() == expected()  # every text once at the SMSC
        assert outbox.statuses() == [SmsStatus.DELIVERED] * COUNT
        (third,) = [p for p in outbox.server.parts if p.text == words(2)]
        assert third.answered is not before_resp

    run_outbox(container, scenario)


def test_the_text_in_doubt_is_settled_by_its_receipt_not_sent_again(
    container: Container,
) -> None:
    async def scenario(outbox: Outbox) -> None:
        outbox.server.drop_after(3, before_resp=True)
        await outbox.until(outbox.settled)

        (doubt,) = [p for p in outbox.server.parts if not p.answered]
        with outbox.store.store.read() as session:
            rows = session.results.attempt_results(outbox.campaign, None, 100)
        (text,) = [t for row in rows for t in row.sms if doubt.message_id in t.provider_ids]
        # matched by recipient and text prefix on the new bind: the SMSC's id, delivered
        assert (text.status, text.provider_ids) == (SmsStatus.DELIVERED, (doubt.message_id,))
        assert Counter(p.text for p in outbox.server.parts)[doubt.text] == 1
        # well inside the 10-minute grace: the receipt came on the rebind, no resend waited
        assert outbox.timer.now() - START < timedelta(minutes=10)

    run_outbox(container, scenario)


def test_a_throttled_burst_slows_the_sender_and_fails_no_text(container: Container) -> None:
    async def scenario(outbox: Outbox) -> None:
        outbox.server.throttle_next(3, after=2)
        await outbox.until(outbox.settled)

        assert outbox.sent_at_smsc() == expected()
        assert outbox.statuses() == [SmsStatus.DELIVERED] * COUNT
        refused = len(outbox.server.submit_times) - COUNT
        assert refused == 3
        # the bind's rate was halved per refusal and the sender paused for it
        assert outbox.provider.rate.rate < outbox.provider.rate.configured
        times = outbox.server.submit_times
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) >= timedelta(seconds=1)  # 10/s would be 0.1 s apart

    run_outbox(container, scenario)


def test_a_run_to_the_end_waits_for_late_receipts(container: Container) -> None:
    async def scenario(outbox: Outbox) -> None:
        await outbox.sender.drain()
        assert outbox.statuses() == [SmsStatus.DELIVERED] * COUNT

    # receipts 3 s after each submit, inside the provider's 5 s response timeout
    run_outbox(container, scenario, running=False, server_options={"receipt_delay": 3.0})


def test_a_run_to_the_end_does_not_wait_for_receipts_that_came_before_their_resp(
    container: Container,
) -> None:
    async def scenario(outbox: Outbox) -> None:
        outbox.server.receipt_before_resp = True
        await outbox.sender.drain()
        assert outbox.statuses() == [SmsStatus.DELIVERED] * COUNT
        # it stopped once every receipt was in, not a response timeout (5 s) after
        assert outbox.timer.now() - START < timedelta(seconds=5)

    run_outbox(container, scenario, running=False)


# A long text cut mid-way by a dropped bind (docs/sms.md, "A long text cut mid-way").
LONG = "Your delivery is booked. " * 8  # 200 GSM characters: two parts, 153 + 47


def long_text(i: int) -> str:
    return LONG


def the_text(outbox: Outbox) -> SmsRecord:
    with outbox.store.store.read() as session:
        (row,) = session.results.attempt_results(outbox.campaign, None, 100)
    (text,) = row.sms
    return text


def test_a_long_text_whose_part_2_was_taken_unanswered_is_delivered_as_two_parts(
    container: Container,
) -> None:
    async def scenario(outbox: Outbox) -> None:
        outbox.server.drop_after(2, before_resp=True)  # part 2 taken, its resp never written
        await outbox.until(outbox.settled)

        text = the_text(outbox)
        parts = outbox.server.parts
        assert [p.answered for p in parts] == [True, False]  # each part once: none resent
        assert (text.status, text.parts, text.provider_ids) == (
            SmsStatus.DELIVERED,
            2,
            tuple(p.message_id for p in parts),
        )
        assert outbox.sent_at_smsc() == Counter({(support.e164(0)[1:], LONG): 1})

    run_outbox(container, scenario, count=1, text=long_text)


def test_a_long_text_whose_part_2_never_reached_the_smsc_is_not_delivered_nor_resent(
    container: Container,
) -> None:
    async def scenario(outbox: Outbox) -> None:
        # part 1 answered, then the bind drops and the carrier refuses binds for a while
        outbox.server.drop_after(1, before_resp=False, then_refuse_binds=pdu.ESME_RBINDFAIL)
        await outbox.until(lambda: the_text(outbox).status is SmsStatus.UNKNOWN)
        outbox.server.refuse_binds = None  # part 1's receipt comes on the rebind
        await outbox.until(outbox.settled)

        text = the_text(outbox)
        (part1,) = outbox.server.parts  # part 1 once, part 2 never: nothing resent
        assert (text.status, text.parts, text.provider_ids) == (
            SmsStatus.FAILED,
            2,
            (part1.message_id,),
        )
        assert text.reason.startswith("part 2 of 2 in doubt")
        assert outbox.timer.now() - START >= timedelta(minutes=10)  # after the grace only

    run_outbox(container, scenario, count=1, text=long_text)


def test_a_long_text_whose_part_1_was_taken_unanswered_is_not_shrunk_to_one_part(
    container: Container,
) -> None:
    async def scenario(outbox: Outbox) -> None:
        outbox.server.drop_after(1, before_resp=True)  # part 1 taken, part 2 never sent
        await outbox.until(outbox.settled)

        text = the_text(outbox)
        (part1,) = outbox.server.parts
        assert (text.status, text.parts, text.provider_ids) == (
            SmsStatus.FAILED,
            2,
            (part1.message_id,),
        )
        assert text.reason.startswith("part 2 of 2 in doubt")

    run_outbox(container, scenario, count=1, text=long_text)

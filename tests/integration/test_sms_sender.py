"""The SMS outbox's sender (engine/sms_outbox.py) on a real SQLite file and PostgreSQL: each
provider answer, receipts before the answer, lost answers, throttling, opt-out texts."""

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.attempt import AttemptResult
from dialer.domain.events import Recording, SmsSent
from dialer.domain.ids import CampaignId
from dialer.domain.sms import (
    DeliveryReport,
    DeliveryState,
    InboundSms,
    OutboundSms,
    SubmitResult,
    SubmitStatus,
)
from dialer.domain.sms_outbox import PREFIX_LENGTH, UNKNOWN_GRACE, SmsStatus, SmsText
from dialer.engine.sms_outbox import OutboxReports, SmsProviders, SmsSender
from dialer.ports.sms import SmsReports
from dialer.telephony.sim_network import SMS_REJECTING_NUMBER
from dialer.telephony.sms import SimulatedSmsGateway, UnconfiguredSms
from tests.contract import support

TEXT = "Sorry we missed you: call 0161 496 0000 to rebook."


class ScriptedProvider:
    """A provider whose answers the test sets, one per submit; it can hand a receipt over
    before its answer returns, as a fast carrier does."""

    name = "scripted"

    def __init__(self, clock: ManualClock, answers: list[SubmitResult]) -> None:
        self.clock = clock
        self.answers = answers
        self.sent: list[OutboundSms] = []
        self.reports: SmsReports | None = None
        self.receipt_first = False

    async def start(self, reports: SmsReports) -> None:
        self.reports = reports

    async def submit(self, message: OutboundSms) -> SubmitResult:
        self.sent.append(message)
        answer = self.answers.pop(0)
        if self.receipt_first and self.reports is not None:
            for pid in answer.provider_ids:
                report = DeliveryReport(pid, DeliveryState.DELIVERED, self.clock.now())
                await self.reports.delivery_report(report)
        return answer

    async def close(self) -> None:
        pass


@pytest.fixture
def queued(container: Container) -> tuple[support.Account, CampaignId]:
    """One attempt of a new campaign, recorded with one text queued."""
    acct = support.account(container.store)
    cid = support.campaign(container.store, acct, support.numbers(1))
    (job,) = support.claim(container.store, cid)
    attempt = support.finished(job, acct)
    assert job.e164 is not None
    texts = (SmsText(job.e164, "+441632960000", TEXT),)
    record = dataclasses.replace(attempt.record, sms_sent=True, texts=texts)
    support.finish(container.store, [dataclasses.replace(attempt, record=record)])
    return acct, cid


def sender(container: Container, clock: ManualClock, provider: object) -> SmsSender:
    return SmsSender(container.store, clock, SmsProviders(provider))  # type: ignore[arg-type]


def texts(container: Container, cid: CampaignId) -> list[AttemptResult]:
    with container.store.read() as s:
        return s.results.attempt_results(cid, None, 10)


def status(container: Container, cid: CampaignId) -> tuple[SmsStatus, str]:
    (result,) = texts(container, cid)
    (sms,) = result.sms
    return sms.status, sms.reason


def test_the_simulated_provider_sends_and_reports_delivery(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    events = Recording()
    outbox = sender(container, clock, SimulatedSmsGateway(clock, events))
    asyncio.run(outbox.drain())
    (sent,) = events.of(SmsSent)
    assert (sent.to, sent.text) == (support.e164(0), TEXT)
    ((sms,),) = [r.sms for r in texts(container, cid)]
    assert (sms.status, sms.parts, sms.provider) == (SmsStatus.DELIVERED, 1, "sim")


def test_a_receipt_that_comes_before_the_answer_still_delivers(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    provider = ScriptedProvider(clock, [SubmitResult(SubmitStatus.ACCEPTED, ("p1", "p2"), 2)])
    provider.receipt_first = True
    asyncio.run(sender(container, clock, provider).run_once())
    assert status(container, cid) == (SmsStatus.DELIVERED, "")


def test_a_refusal_is_final_with_the_providers_words(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    refused = SubmitResult(SubmitStatus.FAILED, reason="ESME_RINVDSTADR (0x0B)")
    provider = ScriptedProvider(clock, [refused])
    outbox = sender(container, clock, provider)
    asyncio.run(outbox.run_once())
    clock.advance(timedelta(days=1))
    assert asyncio.run(outbox.run_once()) == 0
    assert status(container, cid) == (SmsStatus.FAILED, "ESME_RINVDSTADR (0x0B)")
    assert len(provider.sent) == 1


def test_a_throttled_provider_is_waited_for_then_takes_the_text(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    throttled = SubmitResult(SubmitStatus.RETRY, reason="ESME_RTHROTTLED (0x58)", retry_after=30)
    provider = ScriptedProvider(clock, [throttled, SubmitResult(SubmitStatus.ACCEPTED, ("a",))])
    outbox = sender(container, clock, provider)
    asyncio.run(outbox.run_once())
    assert status(container, cid) == (SmsStatus.QUEUED, "ESME_RTHROTTLED (0x58)")
    clock.advance(timedelta(seconds=29))
    assert asyncio.run(outbox.run_once()) == 0  # not before the provider said
    clock.advance(timedelta(seconds=1))
    assert asyncio.run(outbox.run_once()) == 1
    assert status(container, cid) == (SmsStatus.SENT, "")
    assert len(provider.sent) == 2


def test_a_lost_answer_with_a_receipt_in_the_grace_is_not_sent_again(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    lost = SubmitResult(SubmitStatus.UNKNOWN, reason="connection lost")
    provider = ScriptedProvider(clock, [lost])
    outbox = sender(container, clock, provider)
    asyncio.run(outbox.run_once())
    assert status(container, cid) == (SmsStatus.UNKNOWN, "connection lost")
    # The carrier did take it: its receipt names the recipient and the text's start.
    reports = OutboxReports(container.store, clock, None)
    report = DeliveryReport(
        "c-9",
        DeliveryState.DELIVERED,
        clock.now(),
        recipient=support.e164(0),
        text_prefix=TEXT[:PREFIX_LENGTH],
    )
    asyncio.run(reports.delivery_report(report))
    clock.advance(UNKNOWN_GRACE)
    assert asyncio.run(outbox.run_once()) == 0
    assert status(container, cid) == (SmsStatus.DELIVERED, "")
    assert len(provider.sent) == 1


def test_a_lost_answer_with_no_receipt_is_sent_again_after_the_grace(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    lost = SubmitResult(SubmitStatus.UNKNOWN, reason="connection lost")
    provider = ScriptedProvider(clock, [lost, SubmitResult(SubmitStatus.ACCEPTED, ("n-1",))])
    outbox = sender(container, clock, provider)
    asyncio.run(outbox.run_once())
    clock.advance(UNKNOWN_GRACE - timedelta(seconds=1))
    assert asyncio.run(outbox.run_once()) == 0
    clock.advance(timedelta(seconds=1))
    assert asyncio.run(outbox.run_once()) == 1
    assert status(container, cid) == (SmsStatus.SENT, "")
    # The same id of ours both times: a provider that de-duplicates can.
    assert [m.message_id for m in provider.sent] == [provider.sent[0].message_id] * 2


def test_a_text_no_provider_takes_in_a_day_fails(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    busy = SubmitResult(SubmitStatus.RETRY, reason="no bind")
    provider = ScriptedProvider(clock, [busy] * 300)
    outbox = sender(container, clock, provider)
    for _ in range(200):
        asyncio.run(outbox.run_once())
        clock.advance(timedelta(minutes=10))
    got, reason = status(container, cid)
    assert got is SmsStatus.FAILED
    assert reason.startswith("expired")


def test_the_simulated_network_rejects_its_test_number(
    container: Container, clock: ManualClock
) -> None:
    acct = support.account(container.store)
    cid = support.campaign(container.store, acct, support.numbers(1))
    (job,) = support.claim(container.store, cid)
    attempt = support.finished(job, acct)
    record = dataclasses.replace(
        attempt.record, sms_sent=True, texts=(SmsText(SMS_REJECTING_NUMBER, "Clinic", TEXT),)
    )
    support.finish(container.store, [dataclasses.replace(attempt, record=record)])
    asyncio.run(sender(container, clock, SimulatedSmsGateway(clock)).drain())
    assert status(container, cid) == (SmsStatus.FAILED, "rejected by the simulated network")


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop all ", "UNSUBSCRIBE", "cancel", "End.", "quit"]
)
def test_an_opt_out_word_puts_the_number_on_the_texting_tenants_dnc(
    container: Container,
    clock: ManualClock,
    queued: tuple[support.Account, CampaignId],
    word: str,
) -> None:
    acct, _ = queued
    other = support.account(container.store, "Globex")
    reports = OutboxReports(container.store, clock, None)
    person = support.e164(0)
    asyncio.run(reports.inbound(InboundSms(person, "+441632960000", word, clock.now())))
    with container.store.read() as s:
        assert s.dnc.dnc_listed(acct.tenant_id, [person]) == {person}
        assert s.dnc.dnc_listed(other.tenant_id, [person]) == set()


def test_other_inbound_texts_change_nothing(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    acct, _ = queued
    reports = OutboxReports(container.store, clock, None)
    person = support.e164(0)
    for text in ("Stop calling me at work", "yes", "STOPP"):
        asyncio.run(reports.inbound(InboundSms(person, "+441632960000", text, clock.now())))
    with container.store.read() as s:
        assert s.dnc.dnc_listed(acct.tenant_id, [person]) == set()


def test_a_tenants_sender_id_replaces_the_caller_id(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    provider = ScriptedProvider(clock, [SubmitResult(SubmitStatus.ACCEPTED, ("x",))])
    providers = SmsProviders(provider, lambda _: None, lambda _: "ACME")  # type: ignore[arg-type]
    asyncio.run(SmsSender(container.store, clock, providers).run_once())
    assert [(m.sender, m.text) for m in provider.sent] == [("ACME", TEXT)]


def test_with_no_provider_on_a_real_network_texts_fail_saying_why(
    container: Container, clock: ManualClock, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    asyncio.run(sender(container, clock, UnconfiguredSms()).run_once())
    got, reason = status(container, cid)
    assert got is SmsStatus.FAILED
    assert reason.startswith("no SMS provider")

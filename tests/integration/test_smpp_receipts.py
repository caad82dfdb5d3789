"""What comes back over the bind: delivery receipts, matched to what was sent even when they
overtake the submit_sm_resp, and texts people send (STOP)."""

import asyncio

from dialer.domain.sms import DeliveryReport, DeliveryState, InboundSms, SubmitStatus
from dialer.telephony.smpp import pdu
from tests.integration.smpp_support import Reports, Rig, run, sms


def test_a_receipt_carries_the_provider_id_state_recipient_and_text_prefix() -> None:
    message = sms(7, "Your table for four is booked for 8pm on Friday.")

    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(message)
        submitted = rig.timer.now()
        assert rig.reports.receipts == []  # the server waits 5 virtual seconds
        await rig.until(lambda: len(rig.reports.receipts) == 1)
        [receipt] = rig.reports.receipts
        assert receipt.provider_id == result.provider_ids[0]
        assert receipt.state is DeliveryState.DELIVERED
        assert receipt.recipient == message.to
        assert receipt.text_prefix == message.text[:20]
        assert receipt.error == ""
        assert abs((receipt.at - submitted).total_seconds() - 5.0) < 0.1
        await rig.until(lambda: rig.server.receipt_answers == [pdu.ESME_ROK])

    run(scenario, server_options={"receipt_delay": 5.0})


def test_an_undeliverable_receipt_of_a_ucs2_text_keeps_its_prefix() -> None:
    message = sms(8, "Ραντεβού αύριο στις 10:00 στο ιατρείο")

    async def scenario(rig: Rig) -> None:
        await rig.provider.submit(message)
        await rig.until(lambda: len(rig.reports.receipts) == 1)
        [receipt] = rig.reports.receipts
        assert receipt.state is DeliveryState.UNDELIVERABLE
        assert receipt.text_prefix == message.text[:20]

    run(scenario, server_options={"receipt_state": DeliveryState.UNDELIVERABLE})


def test_a_receipt_sent_before_the_submit_sm_resp_reaches_the_reports_first() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.receipt_before_resp = True
        results = []
        for number in range(3):
            result = await rig.provider.submit(sms(number, f"Reminder number {number}"))
            rig.reports.events.append(f"submitted {result.provider_ids[0]}")
            results.append(result)
        ids = [r.provider_ids[0] for r in results]
        assert rig.reports.events == [
            event for id_ in ids for event in (f"receipt {id_}", f"submitted {id_}")
        ]
        assert all(r.status is SubmitStatus.ACCEPTED for r in results)
        assert [r.recipient for r in rig.reports.receipts] == [sms(n, "").to for n in range(3)]

    run(scenario)


def test_every_part_of_a_long_text_gets_its_receipt() -> None:
    async def scenario(rig: Rig) -> None:
        result = await rig.provider.submit(sms(1, "long text " * 40))
        await rig.until(lambda: len(rig.reports.receipts) == result.parts)
        assert {r.provider_id for r in rig.reports.receipts} == set(result.provider_ids)
        assert {r.text_prefix for r in rig.reports.receipts} == {("long text " * 2)}

    run(scenario)


def test_an_inbound_stop_reaches_the_reports() -> None:
    async def scenario(rig: Rig) -> None:
        status = await rig.server.send_inbound("+447700900123", "STOP", recipient="442071838750")
        assert status == pdu.ESME_ROK
        [inbound] = rig.reports.inbound_texts
        assert isinstance(inbound, InboundSms)
        assert (inbound.sender, inbound.recipient, inbound.text) == (
            "+447700900123",
            "+442071838750",
            "STOP",
        )
        assert inbound.at == rig.timer.now()
        assert rig.reports.receipts == []

    run(scenario)


class _FailingReports(Reports):
    async def delivery_report(self, report: DeliveryReport) -> None:
        raise RuntimeError("the outbox's database is down")


def test_a_receipt_that_could_not_be_handed_on_is_not_acknowledged() -> None:
    """The deliver_sm is answered with a temporary error, so the carrier sends it again."""

    async def scenario(rig: Rig) -> None:
        await rig.provider.start(_FailingReports())  # a restart with reports that fail
        assert await rig.provider.wait_bound()
        await rig.provider.submit(sms(1, "Hello"))
        await rig.until(lambda: len(rig.server.receipt_answers) == 1)
        assert rig.server.receipt_answers == [pdu.ESME_RX_T_APPN]

    async def restarted(rig: Rig) -> None:
        await rig.provider.close()
        await asyncio.sleep(0)
        await scenario(rig)

    run(restarted)


def test_a_receipt_as_data_sm_is_read_from_its_message_payload() -> None:
    async def scenario(rig: Rig) -> None:
        rig.server.receipts_as_data_sm = True
        result = await rig.provider.submit(sms(3, "Sent as usual, receipt as data_sm"))
        await rig.until(lambda: len(rig.reports.receipts) == 1)
        [receipt] = rig.reports.receipts
        assert receipt.provider_id == result.provider_ids[0]
        assert receipt.state is DeliveryState.DELIVERED
        assert receipt.text_prefix == "Sent as usual, recei"
        await rig.until(lambda: rig.server.receipt_answers == [pdu.ESME_ROK])

    run(scenario)


def test_a_receipt_without_tlvs_is_read_from_its_text_only_before_the_quote() -> None:
    # the quoted text looks like receipt fields: they must not be taken for the real ones
    message = sms(4, "id:X stat:DELIVRD ok")

    async def scenario(rig: Rig) -> None:
        rig.server.receipt_tlvs = False
        result = await rig.provider.submit(message)
        await rig.until(lambda: len(rig.reports.receipts) == 1)
        [receipt] = rig.reports.receipts
        assert receipt.provider_id == result.provider_ids[0]
        assert receipt.state is DeliveryState.EXPIRED
        assert receipt.text_prefix == message.text

    run(scenario, server_options={"receipt_state": DeliveryState.EXPIRED})


def test_a_long_inbound_text_is_joined_before_it_is_handed_on() -> None:
    words = "Ναι, θα έρθω στο ραντεβού. Ευχαριστώ πολύ για την υπενθύμιση! " * 3

    async def scenario(rig: Rig) -> None:
        status = await rig.server.send_inbound("+447700900124", words)
        assert status == pdu.ESME_ROK
        assert len(rig.server.inbound_answers) == 3  # parts
        assert [m.text for m in rig.reports.inbound_texts] == [words]

    run(scenario)

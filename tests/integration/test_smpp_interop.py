"""The provider against an SMSC it shares no code with: smpp34's own server (its Rust session
and codec). The test SMSC is built on the provider's PDU module, so a misreading of SMPP 3.4
in that module would agree with itself there; here a bind, concatenated submits, a receipt,
an inbound text and the unbind go through an independent implementation.

Real time on a plain loop: the waits below are guards against a hang, not measurements."""

import asyncio
import socket

import smpp34

from dialer.clocks import RealTimer
from dialer.domain.sms import DeliveryState, OutboundSms, SmppSettings, SubmitStatus
from dialer.telephony.smpp import SmppProvider
from dialer.telephony.smpp.text import gsm_decode
from tests.integration.smpp_support import Reports

_GUARD = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_provider_speaks_smpp_with_an_independent_smsc() -> None:
    async def main() -> None:
        port = _free_port()
        server = smpp34.Server(host="127.0.0.1", port=port, system_id="smsc")
        await server.start()
        provider = SmppProvider(SmppSettings("127.0.0.1", port, "dialer", "pw"), RealTimer())
        reports = Reports()
        await provider.start(reports)
        try:
            esme = await asyncio.wait_for(server.next(), _GUARD)
            assert isinstance(esme, smpp34.Esme)
            assert esme.system_id == "dialer"
            assert esme.can_receive  # a transceiver bind
            assert await provider.wait_bound()

            long = "Your code is [1234] and costs 2€. " * 6  # GSM, two parts
            sending = asyncio.ensure_future(
                provider.submit(OutboundSms("m1", "+447700900100", "+442071838750", long))
            )
            bodies = []
            for index in range(2):
                event = await asyncio.wait_for(server.next(), _GUARD)
                assert isinstance(event, smpp34.SubmitSmEvent)
                assert (event.source_addr, event.source_addr_ton) == ("442071838750", 1)
                assert (event.destination_addr, event.dest_addr_ton) == ("447700900100", 1)
                assert (event.esm_class, event.data_coding, event.registered_delivery) == (
                    0x40,
                    0,
                    1,
                )
                bodies.append(event.short_message[6:])
                event.accept(message_id=f"ID{index}")
            result = await asyncio.wait_for(sending, _GUARD)
            assert result.status is SubmitStatus.ACCEPTED
            assert result.provider_ids == ("ID0", "ID1")

            receipt = await esme.deliver_sm(
                "442071838750",
                b"id:ID0 sub:001 dlvrd:001 submit date:2603020900 done date:2603020901 "
                b"stat:DELIVRD err:000 text:Your code is [1234]",
                source_addr="447700900100",
                source_addr_ton=1,
                esm_class=0x04,
            )
            assert receipt.is_success
            [report] = reports.receipts
            assert (report.provider_id, report.state) == ("ID0", DeliveryState.DELIVERED)
            assert report.recipient == "+447700900100"

            stop = await esme.deliver_sm(
                "442071838750", b"STOP", source_addr="447700900123", source_addr_ton=1
            )
            assert stop.is_success
            assert [(m.sender, m.text) for m in reports.inbound_texts] == [
                ("+447700900123", "STOP")
            ]
        finally:
            await provider.close()
        ended = await asyncio.wait_for(server.next(), _GUARD)
        assert isinstance(ended, smpp34.Unbound)  # the provider unbinds on close
        await server.stop()
        assert gsm_decode(b"".join(bodies)) == long

    asyncio.run(main())

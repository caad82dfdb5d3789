"""The two halves of issue 15 together: campaigns on the simulated network whose tenant sends its
texts over SMPP to the test SMSC on 127.0.0.1, through the outbox, on a real SQLite file and
PostgreSQL. The engine runs at --speed max (a VirtualTimer); the SMPP bind keeps wall time."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.testclient import TestClient

from dialer.telephony.smpp import text as smpp_text
from dialer.testing.smpp_server import SmppTestServer
from tests.integration.engine_support import Rig, drama

PASSWORD = "pw-acme1"
# Cyrillic forces UCS-2 (67 characters a part): this takes three parts.
LONG = "Здравствуйте! Мы не смогли до вас дозвониться. " * 3 + "Позвоните нам: 0161 496 0000."
FLOW = f"""\
version: 2
sms: "Sorry we missed you {{Name}}"
answerphone: "Please call us back"
nodes:
  hello: {{say: "Hello {{Name}}", next: note}}
  note: {{sms: "{LONG}", next: bye}}
  bye: {{hangup: true}}
"""


def use_smpp(rig: Rig, server: SmppTestServer, sender_id: str | None = None) -> None:
    body = {
        "provider": "smpp",
        "senderId": sender_id,
        "smpp": {
            "host": "127.0.0.1",
            "port": server.port,
            "systemId": "acme",
            "password": PASSWORD,
        },
    }
    rig.container.sms_settings.update(rig.account.tenant.id, body, "http://127.0.0.1:8000")


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wall time: the SMSC and the bind run on it (nothing here asserts how long it took)."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


def with_smsc(
    scenario: Callable[[SmppTestServer], Awaitable[None]], receipt_delay: float = 0.0
) -> None:
    async def main() -> None:
        server = SmppTestServer("acme", PASSWORD, receipt_delay=receipt_delay)
        await server.start()
        try:
            await scenario(server)
        finally:
            await server.close()

    asyncio.run(asyncio.wait_for(main(), 120))


def sms_of(rig: Rig, campaign: int, number: str) -> list[Any]:
    return [text for row in rig.attempts(campaign)[number] for text in row.sms]


def test_sms_on_busy_goes_to_the_smsc_and_its_receipt_shows_delivered(rig: Rig) -> None:
    campaigns: list[int] = []

    async def scenario(server: SmppTestServer) -> None:
        use_smpp(rig, server)
        campaign = rig.campaign([drama(1)], smsOnBusy=1)
        campaigns.append(campaign)
        runtime = rig.engine()
        await runtime.engine.run_until_done()

        (message,) = server.messages
        assert (message.source, message.destination) == ("441632960000", drama(1)[1:])
        assert message.data_coding == smpp_text.DATA_CODING_GSM
        first = rig.attempts(campaign)[drama(1)][0]
        (text,) = first.sms
        # The run to the end waited for the receipts (a second behind, wall time) of what
        # it sent before closing the bind.
        assert (text.status.value, text.parts, text.provider) == ("delivered", 1, "smpp")
        assert list(text.provider_ids) == message.message_ids
        assert message.text == "Hi N0: "  # the call flow's busy text for N0 (no Parameter1)

    with_smsc(scenario, receipt_delay=1.0)
    (campaign,) = campaigns
    with TestClient(rig.container.app()) as client:
        page = client.get(
            f"/api/campaign/voice/{campaign}/results", headers=rig.account.headers
        ).json()
    (row,) = [r for r in page["results"] if r["smsSent"]]  # the first busy only
    assert [(t["status"], t["parts"], t["provider"]) for t in row["sms"]] == [
        ("delivered", 1, "smpp")
    ]


def test_an_sms_node_sends_a_long_ucs2_text_in_parts_reassembled_at_the_smsc(rig: Rig) -> None:
    flow = rig.container.catalog.add_callflow(rig.account.tenant, "Long", FLOW)

    async def scenario(server: SmppTestServer) -> None:
        use_smpp(rig, server, sender_id="ACME")
        campaign = rig.campaign([drama(0)], callflow_Id=flow.id)
        await rig.engine().engine.run_until_done()

        (message,) = server.messages
        assert message.text == LONG
        assert (message.source, message.destination) == ("ACME", drama(0)[1:])
        assert message.data_coding == smpp_text.DATA_CODING_UCS2
        assert len(message.message_ids) == 3
        (text,) = sms_of(rig, campaign, drama(0))
        assert (text.status.value, text.parts) == ("delivered", 3)
        assert list(text.provider_ids) == message.message_ids

    with_smsc(scenario)


def test_an_inbound_stop_from_the_smsc_puts_the_number_on_the_tenants_dnc(rig: Rig) -> None:
    async def scenario(server: SmppTestServer) -> None:
        use_smpp(rig, server)
        rig.campaign([drama(1)], smsOnBusy=1)
        runtime = rig.engine()
        await runtime.engine.run_until_done()
        assert len(server.messages) == 1
        # The engine's own outbox takes the tenant's bind up again, as a running server would.
        providers = runtime.engine.sms.providers
        provider = await providers.provider(rig.account.tenant.id, rig.container.store, rig.timer)
        try:
            await until(lambda: server.bound == 1)
            assert await server.send_inbound(drama(1), "Stop") == 0
            assert await server.send_inbound(drama(2), "Stop calling me at work") == 0
        finally:
            await providers.close()
        assert provider.name == "smpp"

    with_smsc(scenario)
    listed = rig.container.dnc.listed(rig.account.tenant, None, 10)
    assert listed == [drama(1)]

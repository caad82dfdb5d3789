"""A tenant's SMPP host obeys the address policy webhooks and HTTP gateways obey (issue 15):
refused at PUT /api/settings/sms, and again at each connect, where a name may resolve into the
server's own network long after it was accepted. The operator's --webhook-allow lets one in."""

import asyncio
import ipaddress
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import build, build_engine
from dialer.domain.sms import SmppSettings, SubmitStatus
from dialer.domain.sms_settings import SmsProviderKind, TenantSmsSettings
from dialer.domain.webhook_address import AddressPolicy, IPAddress
from dialer.settings import EngineSettings, NetworkSettings, Settings
from dialer.sim_clock import VirtualTimer
from dialer.telephony.smpp import SmppProvider
from dialer.testing.smpp_server import SmppTestServer
from tests.conftest import Account
from tests.integration.smpp_support import Reports, run, settings, sms
from tests.integration.smpp_support import Rig as SmppRig

NAME = "smsc.example.com"


async def loopback(host: str, port: int) -> list[IPAddress]:
    """A resolver whose answer for NAME moved into this machine (DNS rebinding)."""
    assert host == NAME
    return [ipaddress.ip_address("127.0.0.1")]


def smpp_body(host: str, port: int = 2775) -> dict[str, object]:
    return {
        "provider": "smpp",
        "smpp": {"host": host, "port": port, "systemId": "acme", "password": "pw-acme1"},
    }


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "169.254.169.254", "10.0.0.5", "0x7f.1", "localhost", "[::1]"]
)
def test_an_smpp_host_in_the_servers_own_network_is_refused(
    client: TestClient, account: Account, host: str
) -> None:
    sim = client.put("/api/settings/sms", json={"provider": "sim"}, headers=account.headers)
    assert sim.status_code == 200
    response = client.put("/api/settings/sms", json=smpp_body(host), headers=account.headers)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert list(errors) == ["smpp.host"], errors
    assert "SMPP binds go to public addresses only" in errors["smpp.host"][0]
    assert "--webhook-allow" in errors["smpp.host"][0]
    shown = client.get("/api/settings/sms", headers=account.headers).json()
    assert (shown["provider"], shown["smpp"]) == ("sim", None)


def test_the_operators_allow_list_lets_an_smpp_host_in(database_url: str) -> None:
    container = build(Settings(database_url=database_url, webhook_allow=("10.0.0.0/8",)))
    try:
        account = Account(container, "Acme")
        with TestClient(container.app()) as client:
            response = client.put(
                "/api/settings/sms", json=smpp_body("10.0.0.5"), headers=account.headers
            )
            assert response.status_code == 200, response.text
            refused = client.put(
                "/api/settings/sms", json=smpp_body("127.0.0.1"), headers=account.headers
            )
            assert refused.status_code == 400
        assert container.sms_settings.get(account.tenant.id).smpp.host == "10.0.0.5"  # type: ignore[union-attr]
    finally:
        container.close()


def test_a_name_that_now_resolves_into_the_servers_network_is_not_connected_to() -> None:
    accepted: list[int] = []

    async def scenario(rig: SmppRig) -> None:
        # An internal service on loopback: what the tenant's name now points at.
        async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(1)
            writer.close()

        internal = await asyncio.start_server(count, "127.0.0.1", 0)
        port = internal.sockets[0].getsockname()[1]
        provider = SmppProvider(
            settings(port, host=NAME), rig.timer, policy=AddressPolicy(), resolve=loopback
        )
        try:
            await provider.start(Reports())
            await rig.until(lambda: bool(provider.last_bind_error))
            await rig.idle(10)  # several reconnect tries: each refused again
            result = await provider.submit(sms(1, "Sorry we missed you"))
        finally:
            await provider.close()
            internal.close()
        assert accepted == []
        assert provider.binds == 0
        assert "refused: smsc.example.com resolves to 127.0.0.1" in provider.last_bind_error
        assert "a loopback address" in provider.last_bind_error
        # Not failed: the name may resolve elsewhere again; the outbox retries, then expires it.
        assert result.status is SubmitStatus.RETRY
        assert "refused" in result.reason

    run(scenario)


def test_an_allowed_name_binds_to_the_address_that_was_checked() -> None:
    async def scenario(rig: SmppRig) -> None:
        provider = SmppProvider(
            settings(rig.server.port, host=NAME),
            rig.timer,
            policy=AddressPolicy.allowing(["127.0.0.1"]),
            resolve=loopback,
        )
        try:
            await provider.start(Reports())
            # NAME does not resolve in any real DNS: only the checked address was dialled.
            assert await provider.wait_bound()
        finally:
            await provider.close()

    run(scenario)


def test_the_engines_tenant_bind_checks_the_host_again_before_connecting(
    database_url: str,
) -> None:
    """Settings stored before the host turned private (or written past the API): the engine's
    bind for the tenant still refuses to connect; the operator's own default would not."""
    timer = VirtualTimer(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    container = build(Settings(database_url=database_url), clock=timer)
    account = Account(container, "Acme")

    async def main() -> None:
        server = SmppTestServer("acme", "pw-acme1")
        await server.start()
        stored = TenantSmsSettings(
            SmsProviderKind.SMPP,
            smpp=SmppSettings("127.0.0.1", server.port, "acme", "pw-acme1"),
            callback_id="cb",
        )
        with container.store.write() as session:
            session.sms.set_sms_settings(account.tenant.id, stored, timer.now())
        runtime = build_engine(container, NetworkSettings(speed=None), EngineSettings(), timer)
        providers = runtime.engine.sms.providers
        try:
            provider = await providers.provider(account.tenant.id, container.store, timer)
            assert provider.name == "smpp"
            async with asyncio.timeout(20):
                while not getattr(provider, "last_bind_error", ""):
                    await asyncio.sleep(0.02)
            assert "a loopback address" in provider.last_bind_error  # type: ignore[attr-defined]
            assert server.bound == 0
        finally:
            await providers.close()
            await server.close()

    try:
        asyncio.run(main())
    finally:
        container.close()

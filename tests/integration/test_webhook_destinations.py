"""Webhooks go to public addresses only (issue 10): refused on registration, and again at each
delivery after the name is looked up, where the connection goes to the address just checked."""

import ipaddress
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.errors import ValidationFailed
from dialer.domain.webhook_address import AddressPolicy, IPAddress
from dialer.services.webhooks import WebhookService
from tests.conftest import Account
from tests.integration.test_webhooks import PAYLOAD, Receiver, deliver_once, enqueue, outbox

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


REFUSED_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://api.localhost/hook",
    "http://10.0.0.5/admin",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://999999999999/",
    "https://user:secret@crm.example/hook",
    "https://token@crm.example/hook",
]


def test_non_public_urls_are_refused_on_registration(client: TestClient, account: Account) -> None:
    for url in REFUSED_URLS:
        response = client.put("/api/webhook", json={"url": url}, headers=account.headers)
        assert response.status_code == 400, (url, response.text)
        assert list(response.json()["errors"]) == ["url"]
    assert client.get("/api/webhook", headers=account.headers).status_code == 404


def test_a_name_that_resolves_inward_is_refused_on_registration(
    container: Container, clock: ManualClock, account: Account
) -> None:
    service = WebhookService(container.store, clock, resolve=lambda _: [LOOPBACK])
    with pytest.raises(ValidationFailed, match=r"hooks\.example resolves to 127\.0\.0\.1, a loop"):
        service.register(account.tenant, "https://hooks.example/results")
    allowed = WebhookService(
        container.store,
        clock,
        AddressPolicy.allowing(["hooks.example"]),
        resolve=lambda _: [LOOPBACK],
    )
    assert allowed.register(account.tenant, "https://hooks.example/results")[0].url


def test_a_name_that_later_resolves_inward_is_a_failed_delivery(
    container: Container, clock: ManualClock, account: Account, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    public = ipaddress.ip_address("93.184.215.14")
    WebhookService(container.store, clock, resolve=lambda _: [public]).register(
        account.tenant, f"http://hooks.example:{port}/results"
    )
    enqueue(container, account, clock, PAYLOAD)

    async def rebound(host: str, _port: int) -> list[IPAddress]:
        return [public, LOOPBACK] if host == "hooks.example" else []

    assert deliver_once(container, clock, resolve=rebound) == 1
    assert receiver.requests == []
    [row] = outbox(container)
    assert row["delivered_at"] is None
    assert row["tries"] == 1
    assert row["last_error"] == (
        "refused: hooks.example resolves to 127.0.0.1, a loopback address; webhooks go to"
        " public addresses only, unless the operator allows it (--webhook-allow)"
    )


def test_delivery_connects_to_the_address_it_checked(
    container: Container, clock: ManualClock, account: Account, receiver: Receiver
) -> None:
    # hooks.example resolves nowhere on this machine: the POST reaching the receiver shows the
    # connection went to the address the check saw, not to a second lookup of the name.
    port = receiver.server.server_address[1]
    policy = AddressPolicy.allowing(["127.0.0.0/8"])
    WebhookService(container.store, clock, policy, resolve=lambda _: [LOOPBACK]).register(
        account.tenant, f"http://hooks.example:{port}/results"
    )
    enqueue(container, account, clock, PAYLOAD)
    lookups: list[str] = []

    async def resolve(host: str, _port: int) -> list[IPAddress]:
        lookups.append(host)
        return [LOOPBACK]

    assert deliver_once(container, clock, policy=policy, resolve=resolve) == 1
    [(headers, _)] = receiver.requests
    assert headers["host"] == f"hooks.example:{port}"
    assert lookups == ["hooks.example"]
    assert outbox(container)[0]["delivered_at"] is not None


def test_an_allowance_withdrawn_stops_deliveries_to_a_literal_address(
    container: Container, clock: ManualClock, account: Account, receiver: Receiver
) -> None:
    policy = AddressPolicy.allowing(["127.0.0.1"])
    WebhookService(container.store, clock, policy).register(account.tenant, receiver.url)
    enqueue(container, account, clock, PAYLOAD)
    assert deliver_once(container, clock, policy=AddressPolicy()) == 1
    assert receiver.requests == []
    assert "127.0.0.1 is a loopback address" in (outbox(container)[0]["last_error"] or "")

"""POST /api/webhook/test: a signed test delivery sent now to a receiver on 127.0.0.1, answered
with its result; outside the outbox, and only ever to the caller's own webhook."""

import json
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.settings import Settings
from tests.conftest import Account
from tests.integration.test_webhooks import Receiver, outbox, register, verified


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The receivers listen on loopback, which only an operator's allowance lets webhooks reach."""
    return Settings(database_url=database_url, webhook_allow=("127.0.0.1",))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_a_test_delivery_is_signed_sent_now_and_answered(
    client: TestClient, container: Container, account: Account, receiver: Receiver
) -> None:
    secret = register(container, account, receiver.url)
    got = client.post("/api/webhook/test", headers=account.headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["url"] == receiver.url
    assert body["delivered"] is True
    assert body["status"] == 200
    assert body["error"] is None
    assert body["seconds"] >= 0
    [(headers, sent)] = receiver.requests
    assert verified(secret, headers, sent)
    assert headers["x-dialer-delivery"] == "0"
    payload = json.loads(sent)
    assert payload["test"] is True
    assert payload["tenantId"] == account.tenant.id
    # Not a call result: nothing queued, nothing in the delivery log, nothing to retry.
    assert outbox(container) == []
    log = client.get("/api/webhook/deliveries", headers=account.headers).json()
    assert log["deliveries"] == []


def test_a_failing_receiver_is_reported_with_its_status(
    client: TestClient, container: Container, account: Account
) -> None:
    with Receiver(statuses=[503]) as failing:
        register(container, account, failing.url)
        body = client.post("/api/webhook/test", headers=account.headers).json()
    assert body["delivered"] is False
    assert body["status"] == 503
    assert body["error"] == "HTTP 503"


def test_no_answer_at_all_is_reported_as_the_error(
    client: TestClient, container: Container, account: Account
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(container, account, f"http://127.0.0.1:{port}/hook")
    body = client.post("/api/webhook/test", headers=account.headers).json()
    assert body["delivered"] is False
    assert body["status"] is None
    assert body["error"].startswith("ConnectError")


def test_without_a_webhook_it_is_404_and_never_another_tenants(
    client: TestClient,
    container: Container,
    account: Account,
    other_account: Account,
    receiver: Receiver,
) -> None:
    register(container, account, receiver.url)
    got = client.post("/api/webhook/test", headers=other_account.headers)
    assert got.status_code == 404
    assert got.json()["status"] == 404
    assert receiver.requests == []
    assert client.post("/api/webhook/test").status_code == 401

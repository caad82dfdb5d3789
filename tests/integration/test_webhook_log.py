"""The delivery log and a retry that keeps the signing secret (issue 10), over REST and the CLI,
on both stores, against a real receiver on loopback (allowed as an operator would)."""

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dialer.bootstrap import Container
from dialer.cli import app as cli_app
from dialer.clocks import ManualClock
from dialer.domain.webhook import MAX_TRIES
from dialer.settings import Settings
from tests.conftest import Account
from tests.integration.test_webhooks import (
    PAYLOAD,
    Receiver,
    deliver_once,
    enqueue,
    register,
    verified,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, webhook_allow=("127.0.0.1",))


def test_the_log_shows_each_delivery_and_a_retry_keeps_the_secret(
    client: TestClient, container: Container, clock: ManualClock, account: Account
) -> None:
    h = account.headers
    # The first attempt's result is taken, the second's refused: the two are POSTed at once.
    with Receiver(
        answer=lambda body: 200 if json.loads(body)["attemptNumber"] == 1 else 500
    ) as receiver:
        secret = register(container, account, receiver.url)
        enqueue(container, account, clock, PAYLOAD)
        enqueue(container, account, clock, {**PAYLOAD, "attemptNumber": 2})
        assert deliver_once(container, clock) == 2
        for _ in range(MAX_TRIES - 1):
            clock.advance(timedelta(hours=2))
            assert deliver_once(container, clock) == 1
        log = client.get("/api/webhook/deliveries", headers=h).json()
        second, first = log["deliveries"]
        assert (first["status"], first["tries"], first["lastError"]) == ("delivered", 1, None)
        assert first["body"] == PAYLOAD
        assert (second["status"], second["tries"], second["lastError"]) == (
            "failed",
            MAX_TRIES,
            "HTTP 500",
        )
        assert second["nextTryAt"] is None
        assert second["body"]["attemptNumber"] == 2
        assert log["next"] is None
        failed = client.get("/api/webhook/deliveries?status=failed", headers=h).json()
        assert [d["id"] for d in failed["deliveries"]] == [second["id"]]
        page = client.get("/api/webhook/deliveries?limit=1", headers=h).json()
        assert ([d["id"] for d in page["deliveries"]], page["next"]) == (
            [second["id"]],
            second["id"],
        )
        rest = client.get(f"/api/webhook/deliveries?limit=1&before={page['next']}", headers=h)
        assert [d["id"] for d in rest.json()["deliveries"]] == [first["id"]]

        posts = len(receiver.requests)
        assert client.post("/api/webhook/retry", headers=h).json() == {"retried": 1}
        pending = client.get("/api/webhook/deliveries?status=pending", headers=h).json()
        assert [(d["id"], d["tries"]) for d in pending["deliveries"]] == [(second["id"], 0)]
        receiver.answer = lambda body: 200
        assert deliver_once(container, clock) == 1
        headers, body = receiver.requests[posts]
        assert verified(secret, headers, body)  # the secret given at registration still signs
        assert json.loads(body)["attemptNumber"] == 2
        assert client.post("/api/webhook/retry", headers=h).json() == {"retried": 0}
        everything = client.get("/api/webhook/deliveries", headers=h).json()["deliveries"]
        assert [d["status"] for d in everything] == ["delivered", "delivered"]


def test_log_and_retry_are_the_tenants_own_and_checked(
    client: TestClient, container: Container, clock: ManualClock, account: Account
) -> None:
    other = Account(container, "Globex")
    register(container, account, "https://crm.example/hooks")
    enqueue(container, account, clock, PAYLOAD)
    assert (
        len(client.get("/api/webhook/deliveries", headers=account.headers).json()["deliveries"])
        == 1
    )
    theirs = client.get("/api/webhook/deliveries", headers=other.headers).json()
    assert theirs == {"deliveries": [], "next": None}
    assert client.post("/api/webhook/retry", headers=other.headers).status_code == 404
    for query, field in (
        ("status=lost", "status"),
        ("limit=0", "limit"),
        ("limit=²", "limit"),
        ("before=-1", "before"),
        ("before=99999999999999999999", "before"),
    ):
        response = client.get(f"/api/webhook/deliveries?{query}", headers=account.headers)
        assert response.status_code == 400, query
        assert list(response.json()["errors"]) == [field]
    assert client.get("/api/webhook/deliveries").status_code == 401


def test_cli_lists_deliveries_and_retries(
    settings: Settings, container: Container, clock: ManualClock, account: Account
) -> None:
    runner = CliRunner()
    db = ["--database", settings.database_url, "--tenant", str(account.tenant.id)]
    register(container, account, "https://crm.example/hooks")
    enqueue(container, account, clock, PAYLOAD)
    listed = runner.invoke(cli_app, ["webhook", "deliveries", *db])
    assert listed.exit_code == 0, listed.output
    [line] = [json.loads(text) for text in listed.output.splitlines()]
    assert (line["status"], line["tries"], line["lastError"]) == ("pending", 0, None)
    assert line["createdAt"] == "2025-09-30T08:00:00.000Z"  # as the REST API writes instants
    retried = runner.invoke(cli_app, ["webhook", "retry", *db])
    assert (retried.exit_code, json.loads(retried.output)) == (0, {"retried": 0})
    bad = runner.invoke(cli_app, ["webhook", "deliveries", *db, "--status", "lost"])
    assert bad.exit_code == 2
    assert "error: status: One of pending, delivered, failed." in bad.output


def test_cli_refuses_loopback_unless_the_operator_allows_it(
    settings: Settings, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    args = ["webhook", "set", "--database", settings.database_url, "--tenant"]
    args += [str(account.tenant.id), "http://127.0.0.1:9000/hook"]
    monkeypatch.delenv("DIALER_WEBHOOK_ALLOW", raising=False)
    refused = runner.invoke(cli_app, args)
    assert refused.exit_code == 2
    assert "error: url: 127.0.0.1 is a loopback address" in refused.output
    monkeypatch.setenv("DIALER_WEBHOOK_ALLOW", "10.0.0.0/8 127.0.0.1")
    allowed = runner.invoke(cli_app, args)
    assert allowed.exit_code == 0, allowed.output
    bad = runner.invoke(
        cli_app, ["serve", "--database", settings.database_url, "--webhook-allow", "10.0.0.0/33"]
    )
    assert bad.exit_code == 2
    assert "error: --webhook-allow: '10.0.0.0/33' is neither" in bad.output

"""Webhooks: registered over REST and the CLI, delivered signed from the outbox to a real HTTP
receiver on 127.0.0.1, retried with backoff on a hand-moved clock, recovered after a crash."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dialer.bootstrap import Container
from dialer.cli import app as cli_app
from dialer.clocks import ManualClock
from dialer.domain.webhook import MAX_TRIES, NEVER, next_try
from dialer.engine.webhooks import WebhookDeliverer
from dialer.settings import Settings
from dialer.storage.rows import from_us, to_us
from dialer.testing.server import free_port
from tests.conftest import Account

# The statement the engine enqueues with, in the transaction that records an attempt.
ENGINE_ENQUEUE = (
    "INSERT INTO webhook_outbox (tenant_id, payload, next_try_at, created_at)"
    " SELECT tenant_id, %s, %s, %s FROM webhooks WHERE tenant_id = %s"
)
PAYLOAD = {
    "campaignId": 7,
    "campaignCode": "c7",
    "number": "+447722123456",
    "name": "Ben",
    "attemptNumber": 1,
    "outcome": 1,
    "outcomeName": "Answered",
    "stage": 1,
    "stageName": "CorrectCallee",
    "queuedAt": "2025-09-30T08:00:00.000Z",
    "originatedAt": "2025-09-30T08:00:01.000Z",
    "answeredAt": "2025-09-30T08:00:05.000Z",
    "endedAt": "2025-09-30T08:00:35.000Z",
    "cause": "normal",
    "keys": "1",
    "smsSent": False,
    "note": "pound sign £ travels as UTF-8",
}


class Receiver:
    """A tiny HTTP server that records each POST and answers with the statuses it is given."""

    def __init__(
        self,
        statuses: list[int] | None = None,
        hang: bool = False,
        answer: Callable[[bytes], int] | None = None,
    ) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        # Decides by the body instead: deliveries sent at once arrive in any order.
        self.answer = answer
        self.arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.arrived.set()
                if hang:
                    receiver.release.wait(30)
                if receiver.answer is not None:
                    status = receiver.answer(body)
                else:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    # A deliverer that timed out has gone; nobody is left to answer.
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/results?x=1"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-dialer-signature", ""))


def deliver_once(container: Container, clock: ManualClock, **options: Any) -> int:
    options.setdefault("policy", container.webhook_policy())

    async def go() -> int:
        async with httpx.AsyncClient() as client:
            return await WebhookDeliverer(container.store, clock, client, **options).run_once()

    return asyncio.run(go())


def enqueue(container: Container, account: Account, clock: ManualClock, payload: Any) -> None:
    stamp = to_us(clock.now())
    with container.store.database.transaction(write=True) as conn:
        conn.execute(
            ENGINE_ENQUEUE,
            (json.dumps(payload, ensure_ascii=False), stamp, stamp, account.tenant.id),
        )


def outbox(container: Container) -> list[dict[str, Any]]:
    with container.store.database.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT id, tenant_id, tries, next_try_at, delivered_at, last_error"
            " FROM webhook_outbox ORDER BY id"
        )
    keys = ("id", "tenant_id", "tries", "next_try_at", "delivered_at", "last_error")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def register(container: Container, account: Account, url: str) -> str:
    _, secret = container.webhooks.register(account.tenant, url)
    return secret


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The receivers listen on loopback, which only an operator's allowance lets webhooks reach."""
    return Settings(database_url=database_url, webhook_allow=("127.0.0.1",))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


# REST


def test_register_read_replace_and_remove(client: TestClient, account: Account) -> None:
    h = account.headers
    assert client.get("/api/webhook", headers=h).status_code == 404
    put = client.put("/api/webhook", json={"url": "https://crm.example/hooks"}, headers=h)
    assert put.status_code == 200
    first = put.json()
    assert first["url"] == "https://crm.example/hooks"
    assert first["createdAt"] == "2025-09-30T08:00:00.000Z"
    assert len(first["secret"]) >= 43
    got = client.get("/api/webhook", headers=h)
    assert got.json() == {
        "url": "https://crm.example/hooks",
        "createdAt": "2025-09-30T08:00:00.000Z",
        "backlog": 0,
        "failed": 0,
    }
    assert first["secret"] not in got.text
    second = client.put("/api/webhook", json={"url": "http://crm.example:8080/v2"}, headers=h)
    assert second.json()["secret"] != first["secret"]
    assert client.get("/api/webhook", headers=h).json()["url"] == "http://crm.example:8080/v2"
    deleted = client.delete("/api/webhook", headers=h)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get("/api/webhook", headers=h).status_code == 404
    again = client.delete("/api/webhook", headers=h)
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://crm.example/hooks"},
        {"url": "crm.example/hooks"},
        {"url": "http://"},
        {"url": "https:///path-only"},
        {"url": "http://crm.example:99999/"},
        {"url": "http://crm.example/a b"},
        {"url": "http://[::1/"},
        {"url": "https://crm.example/" + "a" * 2000},
        {"url": ""},
        {"url": 5},
        {"url": None},
        {"link": "https://crm.example/"},
        ["https://crm.example/"],
    ],
)
def test_bad_urls_are_400_with_the_field(
    client: TestClient, account: Account, body: object
) -> None:
    response = client.put("/api/webhook", json=body, headers=account.headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["url"]
    assert client.get("/api/webhook", headers=account.headers).status_code == 404


def test_bad_bodies_and_missing_keys(client: TestClient, account: Account) -> None:
    h = account.headers
    assert client.put("/api/webhook", content=b"{nope", headers=h).status_code == 400
    assert client.put("/api/webhook", headers=h).status_code == 400
    assert (
        client.put(
            "/api/webhook", content=b"url=x", headers={**h, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, "/api/webhook", json={"url": "https://a.example/"})
        assert response.status_code == 401
    longest = "https://crm.example/" + "a" * (2000 - len("https://crm.example/"))
    assert client.put("/api/webhook", json={"url": longest}, headers=h).status_code == 200


def test_each_tenant_sees_only_its_own(
    client: TestClient, account: Account, other_account: Account
) -> None:
    client.put("/api/webhook", json={"url": "https://acme.example/"}, headers=account.headers)
    assert client.get("/api/webhook", headers=other_account.headers).status_code == 404
    assert client.delete("/api/webhook", headers=other_account.headers).status_code == 404
    client.put(
        "/api/webhook", json={"url": "https://globex.example/"}, headers=other_account.headers
    )
    assert client.get("/api/webhook", headers=account.headers).json()["url"] == (
        "https://acme.example/"
    )


def test_the_openapi_document_lists_the_webhook(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/webhook"]) == {"get", "put", "delete"}


def test_cli_sets_and_removes(settings: Settings, container: Container, account: Account) -> None:
    runner = CliRunner()
    db = ["--database", settings.database_url, "--tenant", str(account.tenant.id)]
    result = runner.invoke(cli_app, ["webhook", "set", *db, "https://crm.example/hooks"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["url"] == "https://crm.example/hooks"
    assert len(printed["secret"]) >= 43
    bad = runner.invoke(cli_app, ["webhook", "set", *db, "mailto:someone@crm.example"])
    assert bad.exit_code == 2
    assert "url:" in bad.stderr
    assert runner.invoke(cli_app, ["webhook", "remove", *db]).exit_code == 0
    gone = runner.invoke(cli_app, ["webhook", "remove", *db])
    assert gone.exit_code == 2
    assert "no webhook" in gone.stderr


# delivery


def test_engine_rows_are_delivered_signed(
    container: Container, account: Account, other_account: Account, clock: ManualClock
) -> None:
    with Receiver() as receiver:
        # No webhook, no rows: the engine's INSERT ... SELECT finds nothing to copy.
        enqueue(container, account, clock, PAYLOAD)
        assert outbox(container) == []
        secret = register(container, account, receiver.url)
        enqueue(container, account, clock, PAYLOAD)
        enqueue(container, other_account, clock, PAYLOAD)
        assert container.webhooks.get(account.tenant)[1].pending == 1
        assert deliver_once(container, clock) == 1
        assert deliver_once(container, clock) == 0
    [(headers, body)] = receiver.requests
    assert json.loads(body) == PAYLOAD
    assert verified(secret, headers, body)
    assert not verified(secret + "x", headers, body)
    assert headers["content-type"] == "application/json"
    [row] = outbox(container)
    assert headers["x-dialer-delivery"] == str(row["id"])
    assert headers["x-dialer-timestamp"] == str(int(clock.now().timestamp()))
    assert row["delivered_at"] == to_us(clock.now())
    assert row["tries"] == 0
    assert container.webhooks.get(account.tenant)[1].pending == 0


def test_retries_back_off_then_deliver(
    container: Container, account: Account, clock: ManualClock
) -> None:
    start = clock.now()
    with Receiver([500, 503]) as receiver:
        secret = register(container, account, receiver.url)
        enqueue(container, account, clock, PAYLOAD)
        assert deliver_once(container, clock) == 1
        [row] = outbox(container)
        assert (row["tries"], row["last_error"]) == (1, "HTTP 500")
        assert from_us(row["next_try_at"]) == start + timedelta(seconds=10)
        clock.advance(timedelta(seconds=10) - timedelta(microseconds=1))
        assert deliver_once(container, clock) == 0
        clock.advance(timedelta(microseconds=1))
        assert deliver_once(container, clock) == 1
        [row] = outbox(container)
        assert (row["tries"], row["last_error"]) == (2, "HTTP 503")
        assert from_us(row["next_try_at"]) == start + timedelta(seconds=30)
        clock.advance(timedelta(seconds=19))
        assert deliver_once(container, clock) == 0
        clock.advance(timedelta(seconds=1))
        assert deliver_once(container, clock) == 1
    [row] = outbox(container)
    assert row["delivered_at"] == to_us(start + timedelta(seconds=30))
    assert len(receiver.requests) == 3
    assert len({headers["x-dialer-delivery"] for headers, _ in receiver.requests}) == 1
    assert all(verified(secret, headers, body) for headers, body in receiver.requests)


def test_a_crashed_deliverers_rows_come_back_after_the_lease(
    container: Container, account: Account, clock: ManualClock, receiver: Receiver
) -> None:
    register(container, account, receiver.url)
    for n in range(3):
        enqueue(container, account, clock, {**PAYLOAD, "attemptNumber": n + 1})
    lease = timedelta(minutes=2)
    with container.store.write() as session:
        held = session.outbox.claim_deliveries(clock.now(), 2, lease)
    # ... and the deliverer that held them dies without a word.
    assert [d.tries for d in held] == [0, 0]
    assert deliver_once(container, clock, lease=lease) == 1
    clock.advance(lease - timedelta(microseconds=1))
    assert deliver_once(container, clock, lease=lease) == 0
    clock.advance(timedelta(microseconds=1))
    assert deliver_once(container, clock, lease=lease) == 2
    assert all(row["delivered_at"] is not None for row in outbox(container))
    numbers = sorted(json.loads(body)["attemptNumber"] for _, body in receiver.requests)
    assert numbers == [1, 2, 3]


def test_give_up_after_the_last_try_then_retry_on_registering_again(
    container: Container, account: Account, clock: ManualClock
) -> None:
    with Receiver([500] * MAX_TRIES) as receiver:
        register(container, account, receiver.url)
        enqueue(container, account, clock, PAYLOAD)
        for tries in range(1, MAX_TRIES + 1):
            assert deliver_once(container, clock) == 1
            [row] = outbox(container)
            assert row["tries"] == tries
            if tries < MAX_TRIES:
                clock.advance(from_us(row["next_try_at"]) - clock.now())
        assert from_us(row["next_try_at"]) == NEVER
        assert row["last_error"] == "HTTP 500"
        assert row["delivered_at"] is None
        clock.advance(timedelta(days=365))
        assert deliver_once(container, clock) == 0
        _, backlog = container.webhooks.get(account.tenant)
        assert (backlog.pending, backlog.failed) == (0, 1)
        # The receiver is fixed: registering again retries what was given up on.
        secret = register(container, account, receiver.url)
        assert container.webhooks.get(account.tenant)[1].pending == 1
        assert deliver_once(container, clock) == 1
    headers, body = receiver.requests[-1]
    assert len(receiver.requests) == MAX_TRIES + 1
    assert verified(secret, headers, body)
    assert outbox(container)[0]["delivered_at"] is not None


def test_unreachable_and_silent_receivers_are_failed_tries(
    container: Container, account: Account, clock: ManualClock
) -> None:
    register(container, account, f"http://127.0.0.1:{free_port()}/")
    enqueue(container, account, clock, PAYLOAD)
    assert deliver_once(container, clock) == 1
    [row] = outbox(container)
    assert row["tries"] == 1
    assert row["last_error"].startswith("ConnectError")
    with Receiver(hang=True) as receiver:
        register(container, account, receiver.url)
        clock.advance(timedelta(seconds=10))
        timeout = timedelta(milliseconds=200)
        assert deliver_once(container, clock, timeout=timeout) == 1
    [row] = outbox(container)
    assert row["tries"] == 2
    assert row["delivered_at"] is None
    assert "ReadTimeout" in row["last_error"] or "no answer" in row["last_error"]


def test_removing_the_webhook_drops_what_is_undelivered(
    container: Container, account: Account, clock: ManualClock, receiver: Receiver
) -> None:
    register(container, account, receiver.url)
    enqueue(container, account, clock, PAYLOAD)
    deliver_once(container, clock)
    enqueue(container, account, clock, PAYLOAD)
    container.webhooks.remove(account.tenant)
    [row] = outbox(container)
    assert row["delivered_at"] is not None
    enqueue(container, account, clock, PAYLOAD)
    assert len(outbox(container)) == 1


def test_run_delivers_until_stopped(
    container: Container, account: Account, clock: ManualClock, receiver: Receiver
) -> None:
    register(container, account, receiver.url)
    enqueue(container, account, clock, PAYLOAD)

    async def go() -> None:
        stop = asyncio.Event()
        async with httpx.AsyncClient() as client:
            deliverer = WebhookDeliverer(
                container.store, clock, client, policy=container.webhook_policy()
            )
            task = asyncio.create_task(deliverer.run(stop))
            assert await asyncio.to_thread(receiver.arrived.wait, 30)
            stop.set()
            await asyncio.wait_for(task, 30)

    asyncio.run(go())
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_claims_skip_rows_another_deliverer_holds(
    container: Container, account: Account, clock: ManualClock
) -> None:
    register(container, account, "https://crm.example/")
    for _ in range(3):
        enqueue(container, account, clock, PAYLOAD)
    lease = timedelta(minutes=2)
    with container.store.write() as first:
        mine = first.outbox.claim_deliveries(clock.now(), 2, lease)
        # Still uncommitted: a second deliverer neither waits for these rows nor takes them.
        with container.store.write() as second:
            theirs = second.outbox.claim_deliveries(clock.now(), 10, lease)
    assert len(mine) == 2
    assert len(theirs) == 1
    assert {d.id for d in mine}.isdisjoint(d.id for d in theirs)


def test_backoff_schedule() -> None:
    failed_at = datetime(2025, 9, 30, tzinfo=UTC)
    delays = [(next_try(n, failed_at) - failed_at).total_seconds() for n in range(1, MAX_TRIES)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    assert next_try(MAX_TRIES, failed_at) == NEVER

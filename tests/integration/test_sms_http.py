"""The HTTP gateway provider (telephony/sms_http.py) against a real HTTP server on 127.0.0.1,
started by the test: what it sends, and how it reads each kind of answer."""

import asyncio
import base64
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from dialer.domain.sms import OutboundSms, SubmitResult, SubmitStatus
from dialer.domain.sms_settings import HttpSmsSettings, twilio_settings
from dialer.domain.webhook_address import AddressPolicy, IPAddress
from dialer.telephony.sms_http import HttpSmsProvider

TEXT = 'Call "us" back & quote ref {id}: 100% sure'
SID = "AC" + "0" * 32


class Gateway:
    """A local gateway: records each request, answers with the next scripted answer
    (status, headers, body, seconds to wait first)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str], bytes, float]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                gateway.requests.append((self.path, dict(self.headers), body))
                status, headers, answer, wait = gateway.answers.pop(0)
                time.sleep(wait)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the client gave up first

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(
        self, status: int, body: object, headers: dict[str, str] | None = None, wait: float = 0
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, headers or {}, data, wait))


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.server.shutdown()
    g.server.server_close()


def submit(settings: HttpSmsSettings) -> object:
    async def go() -> object:
        provider = HttpSmsProvider(settings)
        try:
            return await provider.submit(OutboundSms("42", "+447700900123", "ACME", TEXT))
        finally:
            await provider.close()

    return asyncio.run(go())


def test_a_json_gateway_gets_the_filled_template_and_its_id_is_read(gateway: Gateway) -> None:
    gateway.answer(200, {"messages": [{"id": "m-77", "status": "accepted"}]})
    settings = HttpSmsSettings(
        gateway.url,
        auth_header="Bearer secret-token",
        body_template='{"to": "{to}", "from": "{sender}", "text": "{text}", "ref": "{id}"}',
        id_path="messages.0.id",
    )
    result = submit(settings)
    assert (result.status, result.provider_ids, result.parts) == (  # type: ignore[attr-defined]
        SubmitStatus.ACCEPTED,
        ("m-77",),
        1,
    )
    ((path, headers, body),) = gateway.requests
    assert path == "/messages"
    assert headers["Authorization"] == "Bearer secret-token"
    # Quotes and ampersands in the text stay inside its string value.
    assert json.loads(body) == {"to": "+447700900123", "from": "ACME", "text": TEXT, "ref": "42"}


def test_the_twilio_preset_posts_a_form_with_basic_auth_and_reads_sid(gateway: Gateway) -> None:
    gateway.answer(201, {"sid": "SM123", "status": "queued", "num_segments": "2"})
    settings = twilio_settings(SID, "tok", "https://dialer.example/api/sms/callbacks/cb1")
    result = submit(HttpSmsSettings(**{**settings.__dict__, "url": gateway.url}))
    assert (result.status, result.provider_ids, result.parts) == (  # type: ignore[attr-defined]
        SubmitStatus.ACCEPTED,
        ("SM123",),
        2,
    )
    ((_, headers, body),) = gateway.requests
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:tok".encode()).decode()
    assert parse_qs(body.decode()) == {
        "To": ["+447700900123"],
        "From": ["ACME"],
        "Body": [TEXT],
        "StatusCallback": ["https://dialer.example/api/sms/callbacks/cb1"],
    }


def test_a_4xx_fails_with_the_gateways_message(gateway: Gateway) -> None:
    gateway.answer(400, {"code": 21211, "message": "The 'To' number is not valid."})
    result = submit(HttpSmsSettings(gateway.url))
    assert result.status is SubmitStatus.FAILED  # type: ignore[attr-defined]
    assert result.reason == "HTTP 400: The 'To' number is not valid."  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_5xx_or_429_is_retried_when_the_gateway_says(gateway: Gateway, status: int) -> None:
    gateway.answer(status, b"busy", {"Retry-After": "7"})
    result = submit(HttpSmsSettings(gateway.url))
    assert result.status is SubmitStatus.RETRY  # type: ignore[attr-defined]
    assert result.retry_after == 7.0  # type: ignore[attr-defined]
    assert result.reason == f"HTTP {status}: busy"  # type: ignore[attr-defined]


def test_no_answer_in_time_is_retried(gateway: Gateway) -> None:
    gateway.answer(200, {"id": "late"}, wait=2)
    result = submit(HttpSmsSettings(gateway.url, timeout=0.2))
    assert result.status is SubmitStatus.RETRY  # type: ignore[attr-defined]


def test_a_refused_connection_is_retried(gateway: Gateway) -> None:
    url = gateway.url
    gateway.server.shutdown()
    gateway.server.server_close()
    result = submit(HttpSmsSettings(url))
    assert result.status is SubmitStatus.RETRY  # type: ignore[attr-defined]


NAME = "gateway.example.com"


def submit_by_name(
    gateway: Gateway, policy: AddressPolicy, resolves_to: str
) -> tuple[object, list[tuple[str, int]]]:
    """A tenant's gateway named by a host that resolves, at send time, to ``resolves_to``."""
    looked_up: list[tuple[str, int]] = []

    async def lookup(host: str, port: int) -> list[IPAddress]:
        looked_up.append((host, port))
        return [ipaddress.ip_address(resolves_to)]

    url = gateway.url.replace("127.0.0.1", NAME)

    async def go() -> object:
        provider = HttpSmsProvider(HttpSmsSettings(url), policy=policy, lookup=lookup)
        try:
            return await provider.submit(OutboundSms("42", "+447700900123", "ACME", TEXT))
        finally:
            await provider.close()

    return asyncio.run(go()), looked_up


def test_a_gateway_name_that_now_resolves_into_the_servers_network_is_not_requested(
    gateway: Gateway,
) -> None:
    # Saved when it resolved to a public address; now it resolves to loopback (DNS rebinding).
    result, looked_up = submit_by_name(gateway, AddressPolicy(), "127.0.0.1")
    assert looked_up == [(NAME, gateway.server.server_address[1])]
    assert isinstance(result, SubmitResult)
    assert result.status is SubmitStatus.RETRY
    assert result.reason.startswith("refused: ")
    assert "SMS gateways go to public" in result.reason
    assert gateway.requests == []  # no connection was made


def test_an_allowed_gateway_name_is_requested_at_the_address_just_checked(
    gateway: Gateway,
) -> None:
    gateway.answer(201, {"id": "m-1"})
    allowed = AddressPolicy.allowing(["127.0.0.1"])
    result, _ = submit_by_name(gateway, allowed, "127.0.0.1")
    assert isinstance(result, SubmitResult)
    assert (result.status, result.provider_ids) == (SubmitStatus.ACCEPTED, ("m-1",))
    # Sent to the address checked, named as the tenant named it.
    ((_, headers, _),) = gateway.requests
    assert headers["Host"] == f"{NAME}:{gateway.server.server_address[1]}"

"""GET/PUT /api/settings/sms and the HTTP gateways' callbacks (POST /api/sms/callbacks/{id}):
validation by field, write-only secrets, tenants kept apart, signatures checked, and an
inbound STOP that puts the number on the DNC list the engine screens with."""

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.codes import Outcome, Stage
from dialer.domain.sms import SubmitResult, SubmitStatus
from dialer.domain.sms_outbox import SmsStatus, SmsText
from dialer.domain.sms_settings import SmsProviderKind
from dialer.engine.sms_outbox import SmsProviders, SmsSender
from tests.conftest import Account
from tests.contract import support
from tests.integration.engine_support import Rig, drama

SECRET = "s3cret-callback-key-0123456789"
AUTH = "Bearer gw-token-that-must-not-leak"
SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-never-shown"


def put(client: TestClient, account: Account, body: object) -> Any:
    return client.put("/api/settings/sms", json=body, headers=account.headers)


def get(client: TestClient, account: Account) -> Any:
    response = client.get("/api/settings/sms", headers=account.headers)
    assert response.status_code == 200
    return response.json()


def generic(**http: object) -> dict[str, object]:
    return {
        "provider": "http",
        "senderId": "ACME",
        "http": {
            "url": "https://sms-gateway.example.com/v1/messages",
            "authHeader": AUTH,
            "bodyTemplate": '{"to": "{to}", "from": "{sender}", "text": "{text}"}',
            "idPath": "message.id",
            "callbackSecret": SECRET,
            **http,
        },
    }


def smpp(**fields: object) -> dict[str, object]:
    return {"provider": "smpp", "smpp": {"host": "h", "systemId": "a", **fields}}


def twilio(**fields: object) -> dict[str, object]:
    http = {"preset": "twilio", "accountSid": SID, "authToken": TOKEN, **fields}
    return {"provider": "http", "http": http}


def test_no_settings_means_the_servers_default(client: TestClient, account: Account) -> None:
    assert get(client, account) == {"provider": None, "senderId": None, "smpp": None, "http": None}


def test_http_settings_are_kept_and_shown_without_their_secrets(
    client: TestClient, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = put(client, account, generic())
    assert response.status_code == 200, response.text
    shown = get(client, account)
    assert shown == response.json()
    assert shown["provider"] == "http"
    assert shown["senderId"] == "ACME"
    assert shown["http"]["authHeaderSet"] is True
    assert shown["http"]["callbackSecretSet"] is True
    assert shown["callbackUrl"].startswith("http://testserver/api/sms/callbacks/")
    # A GET's answer PUT back keeps the secrets it does not show.
    again = put(client, account, shown)
    assert again.status_code == 200, again.text
    with client.app.state.sms_settings._store.read() as s:  # type: ignore[attr-defined]
        stored = s.sms.sms_settings(account.tenant.id)
    assert stored is not None
    assert stored.http is not None
    assert (stored.http.auth_header, stored.http.callback_secret) == (AUTH, SECRET)
    for secret in (AUTH, SECRET, "gw-token"):
        assert secret not in response.text + again.text + json.dumps(shown)
        assert secret not in caplog.text


def test_smpp_settings_hide_the_password(client: TestClient, account: Account) -> None:
    body = {
        "provider": "smpp",
        "smpp": {"host": "smsc.example.net", "port": 2775, "systemId": "acme", "password": "pw12"},
    }
    response = put(client, account, body)
    assert response.status_code == 200, response.text
    smpp = get(client, account)["smpp"]
    assert smpp == {
        "host": "smsc.example.net",
        "port": 2775,
        "systemId": "acme",
        "systemType": "",
        "bindMode": "transceiver",
        "throughput": 10.0,
        "window": 10,
        "passwordSet": True,
    }
    assert "pw12" not in response.text


def test_the_twilio_preset_needs_only_the_account_and_token(
    client: TestClient, account: Account
) -> None:
    body = {"provider": "http", "http": {"preset": "twilio", "accountSid": SID, "authToken": TOKEN}}
    response = put(client, account, body)
    assert response.status_code == 200, response.text
    http = get(client, account)["http"]
    assert http["preset"] == "twilio"
    assert http["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert (http["bodyFormat"], http["idPath"]) == ("form", "sid")
    assert TOKEN not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "fax"}, "provider"),
        ({"provider": "sim", "senderId": "TOO-LONG-SENDER"}, "senderId"),
        ({"provider": "sim", "senderId": "12345"}, "senderId"),
        ({"provider": "sim", "colour": "red"}, "colour"),
        (
            {
                "provider": "smpp",
                "smpp": {"host": "h", "systemId": "a", "password": "p", "port": 0},
            },
            "smpp.port",
        ),
        ({"provider": "smpp", "smpp": {"host": "h", "systemId": "a"}}, "smpp.password"),
        (
            {"provider": "smpp", "smpp": {"host": "h", "systemId": "a", "password": "123456789"}},
            "smpp.password",
        ),
        (generic(bodyTemplate='{"to": "{to}"}'), "http.bodyTemplate"),
        (generic(bodyTemplate='{"text": {text}}'), "http.bodyTemplate"),
        (generic(callbackSecret="short"), "http.callbackSecret"),
        (generic(url="ftp://gw.example.com/"), "http.url"),
        (generic(url="http://127.0.0.1:9/"), "http.url"),
        (generic(method="DELETE"), "http.method"),
        (
            {
                "provider": "http",
                "http": {"preset": "twilio", "accountSid": "nope", "authToken": "t"},
            },
            "http.accountSid",
        ),
    ],
)
def test_wrong_settings_are_refused_by_field_and_change_nothing(
    client: TestClient, account: Account, body: dict[str, object], field: str
) -> None:
    assert put(client, account, generic()).status_code == 200
    before = get(client, account)
    response = put(client, account, body)
    assert response.status_code == 400, response.text
    assert field in json.dumps(response.json())
    assert get(client, account) == before


def test_one_tenants_settings_are_not_anothers(
    client: TestClient, account: Account, other_account: Account
) -> None:
    assert put(client, account, generic()).status_code == 200
    assert get(client, other_account)["provider"] is None
    assert put(client, other_account, {"provider": "sim"}).status_code == 200
    assert get(client, account)["provider"] == "http"
    assert get(client, account)["callbackUrl"] != get(client, other_account)["callbackUrl"]


def test_settings_need_the_api_key(client: TestClient) -> None:
    assert client.get("/api/settings/sms").status_code == 401
    assert client.put("/api/settings/sms", json={"provider": "sim"}).status_code == 401


# callbacks


def _queue(container: Container, clock: ManualClock, tenant_id: Any, provider_id: str) -> int:
    with container.store.write() as s:
        flow = s.catalog.add_callflow(tenant_id, "F", "message: 'Hi'\n", clock.now())
        cli = s.catalog.add_cli(tenant_id, "+441632960001", clock.now())
    acct = support.Account(tenant_id, flow.id, cli.id)
    cid = support.campaign(container.store, acct, support.numbers(1))
    (job,) = support.claim(container.store, cid)
    attempt = support.finished(job, acct)
    assert job.e164 is not None
    record = dataclasses.replace(
        attempt.record, sms_sent=True, texts=(SmsText(job.e164, "ACME", "Hello"),)
    )
    support.finish(container.store, [dataclasses.replace(attempt, record=record)])
    scripted = _Accepting(provider_id)
    asyncio.run(SmsSender(container.store, clock, SmsProviders(scripted)).run_once())  # type: ignore[arg-type]
    with container.store.read() as s:
        (result,) = s.results.attempt_results(cid, None, 10)
    return result.attempt_id


class _Accepting:
    name = "http"

    def __init__(self, provider_id: str) -> None:
        self.provider_id = provider_id

    async def start(self, reports: object) -> None:
        pass

    async def submit(self, message: object) -> SubmitResult:
        return SubmitResult(SubmitStatus.ACCEPTED, (self.provider_id,))

    async def close(self) -> None:
        pass


def status_of(container: Container) -> SmsStatus:
    with container.store.read() as s:
        found = s.sms.sms_of(1)
    assert found is not None
    return found.status


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def callback_path(client: TestClient, account: Account) -> str:
    return str(get(client, account)["callbackUrl"]).removeprefix("http://testserver")


def test_a_signed_status_callback_delivers_the_text(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    assert put(client, account, generic()).status_code == 200
    _queue(container, clock, account.tenant.id, "gw-1")
    path = callback_path(client, account)
    body = json.dumps({"id": "gw-1", "status": "delivered"}).encode()
    # Unsigned, wrongly signed, or for no tenant: refused, nothing changed.
    assert client.post(path, content=body).status_code == 401
    bad = {"X-Dialer-Sms-Signature": "sha256=" + "0" * 64}
    assert client.post(path, content=body, headers=bad).status_code == 401
    good = {"X-Dialer-Sms-Signature": sign(body)}
    assert client.post("/api/sms/callbacks/nobody", content=body, headers=good).status_code == 404
    junk = b"not json"
    junk_signed = {"X-Dialer-Sms-Signature": sign(junk)}
    assert client.post(path, content=junk, headers=junk_signed).status_code == 400
    assert status_of(container) is SmsStatus.SENT
    response = client.post(path, content=body, headers=good)
    assert response.status_code == 204, response.text
    assert status_of(container) is SmsStatus.DELIVERED


def twilio_signed(url: str, params: dict[str, str]) -> dict[str, str]:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(TOKEN.encode(), payload.encode(), hashlib.sha1).digest()
    return {
        "X-Twilio-Signature": base64.b64encode(digest).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_a_twilio_status_callback_is_checked_by_its_signature(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    body = {"provider": "http", "http": {"preset": "twilio", "accountSid": SID, "authToken": TOKEN}}
    assert put(client, account, body).status_code == 200
    _queue(container, clock, account.tenant.id, "SM1")
    url = get(client, account)["callbackUrl"]
    params = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    form = urlencode(params)
    forged = twilio_signed(url, {**params, "MessageStatus": "delivered"})
    assert client.post(url, content=form, headers=forged).status_code == 401
    assert status_of(container) is SmsStatus.SENT
    assert client.post(url, content=form, headers=twilio_signed(url, params)).status_code == 204
    with container.store.read() as s:
        failed = s.sms.sms_of(1)
    assert failed is not None
    assert (failed.status, failed.reason) == (SmsStatus.FAILED, "undeliverable: 30003")


def test_an_inbound_stop_puts_the_number_on_dnc_and_the_engine_skips_it(rig: Rig) -> None:
    container = rig.container
    container.sms_settings.update(rig.account.tenant.id, generic(), "http://dialer.test/")
    settings = container.sms_settings.get(rig.account.tenant.id)
    assert settings is not None
    assert settings.provider is SmsProviderKind.HTTP
    number = drama(0)
    body = json.dumps({"from": number, "to": "ACME", "text": "Stop"}).encode()
    with TestClient(container.app(), raise_server_exceptions=False) as client:
        path = f"/api/sms/callbacks/{settings.callback_id}"
        response = client.post(path, content=body, headers={"X-Dialer-Sms-Signature": sign(body)})
    assert response.status_code == 204, response.text
    campaign = rig.campaign([number])
    rig.run()
    (only,) = rig.attempts(campaign)[number]
    assert (only.outcome, only.stage) == (Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED)

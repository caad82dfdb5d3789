"""A tenant's SMS settings as the REST API gives and takes them (docs/sms.md), the HTTP
gateways' callbacks, and opt-out texts.

Secrets (``password``, ``authHeader``, ``callbackSecret``, Twilio's ``authToken``) are
write-only: never in an answer, never logged; a PUT that leaves one out keeps the stored one,
so a GET's answer can be PUT back. Every problem is reported at once, by field, and nothing is
changed unless all of it is valid.
"""

import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dialer.domain.errors import FieldErrors, NotFound, Unauthorized, ValidationFailed
from dialer.domain.ids import TenantId
from dialer.domain.sms import DeliveryReport, InboundSms, SmppBindMode, SmppSettings
from dialer.domain.sms_callbacks import BadCallback, BadSignature, read_callback
from dialer.domain.sms_outbox import is_opt_out
from dialer.domain.sms_settings import (
    BodyFormat,
    HttpPreset,
    HttpSmsSettings,
    SmsProviderKind,
    TenantSmsSettings,
    twilio_settings,
)
from dialer.domain.webhook_address import AddressPolicy
from dialer.ports import Clock
from dialer.ports.store import SmsSession, UnitOfWork
from dialer.services.webhooks import Resolver, address_problem, checked_url, resolve_host

log = logging.getLogger(__name__)

CALLBACK_PATH = "/api/sms/callbacks/"
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOP = {"provider", "senderId", "smpp", "http", "callbackUrl"}
_SMPP = {
    "host",
    "port",
    "systemId",
    "password",
    "systemType",
    "bindMode",
    "throughput",
    "window",
    "passwordSet",
}
_HTTP = {
    "preset",
    "url",
    "method",
    "authHeader",
    "bodyFormat",
    "bodyTemplate",
    "idPath",
    "callbackSecret",
    "accountSid",
    "authToken",
    "timeout",
    "authHeaderSet",
    "callbackSecretSet",
}


def record_inbound(
    store: UnitOfWork[SmsSession], now: datetime, tenant: TenantId | None, message: InboundSms
) -> TenantId | None:
    """An opt-out word (domain.sms_outbox.OPT_OUT_WORDS) puts its sender on the DNC list of
    the tenant it answers: ``tenant`` (the provider's), else the tenant that last texted that
    number (from that sender ID, if several did). Other texts are only logged. Returns the
    tenant whose list it went on."""
    if not is_opt_out(message.text):
        log.info("an inbound text that is no opt-out word; ignored")
        return None
    with store.write() as session:
        answered = tenant or session.sms.sms_reply_tenant(message.sender, message.recipient)
        if answered is None:
            log.warning("an opt-out text answers no tenant's text; ignored")
            return None
        session.dnc.add_dnc(answered, [message.sender], now)
    log.info("opt-out text: its number is on tenant %s's do-not-call list now", answered)
    return answered


def settings_json(settings: TenantSmsSettings | None, base_url: str) -> dict[str, Any]:
    """What GET shows: no secret, only whether each is set."""
    if settings is None:
        return {"provider": None, "senderId": None, "smpp": None, "http": None}
    smpp = settings.smpp
    http = settings.http
    return {
        "provider": settings.provider.value,
        "senderId": settings.sender_id,
        "callbackUrl": base_url.rstrip("/") + CALLBACK_PATH + settings.callback_id,
        "smpp": None
        if smpp is None
        else {
            "host": smpp.host,
            "port": smpp.port,
            "systemId": smpp.system_id,
            "systemType": smpp.system_type,
            "bindMode": smpp.bind_mode.value,
            "throughput": smpp.throughput,
            "window": smpp.window,
            "passwordSet": bool(smpp.password),
        },
        "http": None
        if http is None
        else {
            "preset": http.preset.value,
            "url": http.url,
            "method": http.method,
            "bodyFormat": http.body_format.value,
            "bodyTemplate": http.body_template,
            "idPath": http.id_path,
            "timeout": http.timeout,
            "authHeaderSet": bool(http.auth_header),
            "callbackSecretSet": bool(http.callback_secret),
        },
    }


def _text(
    raw: Mapping[str, Any],
    key: str,
    path: str,
    errors: FieldErrors,
    *,
    limit: int,
    default: str | None = None,
) -> str | None:
    value = raw.get(key, default)
    if value is None:
        errors.add(path, "required")
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a string")
        return None
    if len(value) > limit:
        errors.add(path, f"at most {limit} characters")
        return None
    if _CONTROL.search(value):
        errors.add(path, "no control characters")
        return None
    return value


def _number(
    raw: Mapping[str, Any],
    key: str,
    path: str,
    errors: FieldErrors,
    low: float,
    high: float,
    default: float,
) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors.add(path, f"must be a number from {low:g} to {high:g}")
        return default
    return float(value)


def _unknown(raw: Mapping[str, Any], known: set[str], prefix: str, errors: FieldErrors) -> None:
    for key in sorted(str(k) for k in raw if k not in known):
        errors.add(f"{prefix}{key}", "unknown field")


def parse_smpp(raw: object, old: SmppSettings | None, errors: FieldErrors) -> SmppSettings | None:
    if not isinstance(raw, Mapping):
        errors.add("smpp", "must be an object: host, port, systemId, password ...")
        return None
    _unknown(raw, _SMPP, "smpp.", errors)
    host = _text(raw, "host", "smpp.host", errors, limit=253)
    port = raw.get("port", 2775)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        errors.add("smpp.port", "must be a whole number from 1 to 65535")
    system_id = _text(raw, "systemId", "smpp.systemId", errors, limit=15)
    kept = old.password if old is not None else None
    # SMPP 3.4 allows 8 characters of password and 12 of system type (5.2.1, 5.2.2).
    password = _text(raw, "password", "smpp.password", errors, limit=8, default=kept)
    system_type = _text(raw, "systemType", "smpp.systemType", errors, limit=12, default="")
    mode = raw.get("bindMode", "transceiver")
    if mode not in ("transmitter", "transceiver"):
        errors.add("smpp.bindMode", "transmitter or transceiver")
        mode = "transceiver"
    throughput = _number(raw, "throughput", "smpp.throughput", errors, 0.1, 10000, 10.0)
    window = _number(raw, "window", "smpp.window", errors, 1, 1000, 10)
    if window != int(window):
        errors.add("smpp.window", "must be a whole number")
    if host is None or system_id is None or password is None or system_type is None:
        return None
    return SmppSettings(
        host,
        int(port) if isinstance(port, int) else 2775,
        system_id,
        password,
        system_type,
        SmppBindMode(mode),
        throughput,
        int(window),
    )


def parse_http(
    raw: object,
    old: HttpSmsSettings | None,
    errors: FieldErrors,
    check_url: Callable[[object], str],
    callback_url: str,
) -> HttpSmsSettings | None:
    if not isinstance(raw, Mapping):
        errors.add("http", "must be an object: preset, url, bodyTemplate ...")
        return None
    _unknown(raw, _HTTP, "http.", errors)
    preset = raw.get("preset", "generic")
    if preset not in ("generic", "twilio"):
        errors.add("http.preset", "generic or twilio")
        return None
    timeout = _number(raw, "timeout", "http.timeout", errors, 1, 60, 10.0)
    if preset == "twilio":
        return _twilio(raw, old, errors, timeout, callback_url)
    url = raw.get("url", old.url if old is not None else None)
    try:
        url = check_url(url)
    except ValidationFailed as exc:
        for message in exc.errors.get("url", ["not a URL"]):
            errors.add("http.url", message.replace("webhook", "gateway"))
        url = None
    method = raw.get("method", "POST")
    if method not in ("POST", "PUT"):
        errors.add("http.method", "POST or PUT")
    form = raw.get("bodyFormat", "json")
    if form not in ("json", "form"):
        errors.add("http.bodyFormat", "json or form")
        form = "json"
    template = _text(
        raw,
        "bodyTemplate",
        "http.bodyTemplate",
        errors,
        limit=4000,
        default=HttpSmsSettings("x").body_template if form == "json" else None,
    )
    if template is not None and "{text}" not in template:
        errors.add("http.bodyTemplate", "must hold {text} (and usually {to} and {sender})")
    if template is not None and form == "json":
        try:
            if not isinstance(json.loads(template), dict):
                errors.add("http.bodyTemplate", "a JSON object")
        except ValueError:
            errors.add("http.bodyTemplate", "not valid JSON (placeholders go inside strings)")
    id_path = _text(raw, "idPath", "http.idPath", errors, limit=200, default="id")
    auth = _text(
        raw,
        "authHeader",
        "http.authHeader",
        errors,
        limit=2000,
        default=old.auth_header if old is not None else "",
    )
    secret = _text(
        raw,
        "callbackSecret",
        "http.callbackSecret",
        errors,
        limit=200,
        default=old.callback_secret if old is not None and old.callback_secret else None,
    )
    if secret is not None and len(secret) < 16:
        errors.add("http.callbackSecret", "at least 16 characters")
    if url is None or template is None or id_path is None or auth is None or secret is None:
        return None
    return HttpSmsSettings(
        url,
        str(method),
        auth,
        BodyFormat(form),
        template,
        id_path or "id",
        secret,
        HttpPreset.GENERIC,
        "",
        timeout,
    )


def _twilio(
    raw: Mapping[str, Any],
    old: HttpSmsSettings | None,
    errors: FieldErrors,
    timeout: float,
    callback_url: str,
) -> HttpSmsSettings | None:
    known = {"preset", "accountSid", "authToken", "timeout", "authHeaderSet", "callbackSecretSet"}
    for key in sorted(str(k) for k in raw if k not in known):
        if key in _HTTP:
            errors.add(f"http.{key}", "set by the twilio preset")
    sid = raw.get("accountSid")
    if sid is None and old is not None and old.preset is HttpPreset.TWILIO:
        sid = old.url.split("/Accounts/")[1].split("/")[0]
    if not isinstance(sid, str) or not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        errors.add("http.accountSid", "Twilio's account SID: AC and 32 hex digits")
        return None
    kept = old.callback_secret if old is not None and old.preset is HttpPreset.TWILIO else None
    token = _text(raw, "authToken", "http.authToken", errors, limit=200, default=kept)
    if token is None:
        return None
    return twilio_settings(sid, token, callback_url, timeout)


class SmsSettingsService:
    def __init__(
        self,
        store: UnitOfWork[SmsSession],
        clock: Clock,
        policy: AddressPolicy | None = None,
        resolve: Resolver = resolve_host,
    ) -> None:
        """``policy``: where an HTTP gateway or an SMPP host may be (as webhooks: public
        addresses only, unless the operator's --webhook-allow names it)."""
        self._store = store
        self._clock = clock
        self._policy = policy or AddressPolicy()
        self._resolve = resolve

    def get(self, tenant: TenantId) -> TenantSmsSettings | None:
        with self._store.read() as session:
            return session.sms.sms_settings(tenant)

    def update(self, tenant: TenantId, body: object, base_url: str) -> TenantSmsSettings:
        errors = FieldErrors()
        if not isinstance(body, Mapping):
            raise ValidationFailed({"$": ["must be a JSON object"]})
        _unknown(body, _TOP, "", errors)
        old = self.get(tenant)
        callback_id = old.callback_id if old is not None else secrets.token_urlsafe(18)
        callback_url = base_url.rstrip("/") + CALLBACK_PATH + callback_id
        provider = body.get("provider")
        if provider not in ("sim", "smpp", "http"):
            errors.add("provider", "sim, smpp or http")
            errors.raise_if_any()
        kind = SmsProviderKind(provider)
        sender = body.get("senderId", old.sender_id if old is not None else None)
        if sender is not None and not (isinstance(sender, str) and _SENDER_ID.fullmatch(sender)):
            errors.add(
                "senderId", "1 to 11 letters, digits or spaces, at least one letter; or null"
            )
        smpp = http = None
        if kind is SmsProviderKind.SMPP or body.get("smpp") is not None:
            smpp = parse_smpp(body.get("smpp"), old.smpp if old else None, errors)
            # A tenant's bind must not reach into the server's own network (checked again at
            # each connect: telephony/smpp/destination.py).
            problem = (
                None if smpp is None else address_problem(smpp.host, self._policy, self._resolve)
            )
            if problem is not None:
                errors.add("smpp.host", problem.replace("webhooks go", "SMPP binds go"))
        if kind is SmsProviderKind.HTTP or body.get("http") is not None:

            def check(url: object) -> str:
                return checked_url(url, self._policy, self._resolve)

            http = parse_http(
                body.get("http"), old.http if old else None, errors, check, callback_url
            )
        errors.raise_if_any()
        settings = TenantSmsSettings(
            kind, sender if isinstance(sender, str) else None, smpp, http, callback_id
        )
        with self._store.write() as session:
            session.sms.set_sms_settings(tenant, settings, self._clock.now())
        log.info("tenant %s's SMS provider is %s now", tenant, kind.value)
        return settings

    def callback(self, callback_id: str, url: str, headers: Mapping[str, str], body: bytes) -> None:
        """An HTTP gateway's callback: verified with the tenant's secret, then applied (a
        receipt to its text, an opt-out to the DNC list). A refused one changes nothing."""
        with self._store.read() as session:
            found = session.sms.sms_settings_by_callback(callback_id)
        if found is None or found[1].http is None:
            raise NotFound("no such SMS callback")
        tenant, settings = found
        assert settings.http is not None
        signed_url = settings.http.status_callback_url or url
        now = self._clock.now()
        try:
            what = read_callback(settings.http, signed_url, headers, body, now)
        except BadSignature as exc:
            raise Unauthorized(str(exc)) from None
        except BadCallback as exc:
            raise ValidationFailed({"body": [str(exc)]}) from None
        if isinstance(what, DeliveryReport):
            with self._store.write() as session:
                session.sms.sms_receipt(tenant, what, now)
        else:
            record_inbound(self._store, now, tenant, what)

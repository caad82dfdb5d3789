"""The HTTP gateways' callbacks to us (POST /api/sms/callbacks/{id}, docs/sms.md): verified,
then read as a delivery status or a text a person sent. Twilio's are forms signed with
X-Twilio-Signature; the generic gateway's are JSON signed with X-Dialer-Sms-Signature."""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qsl

from dialer.domain.sms import DeliveryReport, DeliveryState, InboundSms
from dialer.domain.sms_settings import HttpPreset, HttpSmsSettings

SIGNATURE_HEADER = "X-Dialer-Sms-Signature"  # the generic gateway's: sha256=<hex HMAC of body>
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
_MAX_REASON = 300


class BadCallback(Exception):
    """A callback refused: not a status or an inbound text."""


class BadSignature(BadCallback):
    """A callback unsigned or wrongly signed (or the tenant has no secret to check it by)."""


def twilio_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of the URL
    followed by each POST parameter's name and value, sorted by name."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def generic_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# Twilio's MessageStatus values, and the generic gateway's status words, as receipt states.
_STATES = {
    "delivered": DeliveryState.DELIVERED,
    "undelivered": DeliveryState.UNDELIVERABLE,
    "undeliverable": DeliveryState.UNDELIVERABLE,
    "failed": DeliveryState.UNDELIVERABLE,
    "expired": DeliveryState.EXPIRED,
    "rejected": DeliveryState.REJECTED,
    "sent": DeliveryState.ENROUTE,
    "queued": DeliveryState.ENROUTE,
    "accepted": DeliveryState.ENROUTE,
    "sending": DeliveryState.ENROUTE,
    "enroute": DeliveryState.ENROUTE,
}


def read_callback(
    settings: HttpSmsSettings,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> DeliveryReport | InboundSms:
    """Verify a callback and read it: a delivery status, or a text a person sent us.
    Twilio's: a form, signed over ``url`` and its parameters. The generic gateway's: JSON
    ``{"id", "status", "error"}`` or ``{"from", "to", "text"}``, signed over the body."""
    if not settings.callback_secret:
        raise BadSignature("this tenant's SMS settings have no callback secret")
    lowered = {k.lower(): v for k, v in headers.items()}
    if settings.preset is HttpPreset.TWILIO:
        try:
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise BadCallback("the body is not a form") from None
        given = lowered.get(TWILIO_SIGNATURE_HEADER.lower(), "")
        expected = twilio_signature(settings.callback_secret, url, params)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise BadSignature("missing or wrong X-Twilio-Signature")
        if "MessageStatus" in params and "MessageSid" in params:
            return _report(
                params["MessageSid"],
                params["MessageStatus"],
                params.get("ErrorCode", ""),
                params.get("To"),
                now,
            )
        if "From" in params and "Body" in params:
            return InboundSms(params["From"], params.get("To", ""), params["Body"], now)
        raise BadCallback("neither a status nor an inbound text")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not hmac.compare_digest(
        given.encode(), generic_signature(settings.callback_secret, body).encode()
    ):
        raise BadSignature(f"missing or wrong {SIGNATURE_HEADER}")
    try:
        document = json.loads(body)
    except ValueError:
        raise BadCallback("the body is not JSON") from None
    if not isinstance(document, dict):
        raise BadCallback("the body is not a JSON object")
    if isinstance(document.get("id"), str) and isinstance(document.get("status"), str):
        error = document.get("error")
        return _report(
            document["id"], document["status"], error if isinstance(error, str) else "", None, now
        )
    if all(isinstance(document.get(k), str) for k in ("from", "to", "text")):
        return InboundSms(document["from"], document["to"], document["text"], now)
    raise BadCallback("neither a status nor an inbound text")


def _report(
    provider_id: str, status: str, error: str, recipient: str | None, now: datetime
) -> DeliveryReport:
    state = _STATES.get(status.strip().lower())
    if state is None:
        raise BadCallback(f"unknown status {status[:40]!r}")
    return DeliveryReport(provider_id, state, now, error[:_MAX_REASON], recipient)

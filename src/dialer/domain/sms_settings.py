"""A tenant's SMS settings (GET/PUT /api/settings/sms, docs/sms.md): which provider its texts
go through, that provider's settings, and the alphanumeric sender ID its texts carry.

Secrets (the SMPP password, the HTTP auth header, the callback secret) are stored with the rest
and never shown again or logged: ``public`` is what may be shown.
"""

import base64
import json
from dataclasses import asdict, dataclass, replace
from enum import Enum

from dialer.domain.sms import SmppBindMode, SmppSettings


class SmsProviderKind(Enum):
    SIM = "sim"
    SMPP = "smpp"
    HTTP = "http"


class HttpPreset(Enum):
    GENERIC = "generic"
    TWILIO = "twilio"


class BodyFormat(Enum):
    JSON = "json"
    FORM = "form"


@dataclass(frozen=True)
class HttpSmsSettings:
    """An HTTP gateway: where and how to POST a text, and how to read its id back.

    ``body_template``: JSON (or, for ``form``, ``key=value&...``) whose strings may hold
    ``{to}``, ``{sender}`` and ``{text}``; ``id_path``: where the answer's JSON holds the
    message id (``sid``, ``messages.0.id``)."""

    url: str
    method: str = "POST"
    auth_header: str = ""  # secret: the Authorization header's whole value
    body_format: BodyFormat = BodyFormat.JSON
    body_template: str = '{"to": "{to}", "from": "{sender}", "text": "{text}"}'
    id_path: str = "id"
    callback_secret: str = ""  # secret: signs the provider's status and inbound callbacks
    preset: HttpPreset = HttpPreset.GENERIC
    status_callback_url: str = ""  # our callback's public URL, sent to a Twilio-like provider
    timeout: float = 10.0  # seconds for one request


TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json"


def twilio_settings(
    account_sid: str, auth_token: str, status_callback_url: str = "", timeout: float = 10.0
) -> HttpSmsSettings:
    """The preset for Twilio's Messages API: a form POST of To, From, Body (and
    StatusCallback), basic auth with the account's SID and token, ``sid`` as the id; its
    callbacks are signed with the token (X-Twilio-Signature)."""
    basic = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    return HttpSmsSettings(
        url=TWILIO_URL.format(account=account_sid),
        method="POST",
        auth_header=f"Basic {basic}",
        body_format=BodyFormat.FORM,
        body_template="To={to}&From={sender}&Body={text}",
        id_path="sid",
        callback_secret=auth_token,
        preset=HttpPreset.TWILIO,
        status_callback_url=status_callback_url,
        timeout=timeout,
    )


@dataclass(frozen=True)
class TenantSmsSettings:
    provider: SmsProviderKind
    sender_id: str | None = None  # alphanumeric; None: the campaign's caller ID
    smpp: SmppSettings | None = None
    http: HttpSmsSettings | None = None
    callback_id: str = ""  # the path segment of our callback URL for this tenant

    def to_json(self) -> str:
        """Everything, secrets included: for the store only."""
        return json.dumps(
            {
                "provider": self.provider.value,
                "senderId": self.sender_id,
                "smpp": None if self.smpp is None else _plain(asdict(self.smpp)),
                "http": None if self.http is None else _plain(asdict(self.http)),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, callback_id: str) -> "TenantSmsSettings":
        raw = json.loads(text)
        smpp = raw.get("smpp")
        http = raw.get("http")
        return cls(
            SmsProviderKind(raw["provider"]),
            raw.get("senderId"),
            None
            if smpp is None
            else replace(SmppSettings(**smpp), bind_mode=SmppBindMode(smpp["bind_mode"])),
            None
            if http is None
            else replace(
                HttpSmsSettings(**http),
                body_format=BodyFormat(http["body_format"]),
                preset=HttpPreset(http["preset"]),
            ),
            callback_id,
        )


def _plain(values: dict[str, object]) -> dict[str, object]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}

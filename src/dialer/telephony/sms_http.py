"""The HTTP gateway SMS provider (docs/sms.md, "HTTP gateways"): one request per text, built
from the tenant's template, and the gateway's callbacks (delivery statuses, inbound texts)
read and verified.

Answers: 2xx -> ACCEPTED with the id read at ``id_path``; 429 and 5xx, a timeout or a refused
connection -> RETRY (``Retry-After`` honoured); any other 4xx -> FAILED with the gateway's own
message. A request that was sent but timed out may have been taken: the brief of the outbox is
"nothing lost"; a gateway that de-duplicates gets our message id in ``{id}``.
"""

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from dialer.domain.sms import OutboundSms, SubmitResult, SubmitStatus
from dialer.domain.sms_settings import BodyFormat, HttpPreset, HttpSmsSettings
from dialer.domain.webhook_address import AddressPolicy
from dialer.ports.sms import SmsReports
from dialer.services.reachable import AsyncResolver, Refused, checked_url, resolve

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{(to|sender|text|id)\}")

_MAX_REASON = 300


def fill_template(settings: HttpSmsSettings, message: OutboundSms) -> tuple[bytes, str]:
    """The request body and its content type. Placeholders are filled inside the template's
    values, after it is parsed, so a text with quotes or ampersands cannot change its shape."""
    values = {
        "to": message.to,
        "sender": message.sender,
        "text": message.text,
        "id": message.message_id,
    }

    def fill(value: str) -> str:
        # One pass over the template's own text: a placeholder inside the text is left alone.
        return _PLACEHOLDER.sub(lambda found: values[found.group(1)], value)

    if settings.body_format is BodyFormat.FORM:
        pairs = [(k, fill(v)) for k, v in parse_qsl(settings.body_template, keep_blank_values=True)]
        if settings.preset is HttpPreset.TWILIO and settings.status_callback_url:
            pairs.append(("StatusCallback", settings.status_callback_url))
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    document = _walk(json.loads(settings.body_template), fill)
    return json.dumps(document).encode(), "application/json"


def _walk(node: Any, fill: Any) -> Any:
    if isinstance(node, str):
        return fill(node)
    if isinstance(node, list):
        return [_walk(item, fill) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, fill) for key, value in node.items()}
    return node


def read_path(document: Any, path: str) -> str | None:
    """The value at a dotted path (``messages.0.id``) as text, or None."""
    node = document
    for step in path.split("."):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return None if node is None or isinstance(node, dict | list) else str(node)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str:
    """The gateway's own words: a JSON body's message, else the start of the body."""
    text = response.text.strip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error_message", "error", "detail"):
            if isinstance(body.get(key), str):
                text = body[key]
                break
    return f"HTTP {response.status_code}: {text}"[:_MAX_REASON]


class HttpSmsProvider:
    name = "http"

    def __init__(
        self,
        settings: HttpSmsSettings,
        client: httpx.AsyncClient | None = None,
        *,
        policy: AddressPolicy | None = None,
        lookup: AsyncResolver = resolve,
    ) -> None:
        """``policy``: where a tenant's gateway may be, checked again before every request (a
        name may resolve to a private address after the settings were saved); None for the
        operator's own ``--sms http``."""
        self.settings = settings
        self._client = client or httpx.AsyncClient(follow_redirects=False)
        self._owned = client is None
        self._policy = policy
        self._lookup = lookup

    async def start(self, reports: SmsReports) -> None:
        # Receipts and inbound texts come to our callback endpoint (api/rest/sms_callbacks.py).
        return None

    async def submit(self, message: OutboundSms) -> SubmitResult:
        body, content_type = fill_template(self.settings, message)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.settings.auth_header:
            headers["Authorization"] = self.settings.auth_header
        url: str | httpx.URL = self.settings.url
        extensions: dict[str, str] = {}
        try:
            if self._policy is not None:
                url, extensions = await checked_url(
                    self.settings.url, headers, self._policy, self._lookup, "SMS gateways"
                )
            response = await self._client.request(
                self.settings.method,
                url,
                content=body,
                headers=headers,
                timeout=self.settings.timeout,
                extensions=extensions,
            )
        except Refused as exc:
            # Not failed for good: the name may resolve to a public address again; the
            # outbox retries and, in the end, expires the text with this reason.
            return SubmitResult(SubmitStatus.RETRY, reason=f"refused: {exc}")
        except httpx.TimeoutException:
            return SubmitResult(SubmitStatus.RETRY, reason="no answer in time")
        except httpx.HTTPError as exc:
            return SubmitResult(SubmitStatus.RETRY, reason=f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if status == 429 or status >= 500:
            return SubmitResult(
                SubmitStatus.RETRY, reason=_reason(response), retry_after=_retry_after(response)
            )
        if status >= 300:
            return SubmitResult(SubmitStatus.FAILED, reason=_reason(response))
        try:
            document = response.json()
        except ValueError:
            document = None
        provider_id = read_path(document, self.settings.id_path)
        if provider_id is None:
            # Taken (2xx), but its receipts cannot be matched without the id.
            log.warning("HTTP SMS gateway answered with no id at %r", self.settings.id_path)
            return SubmitResult(SubmitStatus.ACCEPTED, (), 1)
        parts = read_path(document, "num_segments")  # Twilio's; others say nothing: one
        count = int(parts) if parts is not None and parts.isdigit() and int(parts) > 0 else 1
        # One id for the whole text, whatever its parts: its receipts name that id.
        return SubmitResult(SubmitStatus.ACCEPTED, (provider_id,), count)

    async def close(self) -> None:
        if self._owned:
            await self._client.aclose()

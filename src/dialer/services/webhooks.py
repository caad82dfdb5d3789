"""A tenant's webhook: register (or replace) the URL, read it back, remove it.

The signing secret is shown once, in the answer to registration, like an API key; reading the
webhook never shows it. Unlike an API key it is stored as it is, because signing each delivery
needs it. A tenant that lost it registers again and gets a new one; registering again also
retries the deliveries that had been given up on, as ``retry`` does without a new secret.

Webhooks go to public addresses only, unless the operator allows more (domain/webhook_address.py);
the URL is checked here on registration, and again at each delivery (engine/webhooks.py).
"""

import ipaddress
import re
import secrets
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.domain.webhook import (
    DELIVERY_STATUSES,
    MAX_URL_LENGTH,
    Backlog,
    DeliveryRecord,
    Webhook,
)
from dialer.domain.webhook_address import AddressPolicy, IPAddress, literal_address
from dialer.ports import Clock
from dialer.ports.store import OutboxSession, UnitOfWork

Resolver = Callable[[str], list[IPAddress]]


def resolve_host(host: str) -> list[IPAddress]:
    """The addresses ``host`` resolves to now; empty if it does not resolve."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found)
    )


def address_problem(host: str, policy: AddressPolicy, resolve: Resolver) -> str | None:
    """Why a webhook may not go to ``host`` as things stand, or None. A name that does not
    resolve yet is let through: it is checked again, after its lookup, at every delivery."""
    try:
        literal = literal_address(host)
    except ValueError as exc:
        return f"{exc}."
    if literal is not None:
        return policy.refusal(host, literal)
    refused = policy.name_refusal(host)
    if refused is not None:
        return refused
    for address in resolve(host):
        refused = policy.refusal(host, address)
        if refused is not None:
            return refused
    return None


def _url_problem(url: str) -> str | None:
    if not url:
        return "Send the URL to POST results to."
    if len(url) > MAX_URL_LENGTH:
        return f"At most {MAX_URL_LENGTH} characters."
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "A URL has no spaces or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number 0-65535
    except ValueError as exc:
        return f"Not a valid URL: {exc}."
    if parts.scheme.lower() not in ("http", "https"):
        return "Only http:// and https:// URLs can receive webhooks."
    if not parts.hostname:
        return "The URL has no host."
    return None


def checked_url(
    url: object, policy: AddressPolicy | None = None, resolve: Resolver = resolve_host
) -> str:
    """``url`` if it can receive webhooks; else ValidationFailed saying why."""
    if not isinstance(url, str):
        raise ValidationFailed({"url": ["Send the URL to POST results to, as a string."]})
    problem = _url_problem(url)
    if problem is None:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            problem = (
                "A webhook URL carries no user name or password; check the signature instead "
                "(docs/webhooks.md)."
            )
        else:
            problem = address_problem(parts.hostname or "", policy or AddressPolicy(), resolve)
    if problem is not None:
        raise ValidationFailed({"url": [problem]})
    return url


class WebhookService:
    def __init__(
        self,
        store: UnitOfWork[OutboxSession],
        clock: Clock,
        policy: AddressPolicy | None = None,
        resolve: Resolver = resolve_host,
    ) -> None:
        """``policy``: where webhooks may go (public addresses only, by default)."""
        self._store = store
        self._clock = clock
        self._policy = policy or AddressPolicy()
        self._resolve = resolve

    def register(self, tenant: Tenant, url: object) -> tuple[Webhook, str]:
        """Register or replace the tenant's webhook; returns it with its new signing secret."""
        target = checked_url(url, self._policy, self._resolve)
        secret = secrets.token_urlsafe(32)
        with self._store.write() as session:
            webhook = session.outbox.set_webhook(tenant.id, target, secret, self._clock.now())
        return webhook, secret

    def get(self, tenant: Tenant) -> tuple[Webhook, Backlog]:
        """The webhook (never its secret) and how many deliveries are waiting or given up."""
        with self._store.read() as session:
            webhook = session.outbox.get_webhook(tenant.id)
            if webhook is None:
                raise NotFound("webhook")
            return webhook, session.outbox.webhook_backlog(tenant.id)

    def remove(self, tenant: Tenant) -> None:
        """Stop delivering: the webhook goes, and so do its undelivered results."""
        with self._store.write() as session:
            if not session.outbox.delete_webhook(tenant.id):
                raise NotFound("webhook")

    def retry(self, tenant: Tenant) -> int:
        """Deliver again what was given up on, signed with the same secret; returns how many."""
        with self._store.write() as session:
            if session.outbox.get_webhook(tenant.id) is None:
                raise NotFound("webhook")
            return session.outbox.retry_given_up(tenant.id, self._clock.now())

    def deliveries(
        self, tenant: Tenant, status: str | None, before: object, limit: object
    ) -> list[DeliveryRecord]:
        """The delivery log, newest first; ``before`` pages it (the last id of a page)."""
        errors: dict[str, list[str]] = {}
        if status is not None and status not in DELIVERY_STATUSES:
            errors["status"] = [f"One of {', '.join(DELIVERY_STATUSES)}."]
        older = _whole_number(before, 1, 2**63 - 1)
        if before is not None and older is None:
            errors["before"] = ["The id of the last delivery of the previous page."]
        count = _whole_number(limit, 1, MAX_LOG_PAGE) if limit is not None else DEFAULT_LOG_PAGE
        if count is None:
            errors["limit"] = [f"A whole number from 1 to {MAX_LOG_PAGE}."]
        if errors:
            raise ValidationFailed(errors)
        assert count is not None
        with self._store.read() as session:
            return session.outbox.list_deliveries(tenant.id, status, older, count)


DEFAULT_LOG_PAGE = 100
MAX_LOG_PAGE = 1000
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def _whole_number(value: object, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None

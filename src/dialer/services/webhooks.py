"""A tenant's webhook: register (or replace) the URL, read it back, remove it.

The signing secret is shown once, in the answer to registration, like an API key; reading the
webhook never shows it. Unlike an API key it is stored as it is, because signing each delivery
needs it. A tenant that lost it registers again and gets a new one; registering again also
retries the deliveries that had been given up on.
"""

import secrets
from urllib.parse import urlsplit

from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.domain.webhook import MAX_URL_LENGTH, Backlog, Webhook
from dialer.ports import Clock, Store


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


def checked_url(url: object) -> str:
    """``url`` if it can receive webhooks; else ValidationFailed saying why."""
    if not isinstance(url, str):
        raise ValidationFailed({"url": ["Send the URL to POST results to, as a string."]})
    problem = _url_problem(url)
    if problem is not None:
        raise ValidationFailed({"url": [problem]})
    return url


class WebhookService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def register(self, tenant: Tenant, url: object) -> tuple[Webhook, str]:
        """Register or replace the tenant's webhook; returns it with its new signing secret."""
        target = checked_url(url)
        secret = secrets.token_urlsafe(32)
        with self._store.write() as session:
            webhook = session.set_webhook(tenant.id, target, secret, self._clock.now())
        return webhook, secret

    def get(self, tenant: Tenant) -> tuple[Webhook, Backlog]:
        """The webhook (never its secret) and how many deliveries are waiting or given up."""
        with self._store.read() as session:
            webhook = session.get_webhook(tenant.id)
            if webhook is None:
                raise NotFound("webhook")
            return webhook, session.webhook_backlog(tenant.id)

    def remove(self, tenant: Tenant) -> None:
        """Stop delivering: the webhook goes, and so do its undelivered results."""
        with self._store.write() as session:
            if not session.delete_webhook(tenant.id):
                raise NotFound("webhook")

"""Webhook commands beyond set and remove: the delivery log, a retry that keeps the secret, and
the operator's ``--webhook-allow`` of serve and worker."""

import json
import os
from typing import Annotated

import typer

from dialer.cli import DatabaseOpt, TenantOpt, _container, _fail, _print, webhook_app
from dialer.domain.ids import TenantId
from dialer.domain.webhook_address import AddressPolicy, AllowListInvalid
from dialer.services.results import iso_utc

WebhookAllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--webhook-allow",
        help="A host name, address or network (10.0.0.0/8) webhooks may reach although it is"
        " not public; repeat for more [env DIALER_WEBHOOK_ALLOW, space-separated]",
    ),
]


def allow_list(values: list[str] | None) -> tuple[str, ...]:
    """The ``--webhook-allow`` values, checked; one ``error:`` line if one is not understood."""
    entries = tuple(values or ())
    try:
        AddressPolicy.allowing(entries)
    except AllowListInvalid as exc:
        _fail(f"--webhook-allow: {exc}")
    return entries


def serve_webhook_allow(values: list[str] | None) -> tuple[str, ...]:
    """``allow_list`` for serve, also handed to the API copies of ``--workers`` (through the
    environment they inherit), as each of them registers webhooks."""
    entries = allow_list(values)
    if entries:
        os.environ["DIALER_WEBHOOK_ALLOW"] = " ".join(entries)
    return entries


@webhook_app.command("retry")
def webhook_retry(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Deliver again what was given up on, signed with the same secret (no new one)."""
    with _container(database) as c:
        _print({"retried": c.webhooks.retry(c.tenants.get(TenantId(tenant)))})


@webhook_app.command("deliveries")
def webhook_deliveries(
    tenant: TenantOpt,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or failed (given up)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first")] = 100,
    before: Annotated[
        int | None, typer.Option("--before", help="Only deliveries older than this id")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """The delivery log, newest first, one JSON line each: status, tries, last error."""
    with _container(database) as c:
        found = c.webhooks.deliveries(c.tenants.get(TenantId(tenant)), status, before, limit)
        for record in found:
            typer.echo(
                json.dumps(
                    {
                        "id": record.id,
                        "status": record.status,
                        "tries": record.tries,
                        "createdAt": iso_utc(record.created_at),
                        "deliveredAt": record.delivered_at and iso_utc(record.delivered_at),
                        "nextTryAt": record.next_try_at and iso_utc(record.next_try_at),
                        "lastError": record.last_error,
                    }
                )
            )

"""list / show / delete for a tenant's call flows, caller IDs, agents and queues; show for its
webhook; rotate-key for a tenant. Every command names the tenant, and sees only its entries."""

import json
from typing import Annotated, Any

import typer

from dialer.cli import (
    DatabaseOpt,
    TenantOpt,
    _container,
    _print,
    agent_app,
    callflow_app,
    cli_app,
    queue_app,
    tenant_app,
    webhook_app,
)
from dialer.domain.agent import Agent, Queue
from dialer.domain.ids import TenantId
from dialer.domain.tenant import CallerId, CallFlowRecord
from dialer.services.catalog import EntryKind
from dialer.services.results import iso_utc

IdArg = Annotated[int, typer.Argument(help="Its id (from list)", min=1, max=2**63 - 1)]


def _callflow(record: CallFlowRecord, definition: bool) -> dict[str, Any]:
    found = {"id": record.id, "name": record.name, "createdAt": iso_utc(record.created_at)}
    return found | ({"definition": json.loads(record.definition)} if definition else {})


def _cli(cli: CallerId) -> dict[str, Any]:
    return {"id": cli.id, "number": cli.number, "createdAt": iso_utc(cli.created_at)}


def _agent(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "member": agent.member,
        "name": agent.display_name,
        "phone": agent.phone,
        "createdAt": iso_utc(agent.created_at),
    }


def _queue(queue: Queue) -> dict[str, Any]:
    return {"id": queue.id, "name": queue.name, "createdAt": iso_utc(queue.created_at)}


def _delete(what: EntryKind, entry_id: int, tenant: int, database: str | None) -> None:
    with _container(database) as c:
        c.catalog.delete(c.tenants.get(TenantId(tenant)), what, entry_id)
        _print({"deleted": entry_id})


@callflow_app.command("list")
def callflow_list(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """The tenant's call flows (without their definitions: see show)."""
    with _container(database) as c:
        records = c.catalog.callflows(c.tenants.get(TenantId(tenant)))
        _print([_callflow(r, definition=False) for r in records])


@callflow_app.command("show")
def callflow_show(callflow_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """One call flow, with its definition as stored (canonical JSON)."""
    with _container(database) as c:
        record = c.catalog.callflow(c.tenants.get(TenantId(tenant)), callflow_id)
        _print(_callflow(record, definition=True))


@callflow_app.command("delete")
def callflow_delete(callflow_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Delete a call flow; refused while any campaign uses it."""
    _delete("callflow", callflow_id, tenant, database)


@cli_app.command("list")
def cli_list(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """The tenant's caller IDs."""
    with _container(database) as c:
        _print([_cli(x) for x in c.catalog.clis(c.tenants.get(TenantId(tenant)))])


@cli_app.command("show")
def cli_show(cli_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """One caller ID."""
    with _container(database) as c:
        _print(_cli(c.catalog.cli(c.tenants.get(TenantId(tenant)), cli_id)))


@cli_app.command("delete")
def cli_delete(cli_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Delete a caller ID; refused while any campaign uses it."""
    _delete("cli", cli_id, tenant, database)


@agent_app.command("list")
def agent_list(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """The tenant's agents."""
    with _container(database) as c:
        _print([_agent(a) for a in c.catalog.agents(c.tenants.get(TenantId(tenant)))])


@agent_app.command("show")
def agent_show(agent_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """One agent."""
    with _container(database) as c:
        _print(_agent(c.catalog.agent(c.tenants.get(TenantId(tenant)), agent_id)))


@agent_app.command("delete")
def agent_delete(agent_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Delete an agent; refused while it is a member of any campaign."""
    _delete("agent", agent_id, tenant, database)


@queue_app.command("list")
def queue_list(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """The tenant's queues."""
    with _container(database) as c:
        _print([_queue(q) for q in c.catalog.queues(c.tenants.get(TenantId(tenant)))])


@queue_app.command("show")
def queue_show(queue_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """One queue."""
    with _container(database) as c:
        _print(_queue(c.catalog.queue(c.tenants.get(TenantId(tenant)), queue_id)))


@queue_app.command("delete")
def queue_delete(queue_id: IdArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Delete a queue; refused while a campaign's strategy or a call flow uses it."""
    _delete("queue", queue_id, tenant, database)


@webhook_app.command("show")
def webhook_show(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """The webhook's URL, deliveries waiting (backlog) and given up on (failed); never its
    secret."""
    with _container(database) as c:
        webhook, backlog = c.webhooks.get(c.tenants.get(TenantId(tenant)))
        _print(
            {
                "url": webhook.url,
                "createdAt": iso_utc(webhook.created_at),
                "backlog": backlog.pending,
                "failed": backlog.failed,
            }
        )


@tenant_app.command("rotate-key")
def tenant_rotate_key(
    tenant_id: Annotated[int, typer.Argument(help="Tenant id", min=1, max=2**63 - 1)],
    database: DatabaseOpt = None,
) -> None:
    """Give the tenant a new API key (shown only this once); the old one stops working at once."""
    with _container(database) as c:
        _print({"id": tenant_id, "api_key": c.tenants.rotate_key(TenantId(tenant_id))})

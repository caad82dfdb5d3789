"""dialer agent token / revoke / phone: an agent's desk tokens and assigned phone, by the
agent's member name."""

from typing import Annotated

import typer

from dialer.cli import DatabaseOpt, TenantOpt, _container, _print, agent_app
from dialer.domain.ids import TenantId

MemberArg = Annotated[str, typer.Argument(help="The agent's member name, e.g. SIPSIP1")]


@agent_app.command("token")
def agent_token(member: MemberArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Issue a desk token for an agent; prints it (shown only this once) and its id."""
    with _container(database) as c:
        owner = c.tenants.get(TenantId(tenant))
        agent = c.agent_desk.agent_by_member(owner, member)
        token_id, token = c.agent_desk.issue_token(owner, agent.id)
        _print({"id": token_id, "agentId": agent.id, "member": agent.member, "token": token})


@agent_app.command("revoke")
def agent_revoke(
    member: MemberArg,
    tenant: TenantOpt,
    token_id: Annotated[
        int | None,
        typer.Option("--token-id", help="Revoke only this token (default: all)", min=1),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Revoke an agent's desk tokens (all, or one with --token-id); prints how many."""
    with _container(database) as c:
        owner = c.tenants.get(TenantId(tenant))
        agent = c.agent_desk.agent_by_member(owner, member)
        revoked = c.agent_desk.revoke_tokens(owner, agent.id, token_id)
        _print({"revoked": revoked, "agentId": agent.id, "member": agent.member})


@agent_app.command("phone")
def agent_phone(
    member: MemberArg,
    tenant: TenantOpt,
    phone: Annotated[
        str | None, typer.Argument(help="sip:1001@192.0.2.10, +441632960001 or sim:...")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Assign no phone")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Assign the phone the agent's log-ins call (or --clear it); prints the agent's phone."""
    if (phone is None) == (not clear):
        raise typer.BadParameter("give a phone, or --clear (not both)")
    with _container(database) as c:
        owner = c.tenants.get(TenantId(tenant))
        agent = c.agent_desk.agent_by_member(owner, member)
        changed = c.catalog.set_agent_phone(owner, agent.id, None if clear else phone)
        _print({"agentId": changed.id, "member": changed.member, "phone": changed.phone})

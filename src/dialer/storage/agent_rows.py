"""Agents' sessions and their state changes as stored rows (storage/sql_agent_sessions.py):
the customer on a session is a JSON column, times are microseconds since the epoch."""

from datetime import datetime

import orjson

from dialer.domain.agent_session import (
    AgentSession,
    AgentState,
    Customer,
    Disposition,
    Pending,
    StateChange,
)
from dialer.domain.codes import Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.storage.database import Row
from dialer.storage.rows import from_us, opt_us, to_us


def customer_to_column(customer: Customer | None) -> str | None:
    if customer is None:
        return None
    return orjson.dumps(
        {
            "campaign_id": customer.campaign_id,
            "destination_id": customer.destination_id,
            "attempt_number": customer.attempt_number,
            "number": customer.number,
            "name": customer.name,
            "parameters": customer.parameters,
            "custom_data": customer.custom_data,
            "keys": customer.keys,
            "answered_at": to_us(customer.answered_at),
            "bridged_at": opt_us(customer.bridged_at),
        }
    ).decode()


def customer_from_column(value: str | None) -> Customer | None:
    if value is None:
        return None
    data = orjson.loads(value)
    bridged = data["bridged_at"]
    return Customer(
        CampaignId(data["campaign_id"]),
        DestinationId(data["destination_id"]),
        data["attempt_number"],
        data["number"],
        data["name"],
        tuple((n, v) for n, v in data["parameters"]),
        data["custom_data"],
        data["keys"],
        from_us(data["answered_at"]),
        None if bridged is None else from_us(bridged),
    )


def _opt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def session_from_row(row: Row) -> AgentSession:
    (
        sid,
        tenant_id,
        agent_id,
        member,
        phone,
        state,
        since,
        started,
        reason,
        pending,
        pending_reason,
        customer,
        stage,
        callback_at,
        same_agent,
        wrap_up_until,
        release,
        ready_since,
        worker,
        lease_until,
        version,
    ) = row
    disposition = None
    if stage is not None:
        disposition = Disposition(Stage(stage), _opt(callback_at), bool(same_agent))
    return AgentSession(
        id=sid,
        tenant_id=TenantId(tenant_id),
        agent_id=agent_id,
        member=member,
        phone=phone,
        state=AgentState(state),
        since=from_us(since),
        started_at=from_us(started),
        reason=reason,
        pending=None if pending is None else Pending(pending),
        pending_reason=pending_reason,
        customer=customer_from_column(customer),
        disposition=disposition,
        wrap_up_until=_opt(wrap_up_until),
        release_requested=bool(release),
        ready_since=_opt(ready_since),
        worker=worker,
        lease_until=_opt(lease_until),
        version=version,
    )


def change_from_row(row: Row) -> StateChange:
    cid, session_id, tenant_id, agent_id, state, at, reason, campaign, destination, attempt = row
    return StateChange(
        session_id,
        TenantId(tenant_id),
        agent_id,
        AgentState(state),
        from_us(at),
        reason,
        None if campaign is None else CampaignId(campaign),
        None if destination is None else DestinationId(destination),
        attempt,
        cid,
    )

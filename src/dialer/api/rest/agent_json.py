"""The JSON of the agent desk and the supervisor: a session, its customer, a state event."""

from datetime import datetime, timedelta
from typing import Any

import orjson

from dialer.domain.agent import Agent
from dialer.domain.agent_session import AgentSession, AgentState, Customer, Disposition
from dialer.domain.result_row import iso_utc
from dialer.services.agent_desk import DeskEvent, in_call
from dialer.services.agent_supervision import AgentOverview, DayReport


def customer_json(customer: Customer) -> dict[str, Any]:
    """The screen pop: who the call is with and what the campaign knows about them."""
    try:
        custom_data = None if customer.custom_data is None else orjson.loads(customer.custom_data)
    except orjson.JSONDecodeError:
        custom_data = customer.custom_data
    return {
        "campaignId": customer.campaign_id,
        "phoneNumberId": customer.destination_id,
        "attemptNumber": customer.attempt_number,
        "number": customer.number,
        "name": customer.name,
        "parameters": [{"parameter": n, "value": v} for n, v in customer.parameters],
        "customData": custom_data,
        "keys": customer.keys,
        "answeredAt": iso_utc(customer.answered_at),
        "bridgedAt": iso_utc(customer.bridged_at),
    }


def disposition_json(disposition: Disposition | None) -> dict[str, Any] | None:
    if disposition is None:
        return None
    return {
        "stage": disposition.stage.value,
        "stageName": disposition.stage.api_name,
        "callbackAt": iso_utc(disposition.callback_at),
        "sameAgent": disposition.same_agent,
    }


def session_json(agent: Agent, session: AgentSession | None, now: datetime) -> dict[str, Any]:
    """An agent's state as the desk and the supervisor show it; a logged-out agent is
    ``offline`` (with the end of their last session, if they had one)."""
    base: dict[str, Any] = {"agentId": agent.id, "member": agent.member, "name": agent.display_name}
    if session is None:
        return base | {
            "sessionId": None,
            "state": AgentState.OFFLINE.value,
            "since": None,
            "secondsInState": None,
            "reason": None,
            "pending": None,
            "pendingReason": None,
            "phone": None,
            "loggedInAt": None,
            "wrapUpUntil": None,
            "hangupRequested": False,
            "customer": None,
            "disposition": None,
        }
    customer = session.current_customer
    return base | {
        "sessionId": session.id,
        "state": session.state.value,
        "since": iso_utc(session.since),
        "secondsInState": round(max((now - session.since).total_seconds(), 0.0), 3),
        "reason": session.reason,
        "pending": None if session.pending is None else session.pending.value,
        "pendingReason": session.pending_reason,
        "phone": session.phone,
        "loggedInAt": iso_utc(session.started_at),
        "wrapUpUntil": iso_utc(session.wrap_up_until),
        "hangupRequested": session.release_requested,
        "customer": None if customer is None else customer_json(customer),
        "disposition": None if customer is None else disposition_json(session.disposition),
    }


def overview_json(row: AgentOverview, now: datetime) -> dict[str, Any]:
    return session_json(row.agent, row.session, now) | {"campaigns": list(row.campaigns)}


def event_json(event: DeskEvent) -> dict[str, Any]:
    """One ``state`` event of the stream: the change, and for a change into a call the
    customer (the full screen pop while the session still holds that call; else its ids)."""
    change = event.change
    body: dict[str, Any] = {
        "id": change.id,
        "sessionId": change.session_id,
        "state": change.state.value,
        "at": iso_utc(change.at),
        "reason": change.reason,
        "customer": None,
    }
    if in_call(change.state) and change.campaign_id is not None:
        held = event.session.customer if event.session is not None else None
        same = held is not None and (
            held.campaign_id,
            held.destination_id,
            held.attempt_number,
        ) == (change.campaign_id, change.destination_id, change.attempt_number)
        if same and held is not None:
            body["customer"] = customer_json(held)
        else:
            body["customer"] = {
                "campaignId": change.campaign_id,
                "phoneNumberId": change.destination_id,
                "attemptNumber": change.attempt_number,
            }
    return body


def report_json(report: DayReport) -> dict[str, Any]:
    agents = []
    for agent, spans in report.agents:
        seconds = {
            state.value: round(spans.get(state, timedelta()).total_seconds(), 3)
            for state in AgentState
            if state is not AgentState.OFFLINE
        }
        agents.append(
            {
                "agentId": agent.id,
                "member": agent.member,
                "name": agent.display_name,
                "seconds": seconds,
                "loggedInSeconds": round(sum(seconds.values()), 3),
            }
        )
    return {
        "day": report.day.isoformat(),
        "timezone": report.timezone,
        "from": iso_utc(report.start),
        "to": iso_utc(report.end),
        "agents": agents,
    }

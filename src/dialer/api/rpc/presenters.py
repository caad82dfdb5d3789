"""Campaigns, calls and results in the Dialer API seed's JSON shape."""

from datetime import timedelta
from typing import Any

import orjson

from dialer.domain.agent import AgentOptions
from dialer.domain.campaign import CampaignType
from dialer.domain.destination import WaitingCall
from dialer.domain.errors import (
    DialerError,
    NumberInvalid,
    TargetMissing,
    Unauthorized,
    UnknownCampaign,
)
from dialer.services.abandonment_view import abandonment_json
from dialer.services.dialer import CampaignView, ItemResult

from . import envelope as codes
from .envelope import INVALID_KEY_DESCRIPTION


def campaign_json(view: CampaignView, *, agent_awaiting: int | None) -> dict[str, Any]:
    """``agent_awaiting``: what TotalAwaitingCalls says for an agent campaign (null in the list,
    -1 in details and pending calls, as the seed has it)."""
    campaign, counts = view.campaign, view.counts
    agent = campaign.spec.kind is CampaignType.AGENT
    return {
        "Name": campaign.spec.name or "",
        "StatusName": campaign.status.value.capitalize(),
        "TotalPendingCalls": counts.pending,
        "MaxPriority": counts.max_priority,
        "MinPriority": counts.min_priority,
        "TotalAwaitingCalls": agent_awaiting if agent else counts.awaiting,
        "Code": campaign.code,
    }


def details_json(view: CampaignView) -> dict[str, Any]:
    strategy = view.campaign.strategy
    spec = view.campaign.spec
    return {
        **campaign_json(view, agent_awaiting=-1),
        "TotalOriginatedCalls": view.counts.originated,
        "Type": "Agent" if view.campaign.spec.kind is CampaignType.AGENT else "IVR",
        "Strategy": None
        if strategy is None
        else {
            "QueueForMonitoring": strategy.queue_id,
            "QueueMaximumCallers": strategy.max_callers,
            "Coefficient": strategy.coefficient,
        },
        "AgentOptions": agent_options_json(spec.agent_options)
        if spec.kind is CampaignType.AGENT
        else None,
        "Abandonment": None
        if view.abandonment is None
        else {k[0].upper() + k[1:]: v for k, v in abandonment_json(view.abandonment).items()},
        "AnswerDetection": spec.amd_mode.value,
    }


def agent_options_json(options: AgentOptions) -> dict[str, Any]:
    """As the REST API's ``agentOptions`` (docs/agents.md), in the seed's PascalCase."""
    wrap_up = options.wrap_up
    return {
        "WrapUpSeconds": None if wrap_up is None else _seconds(wrap_up),
        "MaxWaitSeconds": _seconds(options.max_wait),
        "BridgeOnAnswer": options.bridge_on_answer,
        "Pacing": {
            "Mode": options.pacing.mode.value,
            "Ratio": options.pacing.ratio,
            "Target": _percent(options.pacing.target),
        },
        "InformationMessage": None
        if options.message is None
        else {"Text": options.message.text or None, "Recording": options.message.recording},
    }


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 6)


def _seconds(span: timedelta) -> int | float:
    seconds = span.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def pending_campaign_json(view: CampaignView) -> dict[str, Any]:
    out = campaign_json(view, agent_awaiting=-1)
    out["TotalOriginatedCalls"] = view.counts.originated
    return out


def call_json(call: WaitingCall) -> dict[str, Any]:
    return {
        # The seed shows international numbers without the plus: "972525599100".
        "Phone": (call.e164 or call.raw).lstrip("+"),
        "CallerID": (call.caller_id or "").lstrip("+"),
        "CallerName": "",
        "OriginateTime": call.originate_time,
        "IsDateLocal": call.is_date_local,
        "Priority": call.priority,
        "CustomerName": call.name or "",
        "CallStatus": {"Status": call.status.value, "Description": call.status.description},
        "CustomData": orjson.loads(call.custom_data) if call.custom_data else {},
    }


def item_code(error: DialerError | None) -> tuple[int, str]:
    if error is None:
        return codes.OK, "OK"
    if isinstance(error, UnknownCampaign):
        return codes.INVALID_CAMPAIGN, str(error)
    if isinstance(error, Unauthorized):
        return codes.INVALID_KEY, INVALID_KEY_DESCRIPTION
    if isinstance(error, TargetMissing):
        return codes.MISSING, str(error)
    if isinstance(error, NumberInvalid):
        return codes.NUMBER_INVALID, str(error)
    return codes.INVALID_REQUEST, str(error)


def bulk_body(results: list[ItemResult]) -> bytes:
    items = []
    for result in results:
        code, description = item_code(result.error)
        items.append(
            {
                "Target": result.target,
                "ErrorCode": code,
                "Description": description,
                "CustomData": result.custom_data,
            }
        )
    return orjson.dumps({"AddResult": items, "ErrorCode": codes.OK, "Description": "OK"})

"""Domain values in the seed's JSON shape (field names exactly as voice-campaign-api.md)."""

import json
from datetime import time
from typing import Any

from dialer.domain.campaign import Campaign, CampaignSummary, StoredNumber
from dialer.domain.tenant import CallerId, CallFlowRecord


def clock(value: time) -> str:
    return value.strftime("%H:%M") if value.second == 0 else value.strftime("%H:%M:%S")


def campaign_fields(campaign: Campaign) -> dict[str, Any]:
    spec = campaign.spec
    schedule = spec.schedule
    return {
        "id": campaign.id,
        "name": spec.name,
        "startDate": schedule.start_date.isoformat(),
        "startTime": clock(schedule.window.start),
        "finishTime": clock(schedule.window.finish),
        "runoverDays": [
            {
                "date": day.day.isoformat(),
                "startTime": clock(day.window.start),
                "finishTime": clock(day.window.finish),
            }
            for day in schedule.runover_days
        ],
        "callflow_Id": spec.callflow_id,
        "cli_Id": spec.cli_id,
        "attempts": [
            {"interval": rule.interval_minutes, "attemptNumber": rule.number}
            for rule in spec.attempts
        ],
        "answerMachineDetected": spec.answerphone.value,
        "smsOnBusy": spec.sms_on_busy.value,
        # Beyond the seed: the Dialer API's campaign code, the type and the status.
        "type": spec.kind.value,
        "code": campaign.code,
        "status": campaign.status.value.capitalize(),
    }


def summary_json(summary: CampaignSummary) -> dict[str, Any]:
    return {**campaign_fields(summary.campaign), "phoneNumberCount": summary.phone_number_count}


def number_json(stored: StoredNumber) -> dict[str, Any]:
    number, attempts_made, outcome = stored
    raw, e164, name, parameters = number[:4]
    out: dict[str, Any] = {"number": raw}
    # Optional parts are left out when absent, as in the seed's example ("Dave" has no parameters).
    if name is not None:
        out["name"] = name
    if parameters:
        out["parameters"] = [{"value": v, "parameter": p} for p, v in parameters]
    out["e164"] = e164
    out["attemptsMade"] = attempts_made
    if outcome is None:
        out["outcome"] = out["outcomeName"] = None
    else:
        out["outcome"] = outcome.value
        out["outcomeName"] = outcome.api_name
    return out


def detail_json(campaign: Campaign, numbers: list[StoredNumber]) -> dict[str, Any]:
    return {**campaign_fields(campaign), "phoneNumbers": [number_json(n) for n in numbers]}


def callflow_json(record: CallFlowRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "definition": json.loads(record.definition)}


def cli_json(cli: CallerId) -> dict[str, Any]:
    return {"id": cli.id, "number": cli.number}

"""Domain values in the seed's JSON shape (field names exactly as voice-campaign-api.md)."""

import json
from datetime import time, timedelta
from typing import Any

from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignSummary,
    CampaignType,
    StoredNumber,
)
from dialer.domain.codes import Outcome
from dialer.domain.numbering import NOT_VALID, number_type_name
from dialer.domain.progress import CampaignProgress
from dialer.domain.tenant import CallerId, CallFlowRecord
from dialer.services.compliance_input import message_json
from dialer.services.numbers import number_type_of
from dialer.services.pacing_input import pacing_json


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
        "agentOptions": agent_options_json(spec) if spec.kind is CampaignType.AGENT else None,
        "answerDetection": spec.amd_mode.value,
    }


def agent_options_json(spec: CampaignSpec) -> dict[str, Any]:
    """An agent campaign's options as stored, the defaults for those never set."""
    options = spec.agent_options
    wrap_up = options.wrap_up
    return {
        "wrapUpSeconds": None if wrap_up is None else _whole_seconds(wrap_up),
        "maxWaitSeconds": _whole_seconds(options.max_wait),
        "bridgeOnAnswer": options.bridge_on_answer,
        "pacing": pacing_json(options.pacing),
        "informationMessage": message_json(options.message),
    }


def _whole_seconds(span: timedelta) -> int | float:
    seconds = span.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def summary_json(summary: CampaignSummary) -> dict[str, Any]:
    return {**campaign_fields(summary.campaign), "phoneNumberCount": summary.phone_number_count}


def number_json(stored: StoredNumber) -> dict[str, Any]:
    number, attempts_made, outcome, stage, destination_id = stored
    raw, e164, name, parameters = number[:4]
    out: dict[str, Any] = {"number": raw}
    # Optional parts are left out when absent, as in the seed's example ("Dave" has no parameters).
    if name is not None:
        out["name"] = name
    if parameters:
        out["parameters"] = [{"value": v, "parameter": p} for p, v in parameters]
    out["e164"] = e164
    out["id"] = destination_id  # stable: results rows and webhooks name it phoneNumberId
    kind = number.number_type
    if kind is None and e164 is not None:  # stored before types were recorded
        kind = number_type_of(e164)
    out["valid"] = kind is not None and kind != NOT_VALID
    out["numberType"] = None if kind is None else number_type_name(kind)
    out["attemptsMade"] = attempts_made
    code, outcome_name = (None, None) if outcome is None else (outcome.value, outcome.api_name)
    # outcome/outcomeName came first and stay, equal to lastOutcome/lastOutcomeName.
    out["outcome"], out["outcomeName"] = code, outcome_name
    out["lastOutcome"], out["lastOutcomeName"] = code, outcome_name
    out["lastStage"] = None if stage is None else stage.value
    out["lastStageName"] = None if stage is None else stage.api_name
    return out


def progress_json(progress: CampaignProgress) -> dict[str, Any]:
    """Destinations by state; the done ones by last outcome, every outcome named (0 if none).

    inFlight is the calls on the line; claimed also counts calls that have ended but whose
    engine has not recorded them yet (it records in batches), so pending + claimed + done +
    cancelled is every number.
    """
    return {
        "pending": progress.pending,
        "inFlight": min(progress.on_line, progress.in_flight),
        "claimed": progress.in_flight,
        "done": progress.done,
        "cancelled": progress.cancelled,
        "outcomes": {o.api_name: progress.outcomes.get(o, 0) for o in Outcome},
    }


def detail_json(
    campaign: Campaign,
    numbers: list[StoredNumber],
    progress: CampaignProgress | None = None,
    not_valid: int | None = None,
) -> dict[str, Any]:
    out = {**campaign_fields(campaign), "phoneNumbers": [number_json(n) for n in numbers]}
    if not_valid is not None:
        out["notValidPhoneNumberCount"] = not_valid
    if progress is not None:
        out["progress"] = progress_json(progress)
    return out


def callflow_json(record: CallFlowRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "definition": json.loads(record.definition)}


def cli_json(cli: CallerId) -> dict[str, Any]:
    return {"id": cli.id, "number": cli.number}

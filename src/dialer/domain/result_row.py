"""The published shape of one attempt's result: the REST results (JSON and CSV) and the webhook
message are all built here, so a field added here appears everywhere at once.

It lives in the domain, not in a presenter, because the engine needs it too: the webhook message
is written to the outbox in the same transaction as the attempt it reports (a crash between the
two would lose or double a delivery), so the store builds it from the finished attempt there.
"""

import json
from datetime import UTC, datetime

from dialer.domain.attempt import AgentCall, AttemptResult, FinishedAttempt
from dialer.domain.sms_outbox import SmsRecord, SmsStatus

# The row's fields, in order: CSV header and JSON keys alike.
RESULT_FIELDS = (
    "number",
    "name",
    "attemptNumber",
    "outcome",
    "outcomeName",
    "stage",
    "stageName",
    "queuedAt",
    "originatedAt",
    "answeredAt",
    "endedAt",
    "cause",
    "keys",
    "smsSent",
    # Added later, so at the end: CSV readers that go by position keep working.
    "attemptId",
    "phoneNumberId",
    # Agent campaigns' answered calls (AGENT_FIELDS): empty cells in CSV for other attempts.
    "agent",
    "agentId",
    "timeToAgentSeconds",
    "talkSeconds",
    "wrapUpSeconds",
    "disposition",
    "callbackAt",
    # The attempt's texts (docs/sms.md): a list in JSON, one readable cell in CSV.
    "sms",
)
# In JSON (results and webhooks) only attempts with an agent call carry these keys.
AGENT_FIELDS = RESULT_FIELDS[RESULT_FIELDS.index("agent") : RESULT_FIELDS.index("sms")]


def iso_utc(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC to the millisecond, with a Z: ``2025-10-01T09:00:12.345Z``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused; pass a timezone-aware one")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seconds(value: float | None) -> float | None:
    # Microseconds are stored; the published durations are to the millisecond, as the instants.
    return None if value is None else round(value, 3)


def agent_fields(agent: AgentCall) -> dict[str, object]:
    """What the agent did with the call: who took it (None when no agent was reached), how
    long the callee waited for one, talked and the agent wrapped up, and the disposition."""
    return {
        "agent": agent.member,
        "agentId": agent.agent_id,
        "timeToAgentSeconds": _seconds(agent.time_to_agent),
        "talkSeconds": _seconds(agent.talk_seconds),
        "wrapUpSeconds": _seconds(agent.wrap_up_seconds),
        "disposition": None if agent.disposition is None else agent.disposition.api_name,
        "callbackAt": iso_utc(agent.callback_at),
    }


def result_fields(result: AttemptResult, campaign_code: str | None = None) -> dict[str, object]:
    """One attempt in the API's camelCase shape; with a campaign code (the webhook), the
    campaign's ``campaignId`` and ``campaignCode`` come first; an attempt with an agent call
    ends with its AGENT_FIELDS."""
    head: dict[str, object] = {}
    if campaign_code is not None:
        head = {"campaignId": result.campaign_id, "campaignCode": campaign_code}
    fields: dict[str, object] = {
        **head,
        "number": result.number,
        "name": result.name,
        "attemptNumber": result.attempt_number,
        "outcome": result.outcome.value,
        "outcomeName": result.outcome.api_name,
        "stage": result.stage.value,
        "stageName": result.stage.api_name,
        "queuedAt": iso_utc(result.queued_at),
        "originatedAt": iso_utc(result.originated_at),
        "answeredAt": iso_utc(result.answered_at),
        "endedAt": iso_utc(result.ended_at),
        "cause": result.cause,
        "keys": result.keys,
        "smsSent": result.sms_sent,
        "attemptId": result.attempt_id,
        "phoneNumberId": result.destination_id,
    }
    if result.agent is not None:
        fields.update(agent_fields(result.agent))
    fields["sms"] = [sms_fields(text) for text in result.sms]
    return fields


def sms_fields(text: SmsRecord) -> dict[str, object]:
    """One text the attempt earned: its status, its parts once a provider took it, the
    provider, and the provider's reason for a failure (or the last retry's)."""
    return {
        "status": text.status.value,
        "parts": text.parts,
        "provider": text.provider or None,
        "reason": text.reason or None,
        "providerIds": list(text.provider_ids),
        "updatedAt": iso_utc(text.updated_at),
    }


def sms_cell(texts: list[dict[str, object]]) -> str:
    """The texts in one CSV cell: ``delivered``, ``delivered (3 parts)``, ``failed: reason``,
    several separated by ``; ``."""
    cells = []
    for text in texts:
        cell = str(text["status"])
        parts = text["parts"]
        if isinstance(parts, int) and parts > 1:
            cell += f" ({parts} parts)"
        if text["reason"]:
            cell += f": {text['reason']}"
        cells.append(cell)
    return "; ".join(cells)


def attempt_result(finished: FinishedAttempt, attempt_id: int) -> AttemptResult:
    """The results row a finished attempt becomes once the store has given it ``attempt_id``:
    the same row ``GET .../results`` reads back."""
    subject = finished.webhook
    if subject is None:
        raise ValueError("only an attempt concluded for a webhook names its number")
    record = finished.record
    return AttemptResult(
        attempt_id=attempt_id,
        campaign_id=finished.campaign_id,
        destination_id=record.destination_id,
        number=subject.number,
        name=subject.name,
        attempt_number=record.attempt_number,
        outcome=record.outcome,
        stage=record.stage,
        queued_at=record.queued_at,
        originated_at=record.originated_at,
        answered_at=record.answered_at,
        ended_at=record.ended_at,
        cause=record.cause,
        keys=record.keys,
        sms_sent=record.sms_sent,
        agent=record.agent,
        # Queued with the attempt: each text's later status is in the results (docs/sms.md).
        sms=tuple(SmsRecord(SmsStatus.QUEUED, 0, None, "") for _ in record.texts),
    )


def webhook_body(finished: FinishedAttempt, attempt_id: int) -> str:
    """The JSON a registered webhook receives for this attempt (docs/webhooks.md)."""
    result = attempt_result(finished, attempt_id)  # refuses an attempt with no webhook
    assert finished.webhook is not None
    fields = result_fields(result, campaign_code=finished.webhook.campaign_code)
    return json.dumps(fields, separators=(",", ":"))

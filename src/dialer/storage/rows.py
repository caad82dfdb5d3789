"""Conversions between stored column values and domain values."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from dialer.domain.abandonment import InfoMessage
from dialer.domain.agent import AgentOptions, Pacing, PacingMode, Strategy
from dialer.domain.amd_mode import AmdMode
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignType,
)
from dialer.domain.ids import CallFlowId, CampaignId, CliId, TenantId
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.schedule import RunoverDay, Schedule, Window

CAMPAIGN_COLUMNS = (
    "id, tenant_id, code, name, kind, status, start_date, start_time, finish_time, runover_days,"
    " attempts, callflow_id, cli_id, answerphone_policy, sms_on_busy, created_at, updated_at,"
    " strategy_queue_id, strategy_max_callers, strategy_coefficient, agent_options"
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused; pass a timezone-aware one")
    # Integer arithmetic: a float epoch times 1e6 lost a microsecond past 2038.
    return (moment - _EPOCH) // _MICROSECOND


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def opt_us(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


def spec_columns(spec: CampaignSpec) -> tuple[Any, ...]:
    """Values for: name, kind, start_date, start_time, finish_time, runover_days, attempts,
    callflow_id, cli_id, answerphone_policy, sms_on_busy, agent_options."""
    schedule = spec.schedule
    runover = [
        {
            "date": d.day.isoformat(),
            "start": d.window.start.isoformat(),
            "finish": d.window.finish.isoformat(),
        }
        for d in schedule.runover_days
    ]
    attempts = [[rule.number, rule.interval_minutes] for rule in spec.attempts]
    return (
        spec.name,
        spec.kind.value,
        schedule.start_date.isoformat(),
        schedule.window.start.isoformat(),
        schedule.window.finish.isoformat(),
        json.dumps(runover),
        json.dumps(attempts),
        spec.callflow_id,
        spec.cli_id,
        spec.answerphone.value,
        spec.sms_on_busy.value,
        campaign_options_to_column(spec),
    )


def campaign_options_to_column(spec: CampaignSpec) -> str | None:
    """The agent_options column: an agent campaign's options, and (no migration needed) the
    detection mode when it is not the default. NULL when there is neither."""
    stored = agent_options_to_column(spec.agent)
    if spec.amd_mode is AmdMode.PREFER_PEOPLE:
        return stored
    options = json.loads(stored) if stored is not None else {}
    return json.dumps({**options, "amd_mode": spec.amd_mode.value})


def campaign_options_from_column(value: str | None) -> tuple[AgentOptions | None, AmdMode]:
    if value is None:
        return None, AmdMode.PREFER_PEOPLE
    stored = json.loads(value)
    mode = AmdMode(stored.pop("amd_mode", AmdMode.PREFER_PEOPLE.value))
    # Only the mode stored: an IVR campaign (or agent defaults never written), no options.
    return (agent_options_from_column(value) if stored else None), mode


def agent_options_to_column(options: AgentOptions | None) -> str | None:
    if options is None:
        return None
    wrap_up = None if options.wrap_up is None else options.wrap_up.total_seconds()
    pacing = options.pacing
    message = options.message
    return json.dumps(
        {
            "wrap_up": wrap_up,
            "max_wait": options.max_wait.total_seconds(),
            "bridge_on_answer": options.bridge_on_answer,
            "pacing": {"mode": pacing.mode.value, "ratio": pacing.ratio, "target": pacing.target},
            "message": None
            if message is None
            else {"text": message.text, "recording": message.recording},
        }
    )


def agent_options_from_column(value: str | None) -> AgentOptions | None:
    if value is None:
        return None
    stored = json.loads(value)
    wrap_up = stored["wrap_up"]
    # Options stored before issue 13 have no pacing or message: the defaults.
    pacing = stored.get("pacing") or {}
    message = stored.get("message")
    return AgentOptions(
        wrap_up=None if wrap_up is None else timedelta(seconds=wrap_up),
        max_wait=timedelta(seconds=stored["max_wait"]),
        bridge_on_answer=bool(stored["bridge_on_answer"]),
        pacing=Pacing(
            PacingMode(pacing.get("mode", PacingMode.PREDICTIVE.value)),
            pacing.get("ratio"),
            pacing.get("target"),
        ),
        message=None if message is None else InfoMessage(message["text"], message["recording"]),
    )


def campaign_from_row(row: tuple[Any, ...]) -> Campaign:
    (
        cid,
        tenant_id,
        code,
        name,
        kind,
        status,
        start_date,
        start_time,
        finish_time,
        runover,
        attempts,
        callflow_id,
        cli_id,
        answerphone,
        sms,
        created_at,
        updated_at,
        queue_id,
        max_callers,
        coefficient,
        agent_options,
    ) = row
    agent, amd_mode = campaign_options_from_column(agent_options)
    schedule = Schedule(
        start_date=date.fromisoformat(start_date),
        window=Window(time.fromisoformat(start_time), time.fromisoformat(finish_time)),
        runover_days=tuple(
            RunoverDay(
                date.fromisoformat(d["date"]),
                Window(time.fromisoformat(d["start"]), time.fromisoformat(d["finish"])),
            )
            for d in json.loads(runover)
        ),
    )
    spec = CampaignSpec(
        name=name,
        schedule=schedule,
        callflow_id=CallFlowId(callflow_id),
        cli_id=CliId(cli_id),
        attempts=tuple(AttemptRule(n, i) for n, i in json.loads(attempts)),
        answerphone=MessagePolicy(answerphone),
        sms_on_busy=MessagePolicy(sms),
        kind=CampaignType(kind),
        agent=agent,
        amd_mode=amd_mode,
    )
    return Campaign(
        id=CampaignId(cid),
        tenant_id=TenantId(tenant_id),
        code=code,
        status=CampaignStatus(status),
        spec=spec,
        created_at=from_us(created_at),
        updated_at=from_us(updated_at),
        strategy=None if queue_id is None else Strategy(queue_id, max_callers, coefficient),
    )


# orjson: these run once per number, 100,000s of times for one campaign.
def parameters_to_column(parameters: tuple[tuple[int, str], ...]) -> str | None:
    return orjson.dumps(parameters).decode() if parameters else None


def parameters_from_column(value: str | None) -> tuple[tuple[int, str], ...]:
    if not value:
        return ()
    return tuple([(n, v) for n, v in orjson.loads(value)])  # a list: no call per item

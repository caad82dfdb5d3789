"""The published shape of one result row, and its CSV cells; no I/O."""

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from dialer.api.rest.csv_export import csv_chunks, protect
from dialer.domain import dialling
from dialer.domain.attempt import AgentCall, AttemptResult, DialJob
from dialer.domain.call import Answered, AnsweredBy, Hangup
from dialer.domain.campaign import Campaign, CampaignSpec, CampaignStatus
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.policy import MessagePolicy
from dialer.domain.result_row import AGENT_FIELDS, webhook_body
from dialer.domain.schedule import Schedule, Window
from dialer.domain.sms_outbox import SmsRecord, SmsStatus
from dialer.services.results import RESULT_FIELDS, iso_utc, result_fields

T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def result(attempt_id: int = 1, **changes: object) -> AttemptResult:
    values: dict[str, object] = {
        "attempt_id": attempt_id,
        "campaign_id": CampaignId(7),
        "destination_id": DestinationId(3),
        "number": "+447722123456",
        "name": "Ann",
        "attempt_number": 1,
        "outcome": Outcome.ANSWERED,
        "stage": Stage.CORRECT_CALLEE_HUNG_UP,
        "queued_at": T0,
        "originated_at": T0,
        "answered_at": None,
        "ended_at": None,
        "cause": None,
        "keys": "",
        "sms_sent": False,
    }
    values.update(changes)
    return AttemptResult(**values)  # type: ignore[arg-type]


def test_fields_in_order_and_campaign_fields_first_for_the_webhook() -> None:
    row = result_fields(result())
    # An attempt without an agent call leaves the agent fields out; the rest keep their order.
    assert tuple(row) == tuple(f for f in RESULT_FIELDS if f not in AGENT_FIELDS)
    assert row["stageName"] == "CorrectColleeHungUp"  # the seed's spelling
    hook = result_fields(result(), campaign_code="abc")
    assert list(hook)[:2] == ["campaignId", "campaignCode"]
    assert (hook["campaignId"], hook["campaignCode"]) == (7, "abc")
    assert {k: v for k, v in hook.items() if k not in ("campaignId", "campaignCode")} == row


def test_times_are_utc_with_z_to_the_millisecond() -> None:
    london_summer = timezone(timedelta(hours=1))
    moment = datetime(2025, 10, 1, 10, 0, 1, 999_999, tzinfo=london_summer)
    assert iso_utc(moment) == "2025-10-01T09:00:01.999Z"
    assert iso_utc(None) is None
    with pytest.raises(ValueError, match="naive"):
        iso_utc(datetime(2025, 10, 1))  # noqa: DTZ001 - the naive value under test


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_protect(text: str, shown: str) -> None:
    assert protect(text) == shown


def test_csv_chunks_one_per_page_and_numbers_kept_only_when_phone_shaped() -> None:
    pages = [
        [result(1), result(2, number="+44 (0) 7722-123.456/7")],
        [result(3, number="=HYPERLINK(1)", name="-x", cause="@y", keys="+1", sms_sent=True)],
    ]
    chunks = list(csv_chunks(pages))
    assert len(chunks) == 2
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert rows[0] == list(RESULT_FIELDS)
    assert [r[0] for r in rows[1:]] == ["+447722123456", "+44 (0) 7722-123.456/7", "'=HYPERLINK(1)"]
    last = dict(zip(rows[0], rows[3], strict=True))
    assert (last["name"], last["cause"], last["keys"], last["smsSent"]) == (
        "'-x",
        "'@y",
        "'+1",
        "true",
    )
    assert (last["answeredAt"], last["outcome"]) == ("", "1")
    assert (last["attemptId"], last["phoneNumberId"]) == ("3", "3")
    assert b"".join(chunks).count(b"\r\n") == 4
    assert list(csv_chunks([])) == [
        b"number,name,attemptNumber,outcome,outcomeName,stage,"
        b"stageName,queuedAt,originatedAt,answeredAt,endedAt,"
        b"cause,keys,smsSent,attemptId,phoneNumberId,agent,agentId,timeToAgentSeconds,"
        b"talkSeconds,wrapUpSeconds,disposition,callbackAt,sms\r\n"
    ]


def test_the_webhook_body_is_the_results_row_of_its_attempt_with_the_campaign_in_front() -> None:
    """The shipped path: the store writes ``webhook_body`` of the concluded attempt."""
    job = DialJob(
        DestinationId(3), CampaignId(7), 2, "07722 123456", "+447722123456", "Ann", (), None,
        None, False, 0, T0,
    )  # fmt: skip
    record = dialling.answered(
        job,
        Answered(T0, T0 + timedelta(seconds=3), AnsweredBy.HUMAN),
        Hangup(T0 + timedelta(seconds=30), "normal", by_callee=True),
        dialling.Handling.WALK_FLOW,
        Stage.CORRECT_CALLEE_HUNG_UP,
        keys="1",
    )
    finished = dialling.conclude(job, record, dialling.Rules(campaign(), webhook=True))
    body = webhook_body(finished, attempt_id=41)
    row = result(
        41,
        attempt_number=2,
        queued_at=T0,
        answered_at=T0 + timedelta(seconds=3),
        ended_at=T0 + timedelta(seconds=30),
        cause="normal",
        keys="1",
    )
    assert json.loads(body) == result_fields(row, campaign_code="autumn")
    assert list(json.loads(body))[:2] == ["campaignId", "campaignCode"]
    assert body.startswith('{"campaignId":7,"campaignCode":"autumn","number":"+447722123456"')
    with pytest.raises(ValueError, match="webhook"):
        webhook_body(dialling.conclude(job, record, dialling.Rules(campaign())), attempt_id=41)


def campaign() -> Campaign:
    spec = CampaignSpec(
        name=None,
        schedule=Schedule(date(2025, 10, 1), Window(time(9), time(17))),
        callflow_id=CallFlowId(1),
        cli_id=CliId(1),
        attempts=(),
        answerphone=MessagePolicy.NEVER,
        sms_on_busy=MessagePolicy.NEVER,
    )
    return Campaign(CampaignId(7), TenantId(1), "autumn", CampaignStatus.ENABLED, spec, T0, T0)


def test_an_agent_call_ends_the_row_with_what_the_agent_did() -> None:
    call = AgentCall(
        queued_at=T0 + timedelta(seconds=5),
        agent_id=4,
        member="SIPSIP1",
        bridged_at=T0 + timedelta(seconds=6, microseconds=500_400),
        talk_ended_at=T0 + timedelta(seconds=66, microseconds=500_400),
        wrap_up_ended_at=T0 + timedelta(seconds=81),
        disposition=Stage.CALLER_REQUESTED_CALL_BACK,
        callback_at=datetime(2025, 10, 2, 15, 30, tzinfo=timezone(timedelta(hours=1))),
        callback_agent_id=4,
    )
    row = result_fields(result(agent=call))
    assert tuple(row) == RESULT_FIELDS
    assert {k: row[k] for k in AGENT_FIELDS} == {
        "agent": "SIPSIP1",
        "agentId": 4,
        "timeToAgentSeconds": 1.5,  # to the millisecond, as the times
        "talkSeconds": 60.0,
        "wrapUpSeconds": 14.5,
        "disposition": "CallerRequestedCallBack",
        "callbackAt": "2025-10-02T14:30:00.000Z",
    }


def test_an_agent_call_no_agent_took_has_the_wait_only() -> None:
    row = result_fields(result(agent=AgentCall(queued_at=T0)))
    assert {k: row[k] for k in AGENT_FIELDS} == dict.fromkeys(AGENT_FIELDS)


def test_each_text_shows_its_status_in_json_and_one_readable_csv_cell() -> None:
    texts = (
        SmsRecord(SmsStatus.DELIVERED, 3, "smpp", "", ("a", "b", "c"), T0),
        SmsRecord(SmsStatus.FAILED, 0, "http", "HTTP 400: invalid 'To'", (), T0),
    )
    row = result_fields(result(sms_sent=True, sms=texts))
    assert row["smsSent"] is True
    assert row["sms"] == [
        {
            "status": "delivered",
            "parts": 3,
            "provider": "smpp",
            "reason": None,
            "providerIds": ["a", "b", "c"],
            "updatedAt": "2025-10-01T09:00:00.000Z",
        },
        {
            "status": "failed",
            "parts": 0,
            "provider": "http",
            "reason": "HTTP 400: invalid 'To'",
            "providerIds": [],
            "updatedAt": "2025-10-01T09:00:00.000Z",
        },
    ]
    (chunk,) = csv_chunks([[result(sms_sent=True, sms=texts)]])
    header, cells = csv.reader(io.StringIO(chunk.decode(), newline=""))
    assert dict(zip(header, cells, strict=True))["sms"] == (
        "delivered (3 parts); failed: HTTP 400: invalid 'To'"
    )

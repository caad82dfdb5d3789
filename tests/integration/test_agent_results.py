"""What an agent campaign's calls add to the results (JSON and CSV) and to the webhook message,
on SQLite and PostgreSQL: the attempts are recorded through the store as the engine records
them (``queue.finish_attempts``), so the outbox message is written beside them."""

import csv
import io
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.attempt import (
    AgentCall,
    AttemptRecord,
    DialJob,
    FinishedAttempt,
    WebhookSubject,
)
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.services.results import RESULT_FIELDS
from tests.conftest import Account

AGENT_KEYS = [
    "agent",
    "agentId",
    "timeToAgentSeconds",
    "talkSeconds",
    "wrapUpSeconds",
    "disposition",
    "callbackAt",
]


def agent_campaign(client: TestClient, account: Account) -> tuple[int, str]:
    response = client.post(
        "/api/campaign/voice", json=account.campaign(type="agent"), headers=account.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["code"]


def record_calls(
    container: Container, clock: ManualClock, campaign_id: int, code: str
) -> list[DialJob]:
    """Ben's call went to agent SIPSIP1, who asked for a callback; Dave's was not answered."""
    now = clock.now()
    with container.store.write() as session:
        ben, dave = session.queue.claim(
            CampaignId(campaign_id), now, 10, "w1", now + timedelta(minutes=5)
        )
        call = AgentCall(
            queued_at=now + timedelta(seconds=7, milliseconds=400),
            agent_id=4,
            member="SIPSIP1",
            bridged_at=now + timedelta(seconds=8, milliseconds=650),
            talk_ended_at=now + timedelta(seconds=92, milliseconds=950),
            wrap_up_ended_at=now + timedelta(seconds=107, milliseconds=950),
            disposition=Stage.CALLER_REQUESTED_CALL_BACK,
            callback_at=now + timedelta(days=1, hours=5, minutes=30),
            callback_agent_id=4,
        )
        answered = AttemptRecord(
            ben.destination_id,
            1,
            Outcome.ANSWERED,
            Stage.CALLER_REQUESTED_CALL_BACK,
            ben.queued_at,
            originated_at=now,
            answered_at=now + timedelta(seconds=7),
            ended_at=now + timedelta(seconds=93),
            cause="normal clearing",
            agent=call,
        )
        unanswered = AttemptRecord(
            dave.destination_id,
            1,
            Outcome.NO_ANSWER,
            Stage.NONE,
            dave.queued_at,
            originated_at=now,
            ended_at=now + timedelta(seconds=30),
        )
        tenant = session.campaigns.campaign_by_code(code)
        assert tenant is not None
        done = [
            FinishedAttempt(
                record,
                job.campaign_id,
                tenant.tenant_id,
                job.priority,
                None,
                WebhookSubject(code, job.e164 or job.raw, job.name),
            )
            for job, record in ((ben, answered), (dave, unanswered))
        ]
        session.queue.finish_attempts([replace(done[0], callback_agent_id=4), done[1]], "w1", now)
    return [ben, dave]


EXPECTED_AGENT_FIELDS = {
    "agent": "SIPSIP1",
    "agentId": 4,
    "timeToAgentSeconds": 1.25,
    "talkSeconds": 84.3,
    "wrapUpSeconds": 15.0,
    "disposition": "CallerRequestedCallBack",
    "callbackAt": "2025-10-01T13:30:00.000Z",
}


def test_an_agent_call_adds_its_fields_to_the_results_and_csv(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    campaign_id, code = agent_campaign(client, account)
    record_calls(container, clock, campaign_id, code)
    response = client.get(f"/api/campaign/voice/{campaign_id}/results", headers=account.headers)
    assert response.status_code == 200, response.text
    ben, dave = response.json()["results"]
    assert {k: ben[k] for k in AGENT_KEYS} == EXPECTED_AGENT_FIELDS
    # After the seed's fields, before `sms`, which ends every row (docs/rest-api.md).
    assert list(ben)[-len(AGENT_KEYS) - 1 :] == [*AGENT_KEYS, "sms"]
    assert not set(AGENT_KEYS) & set(dave)  # only attempts with an agent call carry them
    assert ben["stageName"] == "CallerRequestedCallBack"

    response = client.get(
        f"/api/campaign/voice/{campaign_id}/results",
        params={"format": "csv"},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    header, ben_row, dave_row = csv.reader(io.StringIO(response.content.decode(), newline=""))
    assert header == list(RESULT_FIELDS)
    # Appended: the columns before them keep their places.
    assert header[: header.index("agent")][-2:] == ["attemptId", "phoneNumberId"]
    assert header[-len(AGENT_KEYS) - 1 :] == [*AGENT_KEYS, "sms"]
    ben_cells = dict(zip(header, ben_row, strict=True))
    assert {k: ben_cells[k] for k in AGENT_KEYS} == {
        "agent": "SIPSIP1",
        "agentId": "4",
        "timeToAgentSeconds": "1.25",
        "talkSeconds": "84.3",
        "wrapUpSeconds": "15.0",
        "disposition": "CallerRequestedCallBack",
        "callbackAt": "2025-10-01T13:30:00.000Z",
    }
    assert dave_row[-len(AGENT_KEYS) :] == [""] * len(AGENT_KEYS)
    assert dave_row[0] == "+447722734716"


def test_the_webhook_message_of_an_agent_call_carries_its_fields(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    container.webhooks.register(account.tenant, "https://crm.example/hook")
    campaign_id, code = agent_campaign(client, account)
    record_calls(container, clock, campaign_id, code)
    with container.store.database.transaction(write=False) as conn:
        rows = conn.execute("SELECT payload FROM webhook_outbox ORDER BY id")
    messages: list[dict[str, Any]] = [json.loads(payload) for (payload,) in rows]
    by_number = {m["number"]: m for m in messages}
    ben = by_number["+447722123456"]
    assert {k: ben[k] for k in AGENT_KEYS} == EXPECTED_AGENT_FIELDS
    assert not set(AGENT_KEYS) & set(by_number["+447722734716"])
    # The same row the results API serves for the attempt.
    response = client.get(f"/api/campaign/voice/{campaign_id}/results", headers=account.headers)
    served = {r["attemptId"]: r for r in response.json()["results"]}
    for message in messages:
        assert {k: v for k, v in message.items() if k not in ("campaignId", "campaignCode")} == (
            served[message["attemptId"]]
        )

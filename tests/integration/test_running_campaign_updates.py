"""PUT once dialling has begun: what may change, what is refused, and that history stays."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.attempt import AttemptRecord
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from tests.conftest import Account
from tests.integration.attempt_history import record_attempt


def dial_first_number(container: Container, clock: ManualClock, campaign_id: int) -> None:
    """Record one finished attempt, as the engine will."""
    with container.store.write() as session:
        first = session.destinations.destination_ids(CampaignId(campaign_id))[0]
        record_attempt(
            session,
            AttemptRecord(
                destination_id=first,
                attempt_number=1,
                outcome=Outcome.BUSY,
                stage=Stage.NONE,
                queued_at=clock.now(),
                originated_at=clock.now(),
                ended_at=clock.now() + timedelta(seconds=4),
                cause="486 Busy Here",
            ),
        )


def running(client: TestClient, account: Account, container: Container, clock: ManualClock) -> Any:
    response = client.post("/api/campaign/voice", json=account.campaign(), headers=account.headers)
    created = response.json()
    dial_first_number(container, clock, created["id"])
    return created


def test_allowed_changes_apply_and_dialled_number_keeps_history(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    created = running(client, account, container, clock)
    url = f"/api/campaign/voice/{created['id']}"
    new = account.campaign(
        name="Extended",
        startTime="08:00",
        finishTime="20:00",
        runoverDays=[{"date": "2025-10-09", "startTime": "10:00", "finishTime": "16:00"}],
        attempts=[{"interval": 5, "attemptNumber": 1}],
        answerMachineDetected=1,
        smsOnBusy=0,
        phoneNumbers=[
            # The dialled number, written another way and with a new parameter.
            {
                "number": "+44 7722 123456",
                "name": "Ben",
                "parameters": [{"value": "updated", "parameter": 2}],
            },
            {"number": "07700900999", "name": "New"},
        ],
    )
    response = client.put(url, json=new, headers=account.headers)
    assert response.status_code == 204, response.text
    fetched = client.get(url, headers=account.headers).json()
    assert (fetched["name"], fetched["startTime"], fetched["finishTime"]) == (
        "Extended",
        "08:00",
        "20:00",
    )
    assert fetched["attempts"] == [{"interval": 5, "attemptNumber": 1}]
    assert fetched["answerMachineDetected"] == 1
    numbers = fetched["phoneNumbers"]
    assert [(n["e164"], n.get("name"), n["attemptsMade"], n["outcomeName"]) for n in numbers] == [
        ("+447722123456", "Ben", 1, "Busy"),
        ("+447700900999", "New", 0, None),
    ]
    assert numbers[0]["parameters"] == [{"value": "updated", "parameter": 2}]
    # The dropped, never-dialled Dave is gone.
    assert all(n.get("name") != "Dave" for n in numbers)


def refused(client: TestClient, url: str, account: Account, **changes: Any) -> str:
    response = client.put(url, json=account.campaign(**changes), headers=account.headers)
    assert response.status_code == 409, response.text
    detail: str = response.json()["detail"]
    return detail


def test_history_changing_edits_are_refused_with_a_reason(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    created = running(client, account, container, clock)
    url = f"/api/campaign/voice/{created['id']}"
    before = client.get(url, headers=account.headers).json()
    assert "start date" in refused(client, url, account, startDate="2025-09-30")
    second_flow = container.catalog.add_callflow(account.tenant, "Other", "message: a\nsms: b\n")
    assert "call flow" in refused(client, url, account, callflow_Id=second_flow.id)
    assert "type" in refused(client, url, account, type="agent")
    detail = refused(client, url, account, phoneNumbers=[{"number": "07722734716"}])
    assert "+447722123456" in detail
    assert client.get(url, headers=account.headers).json() == before


def test_delete_of_a_dialled_campaign_removes_its_history_too(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    created = running(client, account, container, clock)
    assert (
        client.delete(f"/api/campaign/voice/{created['id']}", headers=account.headers).status_code
        == 204
    )
    with container.store.read() as session:
        left = session._conn.execute("SELECT count(*) FROM attempts")  # type: ignore[attr-defined]
    assert left[0][0] == 0

"""A campaign that can no longer dial is refused, and settling without a call is no attempt."""

from datetime import timedelta

from fastapi.testclient import TestClient

from dialer.clocks import ManualClock
from dialer.domain.codes import Outcome
from tests.conftest import Account
from tests.integration.engine_support import Rig, drama


def test_a_campaign_whose_last_window_has_closed_is_refused(
    client: TestClient, account: Account
) -> None:
    # The clock reads 2025-09-30 09:00 in London (08:00 UTC).
    late = account.campaign(startDate="2025-09-29", runoverDays=[])
    response = client.post("/api/campaign/voice", json=late, headers=account.headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "StartDate": [
            "The campaign's last window closed at 2025-09-29 12:00 Europe/London"
            " (2025-09-29T11:00:00.000Z): nothing could be dialled. Give a date and times"
            " still to come."
        ]
    }
    runover = [
        {"date": "2025-09-30", "startTime": "07:00", "finishTime": "08:30"},
        {"date": "2025-09-29", "startTime": "09:00", "finishTime": "12:00"},
    ]
    late = account.campaign(startDate="2025-09-28", runoverDays=runover)
    response = client.post("/api/campaign/voice", json=late, headers=account.headers)
    assert response.status_code == 400
    [(field, [message])] = response.json()["errors"].items()
    assert field == "RunoverDays[0].Date"
    assert "2025-09-30 08:30 Europe/London" in message
    assert client.get("/api/campaign/voice", headers=account.headers).json() == []
    # A window still open is accepted: it closes at 09:30 London, half an hour from now.
    runover[0]["finishTime"] = "09:30"
    response = client.post("/api/campaign/voice", json=late, headers=account.headers)
    assert response.status_code == 201, response.text


def test_a_finished_campaign_may_be_renamed_but_not_given_new_numbers_or_a_past_schedule(
    client: TestClient, account: Account, clock: ManualClock
) -> None:
    created = client.post(
        "/api/campaign/voice", json=account.campaign(), headers=account.headers
    ).json()
    url = f"/api/campaign/voice/{created['id']}"
    clock.advance(timedelta(days=5))  # past the last window, 2025-10-02 12:00
    renamed = account.campaign(name="Renamed")
    assert client.put(url, json=renamed, headers=account.headers).status_code == 204
    more = account.campaign(phoneNumbers=[*renamed["phoneNumbers"], {"number": "07700900001"}])
    response = client.put(url, json=more, headers=account.headers)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["RunoverDays[0].Date"]
    moved = account.campaign(runoverDays=[], startDate="2025-10-03")
    assert client.put(url, json=moved, headers=account.headers).status_code == 400
    fetched = client.get(url, headers=account.headers).json()
    assert (fetched["name"], len(fetched["phoneNumbers"])) == ("Renamed", 2)


def test_a_number_that_ends_out_of_time_without_a_call_has_no_attempt_made(rig: Rig) -> None:
    campaign = rig.campaign(
        [drama(7), drama(2)],
        runoverDays=[],
        finishTime="10:00",
        attempts=[{"interval": 120, "attemptNumber": 1}, {"interval": 5, "attemptNumber": 2}],
    )
    untouched = rig.campaign([drama(2)], status="Disabled")
    rig.run()
    detail = rig.container.campaigns.get(rig.account.tenant, campaign)
    made = {n.number.e164: (n.attempts_made, n.last_outcome) for n in detail.numbers}
    # drama(7): a call that was not answered, then OutOfTime before its retry: one attempt.
    assert made == {drama(7): (1, Outcome.OUT_OF_TIME), drama(2): (1, Outcome.ANSWERED)}
    [never] = rig.container.campaigns.get(rig.account.tenant, untouched).numbers
    assert (never.attempts_made, never.last_outcome) == (0, Outcome.OUT_OF_TIME)
    [row] = rig.attempts(untouched)[drama(2)]
    assert (row.outcome, row.originated_at) == (Outcome.OUT_OF_TIME, None)

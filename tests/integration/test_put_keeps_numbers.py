"""A REST PUT keeps what it does not speak of: each number's Dialer API fields, and its id."""

from datetime import timedelta

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from tests.integration.dialer_support import Clinic, get, post


def test_get_then_unchanged_put_keeps_dialer_api_fields_and_ids(
    client: TestClient, container: Container, clock: ManualClock
) -> None:
    clinic = Clinic(container)
    body = clinic.campaign(
        phoneNumbers=[{"number": "0501111111", "name": "Ann"}, {"number": "0502222222"}]
    )
    created = client.post("/api/campaign/voice", json=body, headers=clinic.headers).json()
    url = f"/api/campaign/voice/{created['id']}"
    code = created["code"]
    callback = int((clock.now() + timedelta(days=2)).timestamp())
    added = post(
        client,
        "AddCall",
        {
            "Campaign": code,
            "Target": "0503333333",
            "CustomerName": "Cy",
            "Priority": 7,
            "CallerID": "0722776772",
            "OriginateTime": callback,
            "IsDateLocal": False,
            "CustomData": {"ticket": 42},
            "IgnoreDncStatus": True,
        },
    )
    assert added["ErrorCode"] == 0, added
    get(client, "UpdateCall", Campaign=code, Target="0501111111", Priority="3")
    before_calls = get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]["Calls"]
    fetched = client.get(url, headers=clinic.headers).json()

    assert client.put(url, json=fetched, headers=clinic.headers).status_code == 204

    after = client.get(url, headers=clinic.headers).json()
    assert [n["id"] for n in after["phoneNumbers"]] == [n["id"] for n in fetched["phoneNumbers"]]
    assert get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]["Calls"] == before_calls
    with container.store.read() as session:
        rows = session._conn.execute(  # type: ignore[attr-defined]
            "SELECT d.ignore_dnc, q.due_at FROM destinations d"
            " JOIN dial_queue q ON q.destination_id = d.id WHERE d.number_e164 = %s",
            ("+972503333333",),
        )
    # The scheduled callback still waits for its time; it does not dial at once.
    assert rows == [(1, callback * 1_000_000)]


def test_put_renames_a_kept_number_and_keeps_its_priority(
    client: TestClient, container: Container
) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    get(client, "UpdateCall", Campaign=code, Target="0501111111", Priority="5")
    [created] = client.get("/api/campaign/voice", headers=clinic.headers).json()
    url = f"/api/campaign/voice/{created['id']}"
    new = clinic.campaign(
        phoneNumbers=[{"number": "+972 50-111-1111", "name": "Renamed"}, {"number": "0504444444"}]
    )
    assert client.put(url, json=new, headers=clinic.headers).status_code == 204
    calls = get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]["Calls"]
    assert [(c["Phone"], c["CustomerName"], c["Priority"]) for c in calls] == [
        ("972501111111", "Renamed", 5),
        ("972504444444", "", 0),
    ]

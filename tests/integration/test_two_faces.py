"""One campaign, two faces: the REST API and the Dialer API see and change the same thing."""

import psycopg
import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.integration.dialer_support import Clinic, get, pending_phones, post


def test_one_campaign_driven_from_both_faces(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    body = clinic.campaign(name="Flu", phoneNumbers=[{"number": "0501111111", "name": "Ann"}])
    created = client.post("/api/campaign/voice", json=body, headers=clinic.headers).json()
    url = f"/api/campaign/voice/{created['id']}"
    code = created["code"]

    listed = get(client, "GetCampaignList", Code=clinic.key)["Data"]
    assert [(c["Name"], c["Code"], c["TotalPendingCalls"]) for c in listed] == [("Flu", code, 1)]

    post(client, "AddCall", {"Campaign": code, "Target": "0502222222", "CustomerName": "Ben"})
    numbers = client.get(url, headers=clinic.headers).json()["phoneNumbers"]
    assert [(n["number"], n.get("name"), n["e164"]) for n in numbers] == [
        ("0501111111", "Ann", "+972501111111"),
        ("0502222222", "Ben", "+972502222222"),
    ]
    assert (
        client.get("/api/campaign/voice", headers=clinic.headers).json()[0]["phoneNumberCount"] == 2
    )

    get(client, "StopCampaign", Campaign=code)
    assert client.get(url, headers=clinic.headers).json()["status"] == "Disabled"

    # A REST PUT replaces the list: what was never dialled and is left out goes.
    new = clinic.campaign(name="Flu", phoneNumbers=[{"number": "0502222222", "name": "Ben"}])
    assert client.put(url, json=new, headers=clinic.headers).status_code == 204
    assert pending_phones(client, code) == ["972502222222"]
    assert get(client, "GetCampaignDetails", Campaign=code)["Data"]["StatusName"] == "Disabled"

    assert client.delete(url, headers=clinic.headers).status_code == 204
    assert get(client, "GetCampaignDetails", Campaign=code)["ErrorCode"] == 1


def test_adding_holds_the_campaign_against_a_concurrent_delete(
    client: TestClient, container: Container
) -> None:
    """destinations has no foreign key; the add paths lock the campaign as one would have."""
    clinic = Clinic(container)
    code = clinic.new_campaign()
    with container.store.write() as session:
        campaign = session.campaigns.campaign_by_code(code, lock=True)
        assert campaign is not None
        if container.store.dialect == "postgres":
            # Another connection cannot delete the campaign while this transaction holds it.
            url = container.settings.database_url
            with psycopg.connect(url, autocommit=True) as other:
                other.execute("SET lock_timeout = '200ms'")
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute("DELETE FROM campaigns WHERE id = %s", (campaign.id,))
    # The lock ends with the transaction: now the delete goes through, rows and all.
    response = client.delete(f"/api/campaign/voice/{campaign.id}", headers=clinic.headers)
    assert response.status_code == 204

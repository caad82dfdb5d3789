"""list / show / delete of call flows, caller IDs, agents and queues over REST, tenant by tenant,
and rotating a tenant's API key (on a real SQLite file and a real PostgreSQL)."""

from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.services.dialer_input import Params
from tests.conftest import Account

QUEUE_FLOW = """\
version: 2
sms: "Sorry we missed you"
answerphone: "Please call us back"
nodes:
  agent: {transfer: "queue:Sales", next: bye}
  bye: {hangup: true}
"""


def _campaign(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    answer = client.post(
        "/api/campaign/voice", json=account.campaign(**overrides), headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_each_kind_is_listed_and_shown_to_its_tenant_only(
    client: TestClient, container: Container, account: Account, other_account: Account
) -> None:
    agent = container.catalog.add_agent(account.tenant, "SIPSIP1", "Walter Melon")
    queue = container.catalog.add_queue(account.tenant, "Sales")
    mine = {
        "callflows": account.callflow_id,
        "clis": account.cli_id,
        "agents": agent.id,
        "queues": queue.id,
    }
    for kind, entry_id in mine.items():
        listed = client.get(f"/api/{kind}", headers=account.headers)
        assert listed.status_code == 200
        assert [e["id"] for e in listed.json()] == [entry_id]
        shown = client.get(f"/api/{kind}/{entry_id}", headers=account.headers)
        assert shown.status_code == 200
        assert shown.json()["id"] == entry_id
        # The other tenant sees neither the list entry nor the entry, and cannot delete it.
        theirs = client.get(f"/api/{kind}", headers=other_account.headers).json()
        assert entry_id not in [e["id"] for e in theirs]
        for method in ("GET", "DELETE"):
            foreign = client.request(
                method, f"/api/{kind}/{entry_id}", headers=other_account.headers
            )
            assert foreign.status_code == 404, (kind, method)
        assert client.get(f"/api/{kind}/{entry_id}", headers=account.headers).status_code == 200
    assert client.get(f"/api/agents/{agent.id}", headers=account.headers).json() == {
        "id": agent.id,
        "member": "SIPSIP1",
        "name": "Walter Melon",
        "phone": None,  # none assigned (tests/integration/test_agent_phones.py)
        "createdAt": "2025-09-30T08:00:00.000Z",
    }
    shown_flow = client.get(f"/api/callflows/{account.callflow_id}", headers=account.headers)
    assert shown_flow.json()["definition"]["message"] == "Hello {Name}, about {Parameter1}."


def test_bad_ids_are_a_400_or_404_never_a_500(client: TestClient, account: Account) -> None:
    for kind in ("callflows", "clis", "agents", "queues"):
        for bad, status in (("0", 400), ("x", 400), ("99999999999999999999", 400), ("77", 404)):
            for method in ("GET", "DELETE"):
                answer = client.request(method, f"/api/{kind}/{bad}", headers=account.headers)
                assert answer.status_code == status, (kind, bad, method, answer.text)
        assert client.get(f"/api/{kind}/1").status_code == 401


def test_what_a_campaign_uses_cannot_be_deleted_until_the_campaign_goes(
    client: TestClient, account: Account
) -> None:
    campaign = _campaign(client, account)
    for kind, entry_id in (("callflows", account.callflow_id), ("clis", account.cli_id)):
        refused = client.delete(f"/api/{kind}/{entry_id}", headers=account.headers)
        assert refused.status_code == 409
        assert f"used by campaign {campaign['id']} (still dialling)" in refused.json()["detail"]
        assert client.get(f"/api/{kind}/{entry_id}", headers=account.headers).status_code == 200
    gone = client.delete(f"/api/campaign/voice/{campaign['id']}", headers=account.headers)
    assert gone.status_code in (200, 204), gone.text
    for kind, entry_id in (("callflows", account.callflow_id), ("clis", account.cli_id)):
        assert client.delete(f"/api/{kind}/{entry_id}", headers=account.headers).status_code == 204
        assert client.get(f"/api/{kind}/{entry_id}", headers=account.headers).status_code == 404


def test_an_agent_in_a_campaign_and_a_queue_in_use_are_kept(
    client: TestClient, container: Container, account: Account
) -> None:
    agent = container.catalog.add_agent(account.tenant, "SIPSIP1", "Walter Melon")
    queue = container.catalog.add_queue(account.tenant, "Sales")
    campaign = _campaign(client, account, type="agent")
    params = {"Code": account.key, "Campaign": campaign["code"]}
    container.dialer.change_members(Params({**params, "Member": "SIPSIP1"}), add=True)
    container.dialer.set_strategy(
        Params(
            {
                **params,
                "setQueueForMonitoring": str(queue.id),
                "setQueueMaximumCallers": "5",
                "setCoefficient": "2",
            }
        )
    )
    refused = client.delete(f"/api/agents/{agent.id}", headers=account.headers)
    assert refused.status_code == 409
    assert "RemoveMembersFromCampaign" in refused.json()["detail"]
    refused = client.delete(f"/api/queues/{queue.id}", headers=account.headers)
    assert refused.status_code == 409
    assert f"campaign {campaign['id']}" in refused.json()["detail"]
    container.dialer.change_members(Params({**params, "Member": "SIPSIP1"}), add=False)
    assert client.delete(f"/api/agents/{agent.id}", headers=account.headers).status_code == 204
    assert client.get("/api/agents", headers=account.headers).json() == []


def test_a_queue_a_call_flow_transfers_to_is_kept(
    client: TestClient, container: Container, account: Account
) -> None:
    queue = container.catalog.add_queue(account.tenant, "Sales")
    flow = container.catalog.add_callflow(account.tenant, "IVR", QUEUE_FLOW)
    refused = client.delete(f"/api/queues/{queue.id}", headers=account.headers)
    assert refused.status_code == 409
    assert f"call flow {flow.id}" in refused.json()["detail"]
    assert client.delete(f"/api/callflows/{flow.id}", headers=account.headers).status_code == 204
    assert client.delete(f"/api/queues/{queue.id}", headers=account.headers).status_code == 204


def test_rotating_the_key_stops_the_old_one_at_once(
    client: TestClient, account: Account, other_account: Account
) -> None:
    answer = client.post("/api/tenant/api-key", headers=account.headers)
    assert answer.status_code == 200
    new_key = answer.json()["api_key"]
    assert new_key.startswith("dk_")
    assert new_key != account.key
    assert client.get("/api/callflows", headers=account.headers).status_code == 401
    fresh = {"Authorization": f"Bearer {new_key}"}
    assert [f["id"] for f in client.get("/api/callflows", headers=fresh).json()] == [
        account.callflow_id
    ]
    # The other tenant's key is untouched.
    assert client.get("/api/callflows", headers=other_account.headers).status_code == 200
    assert client.post("/api/tenant/api-key").status_code == 401

"""An agent campaign's ``agentOptions`` through the REST API (create, update, GET) and the
Dialer API's campaign details, on SQLite and PostgreSQL; bad values are a 400 by field that
changes nothing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.integration.dialer_support import get

DEFAULTS = {
    "wrapUpSeconds": 15,
    "maxWaitSeconds": 5,
    "bridgeOnAnswer": False,
    "pacing": {"mode": "predictive", "ratio": None, "target": None},
    "informationMessage": None,
}
CAMPAIGNS = "/api/campaign/voice"


def create(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post(CAMPAIGNS, json=account.campaign(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def read(client: TestClient, account: Account, campaign_id: int) -> dict[str, Any]:
    response = client.get(f"{CAMPAIGNS}/{campaign_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_agent_campaign_shows_the_defaults_until_set(
    client: TestClient, account: Account
) -> None:
    created = create(client, account, type="agent")
    assert created["agentOptions"] == DEFAULTS
    assert read(client, account, created["id"])["agentOptions"] == DEFAULTS
    listed = client.get(CAMPAIGNS, headers=account.headers).json()
    assert [c["agentOptions"] for c in listed] == [DEFAULTS]


def test_an_ivr_campaign_has_none(client: TestClient, account: Account) -> None:
    created = create(client, account)
    assert created["agentOptions"] is None
    assert read(client, account, created["id"])["agentOptions"] is None
    assert create(client, account, agentOptions=None)["agentOptions"] is None


def test_options_are_stored_echoed_and_replaced_by_a_put(
    client: TestClient, account: Account
) -> None:
    options = {"wrapUpSeconds": None, "maxWaitSeconds": 300, "bridgeOnAnswer": True}
    created = create(client, account, type="agent", agentOptions=options)
    assert created["agentOptions"] == {**DEFAULTS, **options}
    campaign_id = created["id"]
    assert read(client, account, campaign_id)["agentOptions"] == {**DEFAULTS, **options}

    # Each option left out keeps its default; names are case-insensitive as elsewhere.
    body = account.campaign(type="agent", agentOptions={"WrapUpSeconds": 0})
    response = client.put(f"{CAMPAIGNS}/{campaign_id}", json=body, headers=account.headers)
    assert response.status_code == 204, response.text
    assert read(client, account, campaign_id)["agentOptions"] == {**DEFAULTS, "wrapUpSeconds": 0}

    # A PUT replaces the campaign: without agentOptions, the defaults.
    response = client.put(
        f"{CAMPAIGNS}/{campaign_id}", json=account.campaign(type="agent"), headers=account.headers
    )
    assert response.status_code == 204, response.text
    assert read(client, account, campaign_id)["agentOptions"] == DEFAULTS


def test_a_get_put_back_changes_nothing(client: TestClient, account: Account) -> None:
    options = {"wrapUpSeconds": 3600, "maxWaitSeconds": 1, "bridgeOnAnswer": True}
    campaign_id = create(client, account, type="agent", agentOptions=options)["id"]
    before = read(client, account, campaign_id)
    body = {k: v for k, v in before.items() if k not in ("progress", "phoneNumbersNext")}
    response = client.put(f"{CAMPAIGNS}/{campaign_id}", json=body, headers=account.headers)
    assert response.status_code == 204, response.text
    after = read(client, account, campaign_id)
    assert after["agentOptions"] == before["agentOptions"] == {**DEFAULTS, **options}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"agentOptions": {"wrapUpSeconds": 30}}, "AgentOptions"),  # an IVR campaign
        ({"type": "agent", "agentOptions": {"wrapUpSeconds": 3601}}, "AgentOptions.WrapUpSeconds"),
        ({"type": "agent", "agentOptions": {"wrapUpSeconds": -1}}, "AgentOptions.WrapUpSeconds"),
        ({"type": "agent", "agentOptions": {"wrapUpSeconds": "15"}}, "AgentOptions.WrapUpSeconds"),
        ({"type": "agent", "agentOptions": {"wrapUpSeconds": 1.5}}, "AgentOptions.WrapUpSeconds"),
        ({"type": "agent", "agentOptions": {"maxWaitSeconds": 0}}, "AgentOptions.MaxWaitSeconds"),
        (
            {"type": "agent", "agentOptions": {"maxWaitSeconds": 301}},
            "AgentOptions.MaxWaitSeconds",
        ),
        (
            {"type": "agent", "agentOptions": {"maxWaitSeconds": True}},
            "AgentOptions.MaxWaitSeconds",
        ),
        (
            {"type": "agent", "agentOptions": {"bridgeOnAnswer": "yes"}},
            "AgentOptions.BridgeOnAnswer",
        ),
        ({"type": "agent", "agentOptions": [15, 5, False]}, "AgentOptions"),
        (
            {"type": "agent", "agentOptions": {"wrapUpSeconds": 1, "WRAPUPSECONDS": 2}},
            "AgentOptions.WrapUpSeconds",
        ),
    ],
)
def test_bad_options_are_a_400_on_their_field_and_change_nothing(
    client: TestClient, account: Account, overrides: dict[str, Any], field: str
) -> None:
    response = client.post(CAMPAIGNS, json=account.campaign(**overrides), headers=account.headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert list(response.json()["errors"]) == [field]
    assert client.get(CAMPAIGNS, headers=account.headers).json() == []

    options = {"wrapUpSeconds": 45, "maxWaitSeconds": 10, "bridgeOnAnswer": False}
    created = create(client, account, type="agent", agentOptions=options)
    before = read(client, account, created["id"])
    response = client.put(
        f"{CAMPAIGNS}/{created['id']}",
        json=account.campaign(**overrides),
        headers=account.headers,
    )
    assert response.status_code == 400, response.text
    assert read(client, account, created["id"]) == before


def test_the_dialer_api_details_show_them(client: TestClient, account: Account) -> None:
    options = {"wrapUpSeconds": None, "maxWaitSeconds": 20, "bridgeOnAnswer": True}
    agent = create(client, account, type="agent", agentOptions=options)["code"]
    plain = create(client, account, type="agent")["code"]
    ivr = create(client, account)["code"]
    details = {
        code: get(client, "GetCampaignDetails", Campaign=code, Code=account.key)["Data"]
        for code in (agent, plain, ivr)
    }
    rpc_defaults = {
        "Pacing": {"Mode": "predictive", "Ratio": None, "Target": None},
        "InformationMessage": None,
    }
    assert details[agent]["AgentOptions"] == {
        "WrapUpSeconds": None,
        "MaxWaitSeconds": 20,
        "BridgeOnAnswer": True,
        **rpc_defaults,
    }
    assert details[plain]["AgentOptions"] == {
        "WrapUpSeconds": 15,
        "MaxWaitSeconds": 5,
        "BridgeOnAnswer": False,
        **rpc_defaults,
    }
    assert details[ivr]["AgentOptions"] is None

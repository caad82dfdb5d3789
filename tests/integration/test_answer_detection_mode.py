"""A campaign's answer-detection mode (``answerDetection``: people or agents) through the REST
API and the store, on SQLite and PostgreSQL, and on to the calls the engine places; a bad value
is a 400 by field that changes nothing."""

import asyncio
from typing import Any

from fastapi.testclient import TestClient

from dialer.domain.amd_mode import AmdMode
from dialer.domain.call import OriginateRequest
from dialer.ports import Call, TelephonyDriver
from tests.conftest import Account
from tests.integration.dialer_support import get
from tests.integration.engine_support import Rig, drama

CAMPAIGNS = "/api/campaign/voice"


def create(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post(CAMPAIGNS, json=account.campaign(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def read(client: TestClient, account: Account, campaign_id: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{CAMPAIGNS}/{campaign_id}", headers=account.headers).json()
    return body


def test_people_is_the_default(client: TestClient, account: Account) -> None:
    created = create(client, account)
    assert created["answerDetection"] == "people"
    assert read(client, account, created["id"])["answerDetection"] == "people"


def test_the_mode_is_stored_and_replaced_by_a_put(client: TestClient, account: Account) -> None:
    created = create(client, account, answerDetection="Agents")  # case-insensitive
    url = f"{CAMPAIGNS}/{created['id']}"
    assert created["answerDetection"] == "agents"
    assert read(client, account, created["id"])["answerDetection"] == "agents"
    # A PUT states the whole campaign: left out, the mode is the default again.
    assert client.put(url, json=account.campaign(), headers=account.headers).status_code == 204
    assert read(client, account, created["id"])["answerDetection"] == "people"
    body = account.campaign(AnswerDetection="agents")
    assert client.put(url, json=body, headers=account.headers).status_code == 204
    assert read(client, account, created["id"])["answerDetection"] == "agents"


def test_the_dialer_api_shows_the_mode(client: TestClient, account: Account) -> None:
    for mode in ("agents", "people"):
        created = create(client, account, answerDetection=mode)
        answer = get(client, "GetCampaignDetails", Campaign=created["code"], Code=account.key)
        assert answer["Data"]["AnswerDetection"] == mode


def test_an_agent_campaign_keeps_its_options_beside_the_mode(
    client: TestClient, account: Account
) -> None:
    options = {"wrapUpSeconds": 30, "maxWaitSeconds": 4, "bridgeOnAnswer": True}
    created = create(client, account, type="agent", agentOptions=options, answerDetection="agents")
    fetched = read(client, account, created["id"])
    assert fetched["answerDetection"] == "agents"
    assert {k: fetched["agentOptions"][k] for k in options} == options
    defaults = create(client, account, type="agent", answerDetection="agents")
    fetched = read(client, account, defaults["id"])
    assert fetched["answerDetection"] == "agents"
    assert fetched["agentOptions"]["maxWaitSeconds"] == 5


def test_a_bad_mode_is_a_400_that_changes_nothing(client: TestClient, account: Account) -> None:
    created = create(client, account, answerDetection="agents")
    url = f"{CAMPAIGNS}/{created['id']}"
    before = read(client, account, created["id"])
    for bad in ("machines", 1, True, ""):
        body = account.campaign(answerDetection=bad)
        response = client.put(url, json=body, headers=account.headers)
        assert response.status_code == 400, bad
        assert "'people'" in response.json()["errors"]["AnswerDetection"][0]
        response = client.post(CAMPAIGNS, json=body, headers=account.headers)
        assert response.status_code == 400, bad
    assert read(client, account, created["id"]) == before
    listed = client.get(CAMPAIGNS, headers=account.headers).json()
    assert [c["id"] for c in listed] == [created["id"]]


class Recording:
    """The simulated network, keeping every request the engine placed."""

    def __init__(self, network: TelephonyDriver) -> None:
        self.network = network
        self.placed: list[OriginateRequest] = []

    async def originate(self, request: OriginateRequest) -> Call:
        self.placed.append(request)
        return await self.network.originate(request)

    async def close(self) -> None:
        await self.network.close()


def test_the_engine_dials_with_the_campaigns_mode(rig: Rig) -> None:
    rig.campaign([drama(0)], answerDetection="agents")
    rig.campaign([drama(1)])
    runtime = rig.engine()
    driver = Recording(runtime.driver)
    runtime.engine._runner._driver = driver
    asyncio.run(asyncio.wait_for(runtime.engine.run_until_done(), 120))
    modes = {request.number: request.amd_mode for request in driver.placed}
    assert modes == {drama(0): AmdMode.PREFER_AGENTS, drama(1): AmdMode.PREFER_PEOPLE}

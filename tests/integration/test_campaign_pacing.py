"""An agent campaign's pacing and information message over REST (``agentOptions.pacing``,
``agentOptions.informationMessage``) and the Dialer API (UpdateCampaignStrategy), the refusal
to dial without a message where the regime needs one, and the abandoned-call figures GET
campaign and GetCampaignDetails show; on SQLite and PostgreSQL."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.amd_measured import FALSE_MACHINE_RATE
from dialer.domain.amd_mode import AmdMode
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from tests.conftest import INFO_MESSAGE, Account
from tests.integration.dialer_support import get
from tests.integration.test_openapi import _conforms

CAMPAIGNS = "/api/campaign/voice"
SETTINGS = "/api/settings/compliance"
OWN_MESSAGE = {"text": "This is Acme Energy for Globex; call 0800 765 4321.", "recording": None}


def create(client: TestClient, account: Account, **overrides: Any) -> Any:
    return client.post(CAMPAIGNS, json=account.campaign(**overrides), headers=account.headers)


def read(client: TestClient, account: Account, campaign_id: int) -> dict[str, Any]:
    response = client.get(f"{CAMPAIGNS}/{campaign_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def silent(container: Container) -> Account:
    """A GB tenant (UK rules) that has set no information message."""
    bare = Account(container, "Silent Ltd")
    container.tenants.update_compliance(bare.tenant.id, {"message": None})
    return bare


def test_pacing_and_message_are_stored_and_shown(client: TestClient, account: Account) -> None:
    options = {
        "pacing": {"mode": "ratio", "ratio": 2.5, "target": 2},
        "informationMessage": OWN_MESSAGE,
    }
    created = create(client, account, type="agent", agentOptions=options)
    assert created.status_code == 201, created.text
    shown = read(client, account, created.json()["id"])["agentOptions"]
    assert shown["pacing"] == {"mode": "ratio", "ratio": 2.5, "target": 2.0}
    assert shown["informationMessage"] == OWN_MESSAGE
    code = created.json()["code"]
    details = get(client, "GetCampaignDetails", Campaign=code)["Data"]
    assert details["AgentOptions"]["Pacing"] == {"Mode": "ratio", "Ratio": 2.5, "Target": 2.0}
    assert details["AgentOptions"]["InformationMessage"] == {
        "Text": OWN_MESSAGE["text"],
        "Recording": None,
    }
    # The campaign's target aims its figures.
    assert read(client, account, created.json()["id"])["abandonment"]["target"] == 2.0


@pytest.mark.parametrize(
    ("pacing", "field"),
    [
        ({"mode": "turbo"}, "AgentOptions.Pacing.Mode"),
        ({"mode": "ratio"}, "AgentOptions.Pacing.Ratio"),
        ({"mode": "ratio", "ratio": 1}, "AgentOptions.Pacing.Ratio"),
        ({"mode": "ratio", "ratio": 10.5}, "AgentOptions.Pacing.Ratio"),
        ({"mode": "ratio", "ratio": "2"}, "AgentOptions.Pacing.Ratio"),
        ({"mode": "predictive", "ratio": 2}, "AgentOptions.Pacing.Ratio"),
        ({"target": 3.01}, "AgentOptions.Pacing.Target"),
        ({"target": 0}, "AgentOptions.Pacing.Target"),
        ({"speed": 2}, "AgentOptions.Pacing.speed"),
        ("fast", "AgentOptions.Pacing"),
    ],
)
def test_bad_pacing_is_a_400_on_its_field_and_changes_nothing(
    client: TestClient, account: Account, pacing: Any, field: str
) -> None:
    answer = create(client, account, type="agent", agentOptions={"pacing": pacing})
    assert answer.status_code == 400, answer.text
    assert list(answer.json()["errors"]) == [field]
    assert client.get(CAMPAIGNS, headers=account.headers).json() == []


def test_a_bad_campaign_message_is_a_400(client: TestClient, account: Account) -> None:
    answer = create(
        client, account, type="agent", agentOptions={"informationMessage": {"text": "Hi"}}
    )
    assert answer.status_code == 400, answer.text
    assert list(answer.json()["errors"]) == ["AgentOptions.InformationMessage.text"]


def test_an_agent_campaign_without_a_message_may_not_dial(
    client: TestClient, silent: Account
) -> None:
    refused = create(client, silent, type="agent")
    assert refused.status_code == 409, refused.text
    assert "information message" in refused.json()["detail"]
    assert client.get(CAMPAIGNS, headers=silent.headers).json() == []
    # Disabled it may be created; started, it may not, and stays as it was.
    paused = create(client, silent, type="agent", status="Disabled")
    assert paused.status_code == 201, paused.text
    campaign_id = paused.json()["id"]
    body = silent.campaign(type="agent", status="Enabled")
    started = client.put(f"{CAMPAIGNS}/{campaign_id}", json=body, headers=silent.headers)
    assert started.status_code == 409, started.text
    assert read(client, silent, campaign_id)["status"] == "Disabled"
    code = paused.json()["code"]
    start = get(client, "StartCampaign", Campaign=code)
    assert start["ErrorCode"] == 5
    assert "information message" in start["Description"]
    assert get(client, "GetCampaignDetails", Campaign=code)["Data"]["StatusName"] == "Disabled"
    # With a message of its own it dials.
    body = silent.campaign(
        type="agent", status="Enabled", agentOptions={"informationMessage": OWN_MESSAGE}
    )
    started = client.put(f"{CAMPAIGNS}/{campaign_id}", json=body, headers=silent.headers)
    assert started.status_code == 204, started.text
    assert read(client, silent, campaign_id)["status"] == "Enabled"
    # An IVR campaign abandons no call and needs none.
    assert create(client, silent).status_code == 201


def test_the_tenants_message_may_go_only_where_no_campaign_needs_it(
    client: TestClient, account: Account
) -> None:
    running = create(client, account, type="agent")
    assert running.status_code == 201, running.text
    answer = client.put(SETTINGS, headers=account.headers, json={"message": None})
    assert answer.status_code == 409, answer.text
    assert str(running.json()["id"]) in answer.json()["detail"]
    kept = client.get(SETTINGS, headers=account.headers).json()["message"]
    assert kept == {"text": INFO_MESSAGE, "recording": None}
    # Regime none needs no message.
    answer = client.put(SETTINGS, headers=account.headers, json={"message": None, "regime": "none"})
    assert answer.status_code == 200, answer.text


def test_a_tenant_under_no_regime_needs_no_message(
    client: TestClient, container: Container
) -> None:
    israeli = Account(container, "Clinic", region="IL")
    container.tenants.update_compliance(israeli.tenant.id, {"message": None})
    assert create(client, israeli, type="agent").status_code == 201


def test_update_campaign_strategy_sets_the_pacing(
    client: TestClient, account: Account, container: Container
) -> None:
    made = create(client, account, type="agent", agentOptions={"pacing": {"target": 2.5}})
    code, campaign_id = made.json()["code"], made.json()["id"]
    queue = container.catalog.add_queue(account.tenant, "Sales").id
    strategy = {
        "Campaign": code,
        "setQueueForMonitoring": queue,
        "setQueueMaximumCallers": 2,
        "setCoefficient": 3,
    }
    assert get(client, "UpdateCampaignStrategy", **strategy)["ErrorCode"] == 0
    pacing = read(client, account, campaign_id)["agentOptions"]["pacing"]
    assert pacing == {"mode": "ratio", "ratio": 3.0, "target": 2.5}  # the target is kept
    assert get(client, "UpdateCampaignStrategy", **strategy, setPacing="Predictive") == {
        "ErrorCode": 0,
        "Description": "OK",
    }
    pacing = read(client, account, campaign_id)["agentOptions"]["pacing"]
    assert pacing == {"mode": "predictive", "ratio": None, "target": 2.5}
    before = read(client, account, campaign_id)
    for bad in ({"setPacing": "turbo"}, {"setCoefficient": 11}):
        answer = get(client, "UpdateCampaignStrategy", **{**strategy, **bad})
        assert answer["ErrorCode"] == 5, answer
        assert read(client, account, campaign_id) == before
    details = get(client, "GetCampaignDetails", Campaign=code)["Data"]
    assert details["Strategy"]["Coefficient"] == 3


def test_strategy_leaves_an_ivr_campaign_without_pacing(
    client: TestClient, account: Account, container: Container
) -> None:
    made = create(client, account)
    queue = container.catalog.add_queue(account.tenant, "Sales").id
    answer = get(
        client,
        "UpdateCampaignStrategy",
        Campaign=made.json()["code"],
        setQueueForMonitoring=queue,
        setQueueMaximumCallers=2,
        setCoefficient=3,
    )
    assert answer["ErrorCode"] == 0
    shown = read(client, account, made.json()["id"])
    assert shown["agentOptions"] is None
    assert shown["abandonment"] is None


def _record(
    container: Container,
    account: Account,
    campaign_id: int,
    how: list[tuple[Outcome, Stage]],
    clock: ManualClock,
) -> None:
    """Calls of the campaign that ended an hour ago, as the engine records them."""
    ended = clock.now() - timedelta(hours=1)
    with container.store.write() as s:
        jobs = s.queue.claim(CampaignId(campaign_id), clock.now(), len(how), "w", clock.now())
        assert len(jobs) == len(how)
        s.queue.finish_attempts(
            [
                FinishedAttempt(
                    AttemptRecord(
                        j.destination_id,
                        j.attempt_number,
                        outcome,
                        stage,
                        j.queued_at,
                        originated_at=ended - timedelta(seconds=20),
                        answered_at=ended - timedelta(seconds=10),
                        ended_at=ended,
                    ),
                    j.campaign_id,
                    account.tenant.id,
                    j.priority,
                    None,
                )
                for j, (outcome, stage) in zip(jobs, how, strict=True)
            ],
            "w",
            clock.now(),
        )


def test_get_campaign_shows_the_abandoned_call_figures(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    numbers = [{"number": f"077009000{i:02d}"} for i in range(4)]
    made = create(client, account, type="agent", phoneNumbers=numbers)
    campaign_id, code = made.json()["id"], made.json()["code"]
    fresh = read(client, account, campaign_id)["abandonment"]
    assert fresh == {
        "regime": "uk",
        "window": "24h",
        "rate": 0.0,
        "limit": 3.0,
        "target": 3.0,
        "live": 0,
        "abandoned": 0,
        "machines": 0,
        "falseMachines": 0.0,
        "dialRatio": None,
        "pacerReason": None,
        "decidedAt": None,
    }
    _record(
        container,
        account,
        campaign_id,
        [
            (Outcome.ANSWERED, Stage.CORRECT_CALLEE),
            (Outcome.ANSWERED, Stage.CORRECT_CALLEE),
            (Outcome.ANSWERED, Stage.CALL_DROPPED),
            (Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT, Stage.ANSWERPHONE_MESSAGE_NOT_LEFT),
        ],
        clock,
    )
    with container.store.write() as s:
        s.abandonment.save_pacing(CampaignId(campaign_id), 1.75, "budget 0.1 abandons", clock.now())
    shown = read(client, account, campaign_id)["abandonment"]
    # UK: of 3 live calls 1 abandoned, and the machine verdict hides 3 f / (1 - f) people, f the
    # measured false-machine rate of the campaign's detection mode (people, the default).
    f = FALSE_MACHINE_RATE[AmdMode.PREFER_PEOPLE]
    hidden = min(1.0, 3 * f / (1 - f))
    assert shown["live"] == 3
    assert shown["abandoned"] == 1
    assert shown["machines"] == 1
    assert shown["falseMachines"] == round(hidden, 3)
    assert shown["rate"] == round(100 * (1 + hidden) / (3 + hidden), 3)
    assert shown["dialRatio"] == 1.75
    assert shown["pacerReason"] == "budget 0.1 abandons"
    assert shown["decidedAt"] == "2025-09-30T08:00:00.000Z"
    details = get(client, "GetCampaignDetails", Campaign=code)["Data"]["Abandonment"]
    assert details["Rate"] == shown["rate"]
    assert details["DialRatio"] == 1.75
    # A day later the window has moved past them.
    clock.advance(timedelta(hours=24))
    later = read(client, account, campaign_id)["abandonment"]
    assert (later["live"], later["abandoned"], later["rate"]) == (0, 0, 0.0)


def test_one_tenant_never_sees_anothers_figures(
    client: TestClient, account: Account, other_account: Account
) -> None:
    made = create(client, account, type="agent")
    theirs = client.get(f"{CAMPAIGNS}/{made.json()['id']}", headers=other_account.headers)
    assert theirs.status_code == 404


def test_the_answers_conform_to_the_openapi_document(client: TestClient, account: Account) -> None:
    document = client.get("/openapi.json").json()
    options = {"pacing": {"mode": "ratio", "ratio": 2, "target": 2.5}}
    made = create(client, account, type="agent", agentOptions=options)
    shown = read(client, account, made.json()["id"])
    get_campaign = document["paths"]["/api/campaign/voice/{campaign_id}"]["get"]
    schema = get_campaign["responses"]["200"]["content"]["application/json"]["schema"]
    assert _conforms(document, schema, shown) == []
    example = document["components"]["schemas"]["CampaignDetailOut"]["properties"]["abandonment"]
    assert example["examples"][0]["regime"] == "uk"
    details = client.get(
        "/ForwardDialer/Dialer/GetCampaignDetails", params={"Campaign": made.json()["code"]}
    ).json()
    rpc = document["paths"]["/ForwardDialer/Dialer/GetCampaignDetails"]["get"]
    answer = rpc["responses"]["200"]["content"]["application/json"]
    assert _conforms(document, answer["schema"], details) == []
    assert _conforms(document, answer["schema"], answer["example"]) == []

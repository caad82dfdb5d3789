"""A tenant's compliance settings over REST (GET/PUT /api/settings/compliance) and the CLI
(``tenant create`` options, ``tenant compliance``), on SQLite and PostgreSQL."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dialer.bootstrap import Container
from dialer.cli import app as cli_app
from dialer.domain.abandonment import (
    MEASURED_FALSE_MACHINE_RATE,
    ComplianceSettings,
    InfoMessage,
    Regime,
)
from dialer.settings import Settings
from tests.conftest import Account
from tests.integration.test_openapi import _conforms

URL = "/api/settings/compliance"
MESSAGE = "This is Acme Energy. Sorry we missed you; please call us on 0800 123 4567."


def test_a_gb_tenant_starts_under_the_uk_rules(client: TestClient, container: Container) -> None:
    gb = Account(container, "Acme")
    container.tenants.update_compliance(gb.tenant.id, {"message": None})
    answer = client.get(URL, headers=gb.headers)
    assert answer.status_code == 200
    assert answer.json() == {
        "regime": "uk",
        "target": 3.0,
        "message": None,
        "optOutKey": "9",
        "attemptsPerDay": None,
        # The project's measurement of its detector in the default mode (amd_measured.py).
        "falseMachineRate": round(100 * MEASURED_FALSE_MACHINE_RATE, 6),
        "rules": {
            "enforced": True,
            "limit": 3.0,
            "target": 3.0,
            "window": "24h",
            "connectWithinSeconds": 2.0,
            "messageRequired": True,
            "optOutByKey": False,
            "redialLockoutHours": 72.0,
            "countsFalseMachines": True,
        },
    }


def test_a_us_tenant_starts_under_the_fcc_rules(client: TestClient, container: Container) -> None:
    us = Account(container, "Acme Inc", region="US")
    rules = client.get(URL, headers=us.headers).json()
    assert rules["regime"] == "us"
    assert rules["rules"]["window"] == "30d"
    assert rules["rules"]["optOutByKey"] is True
    assert rules["rules"]["redialLockoutHours"] is None


def test_put_changes_what_it_names_and_keeps_the_rest(
    client: TestClient, account: Account, container: Container
) -> None:
    answer = client.put(
        URL,
        headers=account.headers,
        json={"target": 2.5, "message": {"text": MESSAGE}, "attemptsPerDay": 3},
    )
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["target"] == 2.5
    assert shown["rules"]["target"] == 2.5
    assert shown["message"] == {"text": MESSAGE, "recording": None}
    assert client.get(URL, headers=account.headers).json() == shown
    assert container.tenants.compliance(account.tenant.id) == ComplianceSettings(
        regime=Regime.UK, target=0.025, message=InfoMessage(MESSAGE), attempts_per_day=3
    )
    # What GET gives may be PUT back as it is (``rules`` is read-only and ignored).
    assert client.put(URL, headers=account.headers, json=shown).json() == shown
    # Names of regimes in any case, as the CLI's users type them.
    assert client.put(URL, headers=account.headers, json={"regime": "UK"}).json()["regime"] == "uk"
    cleared = client.put(
        URL, headers=account.headers, json={"message": None, "attemptsPerDay": None}
    ).json()
    assert cleared["message"] is None
    assert cleared["attemptsPerDay"] is None
    assert cleared["target"] == 2.5


def test_a_recording_may_stand_for_the_text(client: TestClient, account: Account) -> None:
    answer = client.put(
        URL, headers=account.headers, json={"message": {"recording": "sorry-we-missed-you.wav"}}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == {"text": None, "recording": "sorry-we-missed-you.wav"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"regime": "eu"}, "regime"),
        ({"regime": ["uk"]}, "regime"),
        ({"target": 3.5}, "target"),
        ({"target": 0}, "target"),
        ({"target": "2%"}, "target"),
        ({"target": True}, "target"),
        ({"message": "hello"}, "message"),
        ({"message": {}}, "message"),
        ({"message": {"text": "Acme calling, goodbye."}}, "message.text"),
        ({"message": {"text": MESSAGE + "\x07"}}, "message.text"),
        ({"message": {"text": "x" * 501}}, "message.text"),
        ({"message": {"text": MESSAGE, "voice": "en"}}, "message.voice"),
        ({"message": {"recording": "../etc/passwd.wav"}}, "message.recording"),
        ({"optOutKey": "99"}, "optOutKey"),
        ({"optOutKey": 9}, "optOutKey"),
        ({"attemptsPerDay": 0}, "attemptsPerDay"),
        ({"attemptsPerDay": 2.5}, "attemptsPerDay"),
        ({"falseMachineRate": -1}, "falseMachineRate"),
        ({"falseMachineRate": 100}, "falseMachineRate"),
        ({"limit": 5}, "limit"),
        ([1, 2], "$"),
    ],
)
def test_bad_settings_are_refused_by_field_and_change_nothing(
    client: TestClient, account: Account, body: Any, field: str
) -> None:
    before = client.get(URL, headers=account.headers).json()
    good = {"attemptsPerDay": 5}  # valid, but refused with the rest of its body
    sent = {**good, **body} if isinstance(body, dict) else body
    answer = client.put(URL, headers=account.headers, json=sent)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["errors"], answer.json()
    assert client.get(URL, headers=account.headers).json() == before


def test_a_body_that_is_not_json_is_refused(client: TestClient, account: Account) -> None:
    answer = client.put(
        URL, headers={**account.headers, "Content-Type": "application/json"}, content=b"{"
    )
    assert answer.status_code == 400


def test_settings_need_a_key(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={"target": 2}).status_code == 401


def test_a_tenant_sees_and_changes_only_its_own(
    client: TestClient, account: Account, other_account: Account
) -> None:
    client.put(URL, headers=account.headers, json={"regime": "none", "attemptsPerDay": 2})
    theirs = client.get(URL, headers=other_account.headers).json()
    assert theirs["regime"] == "uk"
    assert theirs["attemptsPerDay"] is None
    assert client.get(URL, headers=account.headers).json()["regime"] == "none"


def test_the_cli_sets_them_at_creation_and_after(settings: Settings) -> None:
    runner = CliRunner()
    url = settings.database_url
    made = runner.invoke(
        cli_app,
        [
            "tenant",
            "create",
            "Acme",
            "--region",
            "US",
            "--abandon-target",
            "2",
            "--info-message",
            MESSAGE,
            "--attempts-per-day",
            "4",
            "--database",
            url,
        ],
    )
    assert made.exit_code == 0, made.output
    tenant = json.loads(made.stdout)["id"]
    shown = runner.invoke(
        cli_app, ["tenant", "compliance", "--tenant", str(tenant), "--database", url]
    )
    assert shown.exit_code == 0, shown.output
    settings_now = json.loads(shown.stdout)
    assert settings_now["regime"] == "us"
    assert settings_now["target"] == 2.0
    assert settings_now["attemptsPerDay"] == 4
    assert settings_now["message"] == {"text": MESSAGE, "recording": None}
    changed = runner.invoke(
        cli_app,
        [
            "tenant",
            "compliance",
            "--tenant",
            str(tenant),
            "--regime",
            "uk",
            "--attempts-per-day",
            "none",
            "--no-info-message",
            "--database",
            url,
        ],
    )
    assert changed.exit_code == 0, changed.output
    after = json.loads(changed.stdout)
    assert (after["regime"], after["attemptsPerDay"], after["message"]) == ("uk", None, None)
    refused = runner.invoke(
        cli_app,
        [
            "tenant",
            "compliance",
            "--tenant",
            str(tenant),
            "--abandon-target",
            "4",
            "--database",
            url,
        ],
    )
    assert refused.exit_code == 2
    assert "target: must be a number of percent above 0 and at most 3" in refused.stderr
    bad_create = runner.invoke(
        cli_app, ["tenant", "create", "Bad", "--regime", "eu", "--database", url]
    )
    assert bad_create.exit_code == 2
    assert "regime: must be uk, us or none" in bad_create.stderr


def test_the_openapi_document_shows_them_with_conforming_examples(
    client: TestClient, account: Account
) -> None:
    document = client.get("/openapi.json").json()
    path = document["paths"][URL]
    answer = path["get"]["responses"]["200"]["content"]["application/json"]
    assert _conforms(document, answer["schema"], answer["example"]) == []
    # The example is what the API answers, in shape.
    shown = client.get(URL, headers=account.headers).json()
    assert _conforms(document, answer["schema"], shown) == []
    body = path["put"]["requestBody"]["content"]["application/json"]
    assert _conforms(document, body["schema"], body["example"]) == []
    sent = client.put(URL, headers=account.headers, json=body["example"])
    assert sent.status_code == 200, sent.text
    assert "400" in path["put"]["responses"]
    campaign = document["components"]["schemas"]["CampaignDetailOut"]["properties"]
    assert "abandonment" in campaign

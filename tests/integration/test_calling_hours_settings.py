"""A tenant's calling hours over REST (GET/PUT /api/settings/calling-hours), on SQLite and
PostgreSQL: what ``tenant create --calling-hours`` sets, read and changed by field."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.conftest import Account
from tests.integration.test_openapi import _conforms

URL = "/api/settings/calling-hours"


def test_a_tenant_starts_with_the_default_hours(client: TestClient, account: Account) -> None:
    answer = client.get(URL, headers=account.headers)
    assert answer.status_code == 200
    assert answer.json() == {"start": "08:00", "end": "21:00"}


def test_the_hours_set_at_creation_are_shown(client: TestClient, container: Container) -> None:
    tenant, key = container.tenants.create("Early", calling_hours="07:30-19:45")
    answer = client.get(URL, headers={"Authorization": f"Bearer {key}"})
    assert answer.json() == {"start": "07:30", "end": "19:45"}
    assert str(container.tenants.calling_hours(tenant.id)) == "07:30-19:45"


def test_put_changes_what_it_names_and_keeps_the_rest(
    client: TestClient, account: Account, container: Container
) -> None:
    answer = client.put(URL, headers=account.headers, json={"start": "09:15"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"start": "09:15", "end": "21:00"}
    both = client.put(URL, headers=account.headers, json={"start": "10:00", "end": "18:30"})
    assert both.json() == {"start": "10:00", "end": "18:30"}
    assert client.get(URL, headers=account.headers).json() == both.json()
    assert str(container.tenants.calling_hours(account.tenant.id)) == "10:00-18:30"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "8am"}, "start"),
        ({"start": "24:00"}, "start"),
        ({"end": "21:00:00"}, "end"),
        ({"end": 21}, "end"),
        ({"start": None}, "start"),
        ({"start": "21:00", "end": "08:00"}, "end"),
        ({"start": "21:00"}, "end"),  # later than the end it keeps
        ({"start": "09:00", "end": "09:00"}, "end"),
        ({"start": "09:00", "timezone": "UTC"}, "timezone"),
        (["09:00", "17:00"], "$"),
    ],
)
def test_bad_hours_are_refused_by_field_and_change_nothing(
    client: TestClient, account: Account, body: Any, field: str
) -> None:
    before = client.get(URL, headers=account.headers).json()
    answer = client.put(URL, headers=account.headers, json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["errors"], answer.json()
    assert client.get(URL, headers=account.headers).json() == before


def test_every_problem_is_reported_at_once(client: TestClient, account: Account) -> None:
    answer = client.put(URL, headers=account.headers, json={"start": "x", "end": "y", "z": 1})
    assert set(answer.json()["errors"]) == {"start", "end", "z"}


def test_hours_need_a_key(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={"start": "09:00"}).status_code == 401


def test_a_tenant_sees_and_changes_only_its_own(
    client: TestClient, account: Account, other_account: Account
) -> None:
    client.put(URL, headers=account.headers, json={"start": "11:00", "end": "12:00"})
    assert client.get(URL, headers=other_account.headers).json() == {
        "start": "08:00",
        "end": "21:00",
    }


def test_the_openapi_document_shows_them_with_conforming_examples(
    client: TestClient, account: Account
) -> None:
    document = client.get("/openapi.json").json()
    path = document["paths"][URL]
    answer = path["get"]["responses"]["200"]["content"]["application/json"]
    assert _conforms(document, answer["schema"], answer["example"]) == []
    shown = client.get(URL, headers=account.headers).json()
    assert _conforms(document, answer["schema"], shown) == []
    body = path["put"]["requestBody"]["content"]["application/json"]
    assert _conforms(document, body["schema"], body["example"]) == []
    assert client.put(URL, headers=account.headers, json=body["example"]).status_code == 200
    assert "400" in path["put"]["responses"]

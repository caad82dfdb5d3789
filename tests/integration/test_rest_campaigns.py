"""The voice-campaign REST API over a real store, on SQLite and PostgreSQL."""

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.conftest import Account

SEED_REQUEST = Path(__file__).parent.parent / "data" / "seed_create_request.json"
CAMPAIGN_FIELDS = (
    "name",
    "startDate",
    "startTime",
    "finishTime",
    "runoverDays",
    "callflow_Id",
    "cli_Id",
    "attempts",
    "answerMachineDetected",
    "smsOnBusy",
)


def create(client: TestClient, account: Account, body: Any) -> Any:
    response = client.post("/api/campaign/voice", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_seed_example_round_trips_exactly(client: TestClient, account: Account) -> None:
    # The first tenant's call flow and CLI both get id 1, as the seed's example assumes.
    assert (account.callflow_id, account.cli_id) == (1, 1)
    raw = SEED_REQUEST.read_text()
    response = client.post(
        "/api/campaign/voice",
        content=raw,
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created["id"], int)
    assert response.headers["location"] == f"/api/campaign/voice/{created['id']}"
    sent = json.loads(raw)
    fetched = client.get(f"/api/campaign/voice/{created['id']}", headers=account.headers).json()
    for body in (created, fetched):
        for field in CAMPAIGN_FIELDS:
            assert body[field] == sent[field], field
        assert [
            {k: v for k, v in n.items() if k in ("number", "name", "parameters")}
            for n in body["phoneNumbers"]
        ] == sent["phoneNumbers"]
    assert [n["e164"] for n in fetched["phoneNumbers"]] == ["+447722123456", "+447722734716"]
    assert fetched["status"] == "Enabled"
    assert len(fetched["code"]) >= 32


def test_list_gives_phone_number_count_and_only_own_campaigns(
    client: TestClient, account: Account, other_account: Account
) -> None:
    first = create(client, account, account.campaign())
    numbers = [{"number": f"0772212{i:04d}"} for i in range(5)]
    second = create(client, account, account.campaign(name="Second", phoneNumbers=numbers))
    create(client, other_account, other_account.campaign(name="Theirs"))
    listed = client.get("/api/campaign/voice", headers=account.headers).json()
    assert [(c["id"], c["phoneNumberCount"]) for c in listed] == [
        (first["id"], 2),
        (second["id"], 5),
    ]
    assert "phoneNumbers" not in listed[0]
    assert listed[1]["name"] == "Second"
    assert listed[0]["callflow_Id"] == account.callflow_id


def test_request_property_names_are_case_insensitive(client: TestClient, account: Account) -> None:
    body = {
        "Name": "Shouty",
        "StartDate": "2025-10-01",
        "STARTTIME": "08:30",
        "finishtime": "17:45",
        "RunoverDays": [{"Date": "2025-10-03", "StartTime": "10:00", "FinishTime": "11:00"}],
        "CallFlow_Id": account.callflow_id,
        "CLI_ID": account.cli_id,
        "Attempts": [{"Interval": 5, "AttemptNumber": 1}, {"INTERVAL": 10}],
        "AnswerPhoneMessage": 2,
        "SMSOnBusy": 1,
        "PhoneNumbers": [
            {
                "Number": "+44 7722 123456",
                "Name": "Ann",
                "Parameters": [{"Parameter": 9, "Value": "x"}],
            }
        ],
    }
    created = create(client, account, body)
    assert created["name"] == "Shouty"
    assert (created["startTime"], created["finishTime"]) == ("08:30", "17:45")
    assert created["runoverDays"] == [
        {"date": "2025-10-03", "startTime": "10:00", "finishTime": "11:00"}
    ]
    assert created["attempts"] == [
        {"interval": 5, "attemptNumber": 1},
        {"interval": 10, "attemptNumber": 2},
    ]
    # answerPhoneMessage and answerMachineDetected name the same policy.
    assert created["answerMachineDetected"] == 2
    assert created["phoneNumbers"][0]["parameters"] == [{"value": "x", "parameter": 9}]
    assert created["phoneNumbers"][0]["e164"] == "+447722123456"


def test_every_problem_is_reported_at_once_by_field(client: TestClient, account: Account) -> None:
    body = account.campaign(
        startDate="2025-13-01",
        startTime="9am",
        finishTime=None,
        callflow_Id="one",
        attempts=[{"interval": 0, "attemptNumber": 1}, {"interval": 5, "attemptNumber": 1}],
        answerMachineDetected=7,
        phoneNumbers=[
            {"number": "07722123456", "parameters": [{"parameter": 10, "value": "a"}]},
            {
                "number": "07722123457",
                "parameters": [{"parameter": 2, "value": "a"}, {"parameter": 2, "value": "b"}],
            },
            {"name": "no number"},
            {"number": "call me maybe"},
            {"number": 447722123456},
        ],
    )
    response = client.post("/api/campaign/voice", json=body, headers=account.headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert problem["title"] == "One or more validation errors occurred."
    assert set(problem["errors"]) == {
        "StartDate",
        "StartTime",
        "FinishTime",
        "CallFlow_Id",
        "Attempts[0].Interval",
        "Attempts[1].AttemptNumber",
        "AnswerPhoneMessage",
        "PhoneNumbers[0].Parameters[0].Parameter",
        "PhoneNumbers[1].Parameters[1].Parameter",
        "PhoneNumbers[2].Number",
        "PhoneNumbers[3].Number",
        "PhoneNumbers[4].Number",
    }
    assert "required" in problem["errors"]["FinishTime"][0]
    assert "YYYY-MM-DD" in problem["errors"]["StartDate"][0]


def test_window_and_runover_rules(client: TestClient, account: Account) -> None:
    body = account.campaign(
        startTime="12:00",
        finishTime="09:00",
        runoverDays=[
            {"date": "2025-10-01", "startTime": "09:00", "finishTime": "10:00"},
            {"date": "2025-10-05", "startTime": "11:00", "finishTime": "11:00"},
            {"date": "2025-10-05", "startTime": "09:00", "finishTime": "10:00"},
            {"date": "2025-10-06"},
        ],
    )
    errors = client.post("/api/campaign/voice", json=body, headers=account.headers).json()["errors"]
    assert "FinishTime" in errors
    assert "after the start date" in errors["RunoverDays[0].Date"][0]
    assert "RunoverDays[1].FinishTime" in errors
    assert "already a runover day" in errors["RunoverDays[2].Date"][0]
    assert {"RunoverDays[3].StartTime", "RunoverDays[3].FinishTime"} <= set(errors)


def test_required_fields_and_at_least_one_number(client: TestClient, account: Account) -> None:
    response = client.post("/api/campaign/voice", json={}, headers=account.headers)
    assert set(response.json()["errors"]) == {
        "StartDate",
        "StartTime",
        "FinishTime",
        "CallFlow_Id",
        "Cli_Id",
        "PhoneNumbers",
    }
    empty = client.post(
        "/api/campaign/voice", json=account.campaign(phoneNumbers=[]), headers=account.headers
    )
    assert empty.json()["errors"] == {"PhoneNumbers": ["At least one phone number is required."]}


def test_callflow_and_cli_must_belong_to_the_caller(
    client: TestClient, account: Account, other_account: Account
) -> None:
    body = account.campaign(callflow_Id=other_account.callflow_id, cli_Id=other_account.cli_id)
    response = client.post("/api/campaign/voice", json=body, headers=account.headers)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"CallFlow_Id", "Cli_Id"}
    missing = client.post(
        "/api/campaign/voice", json=account.campaign(callflow_Id=999), headers=account.headers
    )
    assert missing.json()["errors"] == {
        "CallFlow_Id": ["There is no call flow 999 in your account."]
    }


def test_impossible_number_is_kept_as_invalid_and_never_dialled(
    client: TestClient, account: Account, container: Container
) -> None:
    body = account.campaign(
        phoneNumbers=[{"number": "07722123456"}, {"number": "0772"}, {"number": "+999 123"}]
    )
    created = create(client, account, body)
    fetched = client.get(f"/api/campaign/voice/{created['id']}", headers=account.headers).json()
    assert [
        (n["number"], n["e164"], n["outcome"], n["outcomeName"]) for n in fetched["phoneNumbers"]
    ] == [
        ("07722123456", "+447722123456", None, None),
        ("0772", None, 13, "InvalidNumber"),
        ("+999 123", None, 13, "InvalidNumber"),
    ]
    with container.store.read() as session:
        states = session._conn.execute(  # type: ignore[attr-defined]
            "SELECT state FROM destinations ORDER BY id"
        )
    assert [s[0] for s in states] == ["pending", "done", "done"]


def test_numbers_parse_in_the_tenant_region(client: TestClient, container: Container) -> None:
    israel = Account(container, "Tel Aviv Clinic", region="IL")
    created = create(client, israel, israel.campaign(phoneNumbers=[{"number": "0501234567"}]))
    assert created["phoneNumbers"][0]["e164"] == "+972501234567"


def test_auth_missing_or_wrong_key_is_401(client: TestClient, account: Account) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": account.key},
        {"Authorization": "Basic " + account.key},
    ):
        response = client.get("/api/campaign/voice", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.post("/api/campaign/voice", json=account.campaign()).status_code == 401


def test_other_tenants_campaign_is_404_like_an_unknown_id(
    client: TestClient, account: Account, other_account: Account
) -> None:
    theirs = create(client, other_account, other_account.campaign())
    url = f"/api/campaign/voice/{theirs['id']}"
    unknown = "/api/campaign/voice/987654"
    for target in (url, unknown):
        get = client.get(target, headers=account.headers)
        put = client.put(target, json=account.campaign(), headers=account.headers)
        delete = client.delete(target, headers=account.headers)
        assert (get.status_code, put.status_code, delete.status_code) == (404, 404, 404)
    assert client.get(url, headers=account.headers).json()["title"] == "Not Found"
    # Nothing of theirs changed.
    assert client.get(url, headers=other_account.headers).json()["name"] == "Test Campaign"
    for odd in ("abc", "-1", "0", "1.5", "99999999999999999999999", "%F0%9F%93%9E"):
        assert client.get(f"/api/campaign/voice/{odd}", headers=account.headers).status_code == 404


def test_malformed_and_hostile_bodies_get_4xx(client: TestClient, account: Account) -> None:
    headers = {**account.headers, "Content-Type": "application/json"}
    cases = {
        b"{not json": 400,
        b"": 400,
        b"[1, 2, 3]": 400,
        b'"a string"': 400,
        b"null": 400,
        b"[" * 5000 + b"]" * 5000: 400,
        b'{"startDate": 1e999}': 400,
        b'{"callflow_Id": 123456789012345678901234567890}': 400,
        b"\xff\xfe garbage": 400,
    }
    for content, status in cases.items():
        response = client.post("/api/campaign/voice", content=content, headers=headers)
        assert response.status_code == status, (content[:30], response.text)
        assert response.json()["status"] == status
    form = client.post(
        "/api/campaign/voice",
        content=b"a=b",
        headers={**account.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    wrong_types = account.campaign(
        name=5,
        runoverDays={"date": "x"},
        attempts="three",
        phoneNumbers={"number": "1"},
        smsOnBusy=True,
    )
    errors = client.post("/api/campaign/voice", json=wrong_types, headers=account.headers).json()[
        "errors"
    ]
    assert set(errors) == {"Name", "RunoverDays", "Attempts", "PhoneNumbers", "SMSOnBusy"}


def test_oversized_body_is_413_and_changes_nothing(
    client: TestClient, account: Account, container: Container
) -> None:
    client.app.state.settings = container.settings.__class__(
        database_url=container.settings.database_url, max_body_bytes=2000
    )
    numbers = [{"number": f"0772212{i:04d}", "name": "x" * 20} for i in range(100)]
    response = client.post(
        "/api/campaign/voice", json=account.campaign(phoneNumbers=numbers), headers=account.headers
    )
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert client.get("/api/campaign/voice", headers=account.headers).json() == []


def test_too_many_numbers_is_a_clear_400(
    client: TestClient, account: Account, container: Container
) -> None:
    container.campaigns.max_numbers = 3
    numbers = [{"number": f"0772212{i:04d}"} for i in range(4)]
    response = client.post(
        "/api/campaign/voice", json=account.campaign(phoneNumbers=numbers), headers=account.headers
    )
    assert response.json()["errors"] == {"PhoneNumbers": ["At most 3 phone numbers per request."]}


def test_property_given_twice_in_different_case_is_an_error(
    client: TestClient, account: Account
) -> None:
    body = account.campaign()
    body["StartDate"] = "2025-10-02"
    response = client.post("/api/campaign/voice", json=body, headers=account.headers)
    assert response.json()["errors"]["StartDate"] == ["The property is given more than once."]


def test_put_replaces_a_campaign_not_yet_dialled(client: TestClient, account: Account) -> None:
    created = create(client, account, account.campaign())
    url = f"/api/campaign/voice/{created['id']}"
    new = account.campaign(
        name="Renamed",
        startDate="2025-11-01",
        runoverDays=[],
        attempts=[{"interval": 30, "attemptNumber": 1}],
        phoneNumbers=[{"number": "07700900123", "name": "Zed"}],
    )
    response = client.put(url, json=new, headers=account.headers)
    assert response.status_code == 204
    assert response.content == b""
    fetched = client.get(url, headers=account.headers).json()
    assert fetched["name"] == "Renamed"
    assert fetched["startDate"] == "2025-11-01"
    assert fetched["runoverDays"] == []
    assert fetched["code"] == created["code"]
    assert [n["number"] for n in fetched["phoneNumbers"]] == ["07700900123"]


def test_failed_create_and_update_leave_the_store_as_it_was(
    client: TestClient, account: Account
) -> None:
    created = create(client, account, account.campaign())
    url = f"/api/campaign/voice/{created['id']}"
    before = client.get(url, headers=account.headers).json()
    bad = account.campaign(cli_Id=999, phoneNumbers=[{"number": "07700900123"}])
    assert client.put(url, json=bad, headers=account.headers).status_code == 400
    assert client.post("/api/campaign/voice", json=bad, headers=account.headers).status_code == 400
    assert client.get(url, headers=account.headers).json() == before
    listed = client.get("/api/campaign/voice", headers=account.headers).json()
    assert [c["id"] for c in listed] == [created["id"]]


def test_delete_removes_the_campaign(client: TestClient, account: Account) -> None:
    created = create(client, account, account.campaign())
    url = f"/api/campaign/voice/{created['id']}"
    response = client.delete(url, headers=account.headers)
    assert response.status_code == 204
    assert client.get(url, headers=account.headers).status_code == 404
    assert client.delete(url, headers=account.headers).status_code == 404
    assert client.get("/api/campaign/voice", headers=account.headers).json() == []


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/campaign/voice",
        "/api/campaign/voice/{campaign_id}",
        "/api/callflows",
        "/api/clis",
    } <= set(spec["paths"])
    post = spec["paths"]["/api/campaign/voice"]["post"]
    assert (
        "phoneNumbers" in post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    )
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Swagger UI is served by us, not a CDN, so the docs work on a host with no internet.
    assert "cdn" not in docs.text
    script = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', docs.text)
    assert script is not None
    bundle = client.get(script.group(1))
    assert bundle.status_code == 200
    assert len(bundle.content) > 500_000
    assert client.get("/redoc").status_code == 200


def test_catalog_lists_only_the_callers_own(
    client: TestClient, account: Account, other_account: Account
) -> None:
    flows = client.get("/api/callflows", headers=account.headers).json()
    assert [(f["id"], f["name"]) for f in flows] == [(account.callflow_id, "Reminder")]
    assert flows[0]["definition"]["message"] == "Hello {Name}, about {Parameter1}."
    clis = client.get("/api/clis", headers=account.headers).json()
    assert clis == [{"id": account.cli_id, "number": "+441632960000"}]
    assert client.get("/api/clis").status_code == 401

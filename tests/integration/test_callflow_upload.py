"""POST /api/callflows: adding a call flow over REST, validated as `dialer callflow create`
validates a file (every problem at once, keyed by node path), for the caller's tenant only (on a
real SQLite file and a real PostgreSQL)."""

from fastapi.testclient import TestClient

from tests.conftest import Account

FLOW = {
    "version": 2,
    "sms": "Hi {Name}",
    "answerphone": "Please call us back.",
    "nodes": {
        "greet": {"say": "Hello {Name}.", "next": "menu"},
        "menu": {
            "gather": {"prompt": "Press 1.", "timeout": 5},
            "branches": {"1": "bye"},
            "default": "bye",
        },
        "bye": {"hangup": True},
    },
}


def _names(client: TestClient, account: Account) -> list[str]:
    listed = client.get("/api/callflows", headers=account.headers)
    assert listed.status_code == 200, listed.text
    return [f["name"] for f in listed.json()]


def test_a_valid_flow_is_added_as_json_or_yaml_and_listed_for_its_tenant_only(
    client: TestClient, account: Account, other_account: Account
) -> None:
    made = client.post(
        "/api/callflows", json={"name": "Menu", "definition": FLOW}, headers=account.headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Menu"
    assert made.json()["definition"]["nodes"]["greet"]["say"] == "Hello {Name}."
    yaml_text = "version: 2\nsms: Hi\nanswerphone: Call us\nnodes:\n  bye: {hangup: true}\n"
    as_yaml = client.post(
        "/api/callflows", json={"name": "Bye", "definition": yaml_text}, headers=account.headers
    )
    assert as_yaml.status_code == 201, as_yaml.text
    shown = client.get(f"/api/callflows/{made.json()['id']}", headers=account.headers)
    assert shown.status_code == 200
    assert {"Menu", "Bye"} <= set(_names(client, account))
    assert not {"Menu", "Bye"} & set(_names(client, other_account))
    dry = client.post(
        f"/api/callflows/{made.json()['id']}/dry-run", json={"keys": "1"}, headers=account.headers
    )
    assert dry.status_code == 200, dry.text


def test_a_bad_flow_is_a_400_keyed_by_node_path_and_adds_nothing(
    client: TestClient, account: Account
) -> None:
    before = _names(client, account)
    bad = {
        "version": 2,
        "nodes": {
            "greet": {"say": "Hello {Nmae}.", "next": "menu2"},
            "bye": {"hangup": True},
        },
    }
    answer = client.post(
        "/api/callflows", json={"name": "Bad", "definition": bad}, headers=account.headers
    )
    assert answer.status_code == 400, answer.text
    errors = answer.json()["errors"]
    assert "nodes.greet.say" in errors
    assert "sms" in errors  # every problem at once
    assert _names(client, account) == before


def test_a_malformed_request_is_a_400_naming_each_property(
    client: TestClient, account: Account
) -> None:
    before = _names(client, account)
    for body, key in [
        ({"definition": FLOW}, "name"),
        ({"name": "X"}, "definition"),
        ({"name": "X", "definition": 3}, "definition"),
        ({"name": "", "definition": FLOW}, "name"),
        ({"name": "X", "definition": FLOW, "colour": "red"}, "colour"),
        ([1, 2], "$"),
        ({"name": "X", "definition": "nodes: [unclosed"}, "$"),
    ]:
        answer = client.post("/api/callflows", json=body, headers=account.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert key in answer.json()["errors"], (body, answer.json())
    assert _names(client, account) == before
    assert client.post("/api/callflows", json={"name": "X", "definition": FLOW}).status_code == 401

"""/openapi.json is valid OpenAPI 3.1, every reference in it resolves, the Dialer API's methods are
described (parameters, body, envelope, the seed's examples), and the REST routes declare bearer
auth. The document does not depend on the store, so one SQLite file serves every test here."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from dialer.api.rpc import dispatch
from dialer.api.rpc.methods import METHODS
from dialer.bootstrap import Container, build
from dialer.clocks import ManualClock
from dialer.settings import Settings
from tests.integration.dialer_support import Clinic

DIALER = "/ForwardDialer/Dialer/"


@pytest.fixture
def sqlite_container(tmp_path: Path, clock: ManualClock) -> Iterator[Container]:
    container = build(Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}"), clock=clock)
    yield container
    container.close()


@pytest.fixture
def local(sqlite_container: Container) -> Iterator[TestClient]:
    with TestClient(sqlite_container.app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def document(local: TestClient) -> dict[str, Any]:
    response = local.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{reference} does not resolve"
        assert part in node, f"{reference} does not resolve"
        node = node[part]
    return node


def _conforms(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    # References are #/components/...: resolve them against a root that carries the components.
    validator = Draft202012Validator({**schema, "components": document["components"]})
    return [error.message for error in validator.iter_errors(instance)]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_reference_resolves_within_the_document(document: dict[str, Any]) -> None:
    references = set(_references(document))
    assert "#/components/schemas/Parameter" in references  # the nested number parameters
    for reference in references:
        _resolve(document, reference)
    assert "$defs" not in str(document)


def test_the_campaign_body_describes_nested_number_parameters(document: dict[str, Any]) -> None:
    for verb, path in (("post", "/api/campaign/voice"), ("put", "/api/campaign/voice/{id}")):
        path = path.replace("{id}", "{campaign_id}")
        schema = document["paths"][path][verb]["requestBody"]["content"]["application/json"]
        body = schema["schema"]
        if "$ref" in body:
            body = _resolve(document, body["$ref"])
        numbers = _resolve(document, body["properties"]["phoneNumbers"]["items"]["$ref"])
        parameters = str(numbers["properties"]["parameters"])
        assert "#/components/schemas/Parameter" in parameters


def test_every_dialer_api_method_is_documented_with_its_verbs(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for method in METHODS.values():
        operations = paths[DIALER + method.name]
        assert set(operations) == ({"get", "post"} if method.get else {"post"}), method.name


def test_get_operations_list_their_query_parameters(document: dict[str, Any]) -> None:
    expected = {
        "GetCampaignList": {"Code"},
        "AddCall": {"Campaign", "Target", "CustomerName", "Priority", "CustomData"},
        "UpdateCall": {"Campaign", "Target", "OriginateTime", "IsDateLocal"},
        "RemoveCall": {"Campaign", "Target"},
        "AddMember": {"Campaign", "Member"},
        "GetCampaignPendingCalls": {"Campaign", "PageSize", "Cursor"},
        "UpdateCampaignStrategy": {"Campaign", "setQueueForMonitoring", "setCoefficient"},
        "StopCampaign": {"Campaign"},
    }
    for name, wanted in expected.items():
        parameters = document["paths"][DIALER + name]["get"]["parameters"]
        names = {p["name"] for p in parameters}
        assert wanted <= names, (name, names)
        assert all(p["in"] == "query" for p in parameters)
    for method in (m for m in METHODS.values() if m.get):
        parameters = document["paths"][DIALER + method.name]["get"]["parameters"]
        required = {p["name"] for p in parameters if p["required"]}
        credential = "Code" if method.name == "GetCampaignList" else "Campaign"
        assert credential in required, method.name


def test_post_operations_describe_their_body_with_the_seeds_example(
    document: dict[str, Any],
) -> None:
    for method in METHODS.values():
        content = document["paths"][DIALER + method.name]["post"]["requestBody"]["content"]
        body = content["application/json"]
        assert body["example"], method.name
        assert _conforms(document, body["schema"], body["example"]) == [], method.name
    add_call = document["paths"][DIALER + "AddCall"]["post"]["requestBody"]["content"]
    schema = _resolve(document, add_call["application/json"]["schema"]["$ref"])
    assert {"Campaign", "Target"} <= set(schema["required"])
    assert schema["properties"]["CustomData"]["anyOf"][0]["type"] == "object"
    bulk = document["paths"][DIALER + "AddCallsBulk"]["post"]["requestBody"]["content"]
    assert bulk["application/json"]["example"][1] == {
        "Campaign": "XXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "Target": "0501234568",
    }


def test_answers_are_the_envelope_with_the_seeds_example(document: dict[str, Any]) -> None:
    for method in METHODS.values():
        for verb, operation in document["paths"][DIALER + method.name].items():
            answer = operation["responses"]["200"]["content"]["application/json"]
            envelope = _resolve(document, answer["schema"]["$ref"])
            assert {"ErrorCode", "Description"} <= set(envelope["required"]), method.name
            assert _conforms(document, answer["schema"], answer["example"]) == [], (
                method.name,
                verb,
            )
    listing = document["paths"][DIALER + "GetCampaignList"]["get"]["responses"]["200"]
    # Nulls the seed shows survive the document's making.
    example = listing["content"]["application/json"]["example"]
    assert example["Data"][1]["TotalAwaitingCalls"] is None


def test_every_operation_that_wants_the_key_declares_bearer_auth(
    document: dict[str, Any], local: TestClient
) -> None:
    """Asked without a key, an operation that answers 401 declares the bearer scheme (so
    Swagger's Authorize sends the key), and one that answers anything else does not."""
    for name in ("bearerAuth", "agentToken"):
        scheme = document["components"]["securitySchemes"][name]
        assert scheme["type"] == "http"
        assert scheme["scheme"] == "bearer"
    secured = set()
    agent_secured = set()
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            declared = operation.get("security") == [{"bearerAuth": []}]
            # The agent desk is secured by the agent's token, never the tenant's key.
            by_agent = operation.get("security") == [{"agentToken": []}]
            # The console's own session (GET and DELETE /api/session) by its cookie.
            by_cookie = operation.get("security") == [{"consoleSession": []}]
            assert by_cookie == (path == "/api/session" and verb in {"get", "delete"})
            url = re.sub(r"\{[^}]+\}", "1", path)
            status = local.request(verb.upper(), url).status_code
            assert (declared or by_agent or by_cookie) == (status == 401), (verb, path, status)
            assert by_agent == path.startswith("/api/agents/me"), (verb, path)
            if declared:
                secured.add((verb, path))
            if by_agent:
                agent_secured.add((verb, path))
    assert {
        ("get", "/api/campaign/voice"),
        ("post", "/api/campaign/voice"),
        ("put", "/api/campaign/voice/{campaign_id}"),
        ("get", "/api/dnc"),
        ("put", "/api/webhook"),
    } <= secured
    assert {
        ("get", "/api/agents/sessions"),
        ("get", "/api/agents/report"),
        ("post", "/api/agents/{agent_id}/tokens"),
    } <= secured
    assert {("get", "/api/agents/me"), ("post", "/api/agents/me/login")} <= agent_secured
    # The Dialer API authenticates by its Campaign code (and Code), as the seed does.
    assert not any(path.startswith(DIALER) for _, path in secured)


def test_the_plain_dialer_route_still_answers_first(
    local: TestClient, sqlite_container: Container
) -> None:
    first = local.app.router.routes[0]  # type: ignore[attr-defined]
    assert getattr(first, "endpoint", None) is dispatch.endpoint
    clinic = Clinic(sqlite_container)
    code = clinic.new_campaign()
    # A lower-case method name and a duplicated parameter: only the plain route knows both.
    answer = local.get(DIALER + "addcall", params={"Campaign": code, "Target": "0501234567"})
    assert answer.json() == {"ErrorCode": 0, "Description": "OK"}
    twice = local.get(DIALER + "AddCall?Campaign=" + code + "&Target=0501234567&Target=1")
    assert twice.json()["ErrorCode"] == 5


def test_the_documented_examples_work_when_sent(
    local: TestClient, sqlite_container: Container, document: dict[str, Any]
) -> None:
    clinic = Clinic(sqlite_container)
    code = clinic.new_campaign()
    paths = document["paths"]
    for name in ("AddCall", "UpdateCall", "RemoveCall", "GetCampaignDetails"):
        body = paths[DIALER + name]["post"]["requestBody"]["content"]["application/json"]
        example = dict(body["example"])
        example["Campaign"] = code
        if "OriginateTime" in example:
            example["OriginateTime"] = 1_900_000_000  # the seed's 2020 date is past
        answer = local.post(DIALER + name, json=example).json()
        assert answer["ErrorCode"] == 0, (name, answer)
    bulk = paths[DIALER + "AddCallsBulk"]["post"]["requestBody"]["content"]["application/json"]
    items = [{**item, "Campaign": code} for item in bulk["example"]]
    results = local.post(DIALER + "AddCallsBulk", json=items).json()["AddResult"]
    assert [r["ErrorCode"] for r in results] == [0, 0]


def test_agent_desk_operations_carry_conforming_examples(document: dict[str, Any]) -> None:
    """Every /api/agents endpoint of the desk shows an example of its answer (and of its body,
    if it takes one), each valid against the schema it documents."""
    desk = {
        path: operations
        for path, operations in document["paths"].items()
        if path.startswith("/api/agents/me")
        or path.endswith("/tokens")
        or path.endswith("/tokens/{token_id}")
        or path in ("/api/agents/sessions", "/api/agents/report")
    }
    assert len(desk) == 12, sorted(desk)
    assert "x-example-key" not in str(document)  # every example was put in place
    checked = 0
    for path, operations in desk.items():
        for verb, operation in operations.items():
            request = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if request is not None:
                assert _conforms(document, request["schema"], request["example"]) == [], path
                checked += 1
            for status, answer in operation["responses"].items():
                if status in ("204", "422"):  # 422: FastAPI's own entry, answered as 400
                    continue
                content = answer.get("content", {})
                examples = [c for c in content.values() if "example" in c]
                assert examples, (verb, path, status)
                body = content.get("application/json")
                if body is not None and "schema" in body and "example" in body:
                    assert _conforms(document, body["schema"], body["example"]) == [], (
                        verb,
                        path,
                        status,
                    )
                    checked += 1
    assert checked >= 13


def test_the_event_streams_example_carries_data_its_schema_describes(
    document: dict[str, Any],
) -> None:
    stream = document["paths"]["/api/agents/me/events"]["get"]["responses"]["200"]["content"]
    media = stream["text/event-stream"]
    data = [line for line in media["example"].splitlines() if line.startswith("data: ")]
    assert len(data) == 1
    event = json.loads(data[0].removeprefix("data: "))
    assert event["customer"]["number"]  # the screen pop
    assert _conforms(document, media["x-event-data"], event) == []

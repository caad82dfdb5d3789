"""Hostile Dialer API requests (issue 10): another tenant's key in a bulk item, control
characters, odd digits and out-of-range cursors. Each gets its envelope error, on both stores."""

from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.integration.dialer_support import BASE, Clinic, get, pending_phones, post


def envelope(answer: Any) -> tuple[int, str]:
    return answer["ErrorCode"], answer["Description"]


def outcomes(answer: Any) -> list[tuple[int, str]]:
    return [(r["ErrorCode"], r["Description"]) for r in answer["AddResult"]]


def test_bulk_checks_each_items_code_against_the_campaigns_tenant(
    client: TestClient, container: Container
) -> None:
    clinic, other = Clinic(container), Clinic(container, "Other clinic")
    mine, theirs = clinic.new_campaign(), other.new_campaign()
    answer = post(
        client,
        "AddCallsBulk",
        [
            {"Campaign": mine, "Code": other.key, "Target": "07700900322"},
            {"Campaign": mine, "Code": "dk_wrong", "Target": "0501234561"},
            {"Campaign": mine, "Code": clinic.key, "Target": "0501234562"},
            {"Campaign": theirs, "Code": other.key, "Target": "0501234563"},
            {"Campaign": mine, "Target": "0501234564"},
        ],
    )
    assert outcomes(answer) == [
        (1, "Invalid campaign code"),
        (3, "Invalid Code: send your API key as Code"),
        (0, "OK"),
        (0, "OK"),
        (0, "OK"),
    ]
    assert sorted(pending_phones(client, mine)) == ["972501111111", "972501234562", "972501234564"]
    assert sorted(pending_phones(client, theirs)) == ["972501111111", "972501234563"]


CAMPAIGN_METHODS = (
    "AddCall",
    "RemoveCall",
    "ClearCampaignCalls",
    "GetMembersList",
    "AddMember",
    "RemoveMember",
    "StopCampaign",
    "StartCampaign",
    "GetCampaignPendingCalls",
    "UpdateCall",
    "GetCampaignDetails",
    "UpdateCampaignStrategy",
)


def test_control_characters_are_invalid_requests_in_every_method(
    client: TestClient, container: Container
) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    agent_code = clinic.new_campaign(kind="agent", name="Agents")
    refused = (5, "Invalid request: Campaign must not contain control characters")
    for method in CAMPAIGN_METHODS:
        for sent in (f"{code}\x00", "a\x00b", f"{code}\x1b"):
            assert envelope(get(client, method, Campaign=sent, Target="0501234567")) == refused
            body = {"Campaign": sent, "Target": "0501234567"}
            assert envelope(post(client, method, body)) == refused, method
    for params in (
        {"CustomerName": "Ann\x00"},
        {"CustomerName": "Ann\x07"},
        {"CallerID": "0722776772\x00"},
        {"Cust\x00omerName": "Ann"},
    ):
        answer = get(client, "AddCall", Campaign=code, Target="0501234567", **params)
        assert answer["ErrorCode"] == 5, params
        assert "control characters" in answer["Description"], answer
        answer = post(client, "AddCall", {"Campaign": code, "Target": "0501234567", **params})
        assert answer["ErrorCode"] == 5, params
    for member in ("SIP\x00", "SIPSIP1,\x00"):
        answer = get(client, "AddMember", Campaign=agent_code, Member=member)
        assert envelope(answer) == (
            5,
            "Invalid request: Member must not contain control characters",
        )
    # Free text keeps its tabs and line breaks.
    assert (
        get(client, "AddCall", Campaign=code, Target="0501234568", CustomerName="A\tB")["ErrorCode"]
        == 0
    )
    assert pending_phones(client, code) == ["972501111111", "972501234568"]


def test_control_characters_in_bulk_fail_only_their_item(
    client: TestClient, container: Container
) -> None:
    code = Clinic(container).new_campaign()
    items = [
        {"Campaign": code, "Target": "0501234561", "CustomerName": "Ann\x00"},
        {"Campaign": f"{code}\x00", "Target": "0501234562"},
        {"Campaign": code, "Target": "0501234563", "Code": "dk\x00"},
        {"Campaign": code, "Target": "0501234564"},
    ]
    assert outcomes(post(client, "AddCallsBulk", items)) == [
        (5, "CustomerName must not contain control characters"),
        (5, "Campaign must not contain control characters"),
        (5, "Code must not contain control characters"),
        (0, "OK"),
    ]
    for wrapped in ({"IdempotencyKey": "k\x00", "Calls": items}, {"Calls": items}):
        query = "?IdempotencyKey=k%00" if "IdempotencyKey" not in wrapped else ""
        answer = client.post(f"{BASE}/AddCallsBulk{query}", json=wrapped).json()
        assert envelope(answer) == (
            5,
            "Invalid request: IdempotencyKey must not contain control characters",
        )
    assert pending_phones(client, code) == ["972501111111", "972501234564"]


def test_integers_take_ascii_digits_only(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    agent_code = clinic.new_campaign(kind="agent", name="Agents")
    for bad in ("²", "--5", "٣", "1_000", "5.0", "0x10", "1" * 40):
        for name, extra in (
            ("Priority", {"Priority": bad}),
            ("OriginateTime", {"OriginateTime": bad, "IsDateLocal": "false"}),
        ):
            answer = get(client, "AddCall", Campaign=code, Target="0501234567", **extra)
            assert answer["ErrorCode"] == 5, (bad, answer)
            assert answer["Description"].startswith(f"Invalid request: {name} must be"), answer
        answer = get(client, "GetCampaignPendingCalls", Campaign=code, PageSize=bad)
        assert answer["ErrorCode"] == 5
        assert "PageSize must be a whole number" in answer["Description"]
        for name in ("setQueueForMonitoring", "setQueueMaximumCallers", "setCoefficient"):
            values = {
                "setQueueForMonitoring": "1",
                "setQueueMaximumCallers": "5",
                "setCoefficient": "2",
                name: bad,
            }
            answer = get(client, "UpdateCampaignStrategy", Campaign=agent_code, **values)
            assert envelope(answer)[0] == 5, (name, bad, answer)
            assert f"{name} must be a whole number" in answer["Description"]
    # A sign is fine; the number is what it spells.
    assert (
        get(client, "AddCall", Campaign=code, Target="0501234567", Priority="+7")["ErrorCode"] == 0
    )
    results = post(
        client,
        "AddCallsBulk",
        [
            {"Campaign": code, "Target": "0501234561", "Priority": "²"},
            {"Campaign": code, "Target": "0501234562", "Priority": "--5"},
            {"Campaign": code, "Target": "0501234563", "Priority": "3"},
        ],
    )
    assert [r["ErrorCode"] for r in results["AddResult"]] == [5, 5, 0]
    assert pending_phones(client, code) == ["972501234567", "972501234563", "972501111111"]


def test_cursors_out_of_range_are_invalid_requests(
    client: TestClient, container: Container
) -> None:
    code = Clinic(container).new_campaign()
    for cursor in (
        "99999999999999999999.1",
        "1.99999999999999999999",
        "-99999999999.1",
        "².1",
        "1.--5",
        "1",
        ".",
        "1.2.3",
    ):
        answer = get(client, "GetCampaignPendingCalls", Campaign=code, Cursor=cursor)
        assert envelope(answer) == (5, "Invalid request: Cursor is not one this server gave out")
    answer = get(client, "GetCampaignPendingCalls", Campaign=code, Cursor="0.0")
    assert answer["ErrorCode"] == 0

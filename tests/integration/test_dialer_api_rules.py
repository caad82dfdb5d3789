"""Every error code of the Dialer API and the semantics the seed describes, on both stores."""

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.attempt import AttemptRecord
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.services.dialer_input import MAX_CUSTOM_DATA_BYTES
from tests.integration.attempt_history import record_attempt
from tests.integration.dialer_support import BASE, Clinic, get, pending_phones, post


def envelope(answer: Any) -> tuple[int, str]:
    return answer["ErrorCode"], answer["Description"]


def test_campaign_code_errors_per_method(client: TestClient, container: Container) -> None:
    Clinic(container).new_campaign()
    invalid = (1, "Invalid campaign code")
    missing = (1, "Campaign code missing")
    for method in (
        "AddCall",
        "RemoveCall",
        "GetMembersList",
        "AddMember",
        "RemoveMember",
        "StopCampaign",
        "StartCampaign",
        "UpdateCall",
        "GetCampaignDetails",
        "UpdateCampaignStrategy",
    ):
        assert envelope(get(client, method, Campaign="nope", Target="0501234567")) == invalid, (
            method
        )
        assert envelope(post(client, method, {"Target": "0501234567"})) == missing, method
    # The seed gives these two methods their own codes for a bad campaign.
    assert envelope(get(client, "ClearCampaignCalls", Campaign="nope")) == (
        4,
        "Internal error occurred.",
    )
    assert envelope(get(client, "GetCampaignPendingCalls", Campaign="nope")) == (
        2,
        "Internal error occured",
    )
    bulk = post(
        client, "AddCallsBulk", [{"Campaign": "nope", "Target": "0501234567"}, {"Target": "1"}]
    )
    assert [(r["ErrorCode"], r["Description"]) for r in bulk["AddResult"]] == [invalid, missing]


def test_target_errors(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    for method in ("AddCall", "UpdateCall", "RemoveCall"):
        assert envelope(get(client, method, Campaign=code)) == (2, "Target missing")
        for bad in ("abc", "12", "+999 123"):
            assert envelope(get(client, method, Campaign=code, Target=bad)) == (
                -2,
                "Number is invalid",
            )
    assert pending_phones(client, code) == ["972501111111"]


def test_key_errors_and_tenant_isolation(client: TestClient, container: Container) -> None:
    clinic, other = Clinic(container), Clinic(container, "Other clinic")
    theirs = other.new_campaign()
    assert envelope(get(client, "GetCampaignList")) == (
        3,
        "Invalid Code: send your API key as Code",
    )
    assert envelope(get(client, "GetCampaignList", Code="wrong"))[0] == 3
    assert get(client, "GetCampaignList", Code=clinic.key)["Data"] == []
    # A campaign code with another tenant's key is as unknown as a wrong code.
    answer = get(client, "AddCall", Campaign=theirs, Target="0501234567", Code=clinic.key)
    assert envelope(answer) == (1, "Invalid campaign code")
    assert pending_phones(client, theirs) == ["972501111111"]


def test_invalid_requests_say_what_is_wrong(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    cases: dict[str, dict[str, Any]] = {
        "OriginateTime and IsDateLocal must be sent together": {"OriginateTime": 1602750000},
        "IsDateLocal must be true or false": {"OriginateTime": 1, "IsDateLocal": "maybe"},
        "Priority must be a whole number": {"Priority": "high"},
        "CallerID 0501231234 is not one of your caller IDs": {"CallerID": "0501231234"},
        "CustomData must be a JSON object": {"CustomData": [1, 2]},
        "CustomData is ": {"CustomData": {"blob": "x" * MAX_CUSTOM_DATA_BYTES}},
    }
    for expected, extra in cases.items():
        answer = post(client, "AddCall", {"Campaign": code, "Target": "0501234567", **extra})
        assert answer["ErrorCode"] == 5, answer
        assert expected in answer["Description"], answer
    twice = client.get(f"{BASE}/AddCall?Campaign={code}&campaign={code}&Target=0501234567").json()
    assert twice["ErrorCode"] == 5
    assert pending_phones(client, code) == ["972501111111"]


def test_malformed_requests_get_envelopes_never_500(
    client: TestClient, container: Container
) -> None:
    code = Clinic(container).new_campaign()
    headers = {"Content-Type": "application/json"}
    for body in (b"{nope", b"", b"[1,2]", b'"x"', b"[" * 3000, b"\xff"):
        response = client.post(f"{BASE}/AddCall", content=body, headers=headers)
        assert response.status_code == 200
        assert response.json()["ErrorCode"] == 5, body[:10]
    for body in (b"{nope", b'{"Calls": 5}', b"7"):
        response = client.post(f"{BASE}/AddCallsBulk", content=body, headers=headers)
        assert response.json()["ErrorCode"] == 5
    unknown = client.get(f"{BASE}/DialEveryone")
    assert (unknown.status_code, unknown.json()["ErrorCode"]) == (404, 6)
    wrong_verb = client.get(f"{BASE}/AddCallsBulk?Campaign={code}")
    assert (wrong_verb.status_code, wrong_verb.json()["ErrorCode"]) == (405, 8)
    # Method names are matched in any case.
    assert get(client, "addcall", Campaign=code, Target="0501234567")["ErrorCode"] == 0


def test_bulk_items_are_independent_and_in_order(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    items: list[Any] = [
        {"Campaign": code, "Target": "0501234567", "CustomData": {"row": 1}},
        {"Campaign": code, "Target": "letters", "CustomData": {"row": 2}},
        "not an object",
        {"Campaign": code, "Target": "0501234568", "Priority": "x"},
        {"Campaign": code, "Target": "12"},
        {"campaign": code, "target": "0501234569", "priority": 7},
    ]
    results = post(client, "AddCallsBulk", items)["AddResult"]
    assert [(r["Target"], r["ErrorCode"]) for r in results] == [
        ("0501234567", 0),
        ("letters", -2),
        (None, 5),
        ("0501234568", 5),
        ("12", -2),
        ("0501234569", 0),
    ]
    assert results[1]["CustomData"] == {"row": 2}
    assert pending_phones(client, code) == ["972501234569", "972501111111", "972501234567"]


def test_bulk_limit(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    items = [{"Campaign": code, "Target": "0501234567"}] * 10_001
    response = client.post(f"{BASE}/AddCallsBulk", json=items)
    assert response.status_code == 413
    assert response.json()["ErrorCode"] == 7
    assert pending_phones(client, code) == ["972501111111"]


def test_idempotency_key_adds_once(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    items = [{"Campaign": code, "Target": "0501234567"}, {"Campaign": code, "Target": "x"}]
    first = client.post(f"{BASE}/AddCallsBulk", json=items, headers={"Idempotency-Key": "k-1"})
    again = client.post(f"{BASE}/AddCallsBulk", json=items, headers={"Idempotency-Key": "k-1"})
    assert first.json() == again.json()
    assert first.json()["AddResult"][1]["ErrorCode"] == -2
    wrapped = post(client, "AddCallsBulk", {"IdempotencyKey": "k-1", "Calls": items})
    assert wrapped == first.json()
    assert pending_phones(client, code).count("972501234567") == 1
    other = client.post(f"{BASE}/AddCallsBulk", json=items[:1], headers={"Idempotency-Key": "k-1"})
    assert other.json()["ErrorCode"] == 5
    assert "different request" in other.json()["Description"]
    assert pending_phones(client, code).count("972501234567") == 1


def test_remove_keeps_dialled_history(
    client: TestClient, container: Container, clock: ManualClock
) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    get(client, "AddCall", Campaign=code, Target="0501234567")
    with container.store.write() as session:
        campaign = session.campaigns.campaign_by_code(code)
        assert campaign is not None
        ids = session.destinations.destination_ids(CampaignId(campaign.id))
        record_attempt(session, AttemptRecord(ids[1], 1, Outcome.BUSY, Stage.NONE, clock.now()))
    assert envelope(get(client, "RemoveCall", Campaign=code, Target="0501234567")) == (0, "OK")
    assert envelope(get(client, "ClearCampaignCalls", Campaign=code)) == (0, "OK")
    assert pending_phones(client, code) == []
    # The REST face still shows the dialled number with its attempt; the undialled one is gone.
    rest = client.get(f"/api/campaign/voice/{campaign.id}", headers=clinic.headers).json()
    assert [(n["e164"], n["attemptsMade"], n["outcomeName"]) for n in rest["phoneNumbers"]] == [
        ("+972501234567", 1, "Busy")
    ]


def test_update_call_changes_every_pending_duplicate_only_what_was_sent(
    client: TestClient, container: Container
) -> None:
    code = Clinic(container).new_campaign()
    for _ in range(2):
        get(client, "AddCall", Campaign=code, Target="0501234567", CustomerName="Ann", Priority="5")
    assert envelope(
        get(client, "UpdateCall", Campaign=code, Target="+972 50-123-4567", Priority="9")
    ) == (0, "OK")
    calls = get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]["Calls"]
    assert [(c["Phone"], c["Priority"], c["CustomerName"]) for c in calls] == [
        ("972501234567", 9, "Ann"),
        ("972501234567", 9, "Ann"),
        ("972501111111", 0, ""),
    ]


def test_originate_time_local_or_utc(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    # 2020-10-15 08:20 read as Jerusalem wall-clock time (UTC+3 then) is 05:20 UTC.
    get(
        client,
        "AddCall",
        Campaign=code,
        Target="0501234567",
        OriginateTime="1602750000",
        IsDateLocal="true",
    )
    get(
        client,
        "AddCall",
        Campaign=code,
        Target="0501234568",
        OriginateTime="1602750000",
        IsDateLocal="false",
    )
    with container.store.read() as session:
        rows = session._conn.execute(  # type: ignore[attr-defined]
            "SELECT number_e164, originate_at FROM destinations WHERE originate_at IS NOT NULL"
            " ORDER BY number_e164"
        )
    assert [(n, datetime.fromtimestamp(at / 1e6, UTC).isoformat()) for n, at in rows] == [
        ("+972501234567", "2020-10-15T05:20:00+00:00"),
        ("+972501234568", "2020-10-15T08:20:00+00:00"),
    ]


def test_awaiting_excludes_future_originate_times(
    client: TestClient, container: Container, clock: ManualClock
) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    later = int(clock.now().timestamp()) + 3600
    get(
        client,
        "AddCall",
        Campaign=code,
        Target="0501234567",
        OriginateTime=str(later),
        IsDateLocal="false",
    )
    [row] = get(client, "GetCampaignList", Code=clinic.key)["Data"]
    assert (row["TotalPendingCalls"], row["TotalAwaitingCalls"]) == (2, 1)


def test_pending_calls_page_by_cursor_in_dial_order(
    client: TestClient, container: Container
) -> None:
    code = Clinic(container).new_campaign()
    items = [{"Campaign": code, "Target": f"05012345{i:02d}", "Priority": i % 3} for i in range(25)]
    post(client, "AddCallsBulk", items)
    seen: list[tuple[int, str]] = []
    cursor = None
    pages = 0
    while True:
        params = {"Campaign": code, "PageSize": "10", **({"Cursor": cursor} if cursor else {})}
        data = get(client, "GetCampaignPendingCalls", **params)["Data"]
        seen += [(c["Priority"], c["Phone"]) for c in data["Calls"]]
        pages += 1
        cursor = data["NextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 26
    assert [p for p, _ in seen] == sorted((p for p, _ in seen), reverse=True)
    assert len(set(seen)) == 26
    bad = get(client, "GetCampaignPendingCalls", Campaign=code, Cursor="zzz")
    assert bad["ErrorCode"] == 5


def test_members_and_strategy_rules(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    agent_code, ivr_code = clinic.new_campaign("agent"), clinic.new_campaign("ivr")
    container.catalog.add_agent(clinic.tenant, "SIPSIP1", "Walter")
    container.catalog.add_agent(clinic.tenant, "SIPSIP2", "John")
    assert post(client, "AddMember", {"Campaign": agent_code}) == {
        "Data": {"TotalAdded": -1},
        "ErrorCode": 2,
        "Description": "Member Missing",
    }
    unknown = post(client, "AddMember", {"Campaign": agent_code, "Member": "SIPSIP1,GHOST"})
    assert (unknown["ErrorCode"], unknown["Data"]) == (2, {"TotalAdded": -1})
    assert get(client, "GetMembersList", Campaign=agent_code)["Data"] == []
    both = post(client, "AddMember", {"Campaign": agent_code, "Member": "SIPSIP1,SIPSIP2"})
    assert both["Data"] == {"TotalAdded": 2}
    assert post(client, "AddMember", {"Campaign": agent_code, "Member": "SIPSIP1"})["Data"] == {
        "TotalAdded": 0
    }
    not_member = post(client, "RemoveMember", {"Campaign": agent_code, "Member": "SIPSIP1"})
    assert not_member["Data"] == {"TotalRemoved": 1}
    again = post(client, "RemoveMember", {"Campaign": agent_code, "Member": "SIPSIP1"})
    assert (again["ErrorCode"], again["Data"]) == (2, {"TotalRemoved": 0})
    ivr = post(client, "AddMember", {"Campaign": ivr_code, "Member": "SIPSIP1"})
    assert (ivr["ErrorCode"], ivr["Data"]) == (2, {"TotalAdded": -1})
    assert get(client, "GetCampaignList", Code=clinic.key)["Data"][0]["TotalAwaitingCalls"] is None

    queue = container.catalog.add_queue(clinic.tenant, "Sales")
    for params, expected in (
        (
            {"setQueueForMonitoring": queue.id, "setQueueMaximumCallers": 0, "setCoefficient": 2},
            "greater than 0",
        ),
        (
            {"setQueueForMonitoring": queue.id, "setQueueMaximumCallers": 1, "setCoefficient": 1},
            "greater than 1",
        ),
        (
            {"setQueueForMonitoring": 999999, "setQueueMaximumCallers": 1, "setCoefficient": 2},
            "no queue",
        ),
        ({"setQueueMaximumCallers": 1, "setCoefficient": 2}, "setQueueForMonitoring is required"),
    ):
        answer = post(client, "UpdateCampaignStrategy", {"Campaign": agent_code, **params})
        assert answer["ErrorCode"] == 5
        assert expected in answer["Description"]
    assert get(client, "GetCampaignDetails", Campaign=agent_code)["Data"]["Strategy"] is None

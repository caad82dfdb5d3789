"""The seed's own request examples, sent as written (missing commas fixed), get its shapes."""

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.integration.dialer_support import BASE, Clinic, get, pending_phones, post


def test_get_campaign_list_both_verbs(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    ivr = clinic.new_campaign("ivr", "Campaign1")
    agent = clinic.new_campaign("agent", "Campaign2")
    for answer in (
        get(client, "GetCampaignList", Code=clinic.key),
        post(client, "GetCampaignList", {"Code": clinic.key}),
    ):
        assert (answer["ErrorCode"], answer["Description"]) == (0, "OK")
        assert answer["Data"] == [
            {
                "Name": "Campaign1",
                "StatusName": "Enabled",
                "TotalPendingCalls": 1,
                "MaxPriority": 0,
                "MinPriority": 0,
                "TotalAwaitingCalls": 1,
                "Code": ivr,
            },
            {
                "Name": "Campaign2",
                "StatusName": "Enabled",
                "TotalPendingCalls": 1,
                "MaxPriority": 0,
                "MinPriority": 0,
                "TotalAwaitingCalls": None,
                "Code": agent,
            },
        ]
    assert len(ivr) >= 32  # 192 random bits, URL-safe


def test_add_call_examples(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    # GET, exactly as the seed writes it (with var_leadID joining CustomData).
    response = client.get(
        f"{BASE}/AddCall?Campaign={code}&Target=0501234567&CustomerName=JohnDoe&Priority=42"
        "&var_leadID=1234567"
    )
    assert response.json() == {"ErrorCode": 0, "Description": "OK"}
    # POST-JSON, exactly as the seed writes it.
    seed_post = {
        "Campaign": code,
        "Target": "0501234567",
        "CustomerName": "John Doe",
        "CallerID": "0722776772",
        "Priority": 42,
        "OriginateTime": 1602750000,
        "IsDateLocal": "true",
        "IgnoreDncStatus": "true",
        "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
    }
    assert post(client, "AddCall", seed_post) == {"ErrorCode": 0, "Description": "OK"}
    calls = get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]["Calls"]
    by_name = {c["CustomerName"]: c for c in calls}
    assert by_name["JohnDoe"]["CustomData"] == {"var_leadID": "1234567"}
    assert by_name["JohnDoe"]["Phone"] == "972501234567"
    john = by_name["John Doe"]
    assert john == {
        "Phone": "972501234567",
        "CallerID": "972722776772",
        "CallerName": "",
        "OriginateTime": 1602750000,
        "IsDateLocal": True,
        "Priority": 42,
        "CustomerName": "John Doe",
        "CallStatus": {"Status": 1, "Description": "Pending"},
        "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
    }


def test_add_calls_bulk_example(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    seed = [
        {
            "Campaign": code,
            "Target": "0501234567",
            "CustomerName": "John Doe",
            "CallerID": "0722776772",
            "Priority": 42,
            "OriginateTime": 1602750000,
            "IsDateLocal": "true",
            "IgnoreDncStatus": "true",
            "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
        },
        {"Campaign": code, "Target": "0501234568"},
    ]
    assert post(client, "AddCallsBulk", seed) == {
        "AddResult": [
            {
                "Target": "0501234567",
                "ErrorCode": 0,
                "Description": "OK",
                "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
            },
            {"Target": "0501234568", "ErrorCode": 0, "Description": "OK", "CustomData": {}},
        ],
        "ErrorCode": 0,
        "Description": "OK",
    }
    assert len(pending_phones(client, code)) == 3


def test_remove_and_clear_examples(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    get(client, "AddCall", Campaign=code, Target="0501234567")
    get(client, "AddCall", Campaign=code, Target="0501234567")  # a duplicate
    ok = {"ErrorCode": 0, "Description": "OK"}
    assert client.get(f"{BASE}/RemoveCall?Campaign={code}&Target=0501234567").json() == ok
    assert pending_phones(client, code) == ["972501111111"]
    # Not in the campaign: still OK, removes nothing (the seed's note).
    assert post(client, "RemoveCall", {"Campaign": code, "Target": "0501234567"}) == ok
    assert client.get(f"{BASE}/ClearCampaignCalls?Campaign={code}").json() == ok
    assert pending_phones(client, code) == []
    assert post(client, "ClearCampaignCalls", {"Campaign": code}) == ok


def test_member_examples(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign("agent")
    container.catalog.add_agent(clinic.tenant, "SIPSIP1", "Walter Melon")
    container.catalog.add_agent(clinic.tenant, "SIPSIP2", "John Doe")
    container.catalog.add_agent(clinic.tenant, "SIP1SIP1", "Third")
    added = client.get(f"{BASE}/AddMember?campaign={code}&member=SIPSIP1").json()
    assert added == {"Data": {"TotalAdded": 1}, "ErrorCode": 0, "Description": "OK"}
    assert post(client, "AddMember", {"Campaign": code, "Member": "SIPSIP2"})["Data"] == {
        "TotalAdded": 1
    }
    assert post(client, "AddMember", {"Campaign": code, "Member": "SIP1SIP1"})["ErrorCode"] == 0
    members = get(client, "GetMembersList", Campaign=code)
    assert members == {
        "Data": [
            {"Member": "SIPSIP1", "DisplayName": "Walter Melon"},
            {"Member": "SIPSIP2", "DisplayName": "John Doe"},
            {"Member": "SIP1SIP1", "DisplayName": "Third"},
        ],
        "ErrorCode": 0,
        "Description": "OK",
    }
    assert post(client, "GetMembersList", {"Campaign": code})["Data"] == members["Data"]
    removed = client.get(f"{BASE}/RemoveMember?campaign={code}&member=SIPSIP1").json()
    assert removed == {"Data": {"TotalRemoved": 1}, "ErrorCode": 0, "Description": "OK"}
    assert post(client, "RemoveMember", {"Campaign": code, "Member": "SIP1SIP1"})["Data"] == {
        "TotalRemoved": 1
    }


def test_stop_start_examples(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign()
    ok = {"ErrorCode": 0, "Description": "OK"}
    assert client.get(f"{BASE}/StopCampaign?campaign={code}").json() == ok
    assert get(client, "GetCampaignDetails", Campaign=code)["Data"]["StatusName"] == "Disabled"
    assert post(client, "StartCampaign", {"Campaign": code}) == ok
    assert get(client, "GetCampaignDetails", Campaign=code)["Data"]["StatusName"] == "Enabled"
    assert post(client, "StopCampaign", {"Campaign": "XXXXXXXXXXX"}) == {
        "ErrorCode": 1,
        "Description": "Invalid campaign code",
    }


def test_pending_calls_example_shape(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign("agent", "Campaign2")
    get(
        client,
        "AddCall",
        Campaign=code,
        Target="972525599100",
        Priority="42",
        CustomerName="John Doe",
        var_test1="1",
        var_test2="some value",
    )
    answer = client.get(f"{BASE}/GetCampaignPendingCalls?Campaign={code}").json()
    assert (answer["ErrorCode"], answer["Description"]) == (0, "OK")
    assert answer["Data"]["Campaign"] == {
        "Name": "Campaign2",
        "StatusName": "Enabled",
        "TotalPendingCalls": 2,
        "TotalOriginatedCalls": 0,
        "MaxPriority": 42,
        "MinPriority": 0,
        "TotalAwaitingCalls": -1,
        "Code": code,
    }
    first = answer["Data"]["Calls"][0]
    assert first["Phone"] == "972525599100"
    assert first["CallStatus"] == {"Status": 1, "Description": "Pending"}
    assert first["CustomData"] == {"var_test1": "1", "var_test2": "some value"}
    assert answer["Data"]["NextCursor"] is None
    assert post(client, "GetCampaignPendingCalls", {"Campaign": code})["Data"] == answer["Data"]


def test_update_call_examples(client: TestClient, container: Container) -> None:
    code = Clinic(container).new_campaign()
    # Absent: UpdateCall adds it.
    response = client.get(
        f"{BASE}/UpdateCall?Campaign={code}&Target=0501234567&CustomerName=John Doe&Priority=42"
        "&var_leadID=1234567"
    )
    assert response.json() == {"ErrorCode": 0, "Description": "OK"}
    seed = {
        "Campaign": code,
        "Target": "0501234567",
        "CustomerName": "John Doe",
        "CallerID": "0722776772",
        "Priority": 42,
        "OriginateTime": 1602750000,
        "IsDateLocal": "true",
        "CustomData": {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"},
    }
    assert post(client, "UpdateCall", seed) == {"ErrorCode": 0, "Description": "OK"}
    calls = get(client, "GetCampaignPendingCalls", Campaign=code)["Data"]["Calls"]
    updated = [c for c in calls if c["Phone"] == "972501234567"]
    assert len(updated) == 1
    assert updated[0]["CallerID"] == "972722776772"
    assert updated[0]["CustomData"] == {"var_LeadID": 1234567, "var_LeadCampaign": "Facebook"}


def test_details_and_strategy_examples(client: TestClient, container: Container) -> None:
    clinic = Clinic(container)
    code = clinic.new_campaign("agent", "Campaign1")
    queue = container.catalog.add_queue(clinic.tenant, "Sales")
    response = client.get(
        f"{BASE}/UpdateCampaignStrategy?Campaign={code}"
        f"&setQueueForMonitoring={queue.id}&setQueueMaximumCallers=1&setCoefficient=2"
    )
    assert response.json() == {"ErrorCode": 0, "Description": "OK"}
    seed = {
        "Campaign": code,
        "setQueueForMonitoring": queue.id,
        "setQueueMaximumCallers": 3,
        "setCoefficient": 4,
    }
    assert post(client, "UpdateCampaignStrategy", seed) == {"ErrorCode": 0, "Description": "OK"}
    details = client.get(f"{BASE}/GetCampaignDetails?Campaign={code}").json()
    assert details == {
        "Data": {
            "Name": "Campaign1",
            "StatusName": "Enabled",
            "TotalPendingCalls": 1,
            "MaxPriority": 0,
            "MinPriority": 0,
            "TotalAwaitingCalls": -1,
            "Code": code,
            "TotalOriginatedCalls": 0,
            "Type": "Agent",
            "Strategy": {
                "QueueForMonitoring": queue.id,
                "QueueMaximumCallers": 3,
                "Coefficient": 4,
            },
            # An agent campaign's options: the defaults until the REST API sets them, but for
            # the pacing the strategy set (setCoefficient: lines per ready agent).
            "AgentOptions": {
                "WrapUpSeconds": 15,
                "MaxWaitSeconds": 5,
                "BridgeOnAnswer": False,
                "Pacing": {"Mode": "ratio", "Ratio": 4.0, "Target": None},
                "InformationMessage": None,
            },
            # An IL tenant dials under no abandoned-call regime (docs/compliance.md).
            "Abandonment": {
                "Regime": "none",
                "Window": "24h",
                "Rate": 0.0,
                "Limit": None,
                "Target": None,
                "Live": 0,
                "Abandoned": 0,
                "Machines": 0,
                "FalseMachines": 0.0,
                "DialRatio": None,
                "PacerReason": None,
                "DecidedAt": None,
            },
            "AnswerDetection": "people",  # the REST API's answerDetection, its default
        },
        "ErrorCode": 0,
        "Description": "OK",
    }
    assert post(client, "GetCampaignDetails", {"Campaign": code}) == details

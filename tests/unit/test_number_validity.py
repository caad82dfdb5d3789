"""Possible numbers are kept, but each says whether it is valid, and of what type."""

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_each_number_reports_validity_and_type_and_the_campaign_counts_the_not_valid(
    client: TestClient, account: Account
) -> None:
    numbers = [
        {"number": "07722 123456"},
        # A US number written without +1 in a GB tenant: possible in GB, but allocated to nobody.
        {"number": "(212) 555-0100"},
        {"number": "+1 212 555 0100"},
        {"number": "0772"},
    ]
    body = account.campaign(phoneNumbers=numbers)
    created = client.post("/api/campaign/voice", json=body, headers=account.headers).json()
    url = f"/api/campaign/voice/{created['id']}"
    fetched = client.get(url, headers=account.headers).json()
    expected = [
        ("+447722123456", True, "mobile"),
        ("+442125550100", False, "unknown"),
        ("+12125550100", True, "fixedLineOrMobile"),
        (None, False, None),
    ]
    for answer in (created, fetched):
        shown = [(n["e164"], n["valid"], n["numberType"]) for n in answer["phoneNumbers"]]
        assert shown == expected
        assert answer["notValidPhoneNumberCount"] == 2
    # A number added through the Dialer API is judged the same way.
    params = {"Campaign": created["code"], "Target": "2125550100"}
    added = client.get("/ForwardDialer/Dialer/AddCall", params=params).json()
    assert added["ErrorCode"] == 0, added
    fetched = client.get(url, headers=account.headers).json()
    assert (fetched["phoneNumbers"][-1]["valid"], fetched["notValidPhoneNumberCount"]) == (False, 3)

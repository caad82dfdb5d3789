"""Control characters in REST bodies and query strings (issue 10): a 400 naming the field, on
both stores, where NUL used to reach PostgreSQL and come back as a 500."""

from fastapi.testclient import TestClient

from tests.conftest import Account

PROBLEM = "Must not contain control characters (U+0000-U+001F but tab, CR, LF; U+007F)."


def test_campaign_bodies_with_control_characters_are_400_naming_the_field(
    client: TestClient, account: Account
) -> None:
    h = account.headers
    numbers = [{"number": "07722123456", "name": "ben\u0000"}, {"number": "07722734716\u001b"}]
    for body, field in (
        (account.campaign(name="Spring\u0000"), "name"),
        (account.campaign(name="Spring\u007f"), "name"),
        (account.campaign(phoneNumbers=numbers), "phoneNumbers[0].name"),
        (account.campaign(phoneNumbers=numbers), "phoneNumbers[1].number"),
        ({**account.campaign(), "odd\u0000": 1}, "$"),
    ):
        response = client.post("/api/campaign/voice", json=body, headers=h)
        assert response.status_code == 400, response.text
        assert field in response.json()["errors"], response.json()
    assert client.get("/api/campaign/voice", headers=h).json() == []
    # Tabs and line breaks are text like any other.
    created = client.post(
        "/api/campaign/voice", json=account.campaign(name="Spring\tclinic\r\n"), headers=h
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    put = client.put(
        f"/api/campaign/voice/{campaign_id}",
        json=account.campaign(name="Spring", phoneNumbers=numbers),
        headers=h,
    )
    assert put.status_code == 400
    assert put.json()["errors"]["phoneNumbers[0].name"] == [PROBLEM]


def test_query_strings_with_control_characters_are_400_naming_the_parameter(
    client: TestClient, account: Account
) -> None:
    h = account.headers
    for query, field in (("after=a%00b", "after"), ("number=0772%0012", "number")):
        response = client.get(f"/api/dnc?{query}", headers=h)
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == {
            field: ["Must not contain control characters (U+0000-U+001F, U+007F)."]
        }
    dnc = client.post("/api/dnc", json={"numbers": ["07722123456\u0000"]}, headers=h)
    assert dnc.status_code == 400
    assert "numbers[0]" in dnc.json()["errors"]
    assert client.get("/api/dnc?after=a", headers=h).status_code == 200

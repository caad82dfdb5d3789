"""GET of one campaign pages its numbers: small campaigns read as the seed shows them, big
ones answer a bounded page with a way to the next."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account


def numbers(count: int) -> list[dict[str, Any]]:
    return [{"number": f"+4411349{n:05d}", "name": f"N{n}"} for n in range(count)]


def test_a_small_campaign_comes_whole_with_no_next_page(
    client: TestClient, account: Account
) -> None:
    created = client.post("/api/campaign/voice", json=account.campaign(), headers=account.headers)
    got = client.get(f"/api/campaign/voice/{created.json()['id']}", headers=account.headers)
    assert got.status_code == 200
    assert [n["name"] for n in got.json()["phoneNumbers"]] == ["ben", "Dave"]
    assert got.json()["phoneNumbersNext"] is None
    assert "link" not in got.headers


def test_pages_follow_each_other_to_every_number_once(client: TestClient, account: Account) -> None:
    body = account.campaign(phoneNumbers=numbers(7))
    created = client.post("/api/campaign/voice", json=body, headers=account.headers).json()
    url = f"/api/campaign/voice/{created['id']}"
    seen: list[str] = []
    params: dict[str, Any] = {"numbersLimit": 3}
    pages = 0
    while True:
        page = client.get(url, params=params, headers=account.headers)
        assert page.status_code == 200, page.text
        data = page.json()
        assert len(data["phoneNumbers"]) <= 3
        assert data["progress"]["pending"] == 7  # the whole campaign's, on every page
        seen += [n["name"] for n in data["phoneNumbers"]]
        pages += 1
        if data["phoneNumbersNext"] is None:
            assert "link" not in page.headers
            break
        after = data["phoneNumbersNext"]
        assert page.headers["link"] == (f'<{url}?numbersAfter={after}&numbersLimit=3>; rel="next"')
        params = {"numbersLimit": 3, "numbersAfter": after}
    assert seen == [f"N{n}" for n in range(7)]
    assert pages == 3


def test_the_default_page_is_bounded(client: TestClient, account: Account) -> None:
    body = account.campaign(phoneNumbers=numbers(1_001))
    created = client.post("/api/campaign/voice", json=body, headers=account.headers).json()
    url = f"/api/campaign/voice/{created['id']}"
    first = client.get(url, headers=account.headers).json()
    assert len(first["phoneNumbers"]) == 1_000
    rest = client.get(
        url, params={"numbersAfter": first["phoneNumbersNext"]}, headers=account.headers
    ).json()
    assert [n["name"] for n in rest["phoneNumbers"]] == ["N1000"]
    assert rest["phoneNumbersNext"] is None


def test_bad_page_parameters_are_400_and_another_tenant_sees_nothing(
    client: TestClient, account: Account, other_account: Account
) -> None:
    created = client.post("/api/campaign/voice", json=account.campaign(), headers=account.headers)
    url = f"/api/campaign/voice/{created.json()['id']}"
    for params in (
        {"numbersLimit": 0},
        {"numbersLimit": 10_001},
        {"numbersLimit": "x"},
        {"numbersAfter": -1},
        {"numbersAfter": 2**63},
    ):
        response = client.get(url, params=params, headers=account.headers)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get(url, params={"numbersLimit": 1}, headers=other_account.headers).status_code
        == 404
    )

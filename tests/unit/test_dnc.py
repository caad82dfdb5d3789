"""The do-not-call list over REST: normalised, per tenant, all-or-nothing on bad input."""

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from tests.conftest import Account


def test_add_check_page_and_remove(
    client: TestClient, account: Account, other_account: Account
) -> None:
    h = account.headers
    added = client.post(
        "/api/dnc", json={"numbers": ["07700 900123", "+447700900123", "07700900456"]}, headers=h
    )
    assert added.json() == {"added": 2, "alreadyListed": 0}
    again = client.post("/api/dnc", json={"numbers": ["07700900123"]}, headers=h)
    assert again.json() == {"added": 0, "alreadyListed": 1}
    assert client.get("/api/dnc", params={"number": "+44 7700 900123"}, headers=h).json() == {
        "number": "+447700900123",
        "listed": True,
    }
    # Per tenant: the other tenant's list is its own.
    assert (
        client.get(
            "/api/dnc", params={"number": "07700900123"}, headers=other_account.headers
        ).json()["listed"]
        is False
    )
    first = client.get("/api/dnc", params={"limit": 1}, headers=h).json()
    assert first == {"numbers": ["+447700900123"], "next": "+447700900123"}
    second = client.get("/api/dnc", params={"limit": 1, "after": first["next"]}, headers=h).json()
    assert second["numbers"] == ["+447700900456"]
    removed = client.request(
        "DELETE", "/api/dnc", json={"numbers": ["07700900123", "07700900999"]}, headers=h
    )
    assert removed.json() == {"removed": 1, "notListed": 1}
    assert client.get("/api/dnc", headers=h).json()["numbers"] == ["+447700900456"]


def test_bad_numbers_refuse_the_whole_request(client: TestClient, account: Account) -> None:
    h = account.headers
    response = client.post("/api/dnc", json={"numbers": ["07700900123", "nope", 5]}, headers=h)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"numbers[1]", "numbers[2]"}
    assert client.get("/api/dnc", headers=h).json()["numbers"] == []
    assert client.post("/api/dnc", json={"numbers": "07700900123"}, headers=h).status_code == 400
    assert client.post("/api/dnc", json={"numbers": []}).status_code == 401


def test_the_engine_will_find_what_the_service_stored(
    container: Container, account: Account
) -> None:
    container.dnc.add(account.tenant, ["07700900123"])
    with container.store.read() as session:
        assert session.dnc.dnc_listed(account.tenant.id, ["+447700900123", "+447700900124"]) == {
            "+447700900123"
        }

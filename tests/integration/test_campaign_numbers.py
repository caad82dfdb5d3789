"""GET /api/campaign/voice/{id}/numbers: pages by cursor or by number, searched by number or
name, filtered by outcome, stage and final/pending, on both stores."""

from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.services.results import iso_utc
from tests.conftest import Account


def _numbers(count: int) -> list[dict[str, Any]]:
    return [{"number": f"+4411349{n:05d}", "name": f"N{n}"} for n in range(count)]


def _create(client: TestClient, account: Account, numbers: list[dict[str, Any]]) -> int:
    body = account.campaign(phoneNumbers=numbers)
    created = client.post("/api/campaign/voice", json=body, headers=account.headers)
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    return campaign_id


def _get(client: TestClient, account: Account, campaign_id: int, **params: Any) -> Any:
    got = client.get(
        f"/api/campaign/voice/{campaign_id}/numbers", params=params, headers=account.headers
    )
    assert got.status_code == 200, got.text
    return got.json()


def _finish(
    container: Container, campaign_id: int, outcomes: dict[str, tuple[Outcome, Stage]]
) -> None:
    """Mark numbers done with an outcome and stage, as the engine would have recorded them."""
    with container.store.write() as session:
        rows = session.destinations.list_numbers(CampaignId(campaign_id))
        e164_ids = {r.number.e164: r.id for r in rows}
        conn = session._conn  # type: ignore[union-attr]  # a SqlSession (attempt_history.py)
        for e164, (outcome, stage) in outcomes.items():
            conn.execute(
                "UPDATE destinations SET state = 'done', attempts_made = 1, last_outcome = %s,"
                " last_stage = %s WHERE id = %s",
                (outcome.value, stage.value, e164_ids[e164]),
            )
            conn.execute("DELETE FROM dial_queue WHERE destination_id = %s", (e164_ids[e164],))


def test_rows_carry_what_the_console_shows(
    client: TestClient, account: Account, container: Container
) -> None:
    campaign_id = _create(client, account, account.campaign()["phoneNumbers"])
    rows = _get(client, account, campaign_id)["numbers"]
    assert [r["name"] for r in rows] == ["ben", "Dave"]
    first = rows[0]
    assert first["number"] == "07722123456"
    assert first["e164"] == "+447722123456"
    assert first["parameters"] == [{"value": "testing", "parameter": 1}]
    assert first["attemptsMade"] == 0
    assert first["lastOutcome"] is None
    assert first["lastStage"] is None
    assert first["final"] is False
    # Queued and due now: the next attempt is as soon as the engine can.
    assert first["nextAttemptAt"] == iso_utc(container.clock.now())


def test_cursor_pages_meet_every_number_once(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account, _numbers(25))
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10}
    while True:
        page = client.get(
            f"/api/campaign/voice/{campaign_id}/numbers", params=params, headers=account.headers
        )
        data = page.json()
        seen += [r["name"] for r in data["numbers"]]
        if data["next"] is None:
            assert "link" not in page.headers
            break
        assert f"after={data['next']}" in page.headers["link"]
        params = {"limit": 10, "after": data["next"]}
    assert seen == [f"N{n}" for n in range(25)]


def test_page_n_is_the_nth_slice(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account, _numbers(25))
    assert [r["name"] for r in _get(client, account, campaign_id, limit=10, page=3)["numbers"]] == [
        f"N{n}" for n in range(20, 25)
    ]
    assert _get(client, account, campaign_id, limit=10, page=3)["next"] is None
    assert _get(client, account, campaign_id, limit=10, page=4)["numbers"] == []
    second = _get(client, account, campaign_id, limit=10, page=2)
    assert [r["name"] for r in second["numbers"]] == [f"N{n}" for n in range(10, 20)]
    assert second["next"] is not None


def test_search_by_number_prefix_national_or_international(
    client: TestClient, account: Account
) -> None:
    campaign_id = _create(client, account, _numbers(25))
    # +44113490001x: N10..N19
    for q in ("+44 113 4900 01", "01134900 01", "44113490001"):
        rows = _get(client, account, campaign_id, q=q)["numbers"]
        assert [r["name"] for r in rows] == [f"N{n}" for n in range(10, 20)], q


def test_a_number_search_pages_in_number_order(client: TestClient, account: Account) -> None:
    numbers = [
        {"number": "+441134900009", "name": "nine"},
        {"number": "+441134900001", "name": "one"},
        {"number": "+442079460000", "name": "london"},
        {"number": "+441134900005", "name": "five"},
        {"number": "0113 490 0001", "name": "one again"},  # the same number, added later
        {"number": "+441134900003", "name": "three"},
    ]
    campaign_id = _create(client, account, numbers)
    expected = ["one", "one again", "three", "five", "nine"]
    seen: list[str] = []
    params: dict[str, Any] = {"q": "0113", "limit": 2}
    while True:
        data = _get(client, account, campaign_id, **params)
        seen += [r["name"] for r in data["numbers"]]
        if data["next"] is None:
            break
        params["after"] = data["next"]
    assert seen == expected
    for page in (1, 2, 3):
        got = _get(client, account, campaign_id, q="0113", limit=2, page=page)["numbers"]
        assert [r["name"] for r in got] == expected[(page - 1) * 2 : page * 2]
    # Page 2 goes on from its cursor just as it would from page 1's.
    second = _get(client, account, campaign_id, q="0113", limit=2, page=2)
    after_second = _get(client, account, campaign_id, q="0113", limit=2, after=second["next"])
    assert [r["name"] for r in after_second["numbers"]] == ["nine"]


def test_search_by_name_is_a_case_insensitive_substring(
    client: TestClient, account: Account
) -> None:
    numbers = [
        {"number": "+441134900001", "name": "Alice Smith"},
        {"number": "+441134900002", "name": "Bob"},
        {"number": "+441134900003", "name": "SMITHERS"},
        {"number": "+441134900004", "name": "100%_sure"},
    ]
    campaign_id = _create(client, account, numbers)
    assert [r["name"] for r in _get(client, account, campaign_id, q="smith")["numbers"]] == [
        "Alice Smith",
        "SMITHERS",
    ]
    # LIKE's own wildcards are taken literally.
    assert [r["name"] for r in _get(client, account, campaign_id, q="%_")["numbers"]] == [
        "100%_sure"
    ]
    assert _get(client, account, campaign_id, q="b_b")["numbers"] == []


def test_filters_by_outcome_stage_and_final(
    client: TestClient, account: Account, container: Container
) -> None:
    campaign_id = _create(client, account, _numbers(6))
    _finish(
        container,
        campaign_id,
        {
            "+441134900001": (Outcome.BUSY, Stage.NONE),
            "+441134900003": (Outcome.ANSWERED, Stage.CORRECT_CALLEE),
            "+441134900004": (Outcome.BUSY, Stage.NONE),
        },
    )

    def names(**params: Any) -> list[str]:
        return [r["name"] for r in _get(client, account, campaign_id, **params)["numbers"]]

    assert names(outcome="Busy") == ["N1", "N4"]
    assert names(outcome="3") == ["N1", "N4"]
    assert names(outcome="busy", limit=1, page=2) == ["N4"]
    assert names(stage="CorrectCallee") == ["N3"]
    assert names(state="final") == ["N1", "N3", "N4"]
    assert names(state="pending") == ["N0", "N2", "N5"]
    assert names(state="final", outcome="Answered") == ["N3"]
    done = _get(client, account, campaign_id, outcome="Answered")["numbers"][0]
    assert done["final"] is True
    assert done["nextAttemptAt"] is None
    assert done["lastOutcomeName"] == "Answered"
    assert done["lastStageName"] == "CorrectCallee"


def test_bad_queries_are_400_and_unknown_or_foreign_campaigns_404(
    client: TestClient, account: Account, other_account: Account
) -> None:
    campaign_id = _create(client, account, _numbers(3))
    url = f"/api/campaign/voice/{campaign_id}/numbers"
    for params in (
        {"outcome": "Sunny"},
        {"stage": "999"},
        {"state": "maybe"},
        {"limit": 0},
        {"limit": 1001},
        {"page": 0},
        {"page": 1, "after": 3},
        {"q": "x" * 101},
    ):
        got = client.get(url, params=params, headers=account.headers)
        assert got.status_code == 400, (params, got.text)
        assert got.json()["status"] == 400
    assert client.get(url, headers=other_account.headers).status_code == 404
    assert client.get(url, headers={}).status_code == 401
    missing = client.get("/api/campaign/voice/999999/numbers", headers=account.headers)
    assert missing.status_code == 404

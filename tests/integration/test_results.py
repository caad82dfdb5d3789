"""Campaign results (JSON pages and streamed CSV) and progress, on SQLite and PostgreSQL."""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.attempt import AttemptRecord
from dialer.domain.codes import Outcome, Stage
from dialer.domain.destination import DestinationState
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.result_row import AGENT_FIELDS
from dialer.services.results import RESULT_FIELDS
from dialer.storage.rows import to_us
from dialer.storage.sql_counts import counted_by_hand
from dialer.storage.sql_results import RESULTS_QUERY
from dialer.storage.sql_store import SqlSession
from tests.conftest import Account
from tests.integration.attempt_history import record_attempt

ATTEMPT_COLUMNS = (
    "destination_id",
    "campaign_id",
    "attempt_number",
    "outcome",
    "stage",
    "queued_at",
    "originated_at",
    "answered_at",
    "ended_at",
    "cause",
    "keys",
    "sms_sent",
)


def create(client: TestClient, account: Account, **overrides: Any) -> int:
    response = client.post(
        "/api/campaign/voice", json=account.campaign(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    campaign_id: int = response.json()["id"]
    return campaign_id


def destinations(container: Container, campaign_id: int) -> list[DestinationId]:
    with container.store.read() as session:
        return session.destinations.destination_ids(CampaignId(campaign_id))


def record(
    container: Container, *attempts: AttemptRecord, state: DestinationState | None = None
) -> None:
    """Record finished attempts (record_attempt fills in each attempt's campaign)."""
    with container.store.write() as session:
        for attempt in attempts:
            record_attempt(session, attempt)
        if state is not None:
            for attempt in attempts:
                set_state(session, attempt.destination_id, state)


def set_state(session: Any, destination_id: DestinationId, state: DestinationState) -> None:
    """Move one destination as the store's writers would: is_final set with the state, and a
    move into or out of in_flight counted by its writer on SQLite, as the engine's lease code
    counts its own (migration 0027); any other move by the counting trigger."""
    conn = _sql(session)
    ((campaign_id, before, outcome),) = conn.execute(
        "SELECT campaign_id, state, coalesce(last_outcome, 0) FROM destinations WHERE id = %s",
        (destination_id,),
    )

    def key(name: str) -> tuple[str, int]:
        return name, outcome if name == "done" else 0

    lease_move = "in_flight" in (before, state.value) and before != state.value
    final = int(state in (DestinationState.DONE, DestinationState.CANCELLED))  # migration 0028
    counted_by_hand(
        conn,
        lambda: conn.execute(
            "UPDATE destinations SET state = %s, is_final = %s WHERE id = %s",
            (state.value, final, destination_id),
        ),
        lambda _: [(campaign_id, key(before), key(state.value))] if lease_move else [],
    )


def _sql(session: Any) -> Any:
    assert isinstance(session, SqlSession)
    return session._conn


def results(client: TestClient, account: Account, campaign_id: int, **params: Any) -> Any:
    response = client.get(
        f"/api/campaign/voice/{campaign_id}/results", params=params, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def all_pages(client: TestClient, account: Account, campaign_id: int, limit: int) -> list[Any]:
    rows: list[Any] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        page = results(client, account, campaign_id, **params)
        assert len(page["results"]) <= limit
        rows += page["results"]
        after = page["next"]
        if after is None:
            return rows


def read_csv(client: TestClient, account: Account, campaign_id: int) -> list[list[str]]:
    response = client.get(
        f"/api/campaign/voice/{campaign_id}/results",
        params={"format": "csv"},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f"campaign-{campaign_id}-results.csv" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.content.decode(), newline="")))


def test_results_rows_in_attempt_order_with_every_field(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    campaign_id = create(client, account)
    ben, dave = destinations(container, campaign_id)
    t0 = clock.now()
    record(
        container,
        AttemptRecord(dave, 1, Outcome.BUSY, Stage.NONE, t0, cause="486 Busy Here"),
        AttemptRecord(
            ben,
            1,
            Outcome.ANSWERED,
            Stage.CORRECT_CALLEE,
            t0,
            originated_at=t0 + timedelta(seconds=1),
            answered_at=t0 + timedelta(seconds=9, microseconds=250_999),
            ended_at=t0 + timedelta(seconds=40),
            cause="normal clearing",
            keys="1#",
        ),
        AttemptRecord(
            dave,
            2,
            Outcome.NO_ANSWER,
            Stage.NONE,
            t0 + timedelta(minutes=15),
            originated_at=t0 + timedelta(minutes=15),
            ended_at=t0 + timedelta(minutes=15, seconds=30),
            sms_sent=True,
        ),
    )
    page = results(client, account, campaign_id)
    assert page["next"] is None
    # Attempts without an agent call leave out the agent fields; the rest keep their order.
    assert list(page["results"][0]) == [f for f in RESULT_FIELDS if f not in AGENT_FIELDS]
    ids = [(row.pop("attemptId"), row.pop("phoneNumberId")) for row in page["results"]]
    assert [number for _, number in ids] == [dave, ben, dave]
    assert len({attempt for attempt, _ in ids}) == 3
    assert page["results"] == [
        {
            "number": "+447722734716",
            "name": "Dave",
            "attemptNumber": 1,
            "outcome": 3,
            "outcomeName": "Busy",
            "stage": 0,
            "stageName": "None",
            "queuedAt": "2025-09-30T08:00:00.000Z",
            "originatedAt": None,
            "answeredAt": None,
            "endedAt": None,
            "cause": "486 Busy Here",
            "keys": "",
            "smsSent": False,
            "sms": [],
        },
        {
            "number": "+447722123456",
            "name": "ben",
            "attemptNumber": 1,
            "outcome": 1,
            "outcomeName": "Answered",
            "stage": 1,
            "stageName": "CorrectCallee",
            "queuedAt": "2025-09-30T08:00:00.000Z",
            "originatedAt": "2025-09-30T08:00:01.000Z",
            "answeredAt": "2025-09-30T08:00:09.250Z",
            "endedAt": "2025-09-30T08:00:40.000Z",
            "cause": "normal clearing",
            "keys": "1#",
            "smsSent": False,
            "sms": [],
        },
        {
            "number": "+447722734716",
            "name": "Dave",
            "attemptNumber": 2,
            "outcome": 6,
            "outcomeName": "NoAnswer",
            "stage": 0,
            "stageName": "None",
            "queuedAt": "2025-09-30T08:15:00.000Z",
            "originatedAt": "2025-09-30T08:15:00.000Z",
            "answeredAt": None,
            "endedAt": "2025-09-30T08:15:30.000Z",
            "cause": None,
            "keys": "",
            "smsSent": True,
            "sms": [],  # written straight to the store: it queued none
        },
    ]


def test_a_campaign_without_attempts_has_no_results(
    client: TestClient, account: Account, container: Container
) -> None:
    campaign_id = create(
        client, account, phoneNumbers=[{"number": "07722123456"}, {"number": "0772"}]
    )
    # The impossible number is done with InvalidNumber but was never attempted: no row.
    assert results(client, account, campaign_id) == {"results": [], "next": None}
    assert read_csv(client, account, campaign_id) == [list(RESULT_FIELDS)]


def test_paging_across_pages(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    numbers = [{"number": f"0772212{i:04d}", "name": f"n{i}"} for i in range(5)]
    campaign_id = create(client, account, phoneNumbers=numbers)
    ids = destinations(container, campaign_id)
    # Recorded in an order unlike the numbers' own, to show rows follow attempt order.
    order = [3, 0, 4, 1, 2]
    record(
        container,
        *(AttemptRecord(ids[i], 1, Outcome.NO_ANSWER, Stage.NONE, clock.now()) for i in order),
    )
    first = results(client, account, campaign_id, limit=2)
    assert [r["name"] for r in first["results"]] == ["n3", "n0"]
    assert isinstance(first["next"], int)
    second = results(client, account, campaign_id, limit=2, after=first["next"])
    assert [r["name"] for r in second["results"]] == ["n4", "n1"]
    third = results(client, account, campaign_id, limit=2, after=second["next"])
    assert [r["name"] for r in third["results"]] == ["n2"]
    assert third["next"] is None
    # A page that ends exactly at the last row says so: no empty page to fetch.
    assert results(client, account, campaign_id, limit=5)["next"] is None
    assert results(client, account, campaign_id, limit=4)["next"] is not None
    assert [r["name"] for r in all_pages(client, account, campaign_id, 1)] == [
        f"n{i}" for i in order
    ]
    assert results(client, account, campaign_id, after=2**63 - 1) == {"results": [], "next": None}


def test_results_of_one_campaign_only(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    first = create(client, account)
    second = create(client, account, phoneNumbers=[{"number": "07722000001", "name": "other"}])
    record(
        container,
        AttemptRecord(destinations(container, first)[0], 1, Outcome.BUSY, Stage.NONE, clock.now()),
        AttemptRecord(destinations(container, second)[0], 1, Outcome.BUSY, Stage.NONE, clock.now()),
    )
    assert [r["name"] for r in results(client, account, first)["results"]] == ["ben"]
    assert [r["name"] for r in results(client, account, second)["results"]] == ["other"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 10_001}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"limit": ""}, "query.limit"),
        ({"after": -1}, "query.after"),
        ({"after": 2**63}, "query.after"),
        ({"after": "1.5"}, "query.after"),
        ({"format": "xml"}, "query.format"),
        ({"format": "csv", "limit": 10}, "query.limit"),
    ],
)
def test_bad_paging_parameters_are_400(
    client: TestClient, account: Account, params: dict[str, Any], field: str
) -> None:
    campaign_id = create(client, account)
    response = client.get(
        f"/api/campaign/voice/{campaign_id}/results", params=params, headers=account.headers
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "One or more validation errors occurred."
    assert list(problem["errors"]) == [field]


def test_another_tenants_or_unknown_campaign_is_404(
    client: TestClient, account: Account, other_account: Account
) -> None:
    theirs = create(client, other_account)
    for path in (f"{theirs}", "999999", "abc", "0", str(2**64)):
        for params in ({}, {"format": "csv"}):
            response = client.get(
                f"/api/campaign/voice/{path}/results", params=params, headers=account.headers
            )
            assert response.status_code == 404, (path, params)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 404
    assert client.get(f"/api/campaign/voice/{theirs}/results").status_code == 401


def test_csv_has_the_header_and_protects_cells_from_formulas(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    names = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
    numbers = [{"number": f"0772212{i:04d}", "name": n} for i, n in enumerate(names)]
    numbers.append({"number": "+44 7722 999999", "name": 'O\'Neil, "Ann"\nline two'})
    campaign_id = create(client, account, phoneNumbers=numbers)
    ids = destinations(container, campaign_id)
    t0 = clock.now()
    record(
        container,
        *(
            AttemptRecord(ids[i], 1, Outcome.ANSWERED, Stage.OPT_OUT, t0, keys="9", cause="=1+1")
            for i in range(4)
        ),
        AttemptRecord(
            ids[4],
            1,
            Outcome.ANSWERPHONE_MESSAGE_LEFT,
            Stage.ANSWERPHONE_MESSAGE_LEFT,
            t0,
            originated_at=t0,
            answered_at=t0 + timedelta(seconds=5),
            ended_at=t0 + timedelta(seconds=35),
            sms_sent=True,
        ),
    )
    rows = read_csv(client, account, campaign_id)
    assert rows[0] == list(RESULT_FIELDS)
    by_field = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["name"] for r in by_field] == [
        "'" + names[0],
        "'" + names[1],
        "'-2+3",
        "'@SUM(A1)",
        'O\'Neil, "Ann"\nline two',
    ]
    # E.164 numbers begin with '+' but cannot hold a formula: they stay as they are.
    assert [r["number"] for r in by_field] == [
        "+447722120000",
        "+447722120001",
        "+447722120002",
        "+447722120003",
        "+447722999999",
    ]
    assert {r["cause"] for r in by_field[:4]} == {"'=1+1"}
    assert [r.pop("phoneNumberId") for r in by_field] == [str(i) for i in ids]
    assert len({r.pop("attemptId") for r in by_field}) == 5
    assert by_field[4] == {
        "number": "+447722999999",
        "name": 'O\'Neil, "Ann"\nline two',
        "attemptNumber": "1",
        "outcome": "5",
        "outcomeName": "AnswerphoneMessageLeft",
        "stage": "12",
        "stageName": "AnswerphoneMessageLeft",
        "queuedAt": "2025-09-30T08:00:00.000Z",
        "originatedAt": "2025-09-30T08:00:00.000Z",
        "answeredAt": "2025-09-30T08:00:05.000Z",
        "endedAt": "2025-09-30T08:00:35.000Z",
        "cause": "",
        "keys": "",
        "smsSent": "true",
        **dict.fromkeys(AGENT_FIELDS, ""),  # no agent call: empty cells
        "sms": "",
    }


def bulk_attempts(container: Container, campaign_id: int, per_number: int, start: datetime) -> int:
    """Insert every number's attempts 1..per_number, interleaved across numbers."""
    ids = destinations(container, campaign_id)
    rows = [
        (
            destination_id,
            campaign_id,
            attempt,
            Outcome.NO_ANSWER.value if attempt < per_number else Outcome.ANSWERED.value,
            Stage.NONE.value,
            to_us(start + timedelta(minutes=attempt)),
            None,
            None,
            None,
            None,
            "",
            0,
        )
        for attempt in range(1, per_number + 1)
        for destination_id in ids
    ]
    with container.store.write() as session:
        _sql(session).insert_many("attempts", ATTEMPT_COLUMNS, rows)
    return len(rows)


def test_csv_streams_thousands_of_rows_page_by_page(
    client: TestClient,
    account: Account,
    container: Container,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = [{"number": f"0772212{i:04d}", "name": f"n{i}"} for i in range(1_200)]
    campaign_id = create(client, account, phoneNumbers=numbers)
    total = bulk_attempts(container, campaign_id, 3, clock.now())
    assert total == 3_600
    container.results.stream_page = 500
    reads = count_reads(container, monkeypatch)
    rows = read_csv(client, account, campaign_id)
    # 3,600 rows in pages of 500, each page read in a transaction of its own.
    assert [n for n in reads if n] == [1] * 8
    assert rows[0] == list(RESULT_FIELDS)
    assert len(rows) == 1 + total
    expected = [f"n{i}" for i in range(1_200)] * 3
    assert [row[1] for row in rows[1:]] == expected
    assert [row[2] for row in rows[1:]] == [str(a) for a in range(1, 4) for _ in range(1_200)]
    # The JSON pages hold the same rows in the same order.
    paged = all_pages(client, account, campaign_id, 1_000)
    assert [(r["name"], str(r["attemptNumber"])) for r in paged] == [
        (row[1], row[2]) for row in rows[1:]
    ]


class CountingSession:
    """A session whose results role counts its attempt_results calls."""

    def __init__(self, session: Any, calls: list[int]) -> None:
        self._session = session
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    @property
    def results(self) -> "CountingSession":
        return self  # its attempt_results counts; the other results methods pass through

    def attempt_results(self, *args: Any) -> Any:
        self._calls[-1] += 1
        return self._session.results.attempt_results(*args)


def count_reads(container: Container, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """For each read transaction from now on, how many pages of results it read."""
    calls: list[int] = []
    read = container.store.read

    @contextmanager
    def counting() -> Iterator[Any]:
        calls.append(0)
        with read() as session:
            yield CountingSession(session, calls)

    monkeypatch.setattr(container.store, "read", counting)
    return calls


def test_stream_holds_no_transaction_between_pages(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    numbers = [{"number": f"0772212{i:04d}"} for i in range(10)]
    campaign_id = create(client, account, phoneNumbers=numbers)
    ids = destinations(container, campaign_id)
    record(
        container,
        *(AttemptRecord(d, 1, Outcome.BUSY, Stage.NONE, clock.now()) for d in ids[:6]),
    )
    container.results.stream_page = 4
    tenant = account.tenant
    seen: list[int] = []
    for page in container.results.stream(tenant, CampaignId(campaign_id)):
        seen.append(len(page))
        # A write between pages succeeds (SQLite refuses a transaction inside another on the
        # thread), and what it records after the cursor shows up in a later page.
        if len(seen) == 1:
            record(container, AttemptRecord(ids[6], 1, Outcome.BUSY, Stage.NONE, clock.now()))
    assert seen == [4, 3]


def test_results_query_reads_the_campaign_index(container: Container) -> None:
    with container.store.read() as session:
        sql = _sql(session)
        if container.store.dialect == "postgres":
            # The tables are empty here; forbid sequential scans so the plan shows what a big
            # campaign gets.
            sql.execute("SET LOCAL enable_seqscan = off")
            plan = sql.execute("EXPLAIN " + RESULTS_QUERY, (1, 0, 1000))
            text = "\n".join(row[0] for row in plan)
        else:
            plan = sql.execute("EXPLAIN QUERY PLAN " + RESULTS_QUERY, (1, 0, 1000))
            text = "\n".join(str(row[-1]) for row in plan)
    assert "attempts_campaign" in text, text


def test_progress_counts_numbers_by_state_and_outcome(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    numbers = [{"number": f"0772212{i:04d}"} for i in range(6)] + [{"number": "0772"}]
    campaign_id = create(client, account, phoneNumbers=numbers)
    ids = destinations(container, campaign_id)
    now = clock.now()
    record(container, AttemptRecord(ids[1], 1, Outcome.ANSWERED, Stage.CORRECT_CALLEE, now))
    record(container, AttemptRecord(ids[2], 1, Outcome.BUSY, Stage.NONE, now))
    record(
        container,
        AttemptRecord(ids[3], 1, Outcome.BUSY, Stage.NONE, now),
        AttemptRecord(ids[4], 1, Outcome.ANSWERED, Stage.OPT_OUT, now),
        state=DestinationState.DONE,
    )
    record(
        container,
        AttemptRecord(ids[5], 1, Outcome.NO_ANSWER, Stage.NONE, now),
        state=DestinationState.CANCELLED,
    )
    with container.store.write() as session:
        # ids[1] is being called again; ids[2] waits for a retry (pending, with history).
        set_state(session, ids[1], DestinationState.IN_FLIGHT)
    fetched = client.get(f"/api/campaign/voice/{campaign_id}", headers=account.headers).json()
    outcomes = {o.api_name: 0 for o in Outcome}
    outcomes.update({"Answered": 1, "Busy": 1, "InvalidNumber": 1})
    # ids[1] is claimed, but no engine has it on the line.
    assert fetched["progress"] == {
        "pending": 2,
        "inFlight": 0,
        "claimed": 1,
        "done": 3,
        "cancelled": 1,
        "outcomes": outcomes,
    }
    assert list(fetched["progress"]["outcomes"]) == [o.api_name for o in Outcome]


def test_get_campaign_shows_each_numbers_latest_outcome(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    response = client.post(
        "/api/campaign/voice",
        json=account.campaign(phoneNumbers=[{"number": "07722123456"}, {"number": "0772"}]),
        headers=account.headers,
    )
    created = response.json()
    assert "progress" not in created
    assert created["phoneNumbers"][1]["lastOutcomeName"] == "InvalidNumber"
    first = destinations(container, created["id"])[0]
    now = clock.now()
    record(
        container,
        AttemptRecord(first, 1, Outcome.BUSY, Stage.NONE, now),
        AttemptRecord(first, 2, Outcome.ANSWERED, Stage.CORRECT_CALLEE, now),
    )
    fetched = client.get(f"/api/campaign/voice/{created['id']}", headers=account.headers).json()
    # The POST's answer and the GET name each number by the same id.
    assert [n["id"] for n in fetched["phoneNumbers"]] == [n["id"] for n in created["phoneNumbers"]]
    assert [n["id"] for n in created["phoneNumbers"]] == destinations(container, created["id"])
    latest = [
        {k: n[k] for k in n if k not in ("number", "e164", "id", "valid", "numberType")}
        for n in fetched["phoneNumbers"]
    ]
    assert latest == [
        {
            "attemptsMade": 2,
            "outcome": 1,
            "outcomeName": "Answered",
            "lastOutcome": 1,
            "lastOutcomeName": "Answered",
            "lastStage": 1,
            "lastStageName": "CorrectCallee",
        },
        {
            "attemptsMade": 0,
            "outcome": 13,
            "outcomeName": "InvalidNumber",
            "lastOutcome": 13,
            "lastOutcomeName": "InvalidNumber",
            "lastStage": None,
            "lastStageName": None,
        },
    ]

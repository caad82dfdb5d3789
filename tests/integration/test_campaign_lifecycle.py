"""Campaign lifecycle over the REST API, on SQLite and PostgreSQL: states, pause / resume /
cancel, their conflicts, and how they meet the Dialer API's Start/Stop and the status field."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.storage.rows import to_us
from tests.conftest import Account
from tests.integration.dialer_support import get

CAMPAIGNS = "/api/campaign/voice"


def create(client: TestClient, account: Account, **overrides: Any) -> Any:
    response = client.post(CAMPAIGNS, json=account.campaign(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


def act(client: TestClient, account: Account, campaign_id: int, action: str) -> Any:
    return client.post(f"{CAMPAIGNS}/{campaign_id}/{action}", headers=account.headers)


def summary(client: TestClient, account: Account, campaign_id: int) -> Any:
    response = client.get(f"{CAMPAIGNS}/{campaign_id}/summary", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_state_is_in_get_the_list_and_the_summary_and_follows_the_clock(
    client: TestClient, account: Account, clock: ManualClock
) -> None:
    created = create(client, account)  # first window: 2025-10-01 09:00 London (08:00 UTC)
    campaign_id = created["id"]

    def states() -> set[str]:
        got = client.get(f"{CAMPAIGNS}/{campaign_id}", headers=account.headers).json()["state"]
        [listed] = client.get(CAMPAIGNS, headers=account.headers).json()
        return {got, listed["state"], summary(client, account, campaign_id)["state"]}

    assert states() == {"Scheduled"}
    clock.advance(timedelta(days=1))  # 2025-10-01 08:00 UTC: the first window opens
    assert states() == {"Running"}
    clock.advance(timedelta(days=2))  # past the last window, both numbers left
    assert states() == {"Expired"}


def test_pause_resume_and_cancel_with_their_conflicts(client: TestClient, account: Account) -> None:
    created = create(client, account)
    campaign_id, code = created["id"], created["code"]

    paused = act(client, account, campaign_id, "pause")
    assert paused.status_code == 200, paused.text
    assert (paused.json()["state"], paused.json()["status"]) == ("Paused", "Disabled")
    again = act(client, account, campaign_id, "pause")  # idempotent
    assert (again.status_code, again.json()["state"]) == (200, "Paused")
    # The Dialer API sees the same campaign stopped, and StartCampaign is a resume.
    details = get(client, "GetCampaignDetails", Campaign=code)["Data"]
    assert details["StatusName"] == "Disabled"
    assert get(client, "StartCampaign", Campaign=code)["ErrorCode"] == 0
    assert summary(client, account, campaign_id)["state"] == "Scheduled"
    assert get(client, "StopCampaign", Campaign=code)["ErrorCode"] == 0
    assert summary(client, account, campaign_id)["state"] == "Paused"

    resumed = act(client, account, campaign_id, "resume")
    assert (resumed.status_code, resumed.json()["state"]) == (200, "Scheduled")
    assert resumed.json()["status"] == "Enabled"
    repeat = act(client, account, campaign_id, "resume")  # nothing to resume: unchanged
    assert (repeat.status_code, repeat.json()["state"]) == (200, "Scheduled")

    cancelled = act(client, account, campaign_id, "cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["state"], body["status"]) == ("Cancelled", "Disabled")
    assert (body["total"], body["pending"], body["cancelled"]) == (2, 0, 2)
    assert act(client, account, campaign_id, "cancel").status_code == 200  # idempotent
    for action in ("resume", "pause"):
        refused = act(client, account, campaign_id, action)
        assert refused.status_code == 409, refused.text
        assert "cancelled" in refused.json()["detail"]
    # Nor by the other doors: PUT with status Enabled, the Dialer API's StartCampaign.
    put = client.put(
        f"{CAMPAIGNS}/{campaign_id}",
        json=account.campaign(status="Enabled"),
        headers=account.headers,
    )
    assert put.status_code == 409, put.text
    start = get(client, "StartCampaign", Campaign=code)
    assert start["ErrorCode"] != 0
    assert "cancelled" in start["Description"]
    # A refused request changed nothing; the numbers stay, each as it was.
    fetched = client.get(f"{CAMPAIGNS}/{campaign_id}", headers=account.headers).json()
    assert (fetched["state"], fetched["status"]) == ("Cancelled", "Disabled")
    assert len(fetched["phoneNumbers"]) == 2
    assert fetched["progress"]["cancelled"] == 2


def test_a_finished_or_expired_campaign_cannot_be_paused_or_resumed(
    client: TestClient, account: Account, clock: ManualClock
) -> None:
    campaign_id = create(client, account)["id"]
    clock.advance(timedelta(days=3))
    assert summary(client, account, campaign_id)["state"] == "Expired"
    for action in ("pause", "resume", "cancel"):
        refused = act(client, account, campaign_id, action)
        assert refused.status_code == 409, (action, refused.text)
        assert "expired" in refused.json()["detail"]


def test_unknown_and_other_tenants_campaigns_are_404(
    client: TestClient, account: Account, other_account: Account
) -> None:
    theirs = create(client, other_account)["id"]
    for campaign_id in (theirs, 999_999, "abc"):
        for action in ("pause", "resume", "cancel"):
            response = act(client, account, campaign_id, action)
            assert response.status_code == 404, response.text
        for path in ("summary", "statistics"):
            response = client.get(f"{CAMPAIGNS}/{campaign_id}/{path}", headers=account.headers)
            assert response.status_code == 404, response.text
    # Theirs is untouched, and absent from our summaries.
    assert summary(client, other_account, theirs)["state"] == "Scheduled"
    assert client.get(f"{CAMPAIGNS}/summaries", headers=account.headers).json() == []


def test_summaries_filter_by_state_and_query(client: TestClient, account: Account) -> None:
    first = create(client, account, name="Flu reminders")["id"]
    second = create(client, account, name="Dental recall")["id"]
    assert act(client, account, second, "pause").status_code == 200

    def ids(**params: str) -> list[int]:
        response = client.get(f"{CAMPAIGNS}/summaries", params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()]

    assert ids() == [first, second]
    assert ids(state="Paused") == [second]
    assert ids(state="scheduled") == [first]
    assert ids(q="FLU") == [first]
    assert ids(q=str(second)) == [second]
    assert ids(q="nothing like it") == []
    bad = client.get(f"{CAMPAIGNS}/summaries?state=Sleeping", headers=account.headers)
    assert bad.status_code == 400
    assert "query.state" in bad.json()["errors"]
    [item] = [
        s
        for s in client.get(f"{CAMPAIGNS}/summaries", headers=account.headers).json()
        if s["id"] == first
    ]
    assert item == summary(client, account, first)
    assert item["total"] == 2
    assert item["pending"] == 2
    assert item["answerRate"] is None
    assert item["abandonedRate"] is None  # an IVR campaign abandons no call
    assert item["outcomes"]["Answered"] == 0


def test_statistics_refuses_bad_buckets_and_spans(client: TestClient, account: Account) -> None:
    campaign_id = create(client, account)["id"]
    url = f"{CAMPAIGNS}/{campaign_id}/statistics"
    for params, field in (
        ({"bucket": "10m"}, "query.bucket"),
        ({"bucket": "5m", "from": "2025-01-01T00:00:00Z"}, "query.from"),  # > 2,000 buckets
        ({"from": "2025-09-30T00:00:00"}, "query.from"),  # no offset
        ({"from": "2025-09-30T10:00:00Z", "to": "2025-09-30T09:00:00Z"}, "query.to"),
    ):
        response = client.get(url, params=params, headers=account.headers)
        assert response.status_code == 400, (params, response.text)
        assert field in response.json()["errors"], response.json()
    ok = client.get(url, params={"bucket": "5m"}, headers=account.headers)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert len(body["buckets"]) == 288  # the last 24 hours
    assert body["totals"] == {"attempts": 0, "outcomes": {}, "stages": {}}
    assert body["pacing"] is None
    assert body["abandonedWindow"] is None


def test_statistics_give_the_abandoned_rate_over_the_window_ending_with_each_bucket(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    campaign_id = create(client, account, type="agent")["id"]
    now = clock.now()  # 08:00 UTC: buckets of 1h end here
    with container.store.read() as session:
        ids = session.destinations.destination_ids(CampaignId(campaign_id))

    def calls(hours_ago: float, live: int, dropped: int) -> list[tuple[int, int, int]]:
        ended = to_us(now - timedelta(hours=hours_ago))
        return [
            (
                Outcome.ANSWERED.value,
                (Stage.CALL_DROPPED if n < dropped else Stage.NONE).value,
                ended,
            )
            for n in range(live)
        ]

    rows = calls(30, 10, 10) + calls(20, 10, 5) + calls(0.5, 10, 1)
    with container.store.write() as session:
        conn = session._conn  # type: ignore[attr-defined]
        conn.insert_many(
            "attempts",
            (
                "destination_id",
                "attempt_number",
                "outcome",
                "stage",
                "queued_at",
                "ended_at",
                "campaign_id",
            ),
            [
                (ids[n % 2], n + 1, outcome, stage, ended, ended, campaign_id)
                for n, (outcome, stage, ended) in enumerate(rows)
            ],
        )
    response = client.get(
        f"{CAMPAIGNS}/{campaign_id}/statistics",
        params={"bucket": "1h", "from": (now - timedelta(hours=2)).isoformat()},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["abandonedWindow"], body["abandonedLimit"]) == ("24h", 3.0)
    first, last = body["buckets"]
    # The first bucket's 24 hours hold the calls of 20 h ago only; the last's those and the
    # last half hour's; the calls of 30 h ago are in neither.
    assert (first["attempts"], first["abandonedRate"], first["answerRate"]) == (0, 50.0, None)
    assert (last["attempts"], last["abandonedRate"], last["answerRate"]) == (10, 30.0, 100.0)
    assert last["stages"] == {"CallDropped": 1, Stage.NONE.api_name: 9}
    assert body["totals"]["outcomes"] == {"Answered": 10}


def test_an_agent_campaigns_summary_shows_what_the_pacer_last_saw(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    campaign_id = create(client, account, type="agent")["id"]
    ivr = create(client, account)["id"]
    fresh = summary(client, account, campaign_id)
    assert (fresh["agentsReady"], fresh["waitingForAgent"], fresh["floorSeenAt"]) == (
        None,
        None,
        None,
    )
    with container.store.write() as s:
        s.abandonment.save_pacing(CampaignId(campaign_id), 2.0, "ratio 2", clock.now(), (1, 3, 2))
    shown = summary(client, account, campaign_id)
    assert shown["agentsReady"] == 1
    assert shown["callsRinging"] == 3
    assert shown["waitingForAgent"] == 2
    assert shown["floorSeenAt"] == "2025-09-30T08:00:00.000Z"
    listed = client.get(f"{CAMPAIGNS}/summaries", headers=account.headers).json()
    assert [s["waitingForAgent"] for s in listed if s["id"] == campaign_id] == [2]
    assert summary(client, account, ivr)["waitingForAgent"] is None

"""The pacing ratio over time in GET .../statistics, on SQLite and PostgreSQL: each bucket's
mean, least and greatest ratio of the decisions the engine saved in it (migration 0022's
history), for agent campaigns only, in the same 5-minute or hourly buckets as the attempts."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.ids import CampaignId
from dialer.domain.pacing_history import KEPT
from tests.conftest import Account

CAMPAIGNS = "/api/campaign/voice"
RATIOS = ("pacingRatio", "pacingRatioMin", "pacingRatioMax")


def create(client: TestClient, account: Account, **overrides: Any) -> int:
    response = client.post(CAMPAIGNS, json=account.campaign(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def statistics(client: TestClient, account: Account, campaign_id: int, **params: str) -> Any:
    response = client.get(
        f"{CAMPAIGNS}/{campaign_id}/statistics", params=params, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def ratios(bucket: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(bucket[name] for name in RATIOS)


def test_each_bucket_has_the_ratios_saved_in_it(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    agent = create(client, account, type="agent")
    ivr = create(client, account)
    now = clock.now()  # 08:00 UTC
    with container.store.write() as s:
        for campaign, ratio, ago in [
            (agent, 2.0, timedelta(minutes=10)),
            (agent, 1.0, timedelta(minutes=9, seconds=55)),
            (agent, 1.5, timedelta(minutes=6)),
            (agent, 3.25, timedelta(minutes=3)),
            (agent, 9.0, timedelta(hours=2)),  # before the span asked for
            (ivr, 4.0, timedelta(minutes=3)),  # none is saved for one; shown for none anyway
        ]:
            s.abandonment.note_pacing(CampaignId(campaign), ratio, now - ago)
    since = (now - timedelta(minutes=15)).isoformat()
    body = statistics(client, account, agent, bucket="5m", **{"from": since})
    assert [(b["start"], ratios(b)) for b in body["buckets"]] == [
        ("2025-09-30T07:45:00.000Z", (None, None, None)),
        ("2025-09-30T07:50:00.000Z", (1.5, 1.0, 2.0)),
        ("2025-09-30T07:55:00.000Z", (3.25, 3.25, 3.25)),
    ]
    hourly = statistics(client, account, agent, bucket="1h", **{"from": since})
    assert [ratios(b) for b in hourly["buckets"]] == [(1.938, 1.0, 3.25)]
    assert all(
        ratios(b) == (None, None, None)
        for b in statistics(client, account, ivr, bucket="5m", **{"from": since})["buckets"]
    )


def test_minutes_older_than_seven_days_are_gone_from_the_series(
    client: TestClient, account: Account, container: Container, clock: ManualClock
) -> None:
    agent = create(client, account, type="agent")
    start = clock.now()
    with container.store.write() as s:
        s.abandonment.note_pacing(CampaignId(agent), 1.25, start)
    clock.advance(KEPT + timedelta(minutes=5))
    with container.store.write() as s:
        s.abandonment.note_pacing(CampaignId(agent), 2.0, clock.now())
    body = statistics(
        client, account, agent, bucket="1h", **{"from": (start - timedelta(hours=1)).isoformat()}
    )
    # Beyond the 7 days kept: the first save is gone, the last is in the last bucket.
    assert [ratios(b) for b in body["buckets"] if b["pacingRatio"] is not None] == [(2.0, 2.0, 2.0)]
    assert body["buckets"][-1]["pacingRatio"] == 2.0


def test_the_openapi_describes_the_series(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    bucket = schemas["StatisticsBucket"]["properties"]
    assert set(RATIOS) <= set(bucket)
    assert "lines dialled per agent available" in bucket["pacingRatio"]["description"]

"""PUT's status pauses and resumes a campaign: the engine starts no call of a Disabled one."""

import asyncio
from datetime import datetime

from fastapi.testclient import TestClient

from dialer.domain.codes import Outcome
from tests.conftest import Account
from tests.integration.engine_support import LONDON, Rig, drama


def test_status_round_trips_and_a_bad_one_is_a_400(client: TestClient, account: Account) -> None:
    body = account.campaign(status="Disabled")
    created = client.post("/api/campaign/voice", json=body, headers=account.headers).json()
    assert created["status"] == "Disabled"
    url = f"/api/campaign/voice/{created['id']}"
    fetched = client.get(url, headers=account.headers).json()
    fetched["status"] = "enabled"
    assert client.put(url, json=fetched, headers=account.headers).status_code == 204
    assert client.get(url, headers=account.headers).json()["status"] == "Enabled"
    # Left out, the status stays as it is.
    assert client.put(url, json=account.campaign(), headers=account.headers).status_code == 204
    assert client.get(url, headers=account.headers).json()["status"] == "Enabled"
    bad = client.put(url, json=account.campaign(status="Paused"), headers=account.headers)
    assert bad.status_code == 400
    assert "Status" in bad.json()["errors"]
    assert client.get(url, headers=account.headers).json()["status"] == "Enabled"


def test_a_campaign_disabled_by_put_is_not_dialled_until_enabled_again(rig: Rig) -> None:
    campaigns, tenant = rig.container.campaigns, rig.account.tenant
    numbers = [drama(2), drama(6)]
    campaign = rig.campaign(numbers)
    body = rig.account.campaign(phoneNumbers=[{"number": n} for n in numbers])
    campaigns.update(tenant, campaign, {**body, "status": "Disabled"})
    # The first day's window (09:00-12:00 London) passes with the campaign paused.
    resume_at = datetime(2025, 10, 1, 12, 0, tzinfo=LONDON)
    runtime = rig.engine()

    async def scenario() -> None:
        engine = asyncio.create_task(runtime.engine.run_until_done())
        while rig.timer.now() < resume_at and not engine.done():
            await asyncio.sleep(0)
        assert rig.originations() == []
        campaigns.update(tenant, campaign, {**body, "status": "Enabled"})
        await engine

    asyncio.run(asyncio.wait_for(scenario(), 120))
    got = rig.attempts(campaign)
    assert {n: [r.outcome for r in rows] for n, rows in got.items()} == {
        drama(2): [Outcome.ANSWERED],
        drama(6): [Outcome.UNOBTAINABLE],
    }
    rows = [r for attempts in got.values() for r in attempts]
    assert all(r.originated_at is not None and r.originated_at >= resume_at for r in rows)
    assert len(rig.originations()) == 2

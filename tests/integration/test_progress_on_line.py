"""progress.inFlight is the calls on the line, never above the campaign's limit."""

import asyncio
from datetime import UTC, datetime, timedelta

from dialer.api.rest.presenters import progress_json
from dialer.domain.ids import CampaignId
from tests.integration.engine_support import Rig, drama

OPENED = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)


def test_in_flight_counts_calls_on_the_line_and_claimed_names_the_rest(rig: Rig) -> None:
    limit = 5
    campaign = rig.campaign([drama(n % 10) for n in range(60)])
    runtime = rig.engine(campaign_max_in_flight=limit)
    samples: list[dict[str, int]] = []

    async def scenario() -> None:
        engine = asyncio.create_task(runtime.engine.run_until_done())
        while not engine.done():
            await asyncio.sleep(0)
            detail = rig.container.campaigns.get(rig.account.tenant, campaign)
            assert detail.progress is not None
            shown = progress_json(detail.progress)
            samples.append({"inFlight": shown["inFlight"], "claimed": shown["claimed"]})
        await engine

    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert max(s["inFlight"] for s in samples) == limit
    # Ended calls not yet recorded keep their leases, and the limit counts leases (it holds
    # over every engine, docs/engine.md, Limits): the destinations claimed never exceed it.
    assert max(s["claimed"] for s in samples) == limit
    progress = rig.container.campaigns.get(rig.account.tenant, campaign).progress
    assert progress is not None
    final = progress_json(progress)
    assert (final["inFlight"], final["claimed"], final["pending"]) == (0, 0, 0)


def test_lines_of_an_engine_without_leases_are_not_counted_and_are_swept(rig: Rig) -> None:
    campaign = CampaignId(rig.campaign([drama(2), drama(6)]))
    store = rig.container.store
    with store.write() as session:
        [job, _] = session.queue.claim(campaign, OPENED, 2, "live", OPENED + timedelta(minutes=1))
        session.queue.release([(job, OPENED)], "live")  # "live" keeps one lease
        session.queue.set_calls_on_line("live", {campaign: 1})
        session.queue.set_calls_on_line("dead", {campaign: 7})  # holds no lease: it died
    with store.read() as session:
        assert session.queue.calls_on_line(campaign) == 1
    with store.write() as session:
        session.queue.forget_lost_lines()
        rows = session._conn.execute("SELECT worker FROM engine_lines")  # type: ignore[attr-defined]
    assert [tuple(r) for r in rows] == [("live",)]

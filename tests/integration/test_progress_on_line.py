"""progress.inFlight is the calls on the line, never above the campaign's limit."""

import asyncio

from dialer.api.rest.presenters import progress_json
from tests.integration.engine_support import Rig, drama


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
    # Ended calls wait to be recorded in a batch: the destinations claimed went past the limit.
    assert max(s["claimed"] for s in samples) > limit
    progress = rig.container.campaigns.get(rig.account.tenant, campaign).progress
    assert progress is not None
    final = progress_json(progress)
    assert (final["inFlight"], final["claimed"], final["pending"]) == (0, 0, 0)

"""Whole campaigns on the simulated network and the in-memory store, over simulated days: the
engine's windows, retries, calling hours, DNC, leases, pacing and close-out, each in well under a
second. (tests/integration/test_engine.py runs one campaign end to end on each SQL store.)"""

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialer.bootstrap import MEMORY_URL, build, build_engine
from dialer.clocks import RealTimer
from dialer.domain.campaign import CampaignStatus
from dialer.domain.codes import Outcome
from dialer.domain.ids import CampaignId
from dialer.services.dialer_input import Params
from dialer.settings import EngineSettings, NetworkSettings, Settings
from tests.integration.engine_support import LONDON, START, Rig, all_day_body, drama


def outcomes(rows: list[Any]) -> list[Outcome]:
    return [row.outcome for row in rows]


def test_what_is_left_when_the_last_window_closes_is_out_of_time(rig: Rig) -> None:
    campaign = rig.campaign(
        [drama(7), drama(2)],
        runoverDays=[],
        finishTime="10:00",
        attempts=[{"interval": 120, "attemptNumber": 1}, {"interval": 5, "attemptNumber": 2}],
    )
    rig.run()
    got = rig.attempts(campaign)
    assert outcomes(got[drama(7)]) == [Outcome.NO_ANSWER, Outcome.OUT_OF_TIME]
    assert got[drama(7)][1].originated_at is None
    assert outcomes(got[drama(2)]) == [Outcome.ANSWERED]


def test_a_stopped_campaign_never_dials_and_ends_out_of_time(rig: Rig) -> None:
    campaign = rig.campaign([drama(0), drama(2)])
    with rig.container.store.write() as session:
        session.campaigns.set_campaign_status(CampaignId(campaign), CampaignStatus.DISABLED, START)
    rig.run()
    got = rig.attempts(campaign)
    assert {n: outcomes(rows) for n, rows in got.items()} == {
        drama(0): [Outcome.OUT_OF_TIME],
        drama(2): [Outcome.OUT_OF_TIME],
    }
    assert rig.originations() == []


def test_calling_hours_of_the_callee_postpone_never_dial(rig: Rig) -> None:
    # The campaign may dial from 06:00 London; a London callee only from 08:00 London, and a
    # New York callee only from 08:00 New York time (13:00 London).
    campaign = rig.campaign(
        [drama(0), "+12125550143"],
        startTime="06:00",
        finishTime="23:00",
        runoverDays=[],
        attempts=[{"interval": 15, "attemptNumber": 1}],
    )
    runtime = rig.run()
    got = rig.attempts(campaign)
    london = got[drama(0)][0].originated_at
    new_york = got["+12125550143"][0].originated_at
    assert london is not None
    assert new_york is not None
    assert london.astimezone(LONDON).time() == time(8, 0)
    assert new_york.astimezone(ZoneInfo("America/New_York")).time() == time(8, 0)
    # Postponed, not attempted: each has exactly one attempt, queued when the window opened.
    assert [r.attempt_number for r in got["+12125550143"]] == [1]
    assert runtime.engine.stats.postponed == 2


def test_dialer_api_destinations_priority_originate_time_and_ignore_dnc(rig: Rig) -> None:
    campaign = rig.campaign([drama(5)])  # priority 0, the oldest
    code = rig.container.campaigns.get(rig.account.tenant, campaign).campaign.code
    rig.container.dnc.add(rig.account.tenant, [drama(0), drama(2)], label="line")
    key = rig.account.key
    add = rig.container.dialer.add_call
    later = int(datetime(2025, 10, 2, 10, 30, tzinfo=UTC).timestamp())
    add(Params({"Code": key, "Campaign": code, "Target": drama(0)}))
    add(Params({"Code": key, "Campaign": code, "Target": drama(2), "IgnoreDncStatus": "true"}))
    add(Params({"Code": key, "Campaign": code, "Target": drama(3), "Priority": 1}))
    add(Params({"Code": key, "Campaign": code, "Target": drama(9), "Priority": 5}))
    add(
        Params(
            {
                "Code": key,
                "Campaign": code,
                "Target": drama(12),
                "OriginateTime": later,
                "IsDateLocal": False,
            }
        )
    )
    rig.run(max_in_flight=1, max_calls_per_second=1.0)
    got = rig.attempts(campaign)
    assert outcomes(got[drama(0)]) == [Outcome.EXCLUDED_NUMBER]
    assert outcomes(got[drama(2)]) == [Outcome.ANSWERED]  # listed, but IgnoreDncStatus
    # One line at a time: higher priority first, then the oldest.
    first = {n: got[n][0].originated_at for n in (drama(9), drama(3), drama(5), drama(2))}
    assert first[drama(9)] < first[drama(3)] < first[drama(5)] < first[drama(2)]
    # Not before its OriginateTime, though the window opened a day earlier.
    held = got[drama(12)][0].originated_at
    assert held is not None
    assert held >= datetime(2025, 10, 2, 10, 30, tzinfo=UTC)


def test_a_dead_engines_calls_are_recovered_as_no_connection_and_retried(rig: Rig) -> None:
    campaign = rig.campaign([drama(2), drama(0)])
    # Another engine claims both at 09:00 and dies without a word.
    opened = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    with rig.container.store.write() as session:
        held = session.queue.claim(
            CampaignId(campaign), opened, 10, "dead-engine", opened + timedelta(seconds=60)
        )
    assert len(held) == 2
    asyncio.run(rig.timer.idle_until(opened))
    rig.run()
    got = rig.attempts(campaign)
    for number in (drama(2), drama(0)):
        rows = got[number]
        assert [r.attempt_number for r in rows] == [1, 2]
        assert rows[0].outcome is Outcome.NO_CONNECTION
        assert "lease" in (rows[0].cause or "")
        assert rows[1].outcome is Outcome.ANSWERED
    # The recovered attempt was never dialled by this engine; the retry was, once.
    assert sorted(rig.originations()) == sorted(f"{h.destination_id}:2" for h in held)


def test_results_carry_webhook_payloads_into_the_outbox(rig: Rig) -> None:
    rig.container.webhooks.register(rig.account.tenant, "https://crm.example/hook")
    campaign = rig.campaign([drama(2), drama(6)])
    rig.run()
    with rig.container.store.read() as session:
        backlog = session.outbox.webhook_backlog(rig.account.tenant.id).pending
    assert backlog == sum(len(rows) for rows in rig.attempts(campaign).values()) == 2


def test_calls_per_second_are_paced_in_the_engines_clock(rig: Rig) -> None:
    numbers = [f"+4477009001{n:02d}" for n in range(30)]
    campaign = rig.campaign(numbers, attempts=[{"interval": 15, "attemptNumber": 1}])
    rig.run(campaign_calls_per_second=5.0)
    placed = sorted(
        r.originated_at for rows in rig.attempts(campaign).values() for r in rows if r.originated_at
    )
    assert len(placed) == 30
    # A bucket of 5 a second starts full: 5 at once, then the other 25 over 5 seconds.
    assert placed[-1] - placed[0] >= timedelta(seconds=4.9)
    for i, moment in enumerate(placed):
        within_a_second = [p for p in placed[i:] if p - moment < timedelta(seconds=1)]
        assert len(within_a_second) <= 10  # the burst and a second's refill, never more


def test_a_first_attempt_falls_due_when_its_window_opens(rig: Rig) -> None:
    """queuedAt is when the attempt fell due, not when its number was uploaded."""
    # Uploaded at START, 2025-09-30 21:00 London; the window opens the next day at 09:00.
    campaign = rig.campaign([drama(2), drama(7)])
    rig.run()
    got = rig.attempts(campaign)
    opened = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    assert [r.queued_at for r in got[drama(2)]] == [opened]
    first, *retries = got[drama(7)]
    assert first.queued_at == opened > START
    # A retry falls due its interval after the attempt before it ended.
    assert retries
    assert first.ended_at is not None
    assert all(r.queued_at > first.ended_at for r in retries)


def test_work_committed_to_the_memory_store_wakes_an_idle_engine_at_once() -> None:
    """An engine told to look for work only hourly still dials what an API request
    adds through the same memory store: the store rings its listeners after the commit."""
    # Real time, a hundred times faster, so the call takes a tenth of a second; lease and poll
    # are long enough that only the store's ring can wake the engine in time.
    timer = RealTimer(speed=100.0)
    container = build(Settings(database_url=MEMORY_URL), clock=timer)
    tenant, _ = container.tenants.create("Live", "GB", "Europe/London", "00:00-23:59")
    flow = container.catalog.add_callflow(tenant, "F", "message: Hi\nsms: Hi\n")
    cli = container.catalog.add_cli(tenant, "+441632960000")
    today = timer.now().astimezone(LONDON).date()
    body = all_day_body(today, flow.id, cli.id, drama(5))
    runtime = build_engine(
        container,
        NetworkSettings(profile=None, seed=1),
        EngineSettings(poll_seconds=3600, lease_seconds=3 * 3600 * 100),
        timer,
    )

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.engine.run(stop))
        await asyncio.sleep(0.1)  # let it look, find nothing, and settle into its wait
        await asyncio.to_thread(container.campaigns.create, tenant, body)
        while runtime.engine.stats.recorded < 1:
            await asyncio.sleep(0.01)
        stop.set()
        await task

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert runtime.engine.stats.outcomes[Outcome.FAX] == 1

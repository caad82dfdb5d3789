"""Whole campaigns on the simulated network, on a real SQLite file and a real PostgreSQL."""

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialer.bootstrap import build, build_engine
from dialer.clocks import RealTimer
from dialer.domain.campaign import CampaignStatus
from dialer.domain.codes import Outcome, Stage
from dialer.services.dialer_input import Params
from dialer.settings import EngineSettings, NetworkSettings, Settings
from tests.integration.engine_support import LONDON, START, Rig, drama


def outcomes(rows: list[Any]) -> list[Outcome]:
    return [row.outcome for row in rows]


def inside_windows(moment: datetime) -> bool:
    local = moment.astimezone(LONDON)
    return local.date().isoformat() in ("2025-10-01", "2025-10-02") and 9 <= local.hour < 12


def test_every_test_number_ends_as_the_network_tells(rig: Rig) -> None:
    numbers = [drama(n) for n in range(13)]
    rig.container.dnc.add(rig.account.tenant, ["+447700900099"], label="line")
    campaign = rig.campaign([*numbers, "+447700900099"], answerMachineDetected=2, smsOnBusy=1)
    runtime = rig.run()
    got = rig.attempts(campaign)

    assert outcomes(got[drama(0)]) == [Outcome.ANSWERED]
    assert [r.stage for r in got[drama(0)]] == [Stage.ANSWERED]
    assert [(r.keys, r.stage) for r in got[drama(2)]] == [("1", Stage.CORRECT_CALLEE)]
    assert [(r.keys, r.stage) for r in got[drama(3)]] == [("2", Stage.WRONG_CALLEE)]
    assert [(r.keys, r.stage) for r in got[drama(9)]] == [("9", Stage.OPT_OUT)]
    assert [r.stage for r in got[drama(12)]] == [Stage.CALL_DECLINED]
    # Busy three times; the SMS goes on the first busy only (OnTheFirstCall).
    busy = got[drama(1)]
    assert outcomes(busy) == [Outcome.BUSY] * 3
    assert [r.sms_sent for r in busy] == [True, False, False]
    assert len(rig.sms()) == 1
    assert "N1" in rig.sms()[0].text
    # Retries wait their intervals (15 and 60 minutes after the attempt ended).
    assert busy[1].originated_at - busy[0].ended_at >= timedelta(minutes=15)
    assert busy[2].originated_at - busy[1].ended_at >= timedelta(minutes=60)
    # The answerphone message is left on the last attempt only (OnTheLastCall).
    assert outcomes(got[drama(4)]) == [
        Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
        Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
        Outcome.ANSWERPHONE_MESSAGE_LEFT,
    ]
    assert [r.stage for r in got[drama(4)]][-1] is Stage.ANSWERPHONE_MESSAGE_LEFT
    assert outcomes(got[drama(5)]) == [Outcome.FAX]
    assert outcomes(got[drama(6)]) == [Outcome.UNOBTAINABLE]
    assert outcomes(got[drama(7)]) == [Outcome.NO_ANSWER] * 3
    assert outcomes(got[drama(8)]) == [Outcome.NO_CONNECTION] * 3
    assert outcomes(got[drama(10)]) == [Outcome.OVERFLOW] * 3
    assert outcomes(got[drama(11)]) == [Outcome.INVALID_NUMBER]
    # On the do-not-call list: excluded, never dialled.
    excluded = got["+447700900099"]
    assert [(r.outcome, r.stage) for r in excluded] == [(Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED)]
    assert excluded[0].originated_at is None

    dialled = [r for rows in got.values() for r in rows if r.originated_at is not None]
    assert all(inside_windows(r.originated_at) for r in dialled)
    log = rig.originations()
    assert len(log) == len(set(log)) == len(dialled) == runtime.driver.originated


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
        session.campaigns.set_campaign_status(campaign, CampaignStatus.DISABLED, START)  # type: ignore[arg-type]
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
            campaign, opened, 10, "dead-engine", opened + timedelta(seconds=60)
        )  # type: ignore[arg-type]
    assert len(held) == 2
    rig.timer._now = opened
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


def test_new_work_wakes_an_idle_engine_at_once(database_url: str, tmp_path: Path) -> None:
    """An engine told to look for work only hourly still dials at once what an API adds
    through another store (another process): PostgreSQL NOTIFY, or SQLite's data_version."""
    timer = RealTimer()
    engine_side = build(Settings(database_url=database_url), clock=timer)
    api_side = build(Settings(database_url=database_url), clock=timer)
    try:
        tenant, _ = api_side.tenants.create("Live", "GB", "Europe/London", "00:00-23:59")
        flow = api_side.catalog.add_callflow(tenant, "F", "message: Hi\nsms: Hi\n")
        cli = api_side.catalog.add_cli(tenant, "+441632960000")
        today = timer.now().astimezone(LONDON).date()
        body = {
            "startDate": today.isoformat(),
            "startTime": "00:00",
            "finishTime": "23:59",
            "runoverDays": [
                {
                    "date": (today + timedelta(days=1)).isoformat(),
                    "startTime": "00:00",
                    "finishTime": "23:59",
                }
            ],
            "callflow_Id": flow.id,
            "cli_Id": cli.id,
            "attempts": [{"attemptNumber": 1, "interval": 1}],
            "answerMachineDetected": 0,
            "smsOnBusy": 0,
            "phoneNumbers": [{"number": drama(5)}],
        }
        network = NetworkSettings(profile=None, seed=1)
        runtime = build_engine(
            engine_side, network, EngineSettings(poll_seconds=3600, lease_seconds=3 * 3600), timer
        )

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.engine.run(stop))
            await asyncio.sleep(0.3)  # let it look, find nothing, and settle into its wait
            await asyncio.to_thread(api_side.campaigns.create, tenant, body)
            while runtime.engine.stats.recorded < 1:
                await asyncio.sleep(0.05)
            stop.set()
            await task

        asyncio.run(asyncio.wait_for(scenario(), 30))
        assert runtime.engine.stats.outcomes[Outcome.FAX] == 1
    finally:
        engine_side.close()
        api_side.close()


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

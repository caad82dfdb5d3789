"""A whole campaign on the simulated network, end to end on a real SQLite file and a real
PostgreSQL, and new work waking an engine through each; the engine's rules over simulated days
run on the in-memory store (tests/unit/test_engine_on_memory.py)."""

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dialer.bootstrap import build, build_engine
from dialer.clocks import RealTimer
from dialer.domain.codes import Outcome, Stage
from dialer.settings import EngineSettings, NetworkSettings, Settings
from tests.integration.engine_support import LONDON, Rig, all_day_body, drama


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
        body = all_day_body(today, flow.id, cli.id, drama(5))
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


def test_a_busy_numbers_text_goes_through_the_outbox_and_shows_delivered(rig: Rig) -> None:
    campaign = rig.campaign([drama(1)], smsOnBusy=1)
    rig.run()
    first, *_ = rig.attempts(campaign)[drama(1)]
    (text,) = first.sms
    assert (text.status.value, text.parts, text.provider) == ("delivered", 1, "sim")
    assert text.provider_ids == (rig.sms()[0].reference,)

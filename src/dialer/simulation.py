"""``dialer simulate``: a whole campaign on the simulated network, on a throwaway store."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.bootstrap import Container, EngineRuntime, build, build_engine, make_timer
from dialer.domain.campaign import Campaign
from dialer.engine.stats import EngineStats
from dialer.settings import EngineSettings, NetworkSettings, Settings

TIMEZONE = "Europe/London"
CALL_FLOW = """\
version: 1
name: Appointment reminder
message: >-
  Hello {Name}. This is a reminder of your appointment on {Parameter1}.
  Press 1 to confirm, 2 if we have the wrong person, 3 to hear about offers, 9 to opt out.
sms: "Hello {Name}, we tried to call about your appointment on {Parameter1}."
"""
# Ofcom's drama ranges: the test numbers live in 07700 900xxx; the rest look like UK mobiles.
_TEST_NUMBERS = [f"+447700900{n:03d}" for n in range(14)]


@dataclass
class Simulation:
    container: Container
    runtime: EngineRuntime
    campaign: Campaign
    numbers: int
    started_sim: datetime


def prepare(
    database: Path,
    numbers: int,
    network: NetworkSettings,
    engine_settings: EngineSettings,
) -> Simulation:
    timer = make_timer(network)
    container = build(Settings.from_env(f"sqlite:///{database}"), clock=timer)
    tenant, _ = container.tenants.create("Simulation", "GB", TIMEZONE)
    flow = container.catalog.add_callflow(tenant, "reminder", CALL_FLOW)
    cli = container.catalog.add_cli(tenant, "+441632960000")
    today = timer.now().astimezone(ZoneInfo(TIMEZONE)).date()
    rng = random.Random(network.seed)
    listed = _TEST_NUMBERS[: min(numbers, len(_TEST_NUMBERS))]
    while len(listed) < numbers:
        listed.append(f"+447{rng.randrange(400_000_000, 999_999_999)}")
    body = {
        "name": "Simulated reminders",
        "startDate": today.isoformat(),
        "startTime": "00:00",
        "finishTime": "23:59",
        "runoverDays": [
            {
                "date": (today + timedelta(days=d)).isoformat(),
                "startTime": "09:00",
                "finishTime": "20:00",
            }
            for d in range(1, 4)
        ],
        "callflow_Id": flow.id,
        "cli_Id": cli.id,
        "attempts": [
            {"attemptNumber": 1, "interval": 30},
            {"attemptNumber": 2, "interval": 120},
            {"attemptNumber": 3, "interval": 240},
        ],
        "answerMachineDetected": 2,
        "smsOnBusy": 1,
        "phoneNumbers": [
            {
                "number": n,
                "name": f"Customer {i}",
                "parameters": [{"parameter": 1, "value": "Tuesday at 10:30"}],
            }
            for i, n in enumerate(listed)
        ],
    }
    detail = container.campaigns.create(tenant, body)
    runtime = build_engine(container, network, engine_settings, timer)
    return Simulation(container, runtime, detail.campaign, numbers, timer.now())


async def run(simulation: Simulation, on_progress: Callable[[EngineStats], None]) -> float:
    """Run the campaign to its end; returns the real seconds it took."""
    started = time.perf_counter()
    engine = simulation.runtime.engine
    task = asyncio.create_task(engine.run_until_done())
    while not task.done():
        on_progress(engine.stats)
        await asyncio.wait({task}, timeout=0.1)
    await task
    await simulation.runtime.driver.close()
    on_progress(engine.stats)
    return time.perf_counter() - started

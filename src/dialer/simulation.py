"""``dialer simulate``: a whole campaign on the simulated network, on a throwaway store."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialer.agent_figures import AgentFigures
from dialer.bootstrap import Container, EngineRuntime, build, build_engine, make_timer
from dialer.clocks import RealTimer, VirtualTimer
from dialer.domain.agent import Pacing
from dialer.domain.agent_session import AgentState
from dialer.domain.attempt import AttemptResult
from dialer.domain.call import AnsweredBy
from dialer.domain.campaign import Campaign
from dialer.domain.ids import CampaignId
from dialer.domain.tenant import Tenant
from dialer.engine.stats import EngineStats
from dialer.ports.store import ResultsRepo
from dialer.settings import EngineSettings, NetworkSettings, Settings
from dialer.shift_figures import Shift, shift_figures
from dialer.sim_agents import DeskActions, SimulatedAgents
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.sim_profile import CallFate, SimProfile

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
SHIFT_START = time_of_day(9, 0)  # an agent shift starts at 09:00 London time
PROGRESS_SECONDS = 0.1  # real seconds between progress updates
# On the discrete-event clock a timeout is simulated time: a minute of it keeps the bar moving.
AGENT_PROGRESS_SECONDS = 60.0
SIMULATED_MESSAGE = "This is the simulation. Sorry we missed you; please call 0800 000 0000."


@dataclass
class Simulation:
    container: Container
    runtime: EngineRuntime
    campaign: Campaign
    numbers: int
    started_sim: datetime
    agents: SimulatedAgents | None = None
    figures: AgentFigures | None = None
    shift_end: datetime | None = None  # the agents log out then
    shift_hours: float = 8.0
    seed: int = 0
    profile: SimProfile | None = None


def prepare(
    database: Path,
    numbers: int,
    network: NetworkSettings,
    engine_settings: EngineSettings,
    agents: int = 0,
    shift_hours: float = 8,
    pacing: Pacing | None = None,
) -> Simulation:
    """A throwaway store with one campaign: an IVR one, or (``agents`` > 0) an agent campaign
    for one shift of ``shift_hours`` from 09:00 with that many simulated agents, paced by
    ``pacing`` (None: the campaign's default, predictive)."""
    timer = _timer(network, agents)
    container = build(Settings.from_env(f"sqlite:///{database}"), clock=timer)
    # A GB tenant dials under the UK rules: its abandoned calls hear this (docs/compliance.md).
    tenant, _ = container.tenants.create(
        "Simulation", "GB", TIMEZONE, compliance={"message": {"text": SIMULATED_MESSAGE}}
    )
    today = timer.now().astimezone(ZoneInfo(TIMEZONE)).date()
    body = _body(container, tenant, numbers, network.seed)
    shift_end = datetime.combine(today, SHIFT_START, ZoneInfo(TIMEZONE)) + timedelta(
        hours=shift_hours
    )
    if agents:
        body |= {
            "name": "Simulated agent shift",
            "type": "agent",
            "startTime": SHIFT_START.strftime("%H:%M"),
            "finishTime": shift_end.strftime("%H:%M"),
            "runoverDays": [],
        }
    detail = container.campaigns.create(tenant, body)
    campaign = detail.campaign
    if agents and pacing is not None:
        options = replace(campaign.spec.agent_options, pacing=pacing)
        spec = replace(campaign.spec, agent=options)
        with container.store.write() as session:
            session.campaigns.update_campaign(campaign.id, spec, timer.now())
        campaign = replace(campaign, spec=spec)
    runtime = build_engine(container, network, engine_settings, timer)
    simulation = Simulation(container, runtime, campaign, numbers, timer.now())
    if agents:
        _staff(simulation, tenant, agents, network)
        simulation.shift_end = shift_end
        simulation.shift_hours = shift_hours
        simulation.seed = network.seed
        simulation.profile = _profile(network)
    return simulation


def _profile(network: NetworkSettings) -> SimProfile:
    return SimProfile.load(network.profile) if network.profile else SimProfile.default()


def figures_of(simulation: Simulation, pacing: str) -> dict[str, Any]:
    """The shift's figures (dialer.shift_figures), from the store's records of the run."""
    figures, team = simulation.figures, simulation.agents
    assert figures is not None
    assert team is not None
    assert simulation.shift_end is not None
    hours = simulation.shift_hours
    profile = simulation.profile or SimProfile.default()
    person_rate = profile.outcomes[CallFate.ANSWER] * profile.answered_by[AnsweredBy.HUMAN]
    shift = Shift(
        agents=len(team.agents),
        hours=hours,
        start=simulation.shift_end - timedelta(hours=hours),
        pacing=pacing,
        seed=simulation.seed,
        person_rate=round(person_rate, 4),
    )
    with simulation.container.store.read() as session:
        results = _all_results(session.results, simulation.campaign.id)
    ready = figures.team().seconds.get(AgentState.READY.value, 0.0)
    return shift_figures(shift, results, ready)


def _all_results(repo: ResultsRepo, campaign_id: CampaignId) -> list[AttemptResult]:
    results: list[AttemptResult] = []
    after: int | None = None
    while True:
        page = repo.attempt_results(campaign_id, after, 5000)
        if not page:
            return results
        results.extend(page)
        after = page[-1].attempt_id


def _timer(network: NetworkSettings, agents: int) -> RealTimer | VirtualTimer:
    """Agents share their time with every call, so an agent run needs the discrete-event
    clock (dialer.sim_clock); it starts at the shift's start, today."""
    if not agents:
        return make_timer(network)
    if network.speed is not None:
        raise ValueError("simulated agents run on the simulated clock (speed max) only")
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    start = datetime.combine(today, SHIFT_START, ZoneInfo(TIMEZONE)).astimezone(UTC)
    return LoopTimer(VirtualTimeLoop(), start)


def _staff(simulation: Simulation, tenant: Tenant, count: int, network: NetworkSettings) -> None:
    """The campaign's simulated agents (members of it) and the figures of their shift."""
    container, runtime = simulation.container, simulation.runtime
    profile = _profile(network)
    desk = DeskActions(container.agent_desk, runtime.engine.floor.kick)
    team = SimulatedAgents(desk, container.catalog, profile.agents, runtime.timer, network.seed)
    team.create(tenant, count)
    with container.store.write() as session:
        ids = [agent.agent_id for agent in team.agents]
        session.agents.add_members(simulation.campaign.id, ids, runtime.timer.now())
    figures = AgentFigures()
    container.events.subscribe(figures)
    container.events.subscribe(team)
    simulation.agents, simulation.figures = team, figures


def _body(container: Container, tenant: Tenant, numbers: int, seed: int) -> dict[str, Any]:
    flow = container.catalog.add_callflow(tenant, "reminder", CALL_FLOW)
    cli = container.catalog.add_cli(tenant, "+441632960000")
    today = container.clock.now().astimezone(ZoneInfo(TIMEZONE)).date()
    rng = random.Random(seed)
    listed = _TEST_NUMBERS[: min(numbers, len(_TEST_NUMBERS))]
    while len(listed) < numbers:
        listed.append(f"+447{rng.randrange(400_000_000, 999_999_999)}")
    return {
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


def execute(simulation: Simulation, on_progress: Callable[[EngineStats], None]) -> float:
    """Run the campaign to its end on the simulation's own event loop; the real seconds."""
    timer = simulation.runtime.timer
    if isinstance(timer, LoopTimer):
        return timer.run(run(simulation, on_progress))
    return asyncio.run(run(simulation, on_progress))


async def run(simulation: Simulation, on_progress: Callable[[EngineStats], None]) -> float:
    """Run the campaign to its end; returns the real seconds it took."""
    started = time.perf_counter()
    engine = simulation.runtime.engine
    timer = simulation.runtime.timer
    team = simulation.agents
    if team is not None:
        team.start(simulation.shift_end)
    task = asyncio.create_task(engine.run_until_done())
    every = AGENT_PROGRESS_SECONDS if isinstance(timer, LoopTimer) else PROGRESS_SECONDS
    while not task.done():
        on_progress(engine.stats)
        await asyncio.wait({task}, timeout=every)
    try:
        await task
        if team is not None:
            await team.gone_home()
    finally:
        if team is not None:
            await team.stop()
        await simulation.runtime.driver.close()
    if simulation.figures is not None:
        simulation.figures.close(timer.now())
    on_progress(engine.stats)
    return time.perf_counter() - started

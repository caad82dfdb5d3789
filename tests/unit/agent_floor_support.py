"""A rig for agent campaigns on the in-memory store: the engine on a discrete-event clock
(dialer.sim_clock), simulated customers who all answer, and scripted agents' phones (a fake
AgentLeg: when it answers, how each bridged conversation ends, what the agent does at the desk
meanwhile). Minutes of a shift run in a fraction of a second."""

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from dialer.bootstrap import MEMORY_URL, Container, build
from dialer.clocks import RealTimer, VirtualTimer
from dialer.domain.abandonment import ComplianceSettings, Regime
from dialer.domain.agent import AgentOptions
from dialer.domain.agent_session import AgentSession, Changed, StateChange
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.call import BridgeEnd, CallNotPlaced
from dialer.domain.events import Recording
from dialer.domain.ids import CampaignId
from dialer.engine.scheduler import Engine
from dialer.ports import Call
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings, Settings
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.sim_network import SimulatedNetwork
from dialer.telephony.sim_profile import SimProfile
from dialer.telephony.sms import SimulatedSmsGateway
from tests.conftest import Account

START = datetime(2025, 10, 1, 8, 59, 50, tzinfo=UTC)  # 09:59:50 in London, the window opens at 10
PERSON = "+447700900000"  # answers after 3 s, stays on the line
LEAVES = "+447700900012"  # answers after 3 s, hangs up while waiting for an agent
PROFILE = Path(__file__).parents[2] / "src/dialer/telephony/profiles/uk.yaml"

NO_REGIME = ComplianceSettings(Regime.NONE)

DeskAct = Callable[[AgentSession, datetime], Changed | AgentSession]


def people(count: int) -> list[str]:
    """Numbers every one of which answers as a person who stays (the rig's profile)."""
    return [f"+4477009{n:05d}" for n in range(50, 50 + count)]


@dataclass(frozen=True)
class Talk:
    """One bridged conversation: it lasts ``seconds`` and ends ``end``; ``desk`` is what the
    agent does at the desk during it, ``after`` what they do (and when) once it ended."""

    seconds: float = 30.0
    end: BridgeEnd = BridgeEnd.CUSTOMER_LEFT
    desk: Sequence[DeskAct] = ()
    after: Sequence[tuple[float, DeskAct]] = ()


@dataclass
class Agent:
    """A scripted agent: their phone answers after ``answer_after`` seconds (never, if
    ``fails``), and their conversations follow ``talks`` in turn (then ``usual``)."""

    member: str
    answer_after: float = 1.0
    fails: bool = False  # the phone never answers
    unreachable: bool = False  # the network cannot even try (CallNotPlaced)
    drop_after: float | None = None  # the agent hangs up this long after answering
    talks: list[Talk] = field(default_factory=list)
    usual: Talk = Talk()
    id: int = 0


class FakeLeg:
    def __init__(self, rig: "AgentRig", agent: Agent, engine: str) -> None:
        self.rig, self.agent, self.engine = rig, agent, engine
        self.called_at = rig.timer.now()
        self.bridged: list[Call] = []
        self._answered = False
        self._gone = asyncio.Event()
        self._in_bridge = False
        self._dropping: asyncio.Future[None] | None = None

    @property
    def up(self) -> bool:
        return self._answered and not self._gone.is_set()

    async def answered(self) -> bool:
        if self.agent.fails:
            await self.rig.pause(30)
            self._gone.set()
            return False
        await self.rig.pause(self.agent.answer_after)
        self._answered = not self._gone.is_set()
        if self._answered and self.agent.drop_after is not None:
            self._dropping = asyncio.ensure_future(self._drop(self.agent.drop_after))
        return self._answered

    async def _drop(self, after: float) -> None:
        await self.rig.pause(after)
        self._gone.set()

    async def bridge(self, customer: Call, released: asyncio.Event) -> BridgeEnd:
        if not self.up:
            return BridgeEnd.AGENT_LEFT
        assert not self._in_bridge, f"{self.agent.member} was given two customers at once"
        self._in_bridge = True
        turn = len(self.bridged)
        self.bridged.append(customer)
        self.rig.bridges.append((self.agent.member, self.rig.timer.now()))
        talk = self.agent.talks[turn] if turn < len(self.agent.talks) else self.agent.usual
        try:
            for act in talk.desk:
                await asyncio.sleep(0)
                self.rig.desk(self.agent, act)
            if talk.end is BridgeEnd.RELEASED:
                await released.wait()
            else:
                await self.rig.pause(talk.seconds)
            if talk.end is BridgeEnd.AGENT_LEFT:
                self._gone.set()
            for delay, act in talk.after:
                self.rig.later(delay, self.agent, act)
            return talk.end
        finally:
            self._in_bridge = False

    async def ended(self) -> None:
        await self._gone.wait()

    async def hangup(self) -> None:
        self._gone.set()


class FakePhones:
    def __init__(self, rig: "AgentRig", engine: str) -> None:
        self.rig, self.engine = rig, engine
        self.legs: list[FakeLeg] = []

    async def call_agent(self, phone: str, caller_id: str) -> FakeLeg:
        agent = self.rig.by_phone[phone]
        if agent.unreachable:
            raise CallNotPlaced(f"no route to {phone}")
        leg = FakeLeg(self.rig, agent, self.engine)
        self.legs.append(leg)
        return leg


class AgentRig:
    def __init__(
        self,
        tmp: Path,
        timer: RealTimer | VirtualTimer | None = None,
        compliance: ComplianceSettings = NO_REGIME,
    ) -> None:
        """``compliance``: the tenant's abandoned-call rules; none by default, so a customer
        waits the campaign's longest wait (tests/unit/test_engine_abandoned.py has the UK
        and US rules)."""
        # The discrete-event clock, or a sped-up real one, or the plain virtual one.
        self.timer: RealTimer | VirtualTimer = timer or LoopTimer(VirtualTimeLoop(), START)
        self.container: Container = build(Settings(database_url=MEMORY_URL), clock=self.timer)
        self.account = Account(self.container, "Acme")
        with self.container.store.write() as session:
            session.tenants.set_compliance(self.account.tenant.id, compliance)
        self.events = Recording()
        self.container.events.subscribe(self.events)
        self.profile = _people_profile(tmp)
        self.by_phone: dict[str, Agent] = {}
        self.records: list[AttemptRecord] = []
        self.bridges: list[tuple[str, datetime]] = []
        self.engines: list[Engine] = []
        self.campaigns: list[CampaignId] = []
        self.phones: list[FakePhones] = []
        self._later: set[asyncio.Task[None]] = set()
        self._planned: list[tuple[float, Agent, DeskAct]] = []
        self.kick = True  # desk changes kick the engines' floors

    # set-up

    def campaign(
        self,
        numbers: Sequence[str],
        agents: Sequence[Agent],
        options: AgentOptions | None = None,
        **overrides: Any,
    ) -> CampaignId:
        fields: dict[str, Any] = {
            "type": "agent",
            "startDate": "2025-10-01",
            "startTime": "10:00",
            "finishTime": "18:00",
            "runoverDays": [],
            "attempts": [{"interval": 15, "attemptNumber": 1}],
            "phoneNumbers": [{"number": n, "name": f"N{i}"} for i, n in enumerate(numbers)],
        }
        body = self.account.campaign(**{**fields, **overrides})
        campaign = self.container.campaigns.create(self.account.tenant, body).campaign
        self.campaigns.append(campaign.id)
        now = self.timer.now()
        with self.container.store.write() as session:
            if options is not None:
                spec = replace(campaign.spec, agent=options)
                session.campaigns.update_campaign(campaign.id, spec, now)
            for agent in agents:
                if not agent.id:
                    agent.id = session.agents.add_agent(
                        self.account.tenant.id, agent.member, agent.member, now
                    ).id
            session.agents.add_members(campaign.id, [a.id for a in agents], now)
        return campaign.id

    def log_in(self, *agents: Agent) -> None:
        with self.container.store.write() as session:
            for agent in agents:
                phone = f"fake:{agent.member}"
                self.by_phone[phone] = agent
                opened = session.agent_sessions.open_session(
                    self.account.tenant.id, agent.id, phone, self.timer.now()
                )
                assert opened is not None

    def engine(self, worker: str, **settings: Any) -> Engine:
        network = SimulatedNetwork(self.profile, self.timer, seed=7)
        phones = FakePhones(self, worker)
        engine = Engine(
            self.container.store,
            network,
            SimulatedSmsGateway(self.timer, self.container.events),
            self.timer,
            EngineSettings(**settings),
            CalleeZones(),
            worker=worker,
            events=self.container.events,
            phones=phones,
        )
        recorder = engine._recorder
        count = recorder.count

        def spy(finished: list[FinishedAttempt], *, recovered: bool = False) -> None:
            self.records.extend(f.record for f in finished)  # what the store recorded
            count(finished, recovered=recovered)

        recorder.count = spy  # type: ignore[method-assign]
        self.engines.append(engine)
        self.phones.append(phones)
        return engine

    # during the run

    def desk(self, agent: Agent, act: DeskAct, kick: bool = True) -> None:
        """The agent does ``act`` at the desk (as the desk API does: read, decide, CAS);
        ``kick``: tell the engines at once (else their floors see it when they next look)."""
        with self.container.store.write() as session:
            repo = session.agent_sessions
            current = repo.open_session_of(self.account.tenant.id, agent.id)
            assert current is not None
            decided = act(current, self.timer.now())
            after, change = decided if isinstance(decided, tuple) else (decided, None)
            assert repo.save_session(after, change, current.version)
        for engine in self.engines if kick else ():
            engine.floor.kick()

    def later(self, delay: float, agent: Agent, act: DeskAct) -> None:
        async def then() -> None:
            await self.pause(delay)
            self.desk(agent, act, kick=self.kick)

        task = asyncio.ensure_future(then())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    def at(self, seconds: float, agent: Agent, act: DeskAct) -> None:
        """The agent does ``act`` at the desk ``seconds`` after the run starts."""
        self._planned.append((seconds, agent, act))

    def run(self, *engines: Engine, limit: float = 20 * 3600) -> None:
        """Until no work is left; ``limit``: seconds of the event loop's clock at most."""

        async def main() -> None:
            for seconds, agent, act in self._planned:
                self.later(seconds, agent, act)
            await asyncio.wait_for(asyncio.gather(*(e.run_until_done() for e in engines)), limit)

        self._run(main())

    def run_then_stop(self, *engines: tuple[Engine, float]) -> None:
        """Run each engine as a worker does, and stop it that many seconds after the start."""

        async def run(engine: Engine, seconds: float) -> None:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(seconds, stop.set)
            await engine.run(stop)

        async def main() -> None:
            await asyncio.gather(*(run(engine, seconds) for engine, seconds in engines))

        self._run(main())

    def _run(self, main: Coroutine[Any, Any, None]) -> None:
        if isinstance(self.timer, LoopTimer):
            self.timer.run(main)
        else:
            asyncio.run(main)

    async def pause(self, seconds: float) -> None:
        """Let ``seconds`` of the rig's clock pass for the caller."""
        await self.timer.sleep_until(self.timer.now() + timedelta(seconds=seconds))

    # what happened

    def record_of(self, number: str, attempt: int | None = None) -> AttemptRecord:
        """The number's attempt (its only one, when ``attempt`` is None)."""
        ids = self._destination_ids()
        found = [
            r
            for r in self.records
            if ids[r.destination_id] == number and attempt in (None, r.attempt_number)
        ]
        assert len(found) == 1, found
        return found[0]

    def _destination_ids(self) -> dict[int, str]:
        with self.container.store.read() as session:
            return {
                d.id: d.number.e164 or d.number.raw
                for c in self.campaigns
                for d in session.destinations.list_numbers(c)
                if d.id is not None
            }

    def changes(self, agent: Agent) -> list[StateChange]:
        with self.container.store.read() as session:
            return session.agent_sessions.state_changes(self.account.tenant.id, agent_id=agent.id)


def Settings_() -> Any:
    from dialer.settings import Settings

    return Settings(database_url=MEMORY_URL)


def _people_profile(tmp: Path) -> SimProfile:
    """The UK profile, but every call is answered by a person who stays a long time."""
    data = yaml.safe_load(PROFILE.read_text())
    data["outcomes"] = {k: (1.0 if k == "answer" else 0.0) for k in data["outcomes"]}
    data["answered_by"] = {"human": 1.0, "machine": 0.0, "fax": 0.0}
    data["human"]["keypress"] = {
        k: (1.0 if k == "none" else 0.0) for k in data["human"]["keypress"]
    }
    data["human"]["patience_seconds"] = {"median": 3600, "sigma": 0, "min": 3600, "max": 3600}
    data["ring_seconds"] = {"median": 3, "sigma": 0, "min": 3, "max": 3}
    path = tmp / "people.yaml"
    path.write_text(yaml.safe_dump(data))
    return SimProfile.load(path)

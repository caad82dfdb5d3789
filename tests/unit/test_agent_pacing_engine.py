"""The pacer at run time (docs/agents-engine.md, Pacing at run time): the dispatcher places
the lines the pacer decides (under the caps), gives it the campaign's floor, statistics and
tally, looks again every 0.5 s of engine clock while calls ring or agents are busy, saves its
decision; and agent-first jobs are dialled only with an agent reserved. On the memory store,
on the discrete-event clock."""

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dialer.domain import agent_session as agents
from dialer.domain import dialling
from dialer.domain.abandonment import (
    AbandonRules,
    ComplianceSettings,
    InfoMessage,
    Regime,
    Tally,
    rules_for,
)
from dialer.domain.agent import AgentOptions, Pacing, PacingMode
from dialer.domain.agent_session import AgentSession, AgentState, Changed
from dialer.domain.call import CallNotPlaced, OriginateRequest
from dialer.domain.codes import Stage
from dialer.domain.events import (
    AgentStateChanged,
    AttemptNotPlaced,
    AttemptPostponed,
    AttemptStarted,
    CustomerBridged,
    PacingDecided,
)
from dialer.domain.ids import CampaignId
from dialer.domain.predictive import CampaignStats, Decision, Floor, Pacer
from dialer.engine.abandoned import MESSAGE_LEAD
from dialer.engine.agent_pacing import REPASS
from dialer.engine.pacing_book import SAVE_EVERY, PacingBook
from dialer.telephony.sim_network import SimCall, SimulatedNetwork
from tests.unit.agent_floor_support import START, Agent, AgentRig, DeskAct, Talk, people

S = timedelta(seconds=1)
OPEN = START + 10 * S


@dataclass
class ScriptedPacer:
    """Says ``lines`` at its first decision, then none; remembers what it was shown."""

    lines: int
    seen: list[tuple[Floor, Tally, int]] = field(default_factory=list)
    stats: list[CampaignStats] = field(default_factory=list)
    rules: list[AbandonRules] = field(default_factory=list)

    def decide(
        self, pacing: Pacing, floor: Floor, stats: CampaignStats, tally: Tally, rules: AbandonRules
    ) -> Decision:
        lines = self.lines if not self.seen else 0
        self.seen.append((floor, tally, lines))
        self.stats.append(stats)
        self.rules.append(rules)
        return Decision(lines, float(lines), "scripted")


@pytest.fixture
def rig(tmp_path: Path) -> AgentRig:
    return AgentRig(tmp_path)


def pause(reason: str) -> DeskAct:
    def act(session: AgentSession, now: datetime) -> Changed:
        return agents.pause(session, reason, now)

    return act


def test_the_dispatcher_places_the_lines_the_pacer_decides(rig: AgentRig) -> None:
    ann = Agent("1001")
    ratio = Pacing(PacingMode.RATIO, ratio=1.0)  # the mode says one line, the pacer three
    rig.campaign(people(3), [ann], AgentOptions(max_wait=2 * S, pacing=ratio))
    rig.log_in(ann)
    engine = rig.engine("w1")
    pacer = ScriptedPacer(lines=3)
    engine._dispatcher.agent_pacing.pacer = pacer  # type: ignore[assignment]
    rig.run(engine)
    started = rig.events.of(AttemptStarted)
    assert len(started) == 3  # one agent ready, three lines: the pacer's word, not one per agent
    floor, _, _ = pacer.seen[0]
    assert (floor.ready, floor.busy, floor.ringing, floor.waiting) == (1, (), (), 0)


def test_the_pacer_is_asked_again_every_half_second_while_calls_ring(rig: AgentRig) -> None:
    ann = Agent("1001")
    rig.campaign(people(3), [ann])
    rig.log_in(ann)
    engine = rig.engine("w1")
    pacer = ScriptedPacer(lines=1)
    engine._dispatcher.agent_pacing.pacer = pacer  # type: ignore[assignment]
    rig.run(engine)
    # The first call rang from 10:00:00 to 10:00:03: the pacer was asked throughout.
    ringing = [f.now for f, _, _ in pacer.seen if f.ringing and f.now <= OPEN + 3 * S]
    assert ringing[0] - OPEN <= REPASS
    assert OPEN + 3 * S - ringing[-1] <= REPASS
    gaps = [b - a for a, b in itertools.pairwise(ringing)]
    assert max(gaps) <= REPASS
    # Then it saw Ann busy with the customer, since the bridge.
    busy = [f for f, _, _ in pacer.seen if f.busy]
    assert busy
    assert all(f.ready == 0 for f in busy)
    assert busy[0].busy[0] <= REPASS.total_seconds()


def test_the_pacer_learns_from_the_calls_and_its_decision_is_saved(rig: AgentRig) -> None:
    ann = Agent("1001", usual=Talk(20))
    campaign = rig.campaign(people(4), [ann])
    rig.log_in(ann)
    engine = rig.engine("w1")
    book = engine._dispatcher.agent_pacing.book.of(campaign)  # forgotten once the campaign is done
    rig.run(engine)
    assert book.stats.dials == 4  # every placed call's first result
    decided = rig.events.of(PacingDecided)
    assert decided
    assert {d.campaign_id for d in decided} == {campaign}
    with rig.container.store.read() as session:
        saved = session.abandonment.pacing(campaign)
    assert saved is not None
    # A decision that was made, and at most 5 s older than the last one (saved every 5 s).
    assert (saved.reason, saved.at) in {(d.reason, d.at) for d in decided}
    assert decided[-1].at - saved.at <= SAVE_EVERY
    # Each save adds its ratio to the campaign's history (the campaign page's chart).
    with rig.container.store.read() as session:
        history = session.abandonment.pacing_history(
            campaign,
            decided[0].at - timedelta(days=1),
            saved.at + timedelta(days=1),
            timedelta(days=2),
        )
    ratios = {d.ratio for d in decided}
    assert [p.bucket for p in history] == [0]
    assert history[0].low in ratios
    assert history[0].high in ratios


@dataclass
class WatchingPacer(Pacer):
    """The real pacer, remembering the floors it was shown."""

    floors: list[Floor] = field(default_factory=list)

    def decide(
        self, pacing: Pacing, floor: Floor, stats: CampaignStats, tally: Tally, rules: AbandonRules
    ) -> Decision:
        self.floors.append(floor)
        return super().decide(pacing, floor, stats, tally, rules)


def test_the_pacer_sees_an_agent_in_wrap_up_and_learns_its_length(rig: AgentRig) -> None:
    ann = Agent("1001", usual=Talk(20))  # the campaign's wrap-up: 15 s
    campaign = rig.campaign(people(3), [ann])
    rig.log_in(ann)
    engine = rig.engine("w1")
    pacer = WatchingPacer()
    engine._dispatcher.agent_pacing.pacer = pacer
    book = engine._dispatcher.agent_pacing.book.of(campaign)
    rig.run(engine)
    wrapping = [f for f in pacer.floors if f.wrapping]
    assert wrapping
    for f in wrapping:
        # Ann, in wrap-up since her customer hung up 20 s after the bridge, is not busy.
        assert (f.ready, f.busy, len(f.wrapping or ())) == (0, (), 1)
        assert f.wrapping_bridged[0] == pytest.approx((f.wrapping or (0.0,))[0] + 20.0, abs=1.0)
        assert (f.wrapping or (99.0,))[0] <= 15.0
    talking = [f for f in pacer.floors if f.busy]
    assert talking
    assert all(f.wrapping == () for f in talking)
    assert book.stats.mean_wrap() == pytest.approx(15.0, abs=REPASS.total_seconds())


def test_a_wrap_up_until_the_agent_says_ready_is_not_told_to_the_pacer(rig: AgentRig) -> None:
    ann = Agent("1001", usual=Talk(20, after=[(4, ready)]))
    rig.campaign(people(2), [ann], AgentOptions(wrap_up=None))
    rig.log_in(ann)
    engine = rig.engine("w1")
    pacer = WatchingPacer()
    engine._dispatcher.agent_pacing.pacer = pacer
    rig.run(engine)
    assert pacer.floors
    assert {f.wrapping for f in pacer.floors} == {None}
    assert any(f.busy for f in pacer.floors)


def ready(session: AgentSession, now: datetime) -> Changed:
    return agents.ready(session, now)


def test_an_agent_about_to_leave_its_wrap_up_lets_the_pacer_dial_more() -> None:
    """The book of a campaign that has learnt its calls (a third of them answered by a person
    after 8 s) and its 15 s wrap-ups; its one agent in wrap-up: the pacer dials for her when
    she is 1 s from its end, not when she is 14 s from it (a person answering in 8 s would
    find nobody)."""
    book, campaign = PacingBook(), CampaignId(1)
    at = START
    for n in range(90):
        book.placed(campaign, f"{n}:1", at)
        book.dial_ended(campaign, f"{n}:1", at + (8 if n % 3 == 0 else 25) * S, person=n % 3 == 0)
    for n in range(30):
        book.bridged(campaign, f"{n}:1", at)
        book.wrap_up(campaign, f"{n}:1", at + (60 + n) * S)
        book.handled(campaign, f"{n}:1", at + (75 + n) * S)
    book.bridged(campaign, "ann:1", at)
    book.wrap_up(campaign, "ann:1", at + 100 * S)
    rules = rules_for(ComplianceSettings(regime=Regime.UK, false_machine_rate=0.0))
    rules = replace(rules, connect_within=rules.connect_within - MESSAGE_LEAD)
    rich = Tally(live=10_000, abandoned=0)

    def lines(into_wrap_up: int) -> int:
        now = at + (100 + into_wrap_up) * S
        floor = book.floor(campaign, now, ready=0, waiting=0, wrap_known=True)
        stats = book.of(campaign).stats
        return Pacer().decide(Pacing(), floor, stats, rich, rules).lines

    assert lines(14) > lines(1)


def test_the_saved_decision_keeps_the_counts_it_was_made_on(rig: AgentRig) -> None:
    ann = Agent("1001", usual=Talk(20))
    campaign = rig.campaign(people(2), [ann])
    rig.log_in(ann)
    engine = rig.engine("w1")
    pacer = ScriptedPacer(lines=1)
    engine._dispatcher.agent_pacing.pacer = pacer  # type: ignore[assignment]
    rig.run(engine)
    with rig.container.store.read() as session:
        saved = session.abandonment.pacing(campaign)
    assert saved is not None
    assert saved.agents_ready is not None
    made = {(f.now, f.ready, len(f.ringing), f.waiting) for f, _, _ in pacer.seen}
    assert (saved.at, saved.agents_ready, saved.ringing, saved.waiting) in made


def test_progressive_never_dials_more_than_the_ready_agents(rig: AgentRig) -> None:
    crew = [Agent("1001"), Agent("1002")]
    numbers = people(6)
    rig.campaign(numbers, crew, AgentOptions(pacing=Pacing(PacingMode.PROGRESSIVE)))
    rig.log_in(*crew)
    rig.run(rig.engine("w1"))
    on_line = most = 0
    for event in rig.events.events:
        if isinstance(event, AttemptStarted):
            on_line += 1
            most = max(most, on_line)
        elif isinstance(event, CustomerBridged):
            on_line -= 1
    assert most <= 2
    assert all(rig.record_of(n).stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE for n in numbers)


# agent first (UK: the number had an abandoned call in the last 72 hours)


@pytest.fixture
def agent_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every job is screened agent-first (as the rules helper's screening says for a number
    with an abandoned call in the last 72 hours)."""
    screen = dialling.screen

    def first(*args: object, **kwargs: object) -> dialling.Screening:
        verdict = screen(*args, **kwargs)  # type: ignore[arg-type]
        return dialling.DIAL_AGENT_FIRST if isinstance(verdict, dialling.Dial) else verdict

    monkeypatch.setattr("dialer.engine.dispatcher.dialling.screen", first)


@pytest.mark.usefixtures("agent_first")
def test_an_agent_first_job_is_dialled_only_with_an_agent_reserved(rig: AgentRig) -> None:
    ann = Agent("1001")
    numbers = people(2)
    rig.campaign(numbers, [ann], AgentOptions(pacing=Pacing(PacingMode.RATIO, ratio=3.0)))
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    reserved_before = 0
    for event in rig.events.events:
        if isinstance(event, AgentStateChanged) and event.state == AgentState.RESERVED.value:
            reserved_before += 1
        elif isinstance(event, AttemptStarted):
            assert reserved_before > 0, "dialled with no agent reserved"
            reserved_before -= 1
    assert [rig.record_of(n).stage for n in numbers] == [Stage.CALL_TRANSFERRED_TO_CALL_CENTRE] * 2
    assert len(rig.events.of(CustomerBridged)) == 2
    assert all(b.wait == 0.0 for b in rig.events.of(CustomerBridged))


@pytest.mark.usefixtures("agent_first")
def test_agent_first_jobs_with_no_agent_to_reserve_wait(rig: AgentRig) -> None:
    """Three lines for one agent (ratio 3, no regime): one job gets Ann, the two others are
    given back and dialled when she is ready again, never with nobody reserved."""
    ann = Agent("1001", usual=Talk(10))
    numbers = people(3)
    rig.campaign(numbers, [ann], AgentOptions(pacing=Pacing(PacingMode.RATIO, ratio=3.0)))
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    assert len(rig.events.of(AttemptPostponed)) >= 2
    on_line = most = 0
    for event in rig.events.events:
        if isinstance(event, AttemptStarted):
            on_line += 1
            most = max(most, on_line)
        elif isinstance(event, CustomerBridged):
            on_line -= 1
    assert most == 1
    assert [rig.record_of(n).stage for n in numbers] == [Stage.CALL_TRANSFERRED_TO_CALL_CENTRE] * 3


def test_a_call_not_placed_leaves_no_ringing_call_for_the_pacer(
    rig: AgentRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = Agent("1001")
    campaign = rig.campaign(people(1), [ann], finishTime="10:01")
    rig.log_in(ann)
    engine = rig.engine("w1")
    book = engine._dispatcher.agent_pacing.book.of(campaign)

    async def refuse(network: SimulatedNetwork, request: OriginateRequest) -> SimCall:
        raise CallNotPlaced("no channel free")

    monkeypatch.setattr(SimulatedNetwork, "originate", refuse)
    rig.run(engine)
    assert rig.events.of(AttemptNotPlaced)  # tried, and given back each time
    assert book.ringing == {}


def test_under_the_uk_rule_the_pacer_is_given_the_grace_the_engine_gives(tmp_path: Path) -> None:
    """The engine plays the message MESSAGE_LEAD before the 2 s are up: the model counts on
    agents freeing within what is left, not the whole 2 s."""
    message = InfoMessage("This was Acme. Call 0161 496 0000.")
    rig = AgentRig(tmp_path, compliance=ComplianceSettings(Regime.UK, message=message))
    ann = Agent("1001")
    rig.campaign(people(1), [ann])
    rig.log_in(ann)
    engine = rig.engine("w1")
    pacer = ScriptedPacer(lines=1)
    engine._dispatcher.agent_pacing.pacer = pacer  # type: ignore[assignment]
    rig.run(engine)
    assert {r.connect_within for r in pacer.rules} == {timedelta(seconds=2) - MESSAGE_LEAD}
    assert {r.regime for r in pacer.rules} == {Regime.UK}

"""One simulated shift: agents, their calls and the pacer, event by event (heapq, no asyncio).

Every event (a call answered or ended, an agent free, a customer's 2 seconds up) and a tick
every ``tick`` seconds asks the pacer for lines, with the same ``Pacer.decide`` the engine
calls. An answered person goes to the agent ready longest; one not bridged within
``connect_within`` seconds is abandoned (Stage CallDropped in the engine). Agents all log in
ready at the start, take no breaks, and the dialler stops placing calls at the shift's end;
talk and wrap-up running past the end count up to the end only.
"""

import heapq
import random
from collections import deque
from datetime import UTC, datetime, timedelta

from dialer.domain.abandonment import ComplianceSettings, Regime, Tally, rules_for
from dialer.domain.agent import Pacing, PacingMode
from dialer.domain.predictive import CampaignStats, Floor, Pacer
from dialer.pacing_sim.centre import Centre
from dialer.pacing_sim.figures import ShiftFigures, p95, rolling_rate

SHIFT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, 09:00
MIN_LIVE_FOR_RATE = 100  # the rolling rate counts once this many live answers are in

_PERSON, _MACHINE, _ENDED, _VERDICT, _DROP, _FREE, _TICK, _MINUTE, _HANGUP = range(9)


def pacing_name(pacing: Pacing) -> str:
    if pacing.mode is PacingMode.RATIO:
        return f"ratio:{pacing.ratio:g}"
    if pacing.mode is PacingMode.PREDICTIVE and pacing.target is not None:
        return f"predictive:{100 * pacing.target:g}%"
    return pacing.mode.value


def run_shift(
    centre: Centre,
    agents: int,
    pacing: Pacing,
    hours: float = 8.0,
    seed: int = 0,
    tick: float = 0.5,
    connect_within: float = 2.0,
    opening: Tally | None = None,
    wrap_known: bool = True,
) -> ShiftFigures:
    """Simulate one shift of ``agents`` agents paced by ``pacing`` under the UK rules at the
    pacing's target (the tenant default of 3% when it has none); deterministic per seed.
    ``opening``: the campaign's tally in the window before the shift (none: a fresh
    campaign, whose budget starts at 0); the figures count the shift's calls only.
    ``wrap_known``: the pacer is told which agents are in wrap-up (``Floor.wrapping``), as
    the engine tells it for a campaign whose wrap-up has a time limit (docs/pacing.md,
    "Wrap-up known"); False: every busy agent seen from its bridge only (before the engine
    told them)."""
    shift = _Shift(centre, agents, pacing, hours, seed, tick, connect_within)
    shift.wrap_known = wrap_known
    if opening is not None:
        shift.opening = opening
    return shift.run()


class _Shift:
    def __init__(
        self,
        centre: Centre,
        agents: int,
        pacing: Pacing,
        hours: float,
        seed: int,
        tick: float,
        connect_within: float,
    ) -> None:
        if agents <= 0 or hours <= 0 or tick <= 0:
            raise ValueError("agents, hours and tick must be positive")
        self.centre = centre
        self.agents = agents
        self.pacing = pacing
        self.hours = hours
        self.seed = seed
        self.end = hours * 3600.0
        self.tick = tick
        self.connect_within = connect_within
        self.rng = random.Random(seed)
        # The simulated detector is never wrong, so no false machines are counted.
        settings = ComplianceSettings(regime=Regime.UK, false_machine_rate=0.0)
        self.rules = rules_for(settings, pacing.target)
        self.pacer = Pacer()
        self.stats = CampaignStats()
        self.events: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.now = 0.0
        self.ready: deque[int] = deque(range(agents))
        self.ready_since = [0.0] * agents
        self.busy: dict[int, float] = {}  # agent: bridged at
        self.wrap_known = False
        self.wrapping: dict[int, float] = {}  # agent: wrap-up began at (also in busy)
        self.ringing: dict[int, float] = {}
        self.waiting: deque[tuple[int, float]] = deque()
        self.waiting_ids: set[int] = set()
        self.detecting = 0
        self.next_call = 0
        # The tally the pacer sees: live calls counted as they are bridged or abandoned.
        self.tally_live = 0
        self.machines = 0
        # Figures.
        self.placed = 0
        self.live_answered = 0
        self.abandoned = 0
        self.bridged = 0
        self.talk = 0.0
        self.wrap = 0.0
        self.ready_seconds = 0.0
        self.to_agent: list[float] = []
        self.max_rolling = 0.0
        self.breaches = 0
        self.decided_at = -1.0
        self.opening = Tally()

    # -- the loop --------------------------------------------------------------------------

    def push(self, at: float, kind: int, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, ref))

    def run(self) -> ShiftFigures:
        for minute in range(1, int(self.end // 60) + 1):
            self.push(minute * 60.0, _MINUTE, 0)
        self.push(0.0, _TICK, 0)
        handlers = {
            _PERSON: self.person_answers,
            _MACHINE: self.machine_answers,
            _ENDED: self.dial_ends,
            _VERDICT: self.machine_verdict,
            _DROP: self.connect_deadline,
            _FREE: self.agent_free,
            _HANGUP: self.customer_hangs_up,
        }
        events = self.events
        while events and events[0][0] <= self.end:
            at, _, kind, ref = heapq.heappop(events)
            self.now = at
            if kind == _TICK:
                # A tick only makes sure of a decision every ``tick`` seconds: after an
                # event's decision it moves to ``tick`` after that one.
                if at - self.decided_at < self.tick - 1e-9:
                    self.push(self.decided_at + self.tick, _TICK, 0)
                    continue
                self.push(at + self.tick, _TICK, 0)
            elif kind == _MINUTE:
                self.on_minute()
                continue
            else:
                handlers[kind](ref)
            self.decide()
        self.now = self.end
        for agent in self.ready:
            self.ready_seconds += self.end - self.ready_since[agent]
        return self.figures()

    def decide(self) -> None:
        now = self.now
        self.decided_at = now
        if self.wrap_known:
            wrapping = self.wrapping
            busy = tuple([now - b for a, b in self.busy.items() if a not in wrapping])
        else:
            busy = tuple([now - b for b in self.busy.values()])
        floor = Floor(
            now=SHIFT_START + timedelta(seconds=now),
            ready=len(self.ready),
            busy=busy,
            ringing=tuple([now - p for p in self.ringing.values()]),
            waiting=len(self.waiting) + self.detecting,
            wrapping=tuple([now - w for w in self.wrapping.values()]) if self.wrap_known else None,
            wrapping_bridged=tuple([now - self.busy[a] for a in self.wrapping])
            if self.wrap_known
            else (),
        )
        tally = self.opening.plus(self.tally_live, self.abandoned, self.machines)
        decision = self.pacer.decide(self.pacing, floor, self.stats, tally, self.rules)
        for _ in range(decision.lines):
            self.place()
        self.check_governor(tally)

    def check_governor(self, tally: Tally) -> None:
        """The guarantee as a property: the abandons that could still follow if every call in
        flight were a person and no busy agent freed never exceed the budget left."""
        could = len(self.ringing) + len(self.waiting) + self.detecting - len(self.ready)
        if could > 0 and could > tally.budget(self.rules) + 1e-9:
            self.breaches += 1

    # -- calls -----------------------------------------------------------------------------

    def person_rate(self) -> float:
        c = self.centre
        if c.hostile_rate is not None and self.now >= self.end / 2:
            return c.hostile_rate
        return c.person_rate

    def place(self) -> None:
        c = self.centre
        rng = self.rng
        call = self.next_call
        self.next_call += 1
        self.placed += 1
        self.ringing[call] = self.now
        u = rng.random()
        person = self.person_rate()
        if u < person:
            self.push(self.now + c.ring_time(rng), _PERSON, call)
        elif u < person + c.machine_rate:
            self.push(self.now + c.ring_time(rng), _MACHINE, call)
        elif u < person + c.machine_rate + c.failure_rate:
            self.push(self.now + c.failure_time(rng), _ENDED, call)
        else:
            self.push(self.now + c.ring_out_time(rng), _ENDED, call)

    def dial_ends(self, call: int) -> None:
        placed = self.ringing.pop(call)
        self.stats.dial_ended(self.now - placed, person=False)

    def machine_answers(self, call: int) -> None:
        # Until the verdict the machine waits like a person would: the pacer cannot tell.
        placed = self.ringing.pop(call)
        self.detecting += 1
        self.push(self.now + self.centre.machine_verdict_seconds, _VERDICT, call)
        self.stats.dial_ended(self.now - placed, person=False)

    def machine_verdict(self, call: int) -> None:
        self.detecting -= 1
        self.machines += 1

    def person_answers(self, call: int) -> None:
        placed = self.ringing.pop(call)
        self.stats.dial_ended(self.now - placed, person=True)
        self.live_answered += 1
        if self.ready:
            self.bridge(self.ready.popleft(), self.now)
            return
        self.waiting.append((call, self.now))
        self.waiting_ids.add(call)
        self.push(self.now + self.connect_within, _DROP, call)

    def connect_deadline(self, call: int) -> None:
        if call not in self.waiting_ids:
            return
        # Deadlines come in answer order, so a call still waiting at its own is the oldest.
        oldest, _ = self.waiting.popleft()
        if oldest != call:
            raise RuntimeError(f"call {call} abandoned out of answer order")
        self.waiting_ids.discard(call)
        self.abandoned += 1
        self.tally_live += 1  # an abandoned call is a live call too, as the rules count it

    # -- agents ----------------------------------------------------------------------------

    def bridge(self, agent: int, answered: float) -> None:
        now = self.now
        self.ready_seconds += now - self.ready_since[agent]
        self.busy[agent] = now
        self.bridged += 1
        self.tally_live += 1
        self.to_agent.append(now - answered)
        talk = self.centre.talk_time(self.rng)
        hung_up = now + talk
        free = hung_up + self.centre.wrap_up_time(self.rng)
        self.talk += min(hung_up, self.end) - now
        self.wrap += max(0.0, min(free, self.end) - min(hung_up, self.end))
        if self.wrap_known:
            self.push(hung_up, _HANGUP, agent)
        self.push(free, _FREE, agent)

    def customer_hangs_up(self, agent: int) -> None:
        self.wrapping[agent] = self.now

    def agent_free(self, agent: int) -> None:
        started = self.busy.pop(agent)
        self.stats.handled(self.now - started)
        if agent in self.wrapping:
            self.stats.wrapped(self.now - self.wrapping.pop(agent))
        self.ready_since[agent] = self.now
        if self.waiting:
            call, answered = self.waiting.popleft()
            self.waiting_ids.discard(call)
            self.bridge(agent, answered)
        else:
            self.ready.append(agent)

    # -- clocks ----------------------------------------------------------------------------

    def on_minute(self) -> None:
        if self.live_answered >= MIN_LIVE_FOR_RATE:
            rate = rolling_rate(self.abandoned, self.live_answered)
            self.max_rolling = max(self.max_rolling, rate)

    def figures(self) -> ShiftFigures:
        agent_hours = self.agents * self.end / 3600.0
        agent_seconds = self.agents * self.end
        return ShiftFigures(
            agents=self.agents,
            hours=self.hours,
            pacing=pacing_name(self.pacing),
            seed=self.seed,
            person_rate=self.centre.person_rate,
            talk_minutes_per_agent_hour=self.talk / 60.0 / agent_hours,
            occupancy=(self.talk + self.wrap) / agent_seconds,
            abandon_rate=rolling_rate(self.abandoned, self.live_answered),
            max_rolling_abandon_rate=self.max_rolling,
            placed_per_agent_hour=self.placed / agent_hours,
            live_answered=self.live_answered,
            abandoned=self.abandoned,
            placed=self.placed,
            mean_agent_wait_seconds=self.ready_seconds / self.bridged if self.bridged else 0.0,
            answer_to_agent_p95_seconds=p95(self.to_agent),
            governor_breaches=self.breaches,
        )

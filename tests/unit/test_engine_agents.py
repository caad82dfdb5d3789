"""Agent campaigns on the in-memory store, with scripted agents' phones: the engine gives
answered customers to ready agents of its own (docs/agents.md). Each runs minutes of a shift
on a discrete-event clock in a fraction of a second."""

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dialer.clocks import RealTimer, VirtualTimer
from dialer.domain import agent_session as agents
from dialer.domain.agent import AgentOptions, Strategy
from dialer.domain.agent_session import AgentSession, AgentState, Changed, Disposition
from dialer.domain.attempt import AgentCall, DialJob
from dialer.domain.call import Answered, AnsweredBy, BridgeEnd
from dialer.domain.codes import Stage
from dialer.domain.events import AttemptStarted, CallEnded, CustomerBridged, CustomerQueued
from dialer.domain.ids import CampaignId, DestinationId
from dialer.engine.agent_calls import customer_of
from dialer.engine.agent_floor import Held
from tests.integration.engine_support import LONDON
from tests.unit.agent_floor_support import (
    LEAVES,
    START,
    Agent,
    AgentRig,
    DeskAct,
    Talk,
    people,
)

S = timedelta(seconds=1)
OPEN = START + 10 * S  # the campaign's window opens
TRANSFERRED = Stage.CALL_TRANSFERRED_TO_CALL_CENTRE


@pytest.fixture
def rig(tmp_path: Path) -> AgentRig:
    return AgentRig(tmp_path)


def test_an_answered_customer_is_bridged_to_the_ready_agent(rig: AgentRig) -> None:
    ann = Agent("1001")
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    assert record.agent is not None
    assert (record.agent.agent_id, record.agent.member) == (ann.id, "1001")
    assert record.agent.talk_seconds == 30.0
    assert record.agent.wrap_up_seconds == 15.0


def test_progressive_pacing_never_dials_more_than_the_ready_agents(rig: AgentRig) -> None:
    agents = [Agent("1001"), Agent("1002")]
    numbers = people(8)
    rig.campaign(numbers, agents)
    rig.log_in(*agents)
    rig.run(rig.engine("w1"))
    on_line, most = 0, 0
    for event in rig.events.events:
        if isinstance(event, AttemptStarted):
            on_line += 1
            most = max(most, on_line)
        elif isinstance(event, CallEnded):
            on_line -= 1
    assert most == 2  # each call holds its agent through wrap-up: one call per ready agent
    assert [rig.record_of(n).stage for n in numbers] == [TRANSFERRED] * 8
    assert {m for m, _ in rig.bridges} == {"1001", "1002"}
    assert not rig.events.of(CustomerQueued)  # nobody answered to find no agent


def test_an_agent_of_two_campaigns_is_dialled_for_once(rig: AgentRig) -> None:
    """Ann is a member of both campaigns: one customer on the line for her at a time, none
    left to wait and be dropped, and both campaigns take turns at her."""
    ann = Agent("1001")
    first, second = people(6)[:3], people(6)[3:]
    ours = rig.campaign(first, [ann])
    theirs = rig.campaign(second, [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    on_line, most = 0, 0
    for event in rig.events.events:
        if isinstance(event, AttemptStarted):
            on_line += 1
            most = max(most, on_line)
        elif isinstance(event, CallEnded):
            on_line -= 1
    assert most == 1
    assert not rig.events.of(CustomerQueued)
    assert [rig.record_of(n).stage for n in first + second] == [TRANSFERRED] * 6
    served = [e.campaign_id for e in rig.events.of(CustomerBridged)]
    assert served == [ours, theirs] * 3  # turn about, not one campaign's list first


def test_campaigns_with_agents_of_their_own_each_dial_for_them_at_once(rig: AgentRig) -> None:
    ann, bob = Agent("1001"), Agent("1002")
    rig.campaign(people(4)[:2], [ann])
    rig.campaign(people(4)[2:], [bob])
    rig.log_in(ann, bob)
    rig.run(rig.engine("w1"))
    # Both customers dialled at the opening: the shared budget holds back neither.
    assert sorted(rig.bridges)[::2] == [("1001", OPEN + 3 * S), ("1002", OPEN + 3 * S)]
    assert not rig.events.of(CustomerQueued)


def test_no_agent_logged_in_no_call(rig: AgentRig) -> None:
    ann = Agent("1001")
    rig.campaign(people(2), [ann], finishTime="10:05")
    rig.run(rig.engine("w1"))
    assert not rig.events.of(AttemptStarted)


def test_the_longest_ready_agent_gets_the_call(rig: AgentRig) -> None:
    first, second = Agent("1001", answer_after=1), Agent("1002", answer_after=2)
    rig.campaign(people(1), [first, second])
    rig.log_in(second)
    rig.log_in(first)  # logs in after the other, but answers their phone first
    rig.run(rig.engine("w1"))
    assert [m for m, _ in rig.bridges] == ["1001"]


def test_an_agent_ready_again_is_dialled_for_at_once(rig: AgentRig) -> None:
    """The agent's wrap-up ends and the next customer is dialled that instant, not at the
    dispatcher's next poll."""
    ann = Agent("1001")
    rig.campaign(people(2), [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    ready = [c.at for c in rig.changes(ann) if c.state is AgentState.READY]
    # 10:00:00 dialled, answered 3 s later, 30 s of talk, 15 s of wrap-up: ready at 10:00:48.
    assert [t for _, t in rig.bridges] == [OPEN + 3 * S, ready[1] + 3 * S]
    assert ready[1] == OPEN + 48 * S


# the queue: customers who answer when no agent is free


def pause(reason: str) -> DeskAct:
    def act(session: AgentSession, now: datetime) -> Changed | AgentSession:
        return agents.pause(session, reason, now)

    return act


def test_a_customer_waits_for_the_next_agent_to_be_ready(rig: AgentRig) -> None:
    # Two agents ready: two customers dialled; one agent goes on a break while they ring.
    ann, bob = Agent("1001", usual=Talk(2)), Agent("1002", answer_after=2)
    first, second = people(2)
    rig.campaign([first, second], [ann, bob], AgentOptions(wrap_up=S))
    rig.log_in(ann, bob)
    rig.at(11, bob, pause("coffee"))
    rig.run(rig.engine("w1"))
    assert len(rig.events.of(CustomerQueued)) == 1
    waited = rig.record_of(second)
    assert waited.stage is TRANSFERRED
    assert waited.agent is not None
    assert waited.agent.member == "1001"
    # Answered at 10:00:03; Ann talked to the first for 2 s and wrapped up for 1 s.
    assert waited.agent.time_to_agent == 3.0


def test_waiting_customers_are_served_first_come_first_served(rig: AgentRig) -> None:
    ann = Agent("1001", usual=Talk(2))
    bob, cat = Agent("1002", answer_after=2), Agent("1003", answer_after=3)
    numbers = people(3)
    options = AgentOptions(wrap_up=S, max_wait=10 * S)
    rig.campaign(numbers, [ann, bob, cat], options)
    rig.log_in(ann, bob, cat)
    rig.at(11, bob, pause("coffee"))
    rig.at(11, cat, pause("coffee"))
    rig.run(rig.engine("w1"))
    waits = [rig.record_of(n).agent for n in numbers]
    assert sorted(w.time_to_agent or 0.0 for w in waits if w) == [0.0, 3.0, 6.0]
    queued = [e.destination_id for e in rig.events.of(CustomerQueued)]
    bridged = [e.destination_id for e in rig.events.of(CustomerBridged)]
    assert len(queued) == 2
    assert bridged[1:] == queued  # in the order they began to wait


def test_a_customer_is_dropped_after_the_longest_wait(rig: AgentRig) -> None:
    ann, bob = Agent("1001"), Agent("1002", answer_after=2)
    first, second = people(2)
    rig.campaign([first, second], [ann, bob], AgentOptions(max_wait=4 * S))
    rig.log_in(ann, bob)
    rig.at(11, bob, pause("coffee"))
    rig.run(rig.engine("w1"))
    dropped = rig.record_of(second)
    assert dropped.stage is Stage.CALL_DROPPED
    assert dropped.agent == AgentCall(OPEN + 3 * S)
    assert len(rig.events.of(CustomerQueued)) == 1
    assert rig.record_of(first).stage is TRANSFERRED


def test_a_customer_who_hangs_up_while_waiting_is_a_dropped_call(rig: AgentRig) -> None:
    ann, bob = Agent("1001"), Agent("1002", answer_after=2)
    first = people(1)[0]
    rig.campaign([first, LEAVES], [ann, bob])
    rig.log_in(ann, bob)
    rig.at(11, bob, pause("coffee"))
    rig.run(rig.engine("w1"))
    gone = rig.record_of(LEAVES)
    assert gone.stage is Stage.CALL_DROPPED
    assert gone.agent is not None
    assert gone.agent.bridged_at is None
    assert gone.ended_at is not None
    assert gone.ended_at < OPEN + 8 * S  # before the longest wait (5 s) ran out


# an agent's phone that drops mid-call


def test_a_dropped_agent_leaves_the_customer_to_another_agent(rig: AgentRig) -> None:
    ann = Agent("1001", talks=[Talk(10, BridgeEnd.AGENT_LEFT)])
    bob = Agent("1002", answer_after=2)
    number = people(1)[0]
    rig.campaign([number], [ann, bob])
    rig.log_in(ann, bob)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert [m for m, _ in rig.bridges] == ["1001", "1002"]
    assert record.stage is TRANSFERRED
    assert record.agent is not None
    assert record.agent.member == "1002"
    last = rig.changes(ann)[-1]
    assert (last.state, last.reason) == (AgentState.OFFLINE, agents.PHONE_DROPPED)


def test_a_dropped_agent_with_nobody_to_take_over_is_call_center_hung_up(rig: AgentRig) -> None:
    ann = Agent("1001", talks=[Talk(10, BridgeEnd.AGENT_LEFT)])
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.stage is Stage.CALL_CENTER_HUNG_UP
    assert record.agent is not None
    assert record.agent.member == "1001"
    assert record.agent.talk_ended_at == OPEN + 13 * S  # then no agent within 5 s


# the desk during and after a call


def test_a_pause_asked_during_a_call_comes_after_its_wrap_up(rig: AgentRig) -> None:
    ann = Agent("1001", talks=[Talk(desk=[pause("lunch")])])
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    states = [(c.state, c.reason) for c in rig.changes(ann)]
    assert states[1:6] == [
        (AgentState.READY, None),
        (AgentState.RESERVED, None),
        (AgentState.TALKING, None),
        (AgentState.WRAP_UP, None),
        (AgentState.PAUSED, "lunch"),
    ]
    record = rig.record_of(number)
    assert record.agent is not None
    assert record.agent.wrap_up_seconds == 15.0


def test_a_log_out_asked_during_a_call_hangs_up_the_phone_after_it(rig: AgentRig) -> None:
    ann = Agent("1001", talks=[Talk(desk=[lambda s, now: agents.logout(s, now)])])
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    last = rig.changes(ann)[-1]
    assert (last.state, last.reason) == (AgentState.OFFLINE, agents.LOGGED_OUT)
    assert last.at == OPEN + 48 * S  # after the 15 s wrap-up
    (leg,) = rig.phones[0].legs
    assert not leg.up
    assert rig.record_of(number).stage is TRANSFERRED


def test_ready_early_ends_the_wrap_up(rig: AgentRig) -> None:
    ann = Agent("1001", talks=[Talk(after=[(4, ready)])])
    number = people(1)[0]
    rig.campaign([number], [ann], AgentOptions(wrap_up=None))  # until the agent says ready
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.agent is not None
    assert record.agent.wrap_up_seconds == 4.0


def test_the_agents_disposition_is_the_calls_stage(rig: AgentRig) -> None:
    callback = OPEN + timedelta(hours=2)

    def call_back(session: AgentSession, now: datetime) -> AgentSession:
        wanted = Disposition(Stage.CALLER_REQUESTED_CALL_BACK, callback, same_agent=True)
        return agents.dispose(session, wanted, now)

    ann = Agent("1001", talks=[Talk(desk=[dispose(Stage.OPT_IN)]), Talk(desk=[call_back])])
    first, second = people(2)
    rig.campaign([first, second], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    assert rig.record_of(first).stage is Stage.OPT_IN
    asked = rig.record_of(second, attempt=1)  # the callback is attempt 2
    assert asked.stage is Stage.CALLER_REQUESTED_CALL_BACK
    assert asked.agent is not None
    assert (asked.agent.callback_at, asked.agent.callback_agent_id) == (callback, ann.id)


def test_the_disposition_is_kept_when_the_agent_takes_a_waiting_customer_at_once(
    rig: AgentRig,
) -> None:
    """Ready after wrap-up with a customer waiting: the agent is given them at once, and the
    call they left is still recorded with its disposition."""
    ann = Agent(
        "1001",
        talks=[Talk(5, desk=[dispose(Stage.OPT_IN)], after=[(1, ready)])],
        usual=Talk(5, after=[(1, ready)]),
    )
    bob = Agent("1002", answer_after=2)
    first, second = people(2)
    rig.campaign([first, second], [ann, bob], AgentOptions(wrap_up=None, max_wait=30 * S))
    rig.log_in(ann, bob)
    rig.at(11, bob, pause("coffee"))
    rig.run(rig.engine("w1"))
    records = {n: rig.record_of(n) for n in (first, second)}
    stages = sorted(r.stage.value for r in records.values())
    assert stages == [Stage.OPT_IN.value, TRANSFERRED.value]
    assert [m for m, _ in rig.bridges] == ["1001", "1001"]


def test_the_floor_keeps_each_calls_session_as_it_left_wrap_up(rig: AgentRig) -> None:
    """Whichever task runs first, a call reads the session as it left its own wrap-up, not
    the next reservation the floor may have made meanwhile."""
    engine = rig.engine("w1")
    session, _ = agents.adopted(
        AgentSession(1, rig.account.tenant.id, 4, "1001", "fake:1001", AgentState.OFFLINE,
                     START, START),
        "w1", START, START + 60 * S,
    )  # fmt: skip
    one = agents.Customer(CampaignId(1), DestinationId(1), 1, "+1", None, (), None, "", START)
    two = replace(one, destination_id=DestinationId(2))
    floor = engine.floor
    held = Held(session)
    floor._held[session.id] = held
    for step in (
        lambda s: agents.phone_answered(s, START),
        lambda s: agents.reserve(s, one, START),
        lambda s: agents.bridged(s, START),
        lambda s: (agents.dispose(s, Disposition(Stage.OPT_IN), START), None),
        lambda s: agents.call_over(s, START, None),
        lambda s: agents.ready(s, START + S),
        lambda s: agents.reserve(s, two, START + S),
    ):
        floor._set(held, step(held.session)[0])
    left = floor.after_call(session.id, one)
    assert left is not None
    assert (left.state, left.disposition) == (AgentState.READY, Disposition(Stage.OPT_IN))
    assert floor.after_call(session.id, one) is None  # read once
    assert floor.after_call(session.id, two) is None  # still in its call


def test_a_callback_for_the_same_agent_goes_to_that_agent(rig: AgentRig) -> None:
    callback = OPEN + timedelta(minutes=10)

    def call_back(session: AgentSession, now: datetime) -> AgentSession:
        wanted = Disposition(Stage.CALLER_REQUESTED_CALL_BACK, callback, same_agent=True)
        return agents.dispose(session, wanted, now)

    ann = Agent("1001", answer_after=1, talks=[Talk(desk=[call_back])])
    bob = Agent("1002", answer_after=2)
    rig.campaign(people(1), [ann, bob])
    rig.log_in(ann, bob)
    rig.run(rig.engine("w1"))
    # Bob has been ready longer when the callback is answered; Ann was asked for.
    assert rig.bridges == [("1001", OPEN + 3 * S), ("1001", callback + 3 * S)]


def test_the_agent_hangs_the_customer_up_from_the_desk(rig: AgentRig) -> None:
    hang_up = lambda s, now: agents.hang_up_customer(s)  # noqa: E731
    ann = Agent("1001", talks=[Talk(end=BridgeEnd.RELEASED, desk=[hang_up])])
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    record = rig.record_of(number)
    assert record.stage is TRANSFERRED
    assert record.cause == "normal clearing"  # the engine hung up, not the customer


def ready(session: AgentSession, now: datetime) -> Changed:
    return agents.ready(session, now)


def dispose(stage: Stage) -> DeskAct:
    def act(session: AgentSession, now: datetime) -> AgentSession:
        return agents.dispose(session, Disposition(stage), now)

    return act


# engines and their sessions


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        (Agent("1001", fails=True), agents.PHONE_FAILED),
        (Agent("1001", unreachable=True), agents.PHONE_FAILED),
        (Agent("1001", drop_after=5), agents.PHONE_DROPPED),
    ],
    ids=["never answers", "not placed", "hangs up while ready"],
)
def test_an_agent_whose_phone_fails_or_drops_goes_offline(
    rig: AgentRig, agent: Agent, reason: str
) -> None:
    number = people(1)[0]
    rig.campaign([number], [agent], finishTime="10:05")
    rig.log_in(agent)
    rig.run(rig.engine("w1"))
    last = rig.changes(agent)[-1]
    assert (last.state, last.reason) == (AgentState.OFFLINE, reason)
    assert not rig.events.of(AttemptStarted)  # nobody to dial for
    assert all(not leg.up for leg in rig.phones[0].legs)


def test_a_log_out_while_ready_hangs_up_the_phone_at_once(rig: AgentRig) -> None:
    ann = Agent("1001")
    rig.campaign(people(1), [ann], startTime="10:05")
    rig.log_in(ann)
    rig.at(5, ann, lambda s, now: agents.logout(s, now))
    rig.run(rig.engine("w1"))
    last = rig.changes(ann)[-1]
    assert (last.state, last.reason, last.at) == (
        AgentState.OFFLINE,
        agents.LOGGED_OUT,
        START + 5 * S,
    )
    (leg,) = rig.phones[0].legs
    assert not leg.up
    assert not rig.events.of(AttemptStarted)


def test_a_dead_engines_agents_are_adopted_after_its_lease(rig: AgentRig) -> None:
    ann = Agent("1001")
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    lease = START + 60 * S
    with rig.container.store.write() as session:
        repo = session.agent_sessions
        (held,) = repo.adopt_sessions("dead", START, lease, 10)
        answered, change = agents.phone_answered(held, START)
        assert repo.save_session(answered, change, held.version)
    rig.run(rig.engine("w1"))
    states = [(c.state, c.reason, c.at) for c in rig.changes(ann)]
    adopted = states.index((AgentState.PAUSED, agents.PHONE_CONNECTING, states[2][2]))
    assert adopted == 2
    assert states[2][2] >= lease  # adopted only once the dead engine's lease ran out
    assert states[3][0] is AgentState.READY
    ((member, bridged),) = rig.bridges
    assert member == "1001"
    assert bridged > lease


def test_a_stopping_engine_ends_its_calls_then_lets_its_agents_go(rig: AgentRig) -> None:
    ann = Agent("1001", usual=Talk(seconds=150))
    number = people(1)[0]
    rig.campaign([number], [ann])
    rig.log_in(ann)
    # The first engine is stopped mid-conversation; another runs on.
    rig.run_then_stop((rig.engine("w1"), 40), (rig.engine("w2"), 400))
    record = rig.record_of(number)
    assert record.agent is not None
    assert record.agent.talk_seconds == 150.0  # the customer was not cut off
    assert record.agent.wrap_up_ended_at is None  # nor kept waiting for the wrap-up
    (first,) = rig.phones[0].legs
    assert not first.up
    # The first engine kept its agent's lease through the call (60 s, renewed while it
    # drained), then let the session go: the other engine took it only then.
    let_go = [c for c in rig.changes(ann) if c.reason == agents.PHONE_CONNECTING][1]
    assert let_go.at == OPEN + 3 * S + 150 * S
    (second,) = rig.phones[1].legs
    assert let_go.at <= second.called_at < let_go.at + 30 * S


def test_two_engines_never_share_an_agent(rig: AgentRig) -> None:
    team = [Agent(f"10{n:02d}", answer_after=1 + n / 10) for n in range(4)]
    numbers = people(16)
    rig.campaign(numbers, team)
    # Two agents logged in with each engine (as if each had adopted them at its log-in).
    for worker, pair in (("w1", team[:2]), ("w2", team[2:])):
        rig.log_in(*pair)
        with rig.container.store.write() as session:
            session.agent_sessions.adopt_sessions(worker, START, START + 60 * S, 2)
    rig.run(rig.engine("w1"), rig.engine("w2"))
    called = [{leg.agent.member for leg in phones.legs} for phones in rig.phones]
    assert called == [{"1000", "1001"}, {"1002", "1003"}]
    # Both engines dialled for their own agents; a leg never had two customers at once.
    assert {m for m, _ in rig.bridges} == {"1000", "1001", "1002", "1003"}
    assert [rig.record_of(n).stage for n in numbers] == [TRANSFERRED] * 16


class Holding:
    """A customer on hold who never hangs up (the Call methods a waiting customer meets)."""

    async def gather(self, max_digits: int, timeout: timedelta) -> str | None:
        await asyncio.sleep(timeout.total_seconds())
        return ""


@pytest.mark.parametrize(("waiting", "queued"), [(1, True), (2, False)])
def test_no_more_customers_wait_than_the_strategys_maximum_callers(
    rig: AgentRig, waiting: int, queued: bool
) -> None:
    """MaximumCallers is the most customers waiting for an agent (the seed's "waiting calls in
    the queue"), met at the call: with MaximumCallers (2) waiting already, nobody more."""
    number = people(1)[0]
    campaign_id = rig.campaign([number], [Agent("1001")])
    with rig.container.store.write() as session:
        queue = session.agents.add_queue(rig.account.tenant.id, "sales", START)
        session.campaigns.set_strategy(campaign_id, Strategy(queue.id, 2, 2), START)
        campaign = session.campaigns.get_campaign(rig.account.tenant.id, campaign_id)
    assert campaign is not None
    engine = rig.engine("w1")
    calls = engine._runner.agents
    assert calls is not None
    job = DialJob(
        DestinationId(1), campaign_id, 1, number, number, None, (), None, None, False, 0, START
    )
    customer = customer_of(job, Answered(START, START, AnsweredBy.HUMAN))

    async def answer() -> AgentSession | None:
        for _ in range(waiting):
            engine.floor.queues.join(campaign_id)
        deadline = rig.timer.now() + 5 * S
        return await calls._agent_for(job, campaign, customer, Holding(), deadline)  # type: ignore[arg-type]

    assert rig.timer.run(answer()) is None  # no agent is logged in
    assert bool(rig.events.of(CustomerQueued)) is queued


def test_on_a_real_clock_the_floor_sees_the_desk_by_itself(tmp_path: Path) -> None:
    """Sped-up real time, and a desk that tells no engine: the floor's own 200 ms looks see
    the agent say ready after a wrap-up with no time limit, and the next customer follows."""
    timer = RealTimer(speed=20)
    rig = AgentRig(tmp_path, timer)
    rig.kick = False
    with rig.container.store.write() as session:  # whatever the hour the test runs at
        session.tenants.set_calling_hours(rig.account.tenant.id, "00:00", "23:59")
    ann = Agent("1001", usual=Talk(3, after=[(2, ready)]))
    numbers = people(2)
    today = timer.now().astimezone(LONDON).date()
    days = {"startTime": "00:00", "finishTime": "23:59"}
    rig.campaign(
        numbers,
        [ann],
        AgentOptions(wrap_up=None),
        startDate=today.isoformat(),
        **days,
        runoverDays=[{"date": (today + timedelta(days=1)).isoformat(), **days}],
    )
    rig.log_in(ann)
    rig.run(rig.engine("w1"), limit=30)
    for number in numbers:
        record = rig.record_of(number)
        assert record.stage is TRANSFERRED
        assert record.agent is not None
        assert record.agent.wrap_up_ended_at is not None


def test_on_the_plain_virtual_clock_waits_and_wrap_ups_still_take_their_time(
    tmp_path: Path,
) -> None:
    """The plain virtual clock moves only when the engine idles: a call waiting for a
    wrap-up's end or for an agent parks, and the engine moves the clock to the earliest."""
    rig = AgentRig(tmp_path, VirtualTimer(START))
    ann = Agent("1001", talks=[Talk(10), Talk(10, BridgeEnd.AGENT_LEFT)])
    first, second = people(2)
    rig.campaign([first, second], [ann], AgentOptions(wrap_up=20 * S, max_wait=4 * S))
    rig.log_in(ann)
    rig.run(rig.engine("w1"))
    served, dropped = rig.record_of(first), rig.record_of(second)
    assert served.stage is TRANSFERRED
    assert served.agent is not None
    assert served.agent.wrap_up_seconds == 20.0
    assert dropped.stage is Stage.CALL_CENTER_HUNG_UP  # nobody else within the 4 s
    assert rig.timer.now() >= OPEN + 20 * S

"""AgentSessionRepo: agents' sessions (compare-and-set writes with their change rows), the
engine's reservations and leases, the stored state changes, and agents' desk tokens."""

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.domain import agent_session
from dialer.domain.agent import Agent
from dialer.domain.agent_session import (
    AgentSession,
    AgentState,
    Customer,
    Disposition,
    Pending,
    StateChange,
)
from dialer.domain.codes import Stage
from dialer.domain.errors import NotFound
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.ports.store import Store
from tests.contract.support import REFUSED_BY_SCHEMA, T0, Account, account, campaign, together

LEASE = T0 + timedelta(seconds=30)


def agents(store: Store, acct: Account, count: int, *, first: int = 1001) -> list[Agent]:
    with store.write() as s:
        return [
            s.agents.add_agent(acct.tenant_id, str(first + i), f"Agent {i}", T0)
            for i in range(count)
        ]


def members(store: Store, cid: CampaignId, *team: Agent) -> None:
    with store.write() as s:
        s.agents.add_members(cid, [a.id for a in team], T0)


def log_in(store: Store, agent: Agent, now: datetime = T0) -> AgentSession:
    with store.write() as s:
        session = s.agent_sessions.open_session(agent.tenant_id, agent.id, "sim:agent", now)
    assert session is not None
    return session


def save(store: Store, changed: agent_session.Changed | AgentSession, read: AgentSession) -> bool:
    session, change = changed if isinstance(changed, tuple) else (changed, None)
    with store.write() as s:
        return s.agent_sessions.save_session(session, change, read.version)


def ready_on(
    store: Store, agent: Agent, at: datetime, worker: str = "w1", lease: datetime = LEASE
) -> AgentSession:
    """A session logged in, adopted by ``worker`` and answered at ``at``: ready since then."""
    log_in(store, agent, at)
    with store.write() as s:
        (held,) = [
            x
            for x in s.agent_sessions.adopt_sessions(worker, at, lease, 100)
            if x.agent_id == agent.id
        ]
    after, change = agent_session.phone_answered(held, at)
    assert save(store, (after, change), held)
    return after


def customer(cid: CampaignId, destination: int = 7, at: datetime = T0) -> Customer:
    return Customer(
        campaign_id=cid,
        destination_id=DestinationId(destination),
        attempt_number=2,
        number="+447700900123",
        name="Ann Customer",
        parameters=((1, "Dr Smith"), (9, "x")),
        custom_data='{"crm": 12}',
        keys="12",
        answered_at=at,
    )


def session_of(store: Store, session_id: int) -> AgentSession:
    with store.read() as s:
        found = s.agent_sessions.get_session(session_id)
    assert found is not None
    return found


def changes(store: Store, tenant_id: TenantId, **filters: object) -> list[StateChange]:
    with store.read() as s:
        return s.agent_sessions.state_changes(tenant_id, **filters)  # type: ignore[arg-type]


# sessions


def test_a_log_in_opens_a_session_waiting_for_the_phone_with_its_change(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    session = log_in(store, ann)
    assert (session.tenant_id, session.agent_id, session.member, session.phone) == (
        acme.tenant_id,
        ann.id,
        "1001",
        "sim:agent",
    )
    assert (session.state, session.reason, session.since, session.started_at) == (
        AgentState.PAUSED,
        agent_session.PHONE_CONNECTING,
        T0,
        T0,
    )
    assert (session.worker, session.lease_until, session.customer) == (None, None, None)
    assert session_of(store, session.id) == session
    with store.read() as s:
        assert s.agent_sessions.open_session_of(acme.tenant_id, ann.id) == session
    (change,) = changes(store, acme.tenant_id)
    assert change.id is not None
    assert dataclasses.replace(change, id=None) == StateChange(
        session.id, acme.tenant_id, ann.id, AgentState.PAUSED, T0, agent_session.PHONE_CONNECTING
    )


def test_an_agent_has_one_open_session_and_a_new_one_after_log_out(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    first = log_in(store, ann)
    with store.write() as s:
        assert s.agent_sessions.open_session(acme.tenant_id, ann.id, "sim:other", T0) is None
    assert len(changes(store, acme.tenant_id)) == 1
    later = T0 + timedelta(minutes=1)
    out = agent_session.logout(first, later)
    assert save(store, out, first)
    with store.read() as s:
        assert s.agent_sessions.open_session_of(acme.tenant_id, ann.id) is None
    second = log_in(store, ann, later)
    assert second.id != first.id
    assert session_of(store, first.id).state is AgentState.OFFLINE


def test_log_ins_at_once_open_one_session(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)

    def open_one(_: int) -> list[int]:
        with store.write() as s:
            opened = s.agent_sessions.open_session(acme.tenant_id, ann.id, "sim:agent", T0)
        return [] if opened is None else [opened.id]

    opened = [i for got in together(4, open_one) for i in got]
    assert len(opened) == 1
    assert len(changes(store, acme.tenant_id)) == 1


def test_another_tenants_agent_gets_no_session(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    (ann,) = agents(store, acme, 1)
    session = log_in(store, ann)
    with pytest.raises(NotFound), store.write() as s:
        s.agent_sessions.open_session(globex.tenant_id, ann.id, "sim:agent", T0)
    with store.read() as s:
        assert s.agent_sessions.open_session_of(globex.tenant_id, ann.id) is None
        assert s.agent_sessions.tenant_sessions(globex.tenant_id) == []
        assert s.agent_sessions.state_changes(globex.tenant_id) == []
    forged = dataclasses.replace(session, tenant_id=globex.tenant_id, phone="sim:x", version=1)
    with store.write() as s:
        assert not s.agent_sessions.save_session(forged, None, session.version)
    assert session_of(store, session.id) == session


def test_every_field_of_a_session_reads_back(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    (ann,) = agents(store, acme, 1)
    opened = log_in(store, ann)
    london = ZoneInfo("Europe/London")
    full = dataclasses.replace(
        opened,
        phone="sip:1001@192.0.2.10",
        state=AgentState.WRAP_UP,
        since=T0 + timedelta(seconds=90, microseconds=5),
        reason="why",
        pending=Pending.PAUSE,
        pending_reason="lunch",
        customer=dataclasses.replace(
            customer(cid), bridged_at=(T0 + timedelta(seconds=3)).astimezone(london)
        ),
        disposition=Disposition(
            Stage.CALLER_REQUESTED_CALL_BACK, T0 + timedelta(days=1), same_agent=True
        ),
        wrap_up_until=T0 + timedelta(seconds=105),
        release_requested=True,
        ready_since=T0 + timedelta(seconds=1),
        worker="w9",
        lease_until=LEASE,
        version=opened.version + 1,
    )
    assert save(store, full, opened)
    stored = session_of(store, opened.id)
    assert stored == full
    assert stored.customer is not None
    assert stored.customer.bridged_at is not None
    assert stored.customer.bridged_at.utcoffset() == timedelta(0)
    plain = dataclasses.replace(
        stored,
        customer=None,
        disposition=Disposition(Stage.CORRECT_CALLEE),
        pending=None,
        pending_reason=None,
        version=stored.version + 1,
    )
    assert save(store, plain, stored)
    assert session_of(store, opened.id) == plain


def test_a_stale_write_loses_and_changes_nothing(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    session = ready_on(store, ann, T0)
    paused = agent_session.pause(session, "lunch", T0 + timedelta(minutes=1))
    assert save(store, paused, session)  # the desk wins
    before = session_of(store, session.id)
    count = len(changes(store, acme.tenant_id))
    gone = agent_session.phone_gone(session, T0 + timedelta(minutes=2))  # decided on the old read
    assert not save(store, gone, session)
    assert session_of(store, session.id) == before
    assert len(changes(store, acme.tenant_id)) == count
    assert before.state is AgentState.PAUSED
    assert before.reason == "lunch"


def test_a_failed_transaction_keeps_neither_the_session_nor_its_change(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    session = log_in(store, ann)
    logged_out = agent_session.logout(session, T0 + timedelta(seconds=1))
    assert isinstance(logged_out, tuple)
    out, change = logged_out

    def save_then_fail() -> None:
        with store.write() as s:
            assert s.agent_sessions.save_session(out, change, session.version)
            raise RuntimeError("the caller failed after the write")

    with pytest.raises(RuntimeError, match="caller failed"):
        save_then_fail()
    assert session_of(store, session.id) == session
    assert len(changes(store, acme.tenant_id)) == 1


def test_a_save_must_move_the_version_on(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    session = log_in(store, ann)
    with pytest.raises(ValueError, match="version above"), store.write() as s:
        s.agent_sessions.save_session(session, None, session.version)


def test_a_second_open_session_of_an_agent_is_refused_by_the_schema(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    first = log_in(store, ann)
    assert save(store, agent_session.logout(first, T0), first)
    closed = session_of(store, first.id)
    log_in(store, ann)
    reopened = agent_session.move(closed, AgentState.PAUSED, T0, "again")
    with pytest.raises(REFUSED_BY_SCHEMA):
        save(store, reopened, closed)


# state changes


def _history(store: Store) -> tuple[Account, Agent, Agent, list[StateChange]]:
    acme = account(store)
    ann, bob = agents(store, acme, 2)
    ready_on(store, ann, T0)
    ready_on(store, bob, T0 + timedelta(minutes=1))
    with store.read() as s:
        ann_session = s.agent_sessions.open_session_of(acme.tenant_id, ann.id)
    assert ann_session is not None
    assert save(
        store, agent_session.pause(ann_session, "break", T0 + timedelta(hours=1)), ann_session
    )
    return acme, ann, bob, changes(store, acme.tenant_id)


def test_change_ids_grow_and_filters_pick_agent_after_time_and_limit(store: Store) -> None:
    acme, ann, bob, every = _history(store)
    ids = [c.id or 0 for c in every]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids) == 5
    assert [(c.agent_id, c.state) for c in every] == [
        (ann.id, AgentState.PAUSED),
        (ann.id, AgentState.READY),
        (bob.id, AgentState.PAUSED),
        (bob.id, AgentState.READY),
        (ann.id, AgentState.PAUSED),
    ]
    assert every[-1].reason == "break"
    assert every[-1].at == T0 + timedelta(hours=1)
    assert changes(store, acme.tenant_id, agent_id=bob.id) == every[2:4]
    assert changes(store, acme.tenant_id, after_id=ids[1]) == every[2:]
    assert changes(store, acme.tenant_id, agent_id=ann.id, after_id=ids[1]) == [every[4]]
    assert changes(store, acme.tenant_id, limit=2) == every[:2]
    assert changes(store, acme.tenant_id, limit=0) == []
    minute = T0 + timedelta(minutes=1)
    assert changes(store, acme.tenant_id, since=minute) == every[2:]
    assert changes(store, acme.tenant_id, until=minute) == every[:2]
    assert changes(store, acme.tenant_id, since=minute, until=T0 + timedelta(hours=1)) == every[2:4]


def test_a_report_starts_from_each_agents_last_change_before_it(store: Store) -> None:
    acme, ann, bob, every = _history(store)

    def last(before: datetime) -> list[StateChange]:
        with store.read() as s:
            return s.agent_sessions.last_changes_before(acme.tenant_id, before)

    assert last(T0) == []
    assert last(T0 + timedelta(seconds=30)) == [every[1]]  # ann's ready; bob not logged in yet
    assert last(T0 + timedelta(minutes=2)) == [every[1], every[3]]
    assert last(T0 + timedelta(hours=2)) == [every[4], every[3]]
    assert [c.agent_id for c in last(T0 + timedelta(hours=2))] == [ann.id, bob.id]


def test_another_tenant_sees_none_of_the_changes(store: Store) -> None:
    _, ann, _, _ = _history(store)
    globex = account(store, "Globex")
    assert changes(store, globex.tenant_id) == []
    assert changes(store, globex.tenant_id, agent_id=ann.id) == []
    with store.read() as s:
        assert s.agent_sessions.last_changes_before(globex.tenant_id, T0 + timedelta(days=1)) == []


def test_a_reservation_records_the_call_on_its_change(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    (ann,) = agents(store, acme, 1)
    members(store, cid, ann)
    ready_on(store, ann, T0)
    with store.write() as s:
        reserved = s.agent_sessions.reserve_agent(cid, "w1", customer(cid), T0 + timedelta(1))
    assert reserved is not None
    last = changes(store, acme.tenant_id)[-1]
    assert (last.state, last.campaign_id, last.destination_id, last.attempt_number) == (
        AgentState.RESERVED,
        cid,
        7,
        2,
    )


# reservations


def _floor(store: Store, ready: int = 3) -> tuple[Account, CampaignId, list[Agent]]:
    """A campaign whose ``ready`` members became ready one minute apart, on w1, in reverse
    order of agent id (so longest-ready is not lowest id)."""
    acme = account(store)
    cid = campaign(store, acme)
    team = agents(store, acme, ready)
    members(store, cid, *team)
    for i, agent in enumerate(reversed(team)):
        ready_on(store, agent, T0 + timedelta(minutes=i))
    return acme, cid, team


def reserve(
    store: Store,
    cid: CampaignId,
    worker: str = "w1",
    prefer: int | None = None,
    now: datetime = T0 + timedelta(hours=1),
) -> AgentSession | None:
    with store.write() as s:
        return s.agent_sessions.reserve_agent(cid, worker, customer(cid), now, prefer)


def test_the_longest_ready_agent_is_reserved_first(store: Store) -> None:
    _, cid, team = _floor(store)
    now = T0 + timedelta(hours=1)
    got = [reserve(store, cid) for _ in range(4)]
    assert [s.agent_id if s else None for s in got] == [team[2].id, team[1].id, team[0].id, None]
    first = got[0]
    assert first is not None
    assert (first.state, first.since, first.customer, first.ready_since) == (
        AgentState.RESERVED,
        now,
        customer(cid),
        None,
    )
    assert session_of(store, first.id) == first


def test_only_members_of_the_campaign_are_reserved(store: Store) -> None:
    acme, cid, team = _floor(store, ready=1)
    other = campaign(store, acme)
    (outsider,) = agents(store, acme, 1, first=2001)
    members(store, other, outsider)
    ready_on(store, outsider, T0 - timedelta(hours=1))  # longest ready, but not a member
    got = reserve(store, cid)
    assert got is not None
    assert got.agent_id == team[0].id
    assert reserve(store, cid) is None


def test_only_the_workers_own_agents_are_reserved(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    ann, bob = agents(store, acme, 2)
    members(store, cid, ann, bob)
    ready_on(store, ann, T0, worker="w1")
    ready_on(store, bob, T0 - timedelta(minutes=5), worker="w2")
    one = reserve(store, cid, worker="w1")
    assert one is not None
    assert one.agent_id == ann.id
    assert reserve(store, cid, worker="w1") is None
    two = reserve(store, cid, worker="w2")
    assert two is not None
    assert two.agent_id == bob.id


def test_paused_and_busy_agents_are_not_reserved(store: Store) -> None:
    _, cid, team = _floor(store, ready=2)
    with store.read() as s:
        longest = s.agent_sessions.open_session_of(team[1].tenant_id, team[1].id)
    assert longest is not None
    assert save(store, agent_session.pause(longest, "coffee", T0 + timedelta(minutes=5)), longest)
    got = reserve(store, cid)
    assert got is not None
    assert got.agent_id == team[0].id
    assert reserve(store, cid) is None


def test_the_preferred_agent_comes_first_when_it_qualifies(store: Store) -> None:
    acme, cid, team = _floor(store)
    got = reserve(store, cid, prefer=team[0].id)  # the most recently ready
    assert got is not None
    assert got.agent_id == team[0].id
    again = reserve(store, cid, prefer=team[0].id)  # now busy: the longest-ready instead
    assert again is not None
    assert again.agent_id == team[2].id
    (outsider,) = agents(store, acme, 1, first=3001)
    ready_on(store, outsider, T0)
    third = reserve(store, cid, prefer=outsider.id)  # not a member
    assert third is not None
    assert third.agent_id == team[1].id


def test_another_tenants_campaign_reserves_none_of_these_agents(store: Store) -> None:
    _, cid, team = _floor(store, ready=1)
    globex = account(store, "Globex")
    theirs = campaign(store, globex)
    with store.write() as s:  # a membership across tenants the services never write
        s.agents.add_members(theirs, [team[0].id], T0)
    assert reserve(store, theirs) is None
    assert reserve(store, CampaignId(424242)) is None
    assert reserve(store, cid) is not None


def test_ready_agents_are_counted_per_campaign_for_their_worker(store: Store) -> None:
    acme, cid, team = _floor(store, ready=3)
    other = campaign(store, acme)
    members(store, other, team[0])
    (elsewhere,) = agents(store, acme, 1, first=4001)
    members(store, cid, elsewhere)
    ready_on(store, elsewhere, T0, worker="w2")
    with store.read() as s:
        assert s.agent_sessions.ready_agents("w1") == {cid: 3, other: 1}
        assert s.agent_sessions.ready_agents("w2") == {cid: 1}
        assert s.agent_sessions.ready_agents("w3") == {}
    reserve(store, cid)
    with store.read() as s:
        assert s.agent_sessions.ready_agents("w1") == {cid: 2, other: 1}


def test_ready_sessions_count_an_agent_of_several_campaigns_once(store: Store) -> None:
    acme, cid, team = _floor(store, ready=3)
    other = campaign(store, acme)
    members(store, other, team[0])
    (elsewhere,) = agents(store, acme, 1, first=4001)
    members(store, cid, elsewhere)
    ready_on(store, elsewhere, T0, worker="w2")
    with store.read() as s:
        assert s.agent_sessions.ready_sessions("w1") == 3  # not 4: team[0] is in both
        assert s.agent_sessions.ready_sessions("w2") == 1
        assert s.agent_sessions.ready_sessions("w3") == 0
    reserve(store, cid)
    with store.read() as s:
        assert s.agent_sessions.ready_sessions("w1") == 2


def test_reservations_at_once_never_share_an_agent(store: Store) -> None:
    _, cid, team = _floor(store, ready=12)

    def engine(_: int) -> list[int]:
        taken: list[int] = []
        while (got := reserve(store, cid)) is not None:
            taken.append(got.agent_id)
        return taken

    reserved = [a for taken in together(3, engine) for a in taken]
    assert sorted(reserved) == sorted(a.id for a in team)


# leases


def test_a_new_session_is_adopted_once_and_its_version_moves_on(store: Store) -> None:
    acme = account(store)
    ann, bob = agents(store, acme, 2)
    first, second = log_in(store, ann), log_in(store, bob)
    with store.write() as s:
        adopted = s.agent_sessions.adopt_sessions("w1", T0, LEASE, 1)
    assert [x.id for x in adopted] == [first.id]
    assert adopted[0] == dataclasses.replace(
        first, worker="w1", lease_until=LEASE, version=first.version + 1
    )
    with store.write() as s:
        assert [x.id for x in s.agent_sessions.adopt_sessions("w2", T0, LEASE, 10)] == [second.id]
        assert s.agent_sessions.adopt_sessions("w3", T0, LEASE, 10) == []
        assert [x.id for x in s.agent_sessions.worker_sessions("w1")] == [first.id]
    # The desk's copy from before the adoption is stale.
    assert not save(store, agent_session.logout(first, T0), first)


def test_a_session_whose_lease_ran_out_is_adopted_by_another_engine(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    held = ready_on(store, ann, T0, worker="w1", lease=LEASE)
    with store.write() as s:
        assert s.agent_sessions.adopt_sessions("w2", LEASE, LEASE + timedelta(30), 10) == []
        assert s.agent_sessions.adopt_sessions("w1", LEASE + timedelta(1), LEASE, 10) == []
    later = LEASE + timedelta(seconds=1)
    with store.write() as s:
        (taken,) = s.agent_sessions.adopt_sessions("w2", later, later + timedelta(seconds=30), 10)
        assert s.agent_sessions.renew_sessions("w1", later + timedelta(minutes=1)) == 0
        assert s.agent_sessions.worker_sessions("w1") == []
    assert (taken.worker, taken.state, taken.version) == ("w2", AgentState.READY, held.version + 1)


def test_new_log_ins_are_adopted_first_then_the_longest_expired(store: Store) -> None:
    acme = account(store)
    ann, bob, cy = agents(store, acme, 3)
    early = ready_on(store, ann, T0, worker="w1", lease=LEASE + timedelta(seconds=5))
    late = ready_on(store, bob, T0, worker="w1", lease=LEASE)
    fresh = log_in(store, cy)
    after = LEASE + timedelta(minutes=1)
    order = []
    for _ in range(4):
        with store.write() as s:
            order += [x.id for x in s.agent_sessions.adopt_sessions("w2", after, after, 1)]
    assert order == [fresh.id, late.id, early.id]


def test_renewal_keeps_an_engines_sessions_and_survives_a_desk_write(store: Store) -> None:
    acme = account(store)
    ann, bob = agents(store, acme, 2)
    held = ready_on(store, ann, T0)
    ready_on(store, bob, T0)
    renewed = LEASE + timedelta(minutes=1)
    with store.write() as s:
        assert s.agent_sessions.renew_sessions("w1", renewed) == 2
        assert s.agent_sessions.renew_sessions("w2", renewed) == 0
    stored = session_of(store, held.id)
    assert (stored.lease_until, stored.version) == (renewed, held.version)
    # The desk decides on a copy read before the renewal; its write keeps the renewed lease.
    assert save(store, agent_session.pause(held, "lunch", T0 + timedelta(minutes=2)), held)
    assert session_of(store, held.id).lease_until == renewed
    with store.write() as s:
        assert (
            s.agent_sessions.adopt_sessions("w2", LEASE + timedelta(seconds=1), renewed, 10) == []
        )


def test_an_engine_lets_go_of_a_session_for_another_to_adopt(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    held = ready_on(store, ann, T0)
    let_go = dataclasses.replace(held, worker=None, lease_until=None, version=held.version + 1)
    assert save(store, let_go, held)
    assert session_of(store, held.id).lease_until is None
    with store.write() as s:
        (taken,) = s.agent_sessions.adopt_sessions("w2", T0, LEASE, 10)
    assert taken.worker == "w2"


def test_offline_sessions_are_neither_adopted_nor_held(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    held = ready_on(store, ann, T0)
    assert save(store, agent_session.logout(held, T0 + timedelta(seconds=5)), held)
    with store.write() as s:
        assert s.agent_sessions.worker_sessions("w1") == []
        assert s.agent_sessions.renew_sessions("w1", LEASE) == 0
        assert s.agent_sessions.adopt_sessions("w2", LEASE + timedelta(hours=1), LEASE, 10) == []


def test_engines_adopting_at_once_take_each_session_once(store: Store) -> None:
    acme = account(store)
    team = agents(store, acme, 12)
    for agent in team:
        log_in(store, agent)

    def engine(i: int) -> list[int]:
        taken: list[int] = []
        while True:
            with store.write() as s:
                got = s.agent_sessions.adopt_sessions(f"w{i}", T0, LEASE, 2)
            if not got:
                return taken
            taken += [x.agent_id for x in got]

    adopted = [a for taken in together(3, engine) for a in taken]
    assert sorted(adopted) == sorted(a.id for a in team)


def test_the_supervisor_sees_each_agents_open_or_last_session(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    ann, bob, cy = agents(store, acme, 3)
    (theirs,) = agents(store, globex, 1)
    old = log_in(store, ann)
    assert save(store, agent_session.logout(old, T0 + timedelta(1)), old)
    current = log_in(store, ann, T0 + timedelta(2))
    bobs = log_in(store, bob)
    assert save(store, agent_session.logout(bobs, T0 + timedelta(3)), bobs)
    log_in(store, theirs)
    with store.read() as s:
        seen = s.agent_sessions.tenant_sessions(acme.tenant_id)
    assert [(x.agent_id, x.id) for x in seen] == [(ann.id, current.id), (bob.id, bobs.id)]
    assert seen[1].state is AgentState.OFFLINE
    assert cy.id not in {x.agent_id for x in seen}
    assert seen[0].member == ann.member


# desk tokens


def test_a_token_finds_its_agent_until_revoked(store: Store) -> None:
    acme = account(store)
    ann, bob = agents(store, acme, 2)
    with store.write() as s:
        one = s.agent_sessions.add_agent_token(acme.tenant_id, ann.id, "hash-1", T0)
        two = s.agent_sessions.add_agent_token(acme.tenant_id, ann.id, "hash-2", T0)
        s.agent_sessions.add_agent_token(acme.tenant_id, bob.id, "hash-3", T0)
    assert one != two
    with store.read() as s:
        assert s.agent_sessions.agent_by_token("hash-1") == (acme.tenant_id, ann)
        assert s.agent_sessions.agent_by_token("hash-3") == (acme.tenant_id, bob)
        assert s.agent_sessions.agent_by_token("nothing") is None
    with store.write() as s:
        assert s.agent_sessions.revoke_agent_token(acme.tenant_id, ann.id, one, T0) == 1
        assert s.agent_sessions.revoke_agent_token(acme.tenant_id, ann.id, one, T0) == 0
        assert s.agent_sessions.revoke_agent_token(acme.tenant_id, bob.id, two, T0) == 0
    with store.read() as s:
        assert s.agent_sessions.agent_by_token("hash-1") is None
        assert s.agent_sessions.agent_by_token("hash-2") == (acme.tenant_id, ann)
    with store.write() as s:
        assert s.agent_sessions.revoke_agent_token(acme.tenant_id, ann.id, None, T0) == 1
    with store.read() as s:
        assert s.agent_sessions.agent_by_token("hash-2") is None
        assert s.agent_sessions.agent_by_token("hash-3") == (acme.tenant_id, bob)


def test_tokens_of_another_tenants_agent_are_refused(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    (ann,) = agents(store, acme, 1)
    with store.write() as s:
        s.agent_sessions.add_agent_token(acme.tenant_id, ann.id, "hash-1", T0)
    with pytest.raises(NotFound), store.write() as s:
        s.agent_sessions.add_agent_token(globex.tenant_id, ann.id, "hash-2", T0)
    with store.write() as s:
        assert s.agent_sessions.revoke_agent_token(globex.tenant_id, ann.id, None, T0) == 0
    with store.read() as s:
        assert s.agent_sessions.agent_by_token("hash-2") is None
        assert s.agent_sessions.agent_by_token("hash-1") == (acme.tenant_id, ann)


def test_a_token_hash_is_unique(store: Store) -> None:
    acme = account(store)
    ann, bob = agents(store, acme, 2)
    with store.write() as s:
        s.agent_sessions.add_agent_token(acme.tenant_id, ann.id, "hash-1", T0)
    with pytest.raises(REFUSED_BY_SCHEMA), store.write() as s:
        s.agent_sessions.add_agent_token(acme.tenant_id, bob.id, "hash-1", T0)
    with store.read() as s:
        assert s.agent_sessions.agent_by_token("hash-1") == (acme.tenant_id, ann)


def test_a_deleted_agent_takes_its_sessions_changes_and_tokens(store: Store) -> None:
    acme = account(store)
    ann, bob = agents(store, acme, 2)
    session = ready_on(store, ann, T0)
    ready_on(store, bob, T0)
    with store.write() as s:
        s.agent_sessions.add_agent_token(acme.tenant_id, ann.id, "hash-1", T0)
        assert s.catalog.delete_catalog_entry(acme.tenant_id, "agent", ann.id)
    with store.read() as s:
        assert s.agent_sessions.get_session(session.id) is None
        assert s.agent_sessions.agent_by_token("hash-1") is None
        assert {c.agent_id for c in s.agent_sessions.state_changes(acme.tenant_id)} == {bob.id}
        assert [x.agent_id for x in s.agent_sessions.tenant_sessions(acme.tenant_id)] == [bob.id]


def test_naive_instants_are_refused(store: Store) -> None:
    acme = account(store)
    (ann,) = agents(store, acme, 1)
    naive = datetime(2025, 9, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"), store.write() as s:
        s.agent_sessions.open_session(acme.tenant_id, ann.id, "sim:a", naive)
    with store.read() as s:
        assert s.agent_sessions.open_session_of(acme.tenant_id, ann.id) is None

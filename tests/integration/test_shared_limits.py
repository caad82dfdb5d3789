"""The claim keeps the limits every engine shares, on SQLite and PostgreSQL.

Several "engines" here are worker names claiming from one store, in turn and, on PostgreSQL,
at once from threads with connections of their own: the campaign's calls in flight and the
one-second windows of the campaign, tenant and trunk hold whoever claims.
"""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from dialer.domain.agent import Strategy
from dialer.domain.attempt import FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.dialling import not_dialled
from dialer.domain.ids import CampaignId, TenantId
from dialer.domain.limits import Claimed, ClaimLimits, claim_limits
from dialer.ports import Store
from tests.integration.engine_support import Rig, drama

NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


def limits(campaign: int, in_flight: int = 4, rate: float | None = None) -> ClaimLimits:
    return claim_limits(CampaignId(campaign), TenantId(1), in_flight, rate)


def claim(
    store: Store, campaign: int, worker: str, want: int, rules: ClaimLimits, now: datetime = NOW
) -> Claimed:
    with store.write() as session:
        return session.queue.claim_limited(
            CampaignId(campaign), now, want, worker, now + LEASE, None, rules
        )


def test_a_campaigns_calls_in_flight_count_every_engines_leases(rig: Rig) -> None:
    campaign = rig.campaign([drama(n) for n in range(10)])
    store = rig.container.store
    first = claim(store, campaign, "a", 3, limits(campaign))
    second = claim(store, campaign, "b", 5, limits(campaign))
    third = claim(store, campaign, "c", 5, limits(campaign))
    assert (len(first.jobs), len(second.jobs), len(third.jobs)) == (3, 1, 0)
    assert (first.capped, third.capped, third.paced_until) == (False, True, None)


def test_expired_leases_stop_counting_before_anyone_recovers_them(rig: Rig) -> None:
    campaign = rig.campaign([drama(n) for n in range(10)])
    store = rig.container.store
    assert len(claim(store, campaign, "killed", 4, limits(campaign)).jobs) == 4
    assert claim(store, campaign, "b", 4, limits(campaign), NOW + LEASE).capped
    later = claim(store, campaign, "b", 4, limits(campaign), NOW + LEASE + timedelta(seconds=1))
    assert len(later.jobs) == 4
    # The killed engine's rows are still there, unrecovered; only their leases ran out.
    progress = rig.container.campaigns.get(rig.account.tenant, campaign).progress
    assert progress is not None
    assert progress.in_flight == 8


def test_released_and_recorded_calls_free_their_lines_at_once(rig: Rig) -> None:
    campaign = rig.campaign([drama(n) for n in range(10)])
    store = rig.container.store
    jobs = claim(store, campaign, "a", 4, limits(campaign)).jobs
    with store.write() as session:
        session.queue.release([(jobs[0], NOW + timedelta(hours=1))], "a")
        record = not_dialled(jobs[1], Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED, NOW)
        done = FinishedAttempt(record, jobs[1].campaign_id, TenantId(1), jobs[1].priority, None)
        assert len(session.queue.finish_attempts([done], "a", NOW)) == 1
    assert len(claim(store, campaign, "b", 4, limits(campaign)).jobs) == 2


def test_a_rate_is_shared_by_the_campaigns_and_engines_that_name_it(rig: Rig) -> None:
    one = rig.campaign([drama(n) for n in range(10)])
    two = rig.campaign([drama(n) for n in range(10, 20)])
    store = rig.container.store
    tenant = TenantId(rig.account.tenant)

    def rules(campaign: int) -> ClaimLimits:
        return claim_limits(CampaignId(campaign), tenant, 100, 100.0, 5.0, ("carrier", 50.0))

    assert len(claim(store, one, "a", 3, rules(one)).jobs) == 3
    half = NOW + timedelta(milliseconds=500)
    assert len(claim(store, two, "b", 9, rules(two), half).jobs) == 2
    spent = claim(store, one, "c", 9, rules(one), NOW + timedelta(milliseconds=900))
    # The first claim leaves the tenant's window one second after it was made.
    assert (spent.jobs, spent.capped, spent.paced_until) == ([], False, NOW + timedelta(seconds=1))
    assert len(claim(store, one, "c", 9, rules(one), NOW + timedelta(seconds=1)).jobs) == 3
    assert claim(store, two, "a", 9, rules(two), NOW + timedelta(seconds=1)).jobs == []
    assert len(claim(store, two, "a", 9, rules(two), half + timedelta(seconds=1)).jobs) == 2


def test_claims_at_the_same_moment_from_many_engines_keep_the_limits(rig: Rig) -> None:
    """Sixteen threads, each its own connection (PostgreSQL) or turn (SQLite), claim at once:
    without the lock, every claim counted the leases committed before any of them."""
    capped = rig.campaign([drama(n) for n in range(40)])
    paced = rig.campaign([drama(n) for n in range(40, 80)])
    store = rig.container.store
    start = threading.Barrier(16)
    taken: dict[int, list[int]] = {capped: [], paced: []}
    errors: list[Exception] = []

    def engine(n: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(3):
                got = claim(store, capped, f"w{n}", 2, limits(capped, in_flight=5))
                taken[capped].append(len(got.jobs))
                got = claim(store, paced, f"w{n}", 2, limits(paced, 100, rate=7))
                taken[paced].append(len(got.jobs))
        except Exception as exc:  # noqa: BLE001 (reported below, failing the test)
            errors.append(exc)

    threads = [threading.Thread(target=engine, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert (sum(taken[capped]), sum(taken[paced])) == (5, 7)


def test_a_claim_stamped_before_the_newest_in_its_window_waits_for_a_fresh_clock(
    rig: Rig,
) -> None:
    """Engine b read its clock at 1.3 s, then claimed after engine a's claim at 1.5 s: taking
    two calls at 1.3 s would put four into [0.45 s, 1.45 s), whose claim at 0.45 s a pruned."""
    campaign = rig.campaign([drama(n) for n in range(20)])
    store = rig.container.store
    rules = limits(campaign, 100, rate=3)
    assert len(claim(store, campaign, "w", 2, rules, NOW + timedelta(seconds=0.45)).jobs) == 2
    assert len(claim(store, campaign, "a", 1, rules, NOW + timedelta(seconds=1.5)).jobs) == 1
    late = claim(store, campaign, "b", 3, rules, NOW + timedelta(seconds=1.3))
    assert (late.jobs, late.paced_until) == ([], NOW + timedelta(seconds=1.5))


def test_windows_no_claim_is_in_any_more_are_swept_and_made_again(rig: Rig) -> None:
    campaign = rig.campaign([drama(n) for n in range(10)])
    store = rig.container.store
    rules = limits(campaign, 100, rate=2)
    assert len(claim(store, campaign, "a", 5, rules).jobs) == 2
    with store.write() as session:
        assert session.queue.forget_spent_windows(NOW + timedelta(milliseconds=999)) == 0
    assert claim(store, campaign, "a", 5, rules, NOW + timedelta(milliseconds=999)).jobs == []
    with store.write() as session:
        assert session.queue.forget_spent_windows(NOW + timedelta(seconds=2)) == 1
    assert len(claim(store, campaign, "a", 5, rules, NOW + timedelta(seconds=2)).jobs) == 2


def test_an_engine_keeps_maximum_callers_counting_another_engines_leases(rig: Rig) -> None:
    """The campaign's MaximumCallers (3) wins over --campaign-max-calls (100), and another
    engine's call counts against it until that engine's lease runs out."""
    campaign = CampaignId(rig.campaign([drama(n) for n in range(20, 40)]))
    store = rig.container.store
    queue = rig.container.catalog.add_queue(rig.account.tenant, "Sales")
    other_until = datetime(2025, 10, 1, 8, 30, tzinfo=UTC)  # half an hour into the window
    with store.write() as session:
        session.campaigns.set_strategy(campaign, Strategy(queue.id, 3, 2), rig.timer.now())
        [held] = session.queue.claim(campaign, rig.timer.now(), 1, "other", other_until)
    runtime = rig.engine(campaign_max_in_flight=100)
    mine = runtime.engine.worker
    samples: list[tuple[datetime, int, int]] = []

    def leases() -> tuple[int, int]:
        with store.read() as session:
            rows = session._conn.execute(
                "SELECT worker, count(*) FROM in_flight WHERE campaign_id = %s GROUP BY worker",
                (campaign,),
            )
        by_worker = {worker: int(n) for worker, n in rows}
        return by_worker.get(mine, 0), sum(by_worker.values())

    async def scenario() -> None:
        engine = asyncio.create_task(runtime.engine.run_until_done())
        while not engine.done():
            await asyncio.sleep(0)
            samples.append((rig.timer.now(), *leases()))
        await engine

    asyncio.run(asyncio.wait_for(scenario(), 120))
    while_held = [own for now, own, _ in samples if now < other_until]
    assert max(while_held) == 2, "the other engine's call did not count, or nothing was dialled"
    assert max(total for _, _, total in samples) == 3
    # The other engine never came back: its call was recorded as a lost lease.
    first = rig.attempts(campaign)[held.e164 or ""][0]
    assert "lease" in (first.cause or "")

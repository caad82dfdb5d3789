"""QueueRepo.claim_limited: the limits every engine shares, kept alike by every store
(storage/sql_limits.py, storage/memory/limits.py; the rules in dialer.domain.limits)."""

from datetime import datetime, timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.limits import Claimed, claim_limits
from dialer.ports.store import Store
from tests.contract.support import LEASE, T0, Account, account, campaign, numbers, together


def take(
    store: Store,
    acct: Account,
    cid: CampaignId,
    want: int,
    *,
    worker: str = "w1",
    now: datetime = T0,
    in_flight: int = 4,
    rate: float | None = None,
    tenant_rate: float | None = None,
) -> Claimed:
    rules = claim_limits(cid, acct.tenant_id, in_flight, rate, tenant_rate)
    with store.write() as s:
        return s.queue.claim_limited(cid, now, want, worker, now + (LEASE - T0), None, rules)


def test_a_campaigns_live_leases_count_whoever_holds_them(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(10))
    assert len(take(store, acme, cid, 3, worker="a").jobs) == 3
    assert len(take(store, acme, cid, 3, worker="b").jobs) == 1
    capped = take(store, acme, cid, 3, worker="c")
    assert (capped.jobs, capped.capped, capped.paced_until) == ([], True, None)
    # Once their leases have run out, they no longer count.
    later = LEASE + timedelta(seconds=1)
    assert len(take(store, acme, cid, 9, worker="c", now=later).jobs) == 4


def test_a_tenants_window_holds_over_its_campaigns_and_frees_in_claim_order(
    store: Store,
) -> None:
    acme = account(store)
    one, two = campaign(store, acme, numbers(10)), campaign(store, acme, numbers(10, 10))
    half = T0 + timedelta(milliseconds=500)
    assert len(take(store, acme, one, 2, in_flight=100, rate=10, tenant_rate=3).jobs) == 2
    assert len(take(store, acme, two, 5, now=half, in_flight=100, rate=10, tenant_rate=3).jobs) == 1
    spent = take(store, acme, one, 5, now=half, in_flight=100, rate=10, tenant_rate=3)
    assert (spent.jobs, spent.capped, spent.paced_until) == ([], False, T0 + timedelta(seconds=1))
    # A claim stamped before the newest one in its window waits for a fresh clock reading.
    stale = take(store, acme, one, 5, now=T0, in_flight=100, rate=10, tenant_rate=3)
    assert (stale.jobs, stale.paced_until) == ([], half)
    again = take(store, acme, one, 5, now=T0 + timedelta(seconds=1), in_flight=100, tenant_rate=3)
    assert len(again.jobs) == 2
    # A window goes once its last claim has left it: the campaigns' (last at 0 and 0.5 s; the
    # claim at 1 s had no campaign rate) first, then the tenant's (last at 1 s).
    with store.write() as s:
        assert s.queue.forget_spent_windows(T0 + timedelta(seconds=1.9)) == 2
        assert s.queue.forget_spent_windows(T0 + timedelta(seconds=3)) == 1


def test_claims_at_once_keep_the_campaigns_limit(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(40))
    taken = together(8, lambda i: [len(take(store, acme, cid, 2, worker=f"w{i}").jobs)])
    assert sum(n for [n] in taken) == 4

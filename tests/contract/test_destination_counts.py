"""The destination counters never drift: after a mixed run of every writer of destinations
(claims, releases, results and retries, late results, recovered leases, cancellations, edits,
deletes, adds, a campaign cancelled with calls on the line), what the store reports equals a
fresh count of its destinations, on every store. SQLite counts the engine's moves into and
out of in_flight by hand and every other change by a trigger (migration 0027); a writer that
fell between the two would show here. So would one that left GetWaitingCalls' list (the
destinations_waiting index, migration 0028) out of step with the destinations' states."""

from collections import Counter
from datetime import timedelta
from typing import Any

from dialer.domain.codes import Outcome
from dialer.domain.destination import DestinationPatch
from dialer.domain.ids import CampaignId
from dialer.ports.store import Store
from tests.contract.support import (
    LEASE,
    T0,
    Account,
    account,
    campaign,
    claim,
    e164,
    finish,
    finished,
    numbers,
)

Tally = dict[tuple[str, int], int]


def fresh_tally(store: Store, cid: CampaignId) -> Tally:
    """The campaign's destinations counted one by one, by (state, last outcome of done ones)."""
    rows: list[tuple[str, Any]]
    with store.read() as s:
        conn = getattr(s, "_conn", None)
        if conn is None:  # the memory store: its own rows
            rows = [
                (d.state, None if d.last_outcome is None else d.last_outcome.value)
                for d in s._t.destinations.values()  # type: ignore[attr-defined]
                if d.campaign_id == cid
            ]
        else:
            rows = conn.execute(
                "SELECT state, last_outcome FROM destinations WHERE campaign_id = %s", (cid,)
            )
    tally = Counter(
        (state, int(outcome) if state == "done" and outcome is not None else 0)
        for state, outcome in rows
    )
    return dict(tally)


def reported(store: Store, acct: Account, cid: CampaignId) -> tuple[Any, ...]:
    """What the store says from its counters: states, done outcomes, waiting, total."""
    with store.read() as s:
        progress = s.results.progress(cid)
        counts = s.campaigns.campaign_counts([cid], T0 + timedelta(days=1)).get(cid)
        (total,) = [
            c.phone_number_count
            for c in s.campaigns.list_campaigns(acct.tenant_id)
            if c.campaign.id == cid
        ]
    return (
        (progress.pending, progress.in_flight, progress.done, progress.cancelled),
        {o.value: n for o, n in progress.outcomes.items()},
        None if counts is None else (counts.pending, counts.originated),
        total,
    )


def expected(tally: Tally) -> tuple[Any, ...]:
    states = Counter[str]()
    for (state, _), n in tally.items():
        states[state] += n
    waiting = (states["pending"], states["in_flight"])
    return (
        (states["pending"], states["in_flight"], states["done"], states["cancelled"]),
        {outcome: n for (state, outcome), n in tally.items() if state == "done"},
        waiting if any(waiting) else None,
        sum(tally.values()),
    )


def waiting_ids(store: Store, cid: CampaignId) -> list[int]:
    """Every page of GetWaitingCalls, in order."""
    ids: list[int] = []
    after: tuple[int, int] | None = None
    with store.read() as s:
        while page := s.destinations.waiting_calls(cid, after, 7):
            ids += [w.id for w in page]
            after = (page[-1].priority, page[-1].id)
    return ids


def fresh_waiting(store: Store, cid: CampaignId) -> set[int]:
    """The pending and in-flight destinations, read one by one; on the SQL stores, checked
    against is_final first (migration 0028: destinations_waiting holds the rows with 0)."""
    with store.read() as s:
        conn = getattr(s, "_conn", None)
        if conn is None:
            return {
                d.id
                for d in s._t.destinations.values()  # type: ignore[attr-defined]
                if d.campaign_id == cid and d.state in ("pending", "in_flight")
            }
        rows = conn.execute(
            "SELECT id, state, is_final FROM destinations WHERE campaign_id = %s", (cid,)
        )
    assert [r for r in rows if r[2] != (r[1] in ("done", "cancelled"))] == []
    return {r[0] for r in rows if r[1] in ("pending", "in_flight")}


def test_the_counts_equal_a_fresh_count_after_a_mixed_run(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(30))
    other = campaign(store, acme, numbers(6, start=100), name="Other")
    steps: list[str] = []

    def check(step: str) -> None:
        steps.append(step)
        for c in (cid, other):
            assert reported(store, acme, c) == expected(fresh_tally(store, c)), (c, steps)
            listed = waiting_ids(store, c)
            assert len(listed) == len(set(listed)), (c, steps)
            assert set(listed) == fresh_waiting(store, c), (c, steps)

    check("added")
    jobs = claim(store, cid, 20)
    assert len(jobs) == 20
    check("claimed")
    with store.write() as s:
        assert s.queue.release([(j, T0 + timedelta(minutes=1)) for j in jobs[:3]], "w1") == 3
    check("released")
    retry = T0 + timedelta(minutes=2)
    outcomes = [Outcome.ANSWERED, Outcome.BUSY, Outcome.NO_ANSWER]
    recorded = finish(
        store,
        [
            finished(j, acme, outcomes[i % 3], retry_at=retry if i % 4 == 0 else None)
            for i, j in enumerate(jobs[3:13])
        ],
    )
    assert len(recorded) == 10
    check("recorded: done and retries")
    assert finish(store, [finished(jobs[13], acme, Outcome.BUSY)], "w2") == []
    check("a late result of a lease another worker holds")
    with store.write() as s:
        expired = s.queue.take_expired(LEASE + timedelta(seconds=1), 100)
        s.queue.finish_attempts(
            [finished(j, acme, Outcome.NO_CONNECTION, retry_at=retry) for j in expired[:3]]
            + [finished(j, acme, Outcome.NO_ANSWER) for j in expired[3:]],
            None,
            T0,
        )
    assert len(expired) == 7
    check("leases recovered and recorded")
    with store.read() as s:
        stored = {n.id: n for n in s.destinations.list_numbers(cid)}
    never = [i for i, n in stored.items() if n.attempts_made == 0]
    retried = [j for j in jobs[3:13] if j.destination_id in stored][::4]
    with store.write() as s:
        s.destinations.update_pending(cid, e164(25), DestinationPatch({"priority": 7}))
        s.destinations.delete_numbers(cid, never[-2:])
        # One never dialled (deleted), one waiting for its retry (cancelled, kept).
        s.destinations.cancel_pending(cid, stored[never[0]].number.e164)
        s.destinations.cancel_pending(cid, retried[0].e164)
        s.destinations.add_numbers(cid, numbers(4, start=200), T0)
    check("edited, deleted, cancelled, added")
    more = claim(store, cid, 100, now=retry)
    finish(
        store,
        [
            finished(j, acme, outcomes[i % 3], retry_at=retry if i % 5 == 0 else None)
            for i, j in enumerate(more)
        ],
    )
    check("claimed again with the retries, recorded")
    with store.write() as s:
        closing = s.queue.claim_for_closing(cid, 100, "w1", LEASE)
    finish(store, [finished(j, acme, Outcome.BUSY) for j in closing])
    check("closed: the rest claimed and recorded")
    on_line = claim(store, other, 2)
    with store.write() as s:
        s.lifecycle.cancel_campaign(other, T0)
    check("a campaign cancelled with calls on the line")
    finish(store, [finished(j, acme, Outcome.BUSY, retry_at=retry) for j in on_line])
    with store.write() as s:
        assert s.lifecycle.sweep_cancelled() == 2
    check("their retries swept into cancelled")
    with store.write() as s:
        s.queue.fold_counts(min_rows=0)
    check("folded")
    final = fresh_tally(store, cid)
    # The run went through every state and several outcomes.
    assert {state for state, _ in final} >= {"done", "cancelled"}
    assert len({outcome for state, outcome in final if state == "done"}) >= 3

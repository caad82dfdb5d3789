"""QueueRepo: what the engine claims, holds, releases and records (storage/sql_engine.py)."""

import json
from datetime import timedelta

from dialer.domain.agent import Strategy
from dialer.domain.codes import Outcome
from dialer.domain.ids import CampaignId
from dialer.ports.store import Store
from tests.contract.support import (
    LEASE,
    T0,
    account,
    campaign,
    claim,
    finish,
    finished,
    number,
    numbers,
    together,
)


def test_claim_takes_due_rows_by_priority_then_age(store: Store) -> None:
    acme = account(store)
    cid = campaign(
        store, acme, [number(1), number(2, priority=3), number(3), number(4, priority=-1)]
    )
    first = claim(store, cid, 3)
    rest = claim(store, cid, 3)
    assert [j.e164 for j in first] == [number(i).e164 for i in (2, 1, 3)]
    assert [j.e164 for j in rest] == [number(4).e164]
    assert claim(store, cid) == []


def test_a_claimed_job_carries_the_destination(store: Store) -> None:
    acme = account(store)
    sent = number(
        1, parameters=((1, "a"),), caller_id="+441632960000", custom_data='{"k":1}', priority=4
    )
    cid = campaign(store, acme, [sent._replace(ignore_dnc=True)])
    (job,) = claim(store, cid)
    assert (job.campaign_id, job.attempt_number, job.raw, job.e164, job.name) == (
        cid,
        1,
        sent.raw,
        sent.e164,
        "n1",
    )
    assert (job.parameters, job.caller_id, job.custom_data, job.ignore_dnc, job.priority) == (
        ((1, "a"),),
        "+441632960000",
        '{"k":1}',
        True,
        4,
    )


def test_queued_at_is_when_the_job_fell_due(store: Store) -> None:
    acme = account(store)
    due = T0 + timedelta(minutes=10)
    opened = T0 + timedelta(minutes=20)
    cid = campaign(store, acme, [number(1), number(2, originate_at=due)])
    with store.write() as s:
        early = s.queue.claim(cid, T0, 10, "w1", LEASE)
        late = s.queue.claim(cid, opened, 10, "w1", LEASE, opened_at=opened)
    assert [j.queued_at for j in early] == [T0]  # added at T0
    assert [j.queued_at for j in late] == [opened]


def test_claim_waits_for_the_due_time(store: Store) -> None:
    acme = account(store)
    later = T0 + timedelta(hours=1)
    cid = campaign(store, acme, [number(1, originate_at=later), number(2)])
    with store.read() as s:
        due = s.queue.next_due(cid)
    assert due is not None
    assert due <= T0  # due at once: when it was added, or earlier
    assert [j.e164 for j in claim(store, cid)] == [number(2).e164]
    with store.read() as s:
        assert s.queue.next_due(cid) == later
    assert claim(store, cid, now=later - timedelta(seconds=1)) == []
    assert [j.e164 for j in claim(store, cid, now=later)] == [number(1).e164]
    with store.read() as s:
        assert s.queue.next_due(cid) is None


def test_claims_are_per_campaign(store: Store) -> None:
    acme = account(store)
    one, two = campaign(store, acme, numbers(2)), campaign(store, acme, numbers(2, 10))
    assert {j.campaign_id for j in claim(store, one)} == {one}
    assert len(claim(store, two)) == 2
    assert claim(store, CampaignId(424242)) == []


def test_two_engines_claiming_at_once_never_share_a_row(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(60))

    def engine(i: int) -> list[int]:
        taken: list[int] = []
        while jobs := claim(store, cid, 3, worker=f"w{i}"):
            taken += [j.destination_id for j in jobs]
        return taken

    claimed = [i for taken in together(2, engine) for i in taken]
    assert len(claimed) == len(set(claimed)) == 60


def test_two_engines_recovering_at_once_take_each_lease_once(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(40))
    claim(store, cid, lease_until=T0)

    def recover(_: int) -> list[int]:
        taken: list[int] = []
        while True:
            with store.write() as s:
                jobs = s.queue.take_expired(T0 + timedelta(seconds=1), 3)
            if not jobs:
                return taken
            taken += [j.destination_id for j in jobs]

    recovered = [i for taken in together(2, recover) for i in taken]
    assert len(recovered) == len(set(recovered)) == 40


def test_leases_are_extended_only_by_their_holder(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    mine = claim(store, cid, 2, worker="w1")
    theirs = claim(store, cid, 1, worker="w2")
    later = LEASE + timedelta(minutes=5)
    ids = [j.destination_id for j in mine + theirs]
    with store.write() as s:
        assert s.queue.extend_leases("w1", later, ids) == 2
        assert s.queue.extend_leases("w1", later, []) == 0
    with store.write() as s:
        expired = s.queue.take_expired(LEASE + timedelta(seconds=1), 10)
    assert [j.destination_id for j in expired] == [theirs[0].destination_id]


def test_expired_leases_are_taken_once_with_their_attempt(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    old = claim(store, cid, 1, lease_until=T0 + timedelta(minutes=1))
    claim(store, cid, 1, lease_until=T0 + timedelta(minutes=10))
    with store.write() as s:
        assert s.queue.take_expired(T0 + timedelta(minutes=1), 10) == []  # not yet past
        expired = s.queue.take_expired(T0 + timedelta(minutes=2), 10)
    with store.write() as s:
        assert s.queue.take_expired(T0 + timedelta(minutes=2), 10) == []
    assert expired == old


def test_an_expired_attempt_is_recorded_by_whoever_took_it(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid, lease_until=T0)
    with store.write() as s:
        (taken,) = s.queue.take_expired(T0 + timedelta(seconds=1), 10)
    # The dead engine's late result is not its to record any more ...
    assert finish(store, [finished(job, acme)], worker="w1") == []
    # ... the recovering one records it without a lease.
    recovered = finished(taken, acme, Outcome.NO_CONNECTION)
    assert finish(store, [recovered], worker=None) == [recovered]
    with store.read() as s:
        (stored,) = s.destinations.list_numbers(cid)
    assert (stored.attempts_made, stored.last_outcome) == (1, Outcome.NO_CONNECTION)


def test_release_gives_jobs_back_due_at_a_new_time(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    jobs = claim(store, cid)
    later = T0 + timedelta(minutes=30)
    with store.write() as s:
        assert s.queue.release([(j, later) for j in jobs], "w2") == 0  # not its leases
        assert s.queue.release([(jobs[0], later)], "w1") == 1
        assert s.queue.release([], "w1") == 0
    with store.read() as s:
        assert s.queue.next_due(cid) == later
        progress = s.results.progress(cid)
    assert (progress.pending, progress.in_flight) == (1, 1)
    assert claim(store, cid) == []
    (again,) = claim(store, cid, now=later)
    assert (again.destination_id, again.attempt_number) == (jobs[0].destination_id, 1)


def test_finish_records_only_attempts_the_worker_holds(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    first, second = claim(store, cid, 2, worker="w1")
    (third,) = claim(store, cid, 1, worker="w2")
    wrong_attempt = finished(second._replace(attempt_number=2), acme)
    ok = finished(first, acme)
    assert finish(store, [ok, wrong_attempt, finished(third, acme)], worker="w1") == [ok]
    with store.read() as s:
        progress = s.results.progress(cid)
        assert len(s.results.attempt_results(cid, None, 10)) == 1
    assert (progress.in_flight, progress.done) == (2, 1)
    assert finish(store, [ok], worker="w1") == []  # recorded once


def test_a_retry_comes_back_as_the_next_attempt(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    retry = T0 + timedelta(minutes=15)
    finish(store, [finished(job, acme, Outcome.BUSY, retry_at=retry)])
    with store.read() as s:
        (stored,) = s.destinations.list_numbers(cid)
        assert s.queue.next_due(cid) == retry
        assert s.results.progress(cid).pending == 1
    assert (stored.attempts_made, stored.last_outcome) == (1, Outcome.BUSY)
    assert claim(store, cid) == []
    (again,) = claim(store, cid, now=retry)
    assert (again.destination_id, again.attempt_number, again.queued_at) == (
        job.destination_id,
        2,
        retry,
    )


def test_a_final_attempt_leaves_the_number_done(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    finish(store, [finished(job, acme, Outcome.ANSWERED)])
    with store.read() as s:
        (stored,) = s.destinations.list_numbers(cid)
        progress = s.results.progress(cid)
        assert s.queue.next_due(cid) is None
        assert s.queue.dialing_contexts() == []
    assert (stored.attempts_made, stored.last_outcome) == (1, Outcome.ANSWERED)
    assert (progress.done, progress.outcomes) == (1, {Outcome.ANSWERED: 1})


def test_an_attempt_settled_without_a_call_uses_up_no_attempt(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    finish(store, [finished(job, acme, Outcome.OUT_OF_TIME, called=False)])
    with store.read() as s:
        (stored,) = s.destinations.list_numbers(cid)
    assert (stored.attempts_made, stored.last_outcome) == (0, Outcome.OUT_OF_TIME)


def test_closing_takes_waiting_rows_whatever_their_due_time(store: Store) -> None:
    acme = account(store)
    far = T0 + timedelta(days=3)
    cid = campaign(store, acme, [number(1, originate_at=far), number(2, priority=5), number(3)])
    with store.write() as s:
        first = s.queue.claim_for_closing(cid, 2, "w1", LEASE)
        rest = s.queue.claim_for_closing(cid, 2, "w1", LEASE)
    assert [j.e164 for j in first] == [number(2).e164, number(1).e164]  # priority first
    assert [j.e164 for j in rest] == [number(3).e164]
    with store.read() as s:
        assert s.results.progress(cid).in_flight == 3


def test_calls_on_line_sum_the_engines_that_hold_leases(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    claim(store, cid, 1, worker="w1")
    claim(store, cid, 1, worker="w2")
    with store.write() as s:
        s.queue.set_calls_on_line("w1", {cid: 2})
        s.queue.set_calls_on_line("w2", {cid: 1})
        s.queue.set_calls_on_line("ghost", {cid: 5})  # holds no lease of the campaign
    with store.read() as s:
        assert s.queue.calls_on_line(cid) == 3
    with store.write() as s:
        s.queue.set_calls_on_line("w2", {cid: 0})
        s.queue.forget_lost_lines()
    with store.read() as s:
        assert s.queue.calls_on_line(cid) == 2
        assert s.queue.calls_on_line(CampaignId(424242)) == 0


def test_lines_of_an_engine_that_lost_its_leases_do_not_count(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    claim(store, cid, worker="w1", lease_until=T0)
    with store.write() as s:
        s.queue.set_calls_on_line("w1", {cid: 1})
        s.queue.take_expired(T0 + timedelta(seconds=1), 10)
    with store.read() as s:
        assert s.queue.calls_on_line(cid) == 0


def test_dialing_contexts_list_campaigns_with_work(store: Store) -> None:
    acme = account(store)
    waiting = campaign(store, acme, numbers(1))
    flying = campaign(store, acme, numbers(1, 10))
    campaign(store, acme)  # nothing to dial
    done = campaign(store, acme, numbers(1, 20))
    claim(store, flying)
    finish(store, [finished(j, acme) for j in claim(store, done)])
    with store.write() as s:
        queue = s.agents.add_queue(acme.tenant_id, "sales", T0)
        s.campaigns.set_strategy(waiting, Strategy(queue.id, 2, 2), T0)
    with store.read() as s:
        contexts = s.queue.dialing_contexts()
    assert [(c.campaign.id, c.transfer_queue) for c in contexts] == [
        (waiting, "sales"),
        (flying, None),
    ]


def test_dialling_identity_follows_the_campaign(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.read() as s:
        assert s.queue.dialling_identity(cid) == (acme.callflow_id, acme.cli_id)
        assert s.queue.dialling_identity(CampaignId(424242)) is None


def test_folding_counts_changes_no_count(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(5))
    finish(store, [finished(j, acme) for j in claim(store, cid, 3)])
    with store.read() as s:
        before = s.results.progress(cid)
    with store.write() as s:
        assert s.queue.fold_counts(0) >= 0
    with store.read() as s:
        assert s.results.progress(cid) == before
    assert (before.pending, before.done) == (2, 3)


def test_expired_leases_go_oldest_first_up_to_the_limit(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    for minutes in (3, 1, 2):
        claim(store, cid, 1, lease_until=T0 + timedelta(minutes=minutes))
    with store.read() as s:
        ids = s.destinations.destination_ids(cid)
    with store.write() as s:
        first = s.queue.take_expired(T0 + timedelta(hours=1), 2)
        rest = s.queue.take_expired(T0 + timedelta(hours=1), 2)
    assert sorted(j.destination_id for j in first) == [ids[1], ids[2]]
    assert [j.destination_id for j in rest] == [ids[0]]


def test_six_hundred_jobs_are_claimed_held_and_recorded_in_one_go(store: Store) -> None:
    # Past every batch size of the SQL store: COPY, chunks of 500 ids, multi-row inserts.
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    cid = campaign(store, acme, numbers(600))
    jobs = claim(store, cid, 2_000)
    with store.write() as s:
        assert s.queue.extend_leases("w1", LEASE, [j.destination_id for j in jobs]) == 600
    half = T0 + timedelta(minutes=15)
    done = [
        finished(j, acme, retry_at=half if i % 2 else None, webhook=True)
        for i, j in enumerate(jobs)
    ]
    assert len(finish(store, done)) == 600
    with store.write() as s:
        progress = s.results.progress(cid)
        results = s.results.attempt_results(cid, None, 2_000)
        deliveries = s.outbox.claim_deliveries(T0, 2_000, timedelta(seconds=30))
    assert (progress.pending, progress.done) == (300, 300)
    assert sorted(json.loads(d.payload)["attemptId"] for d in deliveries) == sorted(
        r.attempt_id for r in results
    )
    assert len({r.attempt_id for r in results}) == 600
    assert len(claim(store, cid, 2_000, now=half)) == 300

"""DestinationRepo: a campaign's numbers added in order, paged, edited, cancelled, deleted."""

from datetime import timedelta

from dialer.domain.campaign import PhoneNumber
from dialer.domain.codes import Outcome
from dialer.domain.destination import MAX_PRIORITY, MIN_PRIORITY, CallStatus, DestinationPatch
from dialer.domain.numbering import NOT_VALID
from dialer.ports.store import Store
from tests.contract.support import (
    T0,
    account,
    campaign,
    claim,
    e164,
    finish,
    finished,
    number,
    numbers,
)


def test_numbers_read_back_in_the_order_added(store: Store) -> None:
    acme = account(store)
    sent = [number(5, parameters=((1, "one"), (3, "three"))), number(2, name=None), number(9)]
    cid = campaign(store, acme, sent)
    with store.read() as s:
        stored = s.destinations.list_numbers(cid)
        ids = s.destinations.destination_ids(cid)
    assert [n.number.key for n in stored] == [n.e164 for n in sent]
    assert [n.id for n in stored] == ids == sorted(ids)
    assert [(n.number.name, n.number.parameters) for n in stored] == [
        ("n5", ((1, "one"), (3, "three"))),
        (None, ()),
        ("n9", ()),
    ]
    assert {(n.attempts_made, n.last_outcome, n.number.number_type) for n in stored} == {
        (0, None, 1)
    }


def test_a_long_list_streams_in_from_a_generator_in_order(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.write() as s:
        s.destinations.add_numbers(cid, (number(i) for i in range(60)), T0)
        s.destinations.add_numbers(cid, iter([number(100)]), T0)
    with store.read() as s:
        stored = s.destinations.list_numbers(cid)
        assert s.results.progress(cid).pending == 61
    assert [n.number.e164 for n in stored] == [number(i).e164 for i in [*range(60), 100]]


def test_numbers_page_after_an_id(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(5))
    with store.read() as s:
        ids = s.destinations.destination_ids(cid)
        first = s.destinations.list_numbers(cid, 0, 2)
        second = s.destinations.list_numbers(cid, ids[1], 2)
        rest = s.destinations.list_numbers(cid, ids[3])
    assert [n.id for n in first + second + rest] == ids


def test_an_impossible_number_is_done_as_invalid_and_never_queued(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [PhoneNumber("12", None, "x"), number(1)])
    with store.read() as s:
        progress = s.results.progress(cid)
        stored = s.destinations.list_numbers(cid)
    assert (progress.pending, progress.done, progress.outcomes) == (
        1,
        1,
        {Outcome.INVALID_NUMBER: 1},
    )
    assert stored[0].last_outcome is Outcome.INVALID_NUMBER
    assert [j.e164 for j in claim(store, cid)] == [number(1).e164]


def test_not_valid_counts_impossible_and_unallocated_numbers(store: Store) -> None:
    acme = account(store)
    cid = campaign(
        store,
        acme,
        [PhoneNumber("12", None, None), number(1, number_type=NOT_VALID), number(2)],
    )
    with store.read() as s:
        assert s.destinations.count_not_valid(cid) == 2


def test_numbers_for_update_tell_which_have_history(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    first, _in_flight = claim(store, cid, 2)
    finish(store, [finished(first, acme)])  # attempted; second is still in flight
    with store.read() as s:
        entries = s.destinations.numbers_for_update(cid)
    assert [(e.key, e.has_history) for e in entries] == [
        (number(0).e164, True),
        (number(1).e164, True),
        (number(2).e164, False),
    ]
    assert entries[2].name == "n2"


def test_only_never_attempted_numbers_are_deleted(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    (job,) = claim(store, cid, 1)
    finish(store, [finished(job, acme)])
    with store.write() as s:
        ids = s.destinations.destination_ids(cid)
        s.destinations.delete_numbers(cid, ids[:2])
    with store.read() as s:
        assert s.destinations.destination_ids(cid) == [ids[0], ids[2]]
        assert s.results.progress(cid).pending == 1
    assert [j.destination_id for j in claim(store, cid)] == [ids[2]]


def test_details_of_kept_numbers_are_updated(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    with store.write() as s:
        ids = s.destinations.destination_ids(cid)
        s.destinations.update_numbers_details([(ids[1], "Renamed", ((2, "two"),))])
    with store.read() as s:
        stored = s.destinations.list_numbers(cid)
    assert [(n.number.name, n.number.parameters) for n in stored] == [
        ("n0", ()),
        ("Renamed", ((2, "two"),)),
    ]
    assert stored[1].number.e164 == number(1).e164


def test_waiting_calls_in_dial_order_with_their_status(store: Store) -> None:
    acme = account(store)
    cid = campaign(
        store,
        acme,
        [number(1, priority=1), number(2, priority=7), number(3, priority=1), number(4)],
    )
    (top,) = claim(store, cid, 1)
    with store.read() as s:
        calls = s.destinations.waiting_calls(cid, None, 10)
    assert [(c.e164, c.priority, c.status) for c in calls] == [
        (number(2).e164, 7, CallStatus.ORIGINATED),
        (number(1).e164, 1, CallStatus.PENDING),
        (number(3).e164, 1, CallStatus.PENDING),
        (number(4).e164, 0, CallStatus.PENDING),
    ]
    assert top.e164 == number(2).e164


def test_waiting_calls_page_by_priority_and_id(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(i, priority=i % 3) for i in range(7)])
    with store.read() as s:
        everything = s.destinations.waiting_calls(cid, None, 100)
        pages, after = [], None
        while page := s.destinations.waiting_calls(cid, after, 3):
            pages += page
            after = (page[-1].priority, page[-1].id)
    assert pages == everything
    assert len(everything) == 7


def test_finished_numbers_are_not_waiting(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    (job,) = claim(store, cid, 1)
    finish(store, [finished(job, acme, Outcome.ANSWERED)])
    with store.read() as s:
        assert [c.e164 for c in s.destinations.waiting_calls(cid, None, 10)] == [number(1).e164]


def test_cancelling_deletes_fresh_numbers_and_cancels_retries(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1), number(1), number(2)])
    first, _, third = claim(store, cid, 3)
    retry = T0 + timedelta(minutes=15)
    finish(store, [finished(first, acme, retry_at=retry)])
    release_back = [(third, T0)]
    with store.write() as s:
        s.queue.release(release_back, "w1")
    # number(1): one waits for a retry, one is in flight; number(2) is fresh again.
    with store.write() as s:
        assert s.destinations.cancel_pending(cid, number(1).e164) == 1
    with store.read() as s:
        progress = s.results.progress(cid)
    assert (progress.pending, progress.in_flight, progress.cancelled) == (1, 1, 1)
    with store.write() as s:
        assert s.destinations.cancel_pending(cid, None) == 1
    with store.read() as s:
        assert len(s.destinations.list_numbers(cid)) == 2  # the cancelled and the in-flight one
        assert s.queue.next_due(cid) is None
    assert claim(store, cid, now=retry) == []


def test_updating_pending_calls_patches_them_and_their_place_in_line(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1), number(2), number(2)])
    patch = DestinationPatch({"name": "Zed", "priority": 9, "caller_id": "+441632960000"})
    with store.write() as s:
        assert s.destinations.update_pending(cid, e164(2), patch) == 2
        assert s.destinations.update_pending(cid, e164(3), patch) == 0
        assert s.destinations.update_pending(cid, e164(1), DestinationPatch({})) == 1
    jobs = claim(store, cid)
    assert [(j.e164, j.name, j.priority, j.caller_id) for j in jobs] == [
        (number(2).e164, "Zed", 9, "+441632960000"),
        (number(2).e164, "Zed", 9, "+441632960000"),
        (number(1).e164, "n1", 0, None),
    ]


def test_a_later_originate_time_holds_a_pending_call_back(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    later = T0 + timedelta(hours=2)
    with store.write() as s:
        s.destinations.update_pending(cid, e164(1), DestinationPatch({"originate_at": later}))
    with store.read() as s:
        assert s.queue.next_due(cid) == later
    assert claim(store, cid) == []
    assert len(claim(store, cid, now=later)) == 1


def test_in_flight_and_done_calls_are_not_patched(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1), number(1)])
    first, _ = claim(store, cid, 2)
    finish(store, [finished(first, acme)])
    with store.write() as s:
        assert s.destinations.update_pending(cid, e164(1), DestinationPatch({"name": "Z"})) == 0
    with store.read() as s:
        assert {n.number.name for n in s.destinations.list_numbers(cid)} == {"n1"}
        assert s.results.progress(cid).done == 1


def test_a_number_goes_pending_in_flight_done(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    with store.read() as s:
        assert s.results.progress(cid).pending == 1
    (job,) = claim(store, cid)
    with store.read() as s:
        assert s.results.progress(cid).in_flight == 1
    finish(store, [finished(job, acme)])
    with store.read() as s:
        progress = s.results.progress(cid)
    assert (progress.pending, progress.in_flight, progress.done) == (0, 0, 1)


def test_a_retry_keeps_its_due_time_when_patched(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1), number(2, priority=5)])
    first, second = claim(store, cid)
    retry = T0 + timedelta(minutes=15)
    finish(store, [finished(first, acme, retry_at=retry), finished(second, acme, retry_at=retry)])
    patch = DestinationPatch({"priority": 9, "originate_at": T0})
    with store.write() as s:
        assert s.destinations.update_pending(cid, e164(1), patch) == 1
    assert claim(store, cid) == []  # the retry's time stands
    jobs = claim(store, cid, now=retry)
    assert [(j.e164, j.priority, j.attempt_number) for j in jobs] == [
        (e164(1), 9, 2),
        (e164(2), 5, 2),
    ]


def test_extreme_priorities_keep_their_order(store: Store) -> None:
    acme = account(store)
    cid = campaign(
        store,
        acme,
        [number(1, priority=MIN_PRIORITY), number(2, priority=MAX_PRIORITY), number(3)],
    )
    with store.read() as s:
        waiting = s.destinations.waiting_calls(cid, None, 10)
        counts = s.campaigns.campaign_counts([cid], T0)[cid]
    assert [c.priority for c in waiting] == [MAX_PRIORITY, 0, MIN_PRIORITY]
    assert (counts.max_priority, counts.min_priority) == (MAX_PRIORITY, MIN_PRIORITY)
    assert [j.priority for j in claim(store, cid)] == [MAX_PRIORITY, 0, MIN_PRIORITY]


def test_a_dialer_api_call_reads_back_every_field(store: Store) -> None:
    acme = account(store)
    at = T0 + timedelta(minutes=5)
    sent = number(
        1,
        caller_id="+441632960000",
        custom_data='{"ref":"A1"}',
        originate_time=1_759_219_500,
        is_date_local=False,
        originate_at=at,
        priority=3,
    )
    cid = campaign(store, acme, [sent])
    with store.read() as s:
        (call,) = s.destinations.waiting_calls(cid, None, 10)
    assert (call.raw, call.e164, call.name, call.caller_id, call.priority) == (
        sent.raw,
        sent.e164,
        "n1",
        "+441632960000",
        3,
    )
    assert (call.custom_data, call.originate_time, call.is_date_local) == (
        '{"ref":"A1"}',
        1_759_219_500,
        False,
    )


def test_every_patchable_field_is_patched(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    patch = DestinationPatch(
        {
            "name": "Zed",
            "priority": -4,
            "caller_id": "+441632960009",
            "custom_data": '{"k":2}',
            "originate_time": 1_759_300_000,
            "is_date_local": True,
            "originate_at": T0,
            "ignore_dnc": True,
        }
    )
    with store.write() as s:
        assert s.destinations.update_pending(cid, e164(1), patch) == 1
    with store.read() as s:
        (call,) = s.destinations.waiting_calls(cid, None, 10)
    assert (call.name, call.priority, call.caller_id, call.custom_data) == (
        "Zed",
        -4,
        "+441632960009",
        '{"k":2}',
    )
    assert (call.originate_time, call.is_date_local) == (1_759_300_000, True)
    (job,) = claim(store, cid)
    assert (job.ignore_dnc, job.priority, job.caller_id) == (True, -4, "+441632960009")


def test_an_impossible_number_is_matched_by_what_was_sent(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [PhoneNumber("12", None, "x"), number(1)])
    with store.read() as s:
        entries = s.destinations.numbers_for_update(cid)
        (stored, _) = s.destinations.list_numbers(cid)
    assert [(e.key, e.has_history) for e in entries] == [("12", False), (e164(1), False)]
    assert (stored.number.raw, stored.number.e164, stored.number.possible) == ("12", None, False)

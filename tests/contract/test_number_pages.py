"""DestinationRepo.number_page and numbers_present: the same rows, order and pages on every
store (docs/rest-api.md, A campaign's numbers)."""

from datetime import UTC, datetime, timedelta

from dialer.domain.codes import Outcome
from dialer.domain.ids import CampaignId
from dialer.domain.number_page import NumberFilter
from dialer.ports.store import Store
from tests.contract.support import T0, account, campaign, claim, finish, finished, number, numbers

EVERY = NumberFilter()
DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)  # queued with due_at 0: as soon as the engine can


def _names(
    store: Store,
    cid: CampaignId,
    where: NumberFilter,
    after: int = 0,
    skip: int = 0,
    limit: int = 100,
) -> list[str | None]:
    with store.read() as s:
        rows = s.destinations.number_page(cid, where, after, skip, limit)
    return [r.stored.number.name for r in rows]


def test_outcomes_final_and_next_attempt_as_the_engine_records_them(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(5))
    jobs = claim(store, cid, 3)
    retry = T0 + timedelta(hours=1)
    finish(
        store,
        [
            finished(jobs[0], acme, Outcome.BUSY, retry_at=retry),
            finished(jobs[1], acme, Outcome.ANSWERED),
            finished(jobs[2], acme, Outcome.BUSY),
        ],
    )
    with store.read() as s:
        rows = s.destinations.number_page(cid, EVERY, 0, 0, 10)
    assert [
        (
            r.stored.number.name,
            r.stored.attempts_made,
            r.stored.last_outcome,
            r.final,
            r.next_attempt_at,
        )
        for r in rows
    ] == [
        ("n0", 1, Outcome.BUSY, False, retry),
        ("n1", 1, Outcome.ANSWERED, True, None),
        ("n2", 1, Outcome.BUSY, True, None),
        (
            "n3",
            0,
            None,
            False,
            DUE_NOW,
        ),
        ("n4", 0, None, False, DUE_NOW),
    ]
    assert _names(store, cid, NumberFilter(outcome=Outcome.BUSY)) == ["n0", "n2"]
    assert _names(store, cid, NumberFilter(final=True)) == ["n1", "n2"]
    assert _names(store, cid, NumberFilter(final=False)) == ["n0", "n3", "n4"]
    assert _names(store, cid, NumberFilter(final=False, outcome=Outcome.BUSY)) == ["n0"]


def test_pages_by_cursor_and_by_skip(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(7))
    with store.read() as s:
        ids = s.destinations.destination_ids(cid)
    assert _names(store, cid, EVERY, limit=3) == ["n0", "n1", "n2"]
    assert _names(store, cid, EVERY, after=ids[2], limit=3) == ["n3", "n4", "n5"]
    assert _names(store, cid, EVERY, skip=6, limit=3) == ["n6"]
    assert _names(store, cid, EVERY, skip=7, limit=3) == []
    assert _names(store, cid, EVERY, after=ids[1], skip=2, limit=2) == ["n4", "n5"]


def test_number_search_goes_in_number_order_and_names_match_any_case(store: Store) -> None:
    acme = account(store)
    sent = [
        number(9, name="Zed"),
        number(1, name="alice SMITH"),
        number(5, name="100%_sure"),
        number(1, name="Alice again", raw="07700900001x"),
        number(3, name=None),
    ]
    cid = campaign(store, acme, sent)
    prefix = NumberFilter(number_prefix="+4477009")
    assert _names(store, cid, prefix) == ["alice SMITH", "Alice again", None, "100%_sure", "Zed"]
    with store.read() as s:
        first = s.destinations.number_page(cid, prefix, 0, 0, 2)
        rest = s.destinations.number_page(cid, prefix, int(first[-1].stored.id or 0), 0, 10)
        skipped = s.destinations.number_page(cid, prefix, 0, 2, 10)
    assert [r.stored.number.name for r in rest] == [None, "100%_sure", "Zed"]
    assert [r.stored.number.name for r in skipped] == [None, "100%_sure", "Zed"]
    assert _names(store, cid, NumberFilter(number_prefix="+447700900005")) == ["100%_sure"]
    assert _names(store, cid, NumberFilter(name_contains="ALICE")) == ["alice SMITH", "Alice again"]
    assert _names(store, cid, NumberFilter(name_contains="%_")) == ["100%_sure"]
    assert _names(store, cid, NumberFilter(name_contains="a_i")) == []


def test_numbers_present_by_e164(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    other = campaign(store, acme, numbers(1, start=5))
    with store.read() as s:
        found = s.destinations.numbers_present(
            cid, [number(1).e164 or "", number(5).e164 or "", "+447700900777"]
        )
        assert s.destinations.numbers_present(other, []) == set()
    assert found == {number(1).e164}

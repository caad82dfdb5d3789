"""OutboxRepo: webhooks, and the outbox of deliveries filled as attempts are recorded."""

import json
from datetime import timedelta

from dialer.domain.codes import Outcome
from dialer.domain.result_row import result_fields
from dialer.domain.webhook import NEVER, Backlog
from dialer.ports.store import Store
from tests.contract.support import (
    HOOKED,
    T0,
    Account,
    account,
    campaign,
    claim,
    finish,
    finished,
    numbers,
    together,
)

LEASE = timedelta(seconds=30)


def _deliveries(store: Store, acct: Account, count: int = 1) -> None:
    """Record ``count`` attempts of a new campaign of ``acct``, each with a webhook payload."""
    cid = campaign(store, acct, numbers(count))
    finish(store, [finished(j, acct, webhook=True) for j in claim(store, cid)])


def test_a_webhook_is_set_replaced_and_deleted(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    later = T0 + timedelta(hours=1)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/1", "s1", T0)
        replaced = s.outbox.set_webhook(acme.tenant_id, "https://a.example/2", "s2", later)
    with store.read() as s:
        assert s.outbox.get_webhook(acme.tenant_id) == replaced
        assert s.outbox.get_webhook(globex.tenant_id) is None
        assert s.outbox.webhook_tenants() == [acme.tenant_id]
    assert (replaced.url, replaced.created_at) == ("https://a.example/2", later)
    with store.write() as s:
        assert s.outbox.delete_webhook(acme.tenant_id) is True
        assert s.outbox.delete_webhook(acme.tenant_id) is False
    with store.read() as s:
        assert s.outbox.get_webhook(acme.tenant_id) is None
        assert s.outbox.webhook_tenants() == []


def test_recorded_attempts_queue_a_delivery_with_their_id(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    finish(store, [finished(job, acme, webhook=True)])
    with store.write() as s:
        (delivery,) = s.outbox.claim_deliveries(T0, 10, LEASE)
        (result,) = s.results.attempt_results(cid, None, 10)
    assert (delivery.tenant_id, delivery.url, delivery.secret, delivery.tries) == (
        acme.tenant_id,
        "https://a.example/hook",
        "secret",
        0,
    )
    assert delivery.created_at == T0
    # The message is the attempt's results row, under its campaign, with the id the store gave it.
    assert json.loads(delivery.payload) == {
        "campaignId": cid,
        "campaignCode": HOOKED,
        **result_fields(result),
    }
    assert result.outcome is Outcome.NO_ANSWER


def test_a_tenant_without_a_webhook_gets_no_deliveries(store: Store) -> None:
    acme = account(store)
    _deliveries(store, acme)
    with store.write() as s:
        assert s.outbox.claim_deliveries(T0, 10, LEASE) == []
        assert s.outbox.webhook_backlog(acme.tenant_id) == Backlog(0, 0)
        assert s.outbox.list_deliveries(acme.tenant_id, None, None, 10) == []


def test_a_delivery_is_claimed_once_until_its_lease_ends(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme, 3)
    with store.write() as s:
        first = s.outbox.claim_deliveries(T0, 2, LEASE)
    with store.write() as s:
        second = s.outbox.claim_deliveries(T0, 10, LEASE)
        assert s.outbox.claim_deliveries(T0 + LEASE - timedelta(seconds=1), 10, LEASE) == []
    with store.write() as s:
        again = s.outbox.claim_deliveries(T0 + LEASE, 10, LEASE)
    assert (len(first), len(second)) == (2, 1)
    assert {d.id for d in again} == {d.id for d in first + second}


def test_a_delivered_row_is_not_sent_again(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme)
    done_at = T0 + timedelta(seconds=1)
    with store.write() as s:
        (delivery,) = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_delivered(delivery.id, done_at)
        s.outbox.mark_failed(delivery.id, "late failure", T0)  # too late: stays delivered
    with store.write() as s:
        assert s.outbox.claim_deliveries(T0 + timedelta(days=1), 10, LEASE) == []
        (record,) = s.outbox.list_deliveries(acme.tenant_id, None, None, 10)
        assert s.outbox.webhook_backlog(acme.tenant_id) == Backlog(0, 0)
    assert (record.status, record.tries, record.delivered_at, record.next_try_at) == (
        "delivered",
        1,
        done_at,
        None,
    )


def test_a_failed_try_is_counted_and_retried_later(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme)
    retry = T0 + timedelta(minutes=1)
    with store.write() as s:
        (delivery,) = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_failed(delivery.id, "HTTP 500", retry)
    with store.write() as s:
        (record,) = s.outbox.list_deliveries(acme.tenant_id, "pending", None, 10)
        assert s.outbox.claim_deliveries(retry - timedelta(seconds=1), 10, LEASE) == []
        (again,) = s.outbox.claim_deliveries(retry, 10, LEASE)
    assert (record.status, record.tries, record.last_error, record.next_try_at) == (
        "pending",
        1,
        "HTTP 500",
        retry,
    )
    assert (again.id, again.tries) == (delivery.id, 1)


def test_given_up_deliveries_are_retried_on_request(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme, 2)
    later = T0 + timedelta(hours=1)
    with store.write() as s:
        first, second = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_failed(first.id, "gone", NEVER)
    with store.write() as s:
        assert s.outbox.webhook_backlog(acme.tenant_id) == Backlog(1, 1)
        (failed,) = s.outbox.list_deliveries(acme.tenant_id, "failed", None, 10)
        assert s.outbox.retry_given_up(acme.tenant_id, later) == 1
        assert s.outbox.retry_given_up(acme.tenant_id, later) == 0
    with store.write() as s:
        assert s.outbox.webhook_backlog(acme.tenant_id) == Backlog(2, 0)
        retried = s.outbox.claim_deliveries(later, 10, LEASE)
    assert (failed.id, failed.status, failed.tries, failed.next_try_at) == (
        first.id,
        "failed",
        1,
        None,
    )
    # The one given up on starts afresh; the other's claim at T0 has lapsed.
    assert sorted((d.id, d.tries) for d in retried) == sorted([(first.id, 0), (second.id, 0)])


def test_setting_the_webhook_again_retries_given_up_deliveries(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme)
    later = T0 + timedelta(hours=1)
    with store.write() as s:
        (delivery,) = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_failed(delivery.id, "gone", NEVER)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://b.example/hook", "new", later)
    with store.write() as s:
        (again,) = s.outbox.claim_deliveries(later, 10, LEASE)
    assert (again.id, again.tries, again.url, again.secret) == (
        delivery.id,
        0,
        "https://b.example/hook",
        "new",
    )


def test_deleting_the_webhook_drops_undelivered_rows(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme, 2)
    with store.write() as s:
        first, _ = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_delivered(first.id, T0)
        s.outbox.delete_webhook(acme.tenant_id)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
        assert s.outbox.claim_deliveries(T0 + timedelta(days=1), 10, LEASE) == []
        records = s.outbox.list_deliveries(acme.tenant_id, None, None, 10)
    assert [(r.id, r.status) for r in records] == [(first.id, "delivered")]


def test_the_delivery_log_pages_newest_first_and_filters(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme, 5)
    with store.write() as s:
        claimed = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_delivered(claimed[0].id, T0)
        s.outbox.mark_delivered(claimed[3].id, T0)
    ids = sorted((d.id for d in claimed), reverse=True)
    with store.read() as s:
        everything = s.outbox.list_deliveries(acme.tenant_id, None, None, 10)
        first = s.outbox.list_deliveries(acme.tenant_id, None, None, 2)
        rest = s.outbox.list_deliveries(acme.tenant_id, None, first[-1].id, 10)
        delivered = s.outbox.list_deliveries(acme.tenant_id, "delivered", None, 10)
        pending = s.outbox.list_deliveries(acme.tenant_id, "pending", ids[1], 10)
        failed = s.outbox.list_deliveries(acme.tenant_id, "failed", None, 10)
    assert [r.id for r in everything] == ids
    assert first + rest == everything
    done = sorted((claimed[0].id, claimed[3].id), reverse=True)
    assert [r.id for r in delivered] == done
    assert [r.id for r in pending] == [i for i in ids if i < ids[1] and i not in done]
    assert failed == []


def test_a_tenant_sees_only_its_own_deliveries(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "a", T0)
        s.outbox.set_webhook(globex.tenant_id, "https://g.example/hook", "g", T0)
    _deliveries(store, acme, 2)
    _deliveries(store, globex, 1)
    with store.write() as s:
        assert s.outbox.webhook_backlog(acme.tenant_id) == Backlog(2, 0)
        assert s.outbox.webhook_backlog(globex.tenant_id) == Backlog(1, 0)
        assert len(s.outbox.list_deliveries(globex.tenant_id, None, None, 10)) == 1
        assert s.outbox.retry_given_up(globex.tenant_id, T0) == 0
        claimed = s.outbox.claim_deliveries(T0, 10, LEASE)
    assert sorted((d.tenant_id, d.url) for d in claimed) == sorted(
        [(acme.tenant_id, "https://a.example/hook")] * 2
        + [(globex.tenant_id, "https://g.example/hook")]
    )


def test_a_long_error_is_kept_to_its_first_thousand_characters(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme)
    with store.write() as s:
        (delivery,) = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_failed(delivery.id, "x" * 999 + "yz" * 100, T0 + LEASE)
    with store.read() as s:
        (record,) = s.outbox.list_deliveries(acme.tenant_id, None, None, 10)
    assert record.last_error == "x" * 999 + "y"


def test_the_delivery_due_longest_is_claimed_first(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme, 3)
    with store.write() as s:
        first, second, third = sorted(s.outbox.claim_deliveries(T0, 10, LEASE), key=lambda d: d.id)
        s.outbox.mark_failed(first.id, "500", T0 + timedelta(minutes=3))
        s.outbox.mark_failed(second.id, "500", T0 + timedelta(minutes=1))
        s.outbox.mark_failed(third.id, "500", T0 + timedelta(minutes=2))
    with store.write() as s:
        (one,) = s.outbox.claim_deliveries(T0 + timedelta(hours=1), 1, LEASE)
        (two,) = s.outbox.claim_deliveries(T0 + timedelta(hours=1), 1, LEASE)
    assert (one.id, two.id) == (second.id, third.id)


def test_two_deliverers_claiming_at_once_never_share_a_row(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "secret", T0)
    _deliveries(store, acme, 40)

    def deliverer(_: int) -> list[int]:
        taken: list[int] = []
        while True:
            with store.write() as s:
                claimed = s.outbox.claim_deliveries(T0, 3, LEASE)
            if not claimed:
                return taken
            taken += [d.id for d in claimed]

    delivered = [i for taken in together(2, deliverer) for i in taken]
    assert len(delivered) == len(set(delivered)) == 40


def test_one_tenants_webhook_changes_leave_anothers_deliveries_alone(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        s.outbox.set_webhook(acme.tenant_id, "https://a.example/hook", "a", T0)
        s.outbox.set_webhook(globex.tenant_id, "https://g.example/hook", "g", T0)
    _deliveries(store, acme, 2)
    with store.write() as s:
        given_up, _ = s.outbox.claim_deliveries(T0, 10, LEASE)
        s.outbox.mark_failed(given_up.id, "gone", NEVER)
    with store.write() as s:
        s.outbox.set_webhook(globex.tenant_id, "https://g.example/new", "g2", T0)
        assert s.outbox.delete_webhook(globex.tenant_id) is True
    with store.read() as s:
        assert s.outbox.webhook_backlog(acme.tenant_id) == Backlog(1, 1)
        assert s.outbox.get_webhook(acme.tenant_id) is not None
        assert s.outbox.webhook_tenants() == [acme.tenant_id]

"""A sender that dies between submit and answer (docs/sms.md, "A sender that dies
mid-submit"): the claim marks its rows as being submitted, every answer clears the mark, and a
row found due with the mark still set is not submitted again at once but waits UNKNOWN for a
receipt, as a lost answer does."""

from datetime import timedelta

from dialer.domain.sms import DeliveryState
from dialer.domain.sms_outbox import STALLED, SmsStatus
from dialer.ports.store import Store
from tests.contract.support import T0, account, together
from tests.contract.test_sms_outbox import LATER, LEASE, TEXT, queue, receipt, record

GRACE = timedelta(minutes=10)
ENDED = T0 + LEASE  # the claim at T0 held its rows until then
TO = "+447700900000"  # the first number tests.contract.support.numbers gives


def test_a_text_whose_sender_died_mid_submit_waits_for_a_receipt_before_it_is_resent(
    store: Store,
) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        assert s.sms.claim_sms(ENDED, 10, LEASE, GRACE) == []
    stalled = record(store, message)
    assert (stalled.status, stalled.reason) == (SmsStatus.UNKNOWN, STALLED)
    with store.write() as s:
        assert s.sms.claim_sms(ENDED + GRACE - timedelta(seconds=1), 10, LEASE, GRACE) == []
        # No receipt within the grace: submitted again, as after a lost answer.
        (again,) = s.sms.claim_sms(ENDED + GRACE, 10, LEASE, GRACE)
    assert (again.id, again.status, again.tries) == (message, SmsStatus.UNKNOWN, 1)


def test_a_receipt_kept_while_the_sender_was_dead_settles_the_text(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:  # the provider took it; its receipt came, the answer never
        early = receipt("k1", recipient=TO, text_prefix=TEXT[:20])
        assert s.sms.sms_receipt(None, early, LATER) is False
    assert record(store, message).status is SmsStatus.QUEUED
    with store.write() as s:
        assert s.sms.claim_sms(ENDED, 10, LEASE, GRACE) == []
    settled = record(store, message)
    assert (settled.status, settled.provider_ids) == (SmsStatus.DELIVERED, ("k1",))
    with store.write() as s:
        assert s.sms.claim_sms(ENDED + GRACE * 3, 10, LEASE, GRACE) == []


def test_a_receipt_after_the_stall_settles_the_text(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        s.sms.claim_sms(ENDED, 10, LEASE, GRACE)
        late = receipt("k2", DeliveryState.UNDELIVERABLE, recipient=TO, text_prefix=TEXT[:20])
        assert s.sms.sms_receipt(None, late, ENDED) is True
    assert record(store, message).status is SmsStatus.FAILED
    with store.write() as s:
        assert s.sms.claim_sms(ENDED + GRACE * 3, 10, LEASE, GRACE) == []


def test_every_answer_clears_the_submit_mark(store: Store) -> None:
    accepted, failed, retried, unknown = queue(store, account(store), 4)
    with store.write() as s:
        s.sms.sms_accepted(accepted, "smpp", ["a1"], 1, T0)
        s.sms.sms_failed(failed, "smpp", "ESME_RINVDSTADR (0x0B)", T0)
        s.sms.sms_retry(retried, "smpp", "ESME_RTHROTTLED (0x58)", ENDED, T0)
        s.sms.sms_unknown(unknown, "smpp", "connection lost", ENDED, T0)
        claimed = s.sms.claim_sms(ENDED, 10, LEASE, GRACE)
    # Both waiting ones are submitted again at once (the answers said so), not held UNKNOWN.
    assert [(c.id, c.status) for c in claimed] == [
        (retried, SmsStatus.QUEUED),
        (unknown, SmsStatus.UNKNOWN),
    ]
    assert record(store, retried).reason == "ESME_RTHROTTLED (0x58)"
    assert record(store, unknown).reason == "connection lost"
    assert record(store, accepted).status is SmsStatus.SENT
    assert record(store, failed).status is SmsStatus.FAILED
    # That second claim marked them again: its sender dying too leaves both UNKNOWN.
    with store.write() as s:
        assert s.sms.claim_sms(ENDED + LEASE, 10, LEASE, GRACE) == []
    assert {record(store, m).reason for m in (retried, unknown)} == {STALLED}


def test_senders_side_by_side_turn_each_stalled_text_once(store: Store) -> None:
    messages = queue(store, account(store), 30)

    def take(_: int) -> list[int]:
        with store.write() as s:
            return [c.id for c in s.sms.claim_sms(ENDED, 5, LEASE, GRACE)]

    assert [i for ids in together(4, take) for i in ids] == []
    for _ in range(6):  # whatever the four left (each turns at most 5 at a time)
        take(0)
    counted = {(record(store, m).status, record(store, m).reason) for m in messages}
    assert counted == {(SmsStatus.UNKNOWN, STALLED)}
    with store.write() as s:  # turned once each: one try counted, resent once after the grace
        again = s.sms.claim_sms(ENDED + GRACE, 100, LEASE, GRACE)
    assert sorted(c.id for c in again) == sorted(messages)
    assert {c.tries for c in again} == {1}


def test_the_tenants_with_texts_in_doubt_are_listed(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    (doubt,) = queue(store, acme)
    with store.write() as s:
        assert s.sms.sms_tenants_in_doubt() == []
        s.sms.claim_sms(ENDED, 10, LEASE, GRACE)  # acme's sender died mid-submit
    (sent,) = queue(store, globex)
    with store.write() as s:
        s.sms.sms_accepted(sent, "smpp", ["g1"], 1, T0)
        assert s.sms.sms_tenants_in_doubt() == [acme.tenant_id]
    assert record(store, doubt).status is SmsStatus.UNKNOWN


def test_a_cut_text_whose_sender_died_keeps_the_cut_texts_rule(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:  # a 2-part text in doubt from part 1, submitted again after it
        s.sms.sms_unknown(message, "smpp", "lost", T0 + GRACE, T0, (), 2)
        assert [c.id for c in s.sms.claim_sms(T0 + GRACE, 10, LEASE, GRACE)] == [message]
        # The first try's part 1 receipt comes meanwhile: part 2 (never sent) is in doubt.
        first = receipt("c1", recipient=TO, text_prefix=TEXT[:20])
        assert s.sms.sms_receipt(None, first, T0 + GRACE) is True
    assert record(store, message).status is SmsStatus.UNKNOWN
    with store.write() as s:  # the sender died: failed as a cut text, never sent again
        assert s.sms.claim_sms(T0 + GRACE + LEASE, 10, LEASE, GRACE) == []
    failed = record(store, message)
    assert (failed.status, failed.parts, failed.provider_ids) == (SmsStatus.FAILED, 2, ("c1",))
    assert failed.reason.startswith("part 2 of 2 in doubt")

"""SmsOutboxRepo: texts queued with their attempts, claimed with a lease, marked with their
submit's answer, and settled by the providers' receipts (docs/sms.md)."""

import dataclasses
from datetime import timedelta

from dialer.domain.attempt import DialJob, FinishedAttempt
from dialer.domain.ids import TenantId
from dialer.domain.sms import DeliveryReport, DeliveryState
from dialer.domain.sms_outbox import SmsRecord, SmsStatus, SmsText
from dialer.ports.store import Store
from tests.contract.support import (
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
LATER = T0 + timedelta(seconds=5)
TEXT = "Sorry we missed you: call us back on 0161 496 0000."


def texting(job: DialJob, acct: Account, *texts: str) -> FinishedAttempt:
    """The attempt's finished record, with ``texts`` queued to its number."""
    attempt = finished(job, acct)
    assert job.e164 is not None
    queued = tuple(SmsText(job.e164, "+441632960000", t) for t in texts)
    return dataclasses.replace(
        attempt, record=dataclasses.replace(attempt.record, sms_sent=True, texts=queued)
    )


def queue(store: Store, acct: Account, count: int = 1, *texts: str) -> list[int]:
    """Record ``count`` attempts of a new campaign, each queuing ``texts`` (or one TEXT);
    the ids the outbox gave them, claimed at T0."""
    cid = campaign(store, acct, numbers(count))
    finish(store, [texting(j, acct, *(texts or (TEXT,))) for j in claim(store, cid)])
    with store.write() as s:
        return [c.id for c in s.sms.claim_sms(T0, 1000, LEASE)]


def record(store: Store, message_id: int) -> SmsRecord:
    with store.read() as s:
        found = s.sms.sms_of(message_id)
    assert found is not None
    return found


def receipt(pid: str, state: DeliveryState = DeliveryState.DELIVERED, **kw: str) -> DeliveryReport:
    return DeliveryReport(pid, state, LATER, **kw)


def test_texts_are_queued_with_their_attempt_and_shown_on_its_result(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    first, second = claim(store, cid)
    finish(store, [texting(first, acme, "one", "two"), finished(second, acme)])
    with store.write() as s:
        claimed = s.sms.claim_sms(T0, 10, LEASE)
        results = {r.destination_id: r for r in s.results.attempt_results(cid, None, 10)}
    assert [(c.text, c.to, c.tenant_id, c.tries) for c in claimed] == [
        ("one", first.e164, acme.tenant_id, 0),
        ("two", first.e164, acme.tenant_id, 0),
    ]
    assert [t.status for t in results[first.destination_id].sms] == [SmsStatus.QUEUED] * 2
    assert results[second.destination_id].sms == ()
    assert results[second.destination_id].sms_sent is False


def test_a_claimed_text_is_held_for_its_lease(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        assert s.sms.claim_sms(T0, 10, LEASE) == []
        assert s.sms.claim_sms(T0 + LEASE - timedelta(seconds=1), 10, LEASE) == []
    # Its lease ended with no answer stored: the sender died mid-submit, so it is not
    # submitted again at once (test_sms_crash.py has the rest of that rule).
    with store.write() as s:
        assert s.sms.claim_sms(T0 + LEASE, 10, LEASE) == []
    assert record(store, message).status is SmsStatus.UNKNOWN


def test_senders_side_by_side_never_claim_one_text_twice(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(60))
    finish(store, [texting(j, acme, TEXT) for j in claim(store, cid)])

    def take(_: int) -> list[int]:
        got = []
        for _round in range(10):
            with store.write() as s:
                got += [c.id for c in s.sms.claim_sms(T0, 3, LEASE)]
        return got

    claimed = [i for ids in together(4, take) for i in ids]
    assert len(claimed) == len(set(claimed)) == 60


def test_an_accepted_multi_part_text_is_delivered_when_every_part_is(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        assert s.sms.sms_accepted(message, "smpp", ["a1", "a2"], 2, T0) is True
        assert s.sms.sms_receipt(None, receipt("a1"), LATER) is True
    sent = record(store, message)
    assert (sent.status, sent.parts, sent.provider, sent.provider_ids) == (
        SmsStatus.SENT,
        2,
        "smpp",
        ("a1", "a2"),
    )
    with store.write() as s:
        s.sms.sms_receipt(None, receipt("a2", DeliveryState.ENROUTE), LATER)
    assert record(store, message).status is SmsStatus.SENT
    with store.write() as s:
        s.sms.sms_receipt(None, receipt("a2"), LATER)
    assert record(store, message).status is SmsStatus.DELIVERED
    with store.write() as s:  # settled: nothing claims it again
        assert s.sms.claim_sms(T0 + LEASE * 10, 10, LEASE) == []


def test_one_undelivered_part_fails_the_text_with_the_carriers_reason(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        s.sms.sms_accepted(message, "smpp", ["b1", "b2"], 2, T0)
        s.sms.sms_receipt(None, receipt("b2", DeliveryState.UNDELIVERABLE, error="err:001"), LATER)
    failed = record(store, message)
    assert (failed.status, failed.reason) == (SmsStatus.FAILED, "undeliverable: err:001")


def test_a_receipt_before_the_submits_answer_is_kept_and_matched(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        assert s.sms.sms_receipt(None, receipt("early"), T0) is False
    assert record(store, message).status is SmsStatus.QUEUED
    with store.write() as s:
        s.sms.sms_accepted(message, "smpp", ["early"], 1, LATER)
    assert record(store, message).status is SmsStatus.DELIVERED
    with store.write() as s:  # used up: not matched a second time
        assert s.sms.forget_sms_receipts(T0 + timedelta(days=2)) == 0


def test_a_tenants_receipt_never_settles_another_tenants_text(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    (message,) = queue(store, acme)
    with store.write() as s:
        s.sms.sms_accepted(message, "http", ["same-id"], 1, T0)
        assert s.sms.sms_receipt(globex.tenant_id, receipt("same-id"), LATER) is False
    assert record(store, message).status is SmsStatus.SENT
    with store.write() as s:
        assert s.sms.sms_receipt(acme.tenant_id, receipt("same-id"), LATER) is True
    assert record(store, message).status is SmsStatus.DELIVERED


def test_a_retry_waits_and_a_failure_is_final(store: Store) -> None:
    retried, failed = queue(store, account(store), 2)
    with store.write() as s:
        s.sms.sms_retry(retried, "smpp", "ESME_RTHROTTLED (0x58)", T0 + timedelta(minutes=1), T0)
        s.sms.sms_failed(failed, "smpp", "ESME_RINVDSTADR (0x0B)", T0)
        assert s.sms.claim_sms(T0 + timedelta(seconds=59), 10, LEASE) == []
        (again,) = s.sms.claim_sms(T0 + timedelta(minutes=1), 10, LEASE)
    assert (again.id, again.tries, again.status) == (retried, 1, SmsStatus.QUEUED)
    assert record(store, retried).reason == "ESME_RTHROTTLED (0x58)"
    assert (record(store, failed).status, record(store, failed).reason) == (
        SmsStatus.FAILED,
        "ESME_RINVDSTADR (0x0B)",
    )
    with store.write() as s:  # a late answer changes nothing on a final text
        assert s.sms.sms_accepted(failed, "smpp", ["x"], 1, LATER) is False
    assert record(store, failed).status is SmsStatus.FAILED


def test_an_unknown_text_is_settled_by_a_receipt_matching_recipient_and_text(
    store: Store,
) -> None:
    acme = account(store)
    grace = T0 + timedelta(minutes=10)
    twice = grace + timedelta(minutes=10)
    first, second = queue(store, acme, 2)
    with store.write() as s:
        s.sms.sms_unknown(first, "smpp", "connection lost", grace, T0)
        s.sms.sms_unknown(second, "smpp", "connection lost", grace, T0)
        to = s.sms.claim_sms(grace, 10, LEASE)
    assert record(store, first).status is SmsStatus.UNKNOWN
    # Claimed again once the grace ran out with no receipt: both are resent.
    assert sorted(c.id for c in to) == [first, second]
    assert {c.status for c in to} == {SmsStatus.UNKNOWN}
    with store.write() as s:
        s.sms.sms_unknown(first, "smpp", "connection lost", twice, grace)
        s.sms.sms_unknown(second, "smpp", "connection lost", twice, grace)
        matched = s.sms.sms_receipt(
            None, receipt("late", recipient=to[0].to, text_prefix=TEXT[:20]), grace
        )
    assert matched is True
    settled = record(store, first)
    assert (settled.status, settled.provider_ids) == (SmsStatus.DELIVERED, ("late",))
    with store.write() as s:  # not resent: it was delivered
        assert [c.id for c in s.sms.claim_sms(twice, 10, LEASE)] == [second]


def test_a_receipt_kept_before_the_unknown_answer_settles_it(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        s.sms.sms_receipt(None, receipt("k1", recipient="+447700900000", text_prefix=TEXT[:20]), T0)
        s.sms.sms_unknown(message, "smpp", "lost", T0 + timedelta(minutes=10), T0)
    assert record(store, message).status is SmsStatus.DELIVERED


def test_a_prefix_of_another_text_matches_nothing(store: Store) -> None:
    (message,) = queue(store, account(store))
    with store.write() as s:
        s.sms.sms_unknown(message, "smpp", "lost", T0 + timedelta(minutes=10), T0)
        other = receipt("o1", recipient="+447700900000", text_prefix="Your appointment is")
        assert s.sms.sms_receipt(None, other, T0) is False
    assert record(store, message).status is SmsStatus.UNKNOWN


def test_unmatched_receipts_are_forgotten_after_a_while(store: Store) -> None:
    account(store)
    with store.write() as s:
        s.sms.sms_receipt(None, receipt("stray"), T0)
        assert s.sms.forget_sms_receipts(T0) == 0
        assert s.sms.forget_sms_receipts(T0 + timedelta(seconds=1)) == 1


def test_an_inbound_text_answers_the_tenant_that_texted_its_sender(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    queue(store, acme)
    with store.read() as s:
        assert s.sms.sms_reply_tenant("+447700900000", "+441632960000") == acme.tenant_id
        assert s.sms.sms_reply_tenant("+447700900000", "ACME") == acme.tenant_id
        assert s.sms.sms_reply_tenant("+447700900999", "ACME") is None
    assert globex.tenant_id != TenantId(0)


# A long text cut mid-way: the bind dropped after part 1 was taken, part 2 in doubt.
LONG = (TEXT + " ") * 4  # 208 characters: two SMPP parts, the second from character 153
TO = "+447700900000"
GRACE = T0 + timedelta(minutes=10)


def cut(store: Store, taken: tuple[str, ...] = ("p1",)) -> int:
    (message,) = queue(store, account(store), 1, LONG)
    with store.write() as s:
        s.sms.sms_unknown(message, "smpp", "part 2 of 2: no answer", GRACE, T0, taken, 2)
    return message


def test_a_cut_long_text_is_delivered_only_once_every_part_is(store: Store) -> None:
    message = cut(store)
    with store.write() as s:
        assert s.sms.sms_receipt(None, receipt("p1", recipient=TO, text_prefix=LONG[:20]), T0)
    # part 1's receipt applies by its id: the text is not shrunk to one delivered part
    first = record(store, message)
    assert (first.status, first.parts, first.provider_ids) == (SmsStatus.UNKNOWN, 2, ("p1",))
    with store.write() as s:  # part 2's receipt quotes part 2's own start
        part2 = receipt("p2", recipient=TO, text_prefix=LONG[153:173])
        assert s.sms.sms_receipt(None, part2, LATER)
    done = record(store, message)
    assert (done.status, done.parts, done.provider_ids) == (
        SmsStatus.DELIVERED,
        2,
        ("p1", "p2"),
    )


def test_a_cut_long_text_is_never_sent_again_and_fails_when_its_grace_ends(
    store: Store,
) -> None:
    message = cut(store)
    with store.write() as s:
        s.sms.sms_receipt(None, receipt("p1", recipient=TO, text_prefix=LONG[:20]), T0)
        assert s.sms.claim_sms(GRACE, 10, LEASE) == []  # resending would double part 1
    given_up = record(store, message)
    assert (given_up.status, given_up.parts) == (SmsStatus.FAILED, 2)
    assert given_up.reason.startswith("part 2 of 2 in doubt")
    with store.write() as s:  # and it stays failed: claimed never again
        assert s.sms.claim_sms(GRACE + timedelta(hours=1), 10, LEASE) == []
    assert record(store, message).status is SmsStatus.FAILED


def test_receipts_kept_before_a_cut_texts_answer_settle_each_part(store: Store) -> None:
    (message,) = queue(store, account(store), 1, LONG)
    with store.write() as s:  # both receipts came before the answer was stored
        s.sms.sms_receipt(None, receipt("p1", recipient=TO, text_prefix=LONG[:20]), T0)
        s.sms.sms_receipt(None, receipt("p2", recipient=TO, text_prefix=LONG[:20]), T0)
        s.sms.sms_unknown(message, "smpp", "part 2 of 2: no answer", GRACE, T0, ("p1",), 2)
    done = record(store, message)
    assert (done.status, done.parts, done.provider_ids) == (
        SmsStatus.DELIVERED,
        2,
        ("p1", "p2"),
    )


def test_a_long_text_in_doubt_from_part_1_is_not_shrunk_to_one_part(store: Store) -> None:
    message = cut(store, taken=())
    with store.write() as s:  # part 1 was taken after all; part 2 was never sent
        assert s.sms.sms_receipt(None, receipt("p1", recipient=TO, text_prefix=LONG[:20]), T0)
    adopted = record(store, message)
    assert (adopted.status, adopted.parts, adopted.provider_ids) == (
        SmsStatus.UNKNOWN,
        2,
        ("p1",),
    )
    with store.write() as s:
        assert s.sms.claim_sms(GRACE, 10, LEASE) == []
    assert record(store, message).status is SmsStatus.FAILED


def test_a_failed_part_fails_a_cut_text_at_once(store: Store) -> None:
    message = cut(store)
    with store.write() as s:
        s.sms.sms_receipt(None, receipt("p1", DeliveryState.UNDELIVERABLE, error="011"), T0)
    failed = record(store, message)
    assert (failed.status, failed.reason) == (SmsStatus.FAILED, "undeliverable: 011")


def test_a_text_resent_while_its_first_tries_part_1_receipt_came_keeps_the_new_parts(
    store: Store,
) -> None:
    message = cut(store, taken=())
    with store.write() as s:  # in doubt from part 1, no receipt in the grace: resent whole
        assert [c.id for c in s.sms.claim_sms(GRACE, 10, LEASE)] == [message]
        # the first try's part 1 receipt comes while the resend is in flight
        assert s.sms.sms_receipt(None, receipt("p1", recipient=TO, text_prefix=LONG[:20]), GRACE)
        assert s.sms.sms_accepted(message, "smpp", ["q1", "q2"], 2, GRACE)
        s.sms.sms_receipt(None, receipt("q1"), GRACE)
        s.sms.sms_receipt(None, receipt("q2"), GRACE)
    done = record(store, message)
    assert (done.status, done.parts, done.provider_ids) == (
        SmsStatus.DELIVERED,
        2,
        ("q1", "q2"),
    )

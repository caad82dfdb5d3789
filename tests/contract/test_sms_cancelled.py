"""Texts of a campaign cancelled or deleted while they wait (docs/sms.md): a cancelled campaign
sends nothing more, so the claim fails them instead of submitting them; a text in doubt may
still be settled by its receipt, but is never sent again. Other campaigns' texts go as usual."""

from datetime import timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.sms_outbox import SmsStatus, dropped_reason
from dialer.ports.store import Store
from tests.contract.support import T0, Account, account, campaign, claim, finish, numbers
from tests.contract.test_sms_outbox import LEASE, TEXT, receipt, record, texting

GRACE = timedelta(minutes=10)


def queued(store: Store, acct: Account) -> tuple[CampaignId, int]:
    """A campaign whose one call queued one text, due at T0: (campaign, text id). Claimed once
    to learn its id (the newest), then handed back at once (a RETRY answer due now)."""
    cid = campaign(store, acct, numbers(1))
    finish(store, [texting(j, acct, TEXT) for j in claim(store, cid)])
    with store.write() as s:
        due = [c.id for c in s.sms.claim_sms(T0, 10, LEASE, GRACE)]
        for message_id in due:  # the earlier campaigns' ones too
            s.sms.sms_retry(message_id, "smpp", "ESME_RTHROTTLED (0x58)", T0, T0)
    return cid, max(due)


def test_a_cancelled_campaigns_queued_text_fails_unsent_and_others_go(store: Store) -> None:
    acme = account(store)
    cancelled, doomed = queued(store, acme)
    _, kept = queued(store, acme)
    with store.write() as s:
        s.lifecycle.cancel_campaign(cancelled, T0)
        claimed = s.sms.claim_sms(T0, 10, LEASE, GRACE)
    assert [c.id for c in claimed] == [kept]
    failed = record(store, doomed)
    assert (failed.status, failed.reason) == (SmsStatus.FAILED, dropped_reason(False, False))
    assert failed.reason == "not sent: its campaign was cancelled"


def test_a_deleted_campaigns_queued_text_fails_unsent(store: Store) -> None:
    acme = account(store)
    deleted, doomed = queued(store, acme)
    with store.write() as s:
        s.campaigns.delete_campaign(deleted)
        assert s.sms.claim_sms(T0, 10, LEASE, GRACE) == []
    failed = record(store, doomed)
    assert (failed.status, failed.reason) == (
        SmsStatus.FAILED,
        "not sent: its campaign was deleted",
    )


def test_a_text_in_doubt_of_a_cancelled_campaign_is_settled_by_its_receipt_or_not_resent(
    store: Store,
) -> None:
    acme = account(store)
    cid, first = queued(store, acme)
    with store.write() as s:
        (claimed,) = s.sms.claim_sms(T0, 10, LEASE, GRACE)
        s.sms.sms_unknown(first, "smpp", "connection lost", T0 + GRACE, T0)
        s.lifecycle.cancel_campaign(cid, T0)
        # Within the grace it waits as before, and its receipt still settles it.
        assert s.sms.claim_sms(T0 + timedelta(minutes=1), 10, LEASE, GRACE) == []
        late = receipt("r1", recipient=claimed.to, text_prefix=TEXT[:20])
        assert s.sms.sms_receipt(None, late, T0 + timedelta(minutes=2)) is True
    assert record(store, first).status is SmsStatus.DELIVERED

    other, second = queued(store, acme)
    with store.write() as s:
        s.sms.claim_sms(T0, 10, LEASE, GRACE)
        s.sms.sms_unknown(second, "smpp", "connection lost", T0 + GRACE, T0)
        s.lifecycle.cancel_campaign(other, T0)
        assert s.sms.claim_sms(T0 + GRACE, 10, LEASE, GRACE) == []  # not submitted again
    failed = record(store, second)
    assert (failed.status, failed.reason) == (SmsStatus.FAILED, dropped_reason(False, True))

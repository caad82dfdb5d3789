"""The SMS outbox's claim (docs/sms.md): due texts held by one sender with a lease and marked
as being submitted; texts whose sender died mid-submit turned UNKNOWN; texts of cancelled or
deleted campaigns failed unsent. Mixed into SmsQueries (storage/sql_sms.py), which matches
kept receipts (``_match_kept``) and sends settled rows on (``_settled``)."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from dialer.domain.ids import TenantId
from dialer.domain.sms_outbox import STALLED, UNKNOWN_GRACE, ClaimedSms, SmsStatus, dropped_reason
from dialer.storage.rows import from_us, to_us
from dialer.storage.sql_sms_cut import CutTexts

# As the webhook outbox's claim: the next try pushed past the lease, SKIP LOCKED on PostgreSQL;
# each row marked as being submitted until its answer is stored. A row still marked is not
# claimed here: _stalled turns it UNKNOWN first.
_CLAIM = (
    "UPDATE sms_outbox SET next_try_at = %s, submitting_since = %s WHERE id IN ("
    " SELECT id FROM sms_outbox WHERE status IN ('queued', 'unknown') AND next_try_at <= %s"
    " AND submitting_since IS NULL"
    " AND NOT (status = 'unknown' AND EXISTS (SELECT 1 FROM sms_parts p"
    " WHERE p.message_id = sms_outbox.id))"
    " ORDER BY next_try_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
    " RETURNING id, tenant_id, to_number, sender, body, tries, created_at, status"
)
WAITING = "status IN ('queued', 'unknown')"


class SmsClaims(CutTexts):
    def _match_kept(
        self, tenant: TenantId, message_id: int, to: str, body: str, cut: bool, now: datetime
    ) -> None:
        raise NotImplementedError

    def _lock(self, keys: Sequence[str]) -> None:
        """On PostgreSQL, hold these keys until the transaction ends. A receipt and the answer
        it is for may be written at once by two transactions, each missing the other's rows
        (READ COMMITTED): both lock the provider's id (and the recipient, for a text with no
        answer) first, so the second waits and then sees the first's. Taken before any row
        lock, in one order, so two never wait for each other. SQLite writes one at a time."""
        if self._conn.dialect != "postgres":
            return
        for key in sorted(set(keys)):
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    def claim_sms(
        self, now: datetime, limit: int, lease: timedelta, grace: timedelta = UNKNOWN_GRACE
    ) -> list[ClaimedSms]:
        # _stalled first: its advisory locks must come before any row lock this transaction
        # takes (_give_up_cut's), as in every other transaction that takes them (see _lock).
        self._stalled(now, limit, grace)
        self._give_up_cut(now)
        self._dropped(now, limit)
        rows = self._conn.execute(_CLAIM, (to_us(now + lease), to_us(now), to_us(now), limit))
        return [
            ClaimedSms(i, TenantId(t), to, sender, body, tries, from_us(created), SmsStatus(status))
            for i, t, to, sender, body, tries, created, status in sorted(rows)
        ]

    def _stalled(self, now: datetime, limit: int, grace: timedelta) -> None:
        """Rows whose lease ended with their submit mark set: their sender died between
        submit and answer, so the provider may have the text. UNKNOWN until ``now + grace``,
        as a lost answer (a receipt kept already settles it); never submitted again at once.

        Read first, without a row lock, so the recipients' advisory locks come before any
        row lock (as sms_receipt takes them); the UPDATE then re-checks the mark, so of two
        senders finding one row only the first turns it (the second, after waiting for its
        row lock, finds the mark cleared and the row not due). A cut text (parts known) is
        left to _give_up_cut, as ever."""
        found = self._conn.execute(
            f"SELECT id, to_number FROM sms_outbox WHERE {WAITING} AND next_try_at <= %s"
            " AND submitting_since IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM sms_parts p WHERE p.message_id = sms_outbox.id)"
            " ORDER BY next_try_at, id LIMIT %s",
            (to_us(now), limit),
        )
        if not found:
            return
        self._lock([f"to:{to}" for _, to in found])
        for message_id, _ in sorted(found):
            updated = self._conn.execute(
                "UPDATE sms_outbox SET status = 'unknown', reason = %s, tries = tries + 1,"
                " submitting_since = NULL, next_try_at = %s, updated_at = %s"
                f" WHERE id = %s AND {WAITING} AND next_try_at <= %s"
                " AND submitting_since IS NOT NULL RETURNING tenant_id, to_number, body",
                (STALLED, to_us(now + grace), to_us(now), message_id, to_us(now)),
            )
            if updated:
                tenant, to, body = updated[0]
                self._match_kept(TenantId(tenant), message_id, to, body, False, now)

    def _dropped(self, now: datetime, limit: int) -> None:
        """Texts due to be (re)submitted whose campaign was cancelled or deleted: FAILED, not
        sent (docs/sms.md). Rows another sender holds are skipped, left for its next claim."""
        due = self._conn.execute(
            f"SELECT id, status, campaign_id FROM sms_outbox WHERE {WAITING}"
            " AND next_try_at <= %s AND submitting_since IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM sms_parts p WHERE p.message_id = sms_outbox.id)"
            " AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = sms_outbox.campaign_id"
            " AND c.cancelled_at IS NULL) ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            (to_us(now), limit),
        )
        if not due:
            return
        marks = ", ".join("%s" for _ in due)
        kept = {
            cid
            for (cid,) in self._conn.execute(
                f"SELECT id FROM campaigns WHERE id IN ({marks})", [c for _, _, c in due]
            )
        }
        for message_id, status, campaign_id in due:
            reason = dropped_reason(campaign_id not in kept, status == "unknown")
            self._conn.execute(
                "UPDATE sms_outbox SET status = 'failed', reason = %s, updated_at = %s"
                " WHERE id = %s",
                (reason, to_us(now), message_id),
            )
            self._settled(message_id, now)

    def sms_tenants_in_doubt(self) -> list[TenantId]:
        rows = self._conn.execute(
            f"SELECT DISTINCT tenant_id FROM sms_outbox WHERE {WAITING} AND status = 'unknown'"
            " ORDER BY tenant_id"
        )
        return [TenantId(t) for (t,) in rows]

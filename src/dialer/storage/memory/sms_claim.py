"""The SMS outbox's claim in memory, as storage/sql_sms_claim.py: due texts held with a lease
and marked as being submitted; texts whose sender died mid-submit turned UNKNOWN; texts of
cancelled or deleted campaigns failed unsent. Mixed into SmsParts (storage/memory/sms.py)."""

import dataclasses
from datetime import datetime, timedelta

from dialer.domain.ids import TenantId
from dialer.domain.sms_outbox import STALLED, UNKNOWN_GRACE, ClaimedSms, SmsStatus, dropped_reason
from dialer.storage.memory.sms_cut import CutTexts
from dialer.storage.memory.tables import SmsRow, from_us, to_us

WAITING = ("queued", "unknown")


class SmsClaims(CutTexts):
    def _match_kept(self, row: SmsRow, cut: bool, now: datetime) -> None:
        raise NotImplementedError

    def claim_sms(
        self, now: datetime, limit: int, lease: timedelta, grace: timedelta = UNKNOWN_GRACE
    ) -> list[ClaimedSms]:
        stamp = to_us(now)
        self._stalled(now, limit, grace)
        self._give_up_cut(now)
        self._dropped(now, limit)
        due = sorted(
            (row.next_try_at, row.id)
            for row in self._t.sms_outbox.values()
            if row.status in WAITING
            and row.next_try_at <= stamp
            and row.submitting_since is None
            and not self._cut(row)
        )[: max(limit, 0)]
        if not due:
            return []
        outbox = self._w("sms_outbox")
        held = to_us(now + lease)
        claimed = []
        for _, row_id in sorted(due, key=lambda pair: pair[1]):
            row = outbox[row_id]
            outbox[row_id] = dataclasses.replace(row, next_try_at=held, submitting_since=stamp)
            claimed.append(
                ClaimedSms(
                    row.id,
                    row.tenant_id,
                    row.to,
                    row.sender,
                    row.body,
                    row.tries,
                    from_us(row.created_at),
                    SmsStatus(row.status),
                )
            )
        return claimed

    def _stalled(self, now: datetime, limit: int, grace: timedelta) -> None:
        """Rows whose lease ended with their submit mark set (their sender died mid-submit):
        UNKNOWN until ``now + grace``, a kept receipt applied (storage/sql_sms.py)."""
        stamp = to_us(now)
        found = sorted(
            (row.next_try_at, row.id)
            for row in self._t.sms_outbox.values()
            if row.status in WAITING
            and row.next_try_at <= stamp
            and row.submitting_since is not None
            and not self._cut(row)
        )[: max(limit, 0)]
        for _, row_id in sorted(found, key=lambda pair: pair[1]):
            row = self._put(
                self._t.sms_outbox[row_id],
                status="unknown",
                reason=STALLED,
                tries=self._t.sms_outbox[row_id].tries + 1,
                submitting_since=None,
                next_try_at=to_us(now + grace),
                updated_at=stamp,
            )
            self._match_kept(row, False, now)

    def _dropped(self, now: datetime, limit: int) -> None:
        """Due texts of a cancelled or deleted campaign: FAILED (storage/sql_sms.py)."""
        stamp = to_us(now)
        due = [
            row
            for row in sorted(self._t.sms_outbox.values(), key=lambda r: r.id)
            if row.status in WAITING
            and row.next_try_at <= stamp
            and row.submitting_since is None
            and not self._cut(row)
            and (row.campaign_id in self._t.cancelled or row.campaign_id not in self._t.campaigns)
        ][: max(limit, 0)]
        for row in due:
            deleted = row.campaign_id not in self._t.campaigns
            reason = dropped_reason(deleted, row.status == "unknown")
            self._put(row, status="failed", reason=reason, updated_at=stamp)
            self._settled(row.id, now)

    def sms_tenants_in_doubt(self) -> list[TenantId]:
        return sorted({r.tenant_id for r in self._t.sms_outbox.values() if r.status == "unknown"})

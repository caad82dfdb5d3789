"""The SMS outbox in memory (storage/sql_sms.py); the queue's finish_attempts queues texts."""

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime

from dialer.domain.attempt import FinishedAttempt
from dialer.domain.ids import TenantId
from dialer.domain.result_row import result_fields
from dialer.domain.sms import DeliveryReport, DeliveryState
from dialer.domain.sms_outbox import (
    MAX_REASON,
    SmsRecord,
    SmsStatus,
    doubt_reason,
    final_status,
    padded,
    part_prefix_matches,
    prefix_matches,
    receipt_reason,
)
from dialer.domain.sms_settings import TenantSmsSettings
from dialer.storage.memory.base import refers, unique
from dialer.storage.memory.results import ResultParts, sms_record
from dialer.storage.memory.sms_claim import WAITING as _WAITING
from dialer.storage.memory.sms_claim import SmsClaims
from dialer.storage.memory.tables import (
    OutboxRow,
    SmsPartRow,
    SmsReceiptRow,
    SmsRow,
    from_us,
    to_us,
)


class SmsParts(SmsClaims, ResultParts):  # a settled text sends its row to the webhook again
    def _queue_texts(self, finished: Sequence[FinishedAttempt], now: datetime) -> None:
        stamp = to_us(now)
        texts = [(f, text) for f in finished for text in f.record.texts]
        if not texts:
            return
        outbox = self._w("sms_outbox")
        for f, text in texts:
            row_id = self._new_id("sms_outbox")
            outbox[row_id] = SmsRow(
                row_id,
                f.tenant_id,
                f.campaign_id,
                f.record.destination_id,
                f.record.attempt_number,
                text.to,
                text.sender,
                text.text,
                "queued",
                None,
                0,
                (),
                "",
                0,
                stamp,
                stamp,
                stamp,
            )

    def _waiting(self, message_id: int) -> SmsRow | None:
        row = self._t.sms_outbox.get(message_id)
        return row if row is not None and row.status in _WAITING else None

    def _put(self, row: SmsRow, **changes: object) -> SmsRow:
        new = dataclasses.replace(row, **changes)  # type: ignore[arg-type]
        self._w("sms_outbox")[row.id] = new
        return new

    def sms_accepted(
        self,
        message_id: int,
        provider: str,
        provider_ids: Sequence[str],
        parts: int,
        now: datetime,
    ) -> bool:
        row = self._waiting(message_id)
        if row is None:
            return False
        self._put(
            row,
            status="sent",
            submitting_since=None,
            provider=provider,
            provider_ids=tuple(provider_ids),
            parts=parts,
            reason="",
            tries=row.tries + 1,
            updated_at=to_us(now),
        )
        self._forget_parts(message_id)
        if not provider_ids:
            return True
        table = self._w("sms_parts")
        for n, pid in enumerate(provider_ids):
            table[(message_id, n)] = SmsPartRow(row.tenant_id, pid)
        self._apply_kept(row, list(provider_ids), now)
        return True

    def sms_retry(
        self, message_id: int, provider: str, reason: str, next_try_at: datetime, now: datetime
    ) -> None:
        row = self._waiting(message_id)
        if row is not None:
            self._put(
                row,
                status="queued",
                submitting_since=None,
                provider=provider,
                reason=reason[:MAX_REASON],
                tries=row.tries + 1,
                next_try_at=to_us(next_try_at),
                updated_at=to_us(now),
            )

    def sms_failed(self, message_id: int, provider: str, reason: str, now: datetime) -> None:
        row = self._waiting(message_id)
        if row is not None:
            self._put(
                row,
                status="failed",
                submitting_since=None,
                provider=provider,
                reason=reason[:MAX_REASON],
                tries=row.tries + 1,
                updated_at=to_us(now),
            )
            self._settled(message_id, now)

    def sms_unknown(
        self,
        message_id: int,
        provider: str,
        reason: str,
        next_try_at: datetime,
        now: datetime,
        provider_ids: Sequence[str] = (),
        parts: int = 1,
    ) -> None:
        row = self._waiting(message_id)
        if row is None:
            return
        row = self._put(
            row,
            status="unknown",
            submitting_since=None,
            provider=provider,
            reason=reason[:MAX_REASON],
            provider_ids=tuple(provider_ids),
            parts=parts if provider_ids or parts > 1 else row.parts,
            tries=row.tries + 1,
            next_try_at=to_us(next_try_at),
            updated_at=to_us(now),
        )
        cut = bool(provider_ids)
        if cut:  # some parts taken: their receipts apply by id, the rest wait for theirs
            self._forget_parts(message_id)
            table = self._w("sms_parts")
            for n, pid in enumerate(provider_ids):
                table[(message_id, n)] = SmsPartRow(row.tenant_id, pid)
            self._apply_kept(row, list(provider_ids), now)
        self._match_kept(row, cut, now)

    def _match_kept(self, row: SmsRow, cut: bool, now: datetime) -> None:
        """A receipt that came before this answer (the provider did take it) settles it now."""
        message_id = row.id
        for rid, kept in sorted(self._t.sms_receipts.items()):
            if kept.tenant_id not in (row.tenant_id, None) or kept.recipient != row.to:
                continue
            if not (
                part_prefix_matches(row.body, kept.text_prefix)
                if cut
                else prefix_matches(row.body, kept.text_prefix)
            ):
                continue
            report = DeliveryReport(
                kept.provider_id,
                DeliveryState(kept.state),
                from_us(kept.at),
                kept.error,
                kept.recipient,
                kept.text_prefix,
            )
            if cut and not self._match_doubt(message_id, report, now):
                return
            del self._w("sms_receipts")[rid]
            if not cut:
                self._adopt(message_id, report, now)
                return

    def _apply_kept(self, row: SmsRow, ids: list[str], now: datetime) -> None:
        for rid, kept in sorted(self._t.sms_receipts.items()):
            if kept.tenant_id in (row.tenant_id, None) and kept.provider_id in ids:
                del self._w("sms_receipts")[rid]
                report = DeliveryReport(
                    kept.provider_id, DeliveryState(kept.state), from_us(kept.at), kept.error
                )
                self._set_part(row.id, ids.index(kept.provider_id), report, now)

    def sms_receipt(
        self, tenant_id: TenantId | None, report: DeliveryReport, now: datetime
    ) -> bool:
        def ours(tenant: TenantId) -> bool:
            return tenant_id is None or tenant == tenant_id

        parts = sorted(
            (
                key
                for key, p in self._t.sms_parts.items()
                if p.provider_id == report.provider_id and ours(p.tenant_id)
            ),
            reverse=True,
        )
        if parts:
            self._set_part(parts[0][0], parts[0][1], report, now)
            return True
        if report.recipient and report.text_prefix:
            for row in sorted(self._t.sms_outbox.values(), key=lambda r: r.id):
                if not (
                    ours(row.tenant_id) and row.to == report.recipient and row.status == "unknown"
                ):
                    continue
                if self._cut(row):
                    if part_prefix_matches(row.body, report.text_prefix) and self._match_doubt(
                        row.id, report, now
                    ):
                        return True
                elif prefix_matches(row.body, report.text_prefix):
                    self._adopt(row.id, report, now)
                    return True
        rid = self._new_id("sms_receipts")
        self._w("sms_receipts")[rid] = SmsReceiptRow(
            tenant_id,
            report.provider_id,
            report.state.value,
            report.error[:MAX_REASON],
            report.recipient,
            report.text_prefix,
            to_us(report.at),
            to_us(now),
        )
        return False

    def sms_reply_tenant(self, person: str, ours: str) -> TenantId | None:
        rows = sorted(
            (r for r in self._t.sms_outbox.values() if r.to == person), key=lambda r: -r.id
        )
        for row in rows:
            if row.sender == ours:
                return row.tenant_id
        return rows[0].tenant_id if rows else None

    def sms_of(self, message_id: int) -> SmsRecord | None:
        row = self._t.sms_outbox.get(message_id)
        return None if row is None else sms_record(row)

    def forget_sms_receipts(self, before: datetime) -> int:
        stamp = to_us(before)
        return len(self._delete("sms_receipts", lambda r: r.received_at < stamp))

    def _adopt(self, message_id: int, report: DeliveryReport, now: datetime) -> None:
        row = self._t.sms_outbox[message_id]
        if row.parts > 1:  # never shrunk to one part: its other parts were never sent
            reason = doubt_reason(1, row.parts, "no answer for part 1, so it was never sent")
            self._put(row, provider_ids=(report.provider_id,), reason=reason, updated_at=to_us(now))
        else:
            self._put(
                row,
                status="sent",
                provider_ids=(report.provider_id,),
                parts=1,
                reason="",
                updated_at=to_us(now),
            )
        self._w("sms_parts")[(message_id, 0)] = SmsPartRow(row.tenant_id, report.provider_id)
        self._set_part(message_id, 0, report, now)

    def _set_part(self, message_id: int, part: int, report: DeliveryReport, now: datetime) -> None:
        table = self._w("sms_parts")
        table[(message_id, part)] = dataclasses.replace(
            table[(message_id, part)], state=report.state.value, error=report.error[:MAX_REASON]
        )
        states = [p for (m, _), p in sorted(table.items()) if m == message_id]
        known = [None if p.state is None else DeliveryState(p.state) for p in states]
        row = self._t.sms_outbox[message_id]
        # A cut text (UNKNOWN, some parts taken) counts its parts in doubt as not delivered yet.
        status = final_status(padded(known, row.parts) if row.status == "unknown" else known)
        if status is None or row.status not in ("sent", "unknown"):
            return
        reason = ""
        if status is SmsStatus.FAILED:
            reason = next(
                receipt_reason(DeliveryState(p.state), p.error)
                for p in states
                if p.state is not None and p.state not in ("delivered", "enroute")
            )
        self._put(row, status=status.value, reason=reason, updated_at=to_us(now))
        self._settled(message_id, now)

    def sms_settings(self, tenant_id: TenantId) -> TenantSmsSettings | None:
        row = self._t.sms_settings.get(tenant_id)
        return None if row is None else TenantSmsSettings.from_json(row[0], row[1])

    def set_sms_settings(
        self, tenant_id: TenantId, settings: TenantSmsSettings, now: datetime
    ) -> None:
        refers(tenant_id in self._t.tenants, f"no tenant {tenant_id}")
        taken = {row[1]: t for t, row in self._t.sms_settings.items()}
        unique(taken.get(settings.callback_id, tenant_id) != tenant_id, "callback id taken")
        self._w("sms_settings")[tenant_id] = (
            settings.to_json(),
            settings.callback_id,
            to_us(now),
        )

    def sms_settings_by_callback(
        self, callback_id: str
    ) -> tuple[TenantId, TenantSmsSettings] | None:
        for tenant_id, (text, callback, _) in self._t.sms_settings.items():
            if callback == callback_id:
                return tenant_id, TenantSmsSettings.from_json(text, callback)
        return None

    def _settled(self, message_id: int, now: datetime) -> None:
        """Once every text of an attempt is delivered or failed, its results row goes to the
        tenant's webhook again, with the texts' statuses (docs/sms.md)."""
        row = self._t.sms_outbox[message_id]
        if row.tenant_id not in self._t.webhooks or any(
            o.status not in ("delivered", "failed")
            for o in self._t.sms_outbox.values()
            if (o.destination_id, o.attempt_number) == (row.destination_id, row.attempt_number)
        ):
            return
        attempt = next(
            (
                a
                for a in self._t.attempts.values()
                if (a.destination_id, a.attempt_number) == (row.destination_id, row.attempt_number)
            ),
            None,
        )
        campaign = self._t.campaigns.get(row.campaign_id)
        if attempt is None or campaign is None:
            return
        results = self.attempt_results(row.campaign_id, attempt.id - 1, 1)
        if not results or results[0].attempt_id != attempt.id:
            return
        payload = json.dumps(
            result_fields(results[0], campaign_code=campaign.code), separators=(",", ":")
        )
        row_id = self._new_id("outbox")
        stamp = to_us(now)
        self._w("outbox")[row_id] = OutboxRow(row_id, row.tenant_id, payload, 0, stamp, stamp)

"""Store queries for the SMS outbox (migration 0023, docs/sms.md): queued with the attempts
(``queue_texts``, called from finish_attempts), claimed and marked by the sender, and matched
with the providers' receipts."""

import json
from collections.abc import Sequence
from datetime import datetime

from dialer.domain.attempt import FinishedAttempt
from dialer.domain.ids import CampaignId, TenantId
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
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us
from dialer.storage.sql_results import ResultQueries
from dialer.storage.sql_sms_claim import WAITING as _WAITING
from dialer.storage.sql_sms_claim import SmsClaims
from dialer.storage.sql_sms_rows import SMS_SELECT, sms_record

_INSERT_COLUMNS = (
    "tenant_id",
    "campaign_id",
    "destination_id",
    "attempt_number",
    "to_number",
    "sender",
    "body",
    "next_try_at",
    "created_at",
    "updated_at",
)


def queue_texts(conn: Connection, finished: Sequence[FinishedAttempt], now: datetime) -> None:
    """Queue the texts of these attempts, due now: one INSERT for the batch."""
    stamp = to_us(now)
    rows = [
        (
            f.tenant_id,
            f.campaign_id,
            f.record.destination_id,
            f.record.attempt_number,
            text.to,
            text.sender,
            text.text,
            stamp,
            stamp,
            stamp,
        )
        for f in finished
        for text in f.record.texts
    ]
    if rows:
        conn.insert_many("sms_outbox", _INSERT_COLUMNS, rows)


class SmsQueries(SmsClaims, ResultQueries):  # a settled text sends its row to the webhook
    _conn: Connection

    def sms_accepted(
        self,
        message_id: int,
        provider: str,
        provider_ids: Sequence[str],
        parts: int,
        now: datetime,
    ) -> bool:
        self._lock([f"id:{pid}" for pid in provider_ids])
        updated = self._conn.execute(
            "UPDATE sms_outbox SET status = 'sent', provider = %s, provider_ids = %s, parts = %s,"
            " submitting_since = NULL,"
            f" reason = '', tries = tries + 1, updated_at = %s WHERE id = %s AND {_WAITING}"
            " RETURNING tenant_id",
            (provider, " ".join(provider_ids), parts, to_us(now), message_id),
        )
        if not updated:
            return False
        tenant = TenantId(updated[0][0])
        self._forget_parts(message_id)
        if not provider_ids:
            return True
        self._conn.insert_many(
            "sms_parts",
            ("message_id", "part", "tenant_id", "provider_id"),
            [(message_id, n, tenant, pid) for n, pid in enumerate(provider_ids)],
        )
        self._apply_kept(tenant, message_id, list(provider_ids), now)
        return True

    def sms_retry(
        self, message_id: int, provider: str, reason: str, next_try_at: datetime, now: datetime
    ) -> None:
        self._conn.execute(
            "UPDATE sms_outbox SET status = 'queued', provider = %s, reason = %s,"
            " submitting_since = NULL,"
            f" tries = tries + 1, next_try_at = %s, updated_at = %s WHERE id = %s AND {_WAITING}",
            (provider, reason[:MAX_REASON], to_us(next_try_at), to_us(now), message_id),
        )

    def sms_failed(self, message_id: int, provider: str, reason: str, now: datetime) -> None:
        failed = self._conn.execute(
            "UPDATE sms_outbox SET status = 'failed', provider = %s, reason = %s,"
            " submitting_since = NULL,"
            f" tries = tries + 1, updated_at = %s WHERE id = %s AND {_WAITING} RETURNING id",
            (provider, reason[:MAX_REASON], to_us(now), message_id),
        )
        if failed:
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
        recipient = self._conn.execute(
            "SELECT to_number FROM sms_outbox WHERE id = %s", (message_id,)
        )
        if not recipient:
            return
        self._lock([f"to:{recipient[0][0]}", *(f"id:{pid}" for pid in provider_ids)])
        known = parts if provider_ids or parts > 1 else None
        updated = self._conn.execute(
            "UPDATE sms_outbox SET status = 'unknown', provider = %s, reason = %s,"
            " provider_ids = %s, parts = COALESCE(%s, parts), tries = tries + 1,"
            " submitting_since = NULL,"
            f" next_try_at = %s, updated_at = %s WHERE id = %s AND {_WAITING}"
            " RETURNING tenant_id, to_number, body",
            (
                provider,
                reason[:MAX_REASON],
                " ".join(provider_ids),
                known,
                to_us(next_try_at),
                to_us(now),
                message_id,
            ),
        )
        if not updated:
            return
        tenant, to, body = updated[0]
        cut = bool(provider_ids)
        if cut:  # some parts taken: their receipts apply by id, the rest wait for theirs
            self._forget_parts(message_id)
            self._conn.insert_many(
                "sms_parts",
                ("message_id", "part", "tenant_id", "provider_id"),
                [(message_id, n, tenant, pid) for n, pid in enumerate(provider_ids)],
            )
            self._apply_kept(TenantId(tenant), message_id, list(provider_ids), now)
        self._match_kept(TenantId(tenant), message_id, to, body, cut, now)

    def _match_kept(
        self, tenant: TenantId, message_id: int, to: str, body: str, cut: bool, now: datetime
    ) -> None:
        """A receipt that came before this answer (the provider did take it) settles it now."""
        for rid, pid, state, error, prefix, at in self._conn.execute(
            "SELECT id, provider_id, state, error, text_prefix, at FROM sms_receipts"
            " WHERE (tenant_id = %s OR tenant_id IS NULL) AND recipient = %s ORDER BY id",
            (tenant, to),
        ):
            if not (part_prefix_matches(body, prefix) if cut else prefix_matches(body, prefix)):
                continue
            report = DeliveryReport(pid, DeliveryState(state), from_us(at), error, to, prefix)
            if cut and not self._match_doubt(message_id, report, now):
                return
            self._conn.execute("DELETE FROM sms_receipts WHERE id = %s", (rid,))
            if not cut:
                self._adopt(tenant, message_id, report, now)
                return

    def sms_receipt(
        self, tenant_id: TenantId | None, report: DeliveryReport, now: datetime
    ) -> bool:
        self._lock([f"id:{report.provider_id}", f"to:{report.recipient or ''}"])
        for message_id, part, tenant in self._conn.execute(
            "SELECT message_id, part, tenant_id FROM sms_parts WHERE provider_id = %s"
            " ORDER BY message_id DESC",
            (report.provider_id,),
        ):
            if tenant_id is None or tenant == tenant_id:
                self._set_part(message_id, part, report, now)
                return True
        if report.recipient and report.text_prefix:
            for message_id, tenant, body, cut in self._conn.execute(
                "SELECT id, tenant_id, body, EXISTS (SELECT 1 FROM sms_parts p"
                " WHERE p.message_id = sms_outbox.id) FROM sms_outbox WHERE to_number = %s"
                " AND status = 'unknown' ORDER BY id",
                (report.recipient,),
            ):
                if tenant_id is not None and tenant != tenant_id:
                    continue
                if cut and part_prefix_matches(body, report.text_prefix):
                    if self._match_doubt(message_id, report, now):
                        return True
                elif not cut and prefix_matches(body, report.text_prefix):
                    self._adopt(TenantId(tenant), message_id, report, now)
                    return True
        self._conn.execute(
            "INSERT INTO sms_receipts (tenant_id, provider_id, state, error, recipient,"
            " text_prefix, at, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                tenant_id,
                report.provider_id,
                report.state.value,
                report.error[:MAX_REASON],
                report.recipient,
                report.text_prefix,
                to_us(report.at),
                to_us(now),
            ),
        )
        return False

    def sms_reply_tenant(self, person: str, ours: str) -> TenantId | None:
        """The tenant an inbound text from ``person`` to ``ours`` answers: the last that texted
        that person from that sender, else the last that texted them at all."""
        rows = self._conn.execute(
            "SELECT tenant_id, sender FROM sms_outbox WHERE to_number = %s ORDER BY id DESC",
            (person,),
        )
        for tenant, sender in rows:
            if sender == ours:
                return TenantId(tenant)
        return TenantId(rows[0][0]) if rows else None

    def sms_of(self, message_id: int) -> SmsRecord | None:
        rows = self._conn.execute(
            f"SELECT {SMS_SELECT} FROM sms_outbox WHERE id = %s", (message_id,)
        )
        return sms_record(rows[0]) if rows else None

    def forget_sms_receipts(self, before: datetime) -> int:
        return len(
            self._conn.execute(
                "DELETE FROM sms_receipts WHERE received_at < %s RETURNING id", (to_us(before),)
            )
        )

    def _adopt(
        self, tenant_id: TenantId, message_id: int, report: DeliveryReport, now: datetime
    ) -> None:
        """An UNKNOWN text the provider took after all (its receipt says so): its first part,
        with the receipt's id, then the receipt applied. A one-part text is SENT; a longer one
        stays UNKNOWN (never shrunk to one part): its other parts were never sent."""
        (parts,) = self._conn.execute("SELECT parts FROM sms_outbox WHERE id = %s", (message_id,))[
            0
        ]
        if parts > 1:
            self._conn.execute(
                "UPDATE sms_outbox SET provider_ids = %s, reason = %s, updated_at = %s"
                " WHERE id = %s",
                (
                    report.provider_id,
                    doubt_reason(1, parts, "no answer for part 1, so it was never sent"),
                    to_us(now),
                    message_id,
                ),
            )
        else:
            self._conn.execute(
                "UPDATE sms_outbox SET status = 'sent', provider_ids = %s, parts = 1,"
                " reason = '', updated_at = %s WHERE id = %s",
                (report.provider_id, to_us(now), message_id),
            )
        self._conn.execute(
            "INSERT INTO sms_parts (message_id, part, tenant_id, provider_id)"
            " VALUES (%s, 0, %s, %s)",
            (message_id, tenant_id, report.provider_id),
        )
        self._set_part(message_id, 0, report, now)

    def _forget_parts(self, message_id: int) -> None:
        """A text resent while its first try's part 1 receipt came (a text in doubt from part
        1 claimed again): the new answer's parts replace the old."""
        self._conn.execute("DELETE FROM sms_parts WHERE message_id = %s", (message_id,))

    def _apply_kept(
        self, tenant_id: TenantId, message_id: int, ids: list[str], now: datetime
    ) -> None:
        marks = ", ".join("%s" for _ in ids)
        kept = self._conn.execute(
            "SELECT id, provider_id, state, error, at FROM sms_receipts"
            f" WHERE (tenant_id = %s OR tenant_id IS NULL) AND provider_id IN ({marks})"
            " ORDER BY id",
            (tenant_id, *ids),
        )
        for rid, pid, state, error, at in kept:
            self._conn.execute("DELETE FROM sms_receipts WHERE id = %s", (rid,))
            report = DeliveryReport(pid, DeliveryState(state), from_us(at), error)
            self._set_part(message_id, ids.index(pid), report, now)

    def _set_part(self, message_id: int, part: int, report: DeliveryReport, now: datetime) -> None:
        self._conn.execute(
            "UPDATE sms_parts SET state = %s, error = %s WHERE message_id = %s AND part = %s",
            (report.state.value, report.error[:MAX_REASON], message_id, part),
        )
        states = self._conn.execute(
            "SELECT state, error FROM sms_parts WHERE message_id = %s ORDER BY part",
            (message_id,),
        )
        current, parts = self._conn.execute(
            "SELECT status, parts FROM sms_outbox WHERE id = %s", (message_id,)
        )[0]
        known = [None if s is None else DeliveryState(s) for s, _ in states]
        # A cut text (UNKNOWN, some parts taken) counts its parts in doubt as not delivered yet.
        status = final_status(padded(known, parts) if current == "unknown" else known)
        if status is None:
            return
        reason = ""
        if status is SmsStatus.FAILED:
            reason = next(
                receipt_reason(DeliveryState(s), e)
                for s, e in states
                if s is not None and s not in ("delivered", "enroute")
            )
        # Only a SENT or cut text settles: a final one stays as its first final receipt made it.
        settled = self._conn.execute(
            "UPDATE sms_outbox SET status = %s, reason = %s, updated_at = %s"
            " WHERE id = %s AND status IN ('sent', 'unknown') RETURNING id",
            (status.value, reason, to_us(now), message_id),
        )
        if settled:
            self._settled(message_id, now)

    def _settled(self, message_id: int, now: datetime) -> None:
        """Once every text of an attempt is delivered or failed, its results row goes to the
        tenant's webhook again, with the texts' statuses (docs/sms.md)."""
        rows = self._conn.execute(
            "SELECT a.id, o.campaign_id, o.tenant_id, c.code FROM sms_outbox o"
            " JOIN attempts a ON a.destination_id = o.destination_id"
            " AND a.attempt_number = o.attempt_number"
            " JOIN campaigns c ON c.id = o.campaign_id"
            " WHERE o.id = %s AND EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = o.tenant_id)"
            " AND NOT EXISTS (SELECT 1 FROM sms_outbox p WHERE p.destination_id = o.destination_id"
            " AND p.attempt_number = o.attempt_number"
            " AND p.status NOT IN ('delivered', 'failed'))",
            (message_id,),
        )
        if not rows:
            return
        attempt_id, campaign_id, tenant_id, code = rows[0]
        results = self.attempt_results(CampaignId(campaign_id), attempt_id - 1, 1)
        if not results or results[0].attempt_id != attempt_id:
            return
        payload = json.dumps(result_fields(results[0], campaign_code=code), separators=(",", ":"))
        stamp = to_us(now)
        self._conn.execute(
            "INSERT INTO webhook_outbox (tenant_id, payload, next_try_at, created_at)"
            " VALUES (%s, %s, %s, %s)",
            (tenant_id, payload, stamp, stamp),
        )

    def sms_settings(self, tenant_id: TenantId) -> TenantSmsSettings | None:
        rows = self._conn.execute(
            "SELECT settings, callback_id FROM sms_settings WHERE tenant_id = %s", (tenant_id,)
        )
        return TenantSmsSettings.from_json(rows[0][0], rows[0][1]) if rows else None

    def set_sms_settings(
        self, tenant_id: TenantId, settings: TenantSmsSettings, now: datetime
    ) -> None:
        self._conn.execute(
            "INSERT INTO sms_settings (tenant_id, provider, settings, callback_id, updated_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant_id) DO UPDATE"
            " SET provider = excluded.provider, settings = excluded.settings,"
            " callback_id = excluded.callback_id, updated_at = excluded.updated_at",
            (
                tenant_id,
                settings.provider.value,
                settings.to_json(),
                settings.callback_id,
                to_us(now),
            ),
        )

    def sms_settings_by_callback(
        self, callback_id: str
    ) -> tuple[TenantId, TenantSmsSettings] | None:
        rows = self._conn.execute(
            "SELECT tenant_id, settings FROM sms_settings WHERE callback_id = %s", (callback_id,)
        )
        if not rows:
            return None
        return TenantId(rows[0][0]), TenantSmsSettings.from_json(rows[0][1], callback_id)

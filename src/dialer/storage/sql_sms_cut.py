"""A long text cut mid-way (docs/sms.md): the SQL store's handling of a text whose parts were
partly taken when the answer for the next was lost. Mixed into SmsQueries (storage/sql_sms.py),
which applies receipts to parts (``_set_part``) and sends settled rows on (``_settled``)."""

from datetime import datetime

from dialer.domain.sms import DeliveryReport
from dialer.domain.sms_outbox import GIVEN_UP, doubt_reason, first_missing
from dialer.storage.database import Connection
from dialer.storage.rows import to_us


class CutTexts:
    _conn: Connection

    def _set_part(self, message_id: int, part: int, report: DeliveryReport, now: datetime) -> None:
        raise NotImplementedError

    def _settled(self, message_id: int, now: datetime) -> None:
        raise NotImplementedError

    def _match_doubt(self, message_id: int, report: DeliveryReport, now: datetime) -> bool:
        """A receipt for the part in doubt of a cut text: that part, with the receipt's id.
        False if the text has no part left in doubt."""
        tenant, parts = self._conn.execute(
            "SELECT tenant_id, parts FROM sms_outbox WHERE id = %s", (message_id,)
        )[0]
        known = self._conn.execute(
            "SELECT part, provider_id FROM sms_parts WHERE message_id = %s ORDER BY part",
            (message_id,),
        )
        part = first_missing({n for n, _ in known}, parts)
        if part is None:
            return False
        self._conn.execute(
            "INSERT INTO sms_parts (message_id, part, tenant_id, provider_id)"
            " VALUES (%s, %s, %s, %s)",
            (message_id, part, tenant, report.provider_id),
        )
        ids = sorted([*known, (part, report.provider_id)])
        later = first_missing({n for n, _ in ids}, parts)
        reason = "" if later is None else doubt_reason(later, parts, "no receipt yet")
        self._conn.execute(
            "UPDATE sms_outbox SET provider_ids = %s, reason = %s, updated_at = %s WHERE id = %s",
            (" ".join(pid for _, pid in ids), reason, to_us(now), message_id),
        )
        self._set_part(message_id, part, report, now)
        return True

    def _give_up_cut(self, now: datetime) -> None:
        """Cut texts whose grace ran out with a part still unconfirmed: FAILED, not sent
        again (docs/sms.md)."""
        due = self._conn.execute(
            "SELECT o.id, o.parts FROM sms_outbox o WHERE o.status = 'unknown'"
            " AND o.next_try_at <= %s"
            " AND EXISTS (SELECT 1 FROM sms_parts p WHERE p.message_id = o.id)",
            (to_us(now),),
        )
        for message_id, parts in due:
            taken = self._conn.execute(
                "SELECT part FROM sms_parts WHERE message_id = %s", (message_id,)
            )
            part = first_missing({n for (n,) in taken}, parts)
            reason = doubt_reason(part if part is not None else 0, parts, GIVEN_UP)
            if self._conn.execute(
                "UPDATE sms_outbox SET status = 'failed', reason = %s, updated_at = %s"
                " WHERE id = %s AND status = 'unknown' RETURNING id",
                (reason, to_us(now), message_id),
            ):
                self._settled(message_id, now)

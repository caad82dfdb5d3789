"""A long text cut mid-way (docs/sms.md), in memory as storage/sql_sms_cut.py: a text whose
parts were partly taken when the answer for the next was lost. Mixed into SmsParts
(storage/memory/sms.py), which applies receipts to parts and sends settled rows on."""

from datetime import datetime

from dialer.domain.sms import DeliveryReport
from dialer.domain.sms_outbox import GIVEN_UP, doubt_reason, first_missing
from dialer.storage.memory.base import SessionBase
from dialer.storage.memory.tables import SmsPartRow, SmsRow, to_us


class CutTexts(SessionBase):
    def _put(self, row: SmsRow, **changes: object) -> SmsRow:
        raise NotImplementedError

    def _set_part(self, message_id: int, part: int, report: DeliveryReport, now: datetime) -> None:
        raise NotImplementedError

    def _settled(self, message_id: int, now: datetime) -> None:
        raise NotImplementedError

    def _cut(self, row: SmsRow) -> bool:
        """An UNKNOWN text with some parts taken: never claimed to be sent again."""
        return row.status == "unknown" and any(m == row.id for m, _ in self._t.sms_parts)

    def _taken(self, message_id: int) -> set[int]:
        return {n for m, n in self._t.sms_parts if m == message_id}

    def _match_doubt(self, message_id: int, report: DeliveryReport, now: datetime) -> bool:
        row = self._t.sms_outbox[message_id]
        part = first_missing(self._taken(message_id), row.parts)
        if part is None:
            return False
        table = self._w("sms_parts")
        table[(message_id, part)] = SmsPartRow(row.tenant_id, report.provider_id)
        later = first_missing(self._taken(message_id), row.parts)
        ids = tuple(p.provider_id for (m, _), p in sorted(table.items()) if m == message_id)
        reason = "" if later is None else doubt_reason(later, row.parts, "no receipt yet")
        self._put(row, provider_ids=ids, reason=reason, updated_at=to_us(now))
        self._set_part(message_id, part, report, now)
        return True

    def _give_up_cut(self, now: datetime) -> None:
        stamp = to_us(now)
        for row in sorted(self._t.sms_outbox.values(), key=lambda r: r.id):
            if row.next_try_at <= stamp and self._cut(row):
                part = first_missing(self._taken(row.id), row.parts)
                reason = doubt_reason(part if part is not None else 0, row.parts, GIVEN_UP)
                self._put(row, status="failed", reason=reason, updated_at=stamp)
                self._settled(row.id, now)

    def _forget_parts(self, message_id: int) -> None:
        """A text resent while its first try's part 1 receipt came (a text in doubt from part
        1 claimed again): the new answer's parts replace the old."""
        table = self._w("sms_parts")
        for key in [k for k in table if k[0] == message_id]:
            del table[key]

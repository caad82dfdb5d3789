"""How the SMS outbox's rows are read back (shared by the results and the outbox queries)."""

from collections.abc import Sequence

from dialer.domain.sms_outbox import SmsRecord, SmsStatus
from dialer.storage.rows import from_us

SMS_SELECT = "status, parts, provider, reason, provider_ids, updated_at"


def sms_record(row: Sequence[object]) -> SmsRecord:
    status, parts, provider, reason, ids, updated = row
    return SmsRecord(
        SmsStatus(status),
        int(parts),  # type: ignore[call-overload]
        None if provider is None else str(provider),
        str(reason),
        tuple(str(ids).split()),
        from_us(int(updated)),  # type: ignore[call-overload]
    )

"""Store queries over one campaign's waiting destinations, for the Dialer API."""

from collections.abc import Sequence
from datetime import datetime

from dialer.domain.agent import Strategy
from dialer.domain.campaign import Campaign, CampaignStatus
from dialer.domain.destination import CallStatus, CampaignCounts, DestinationPatch, WaitingCall
from dialer.domain.ids import CampaignId
from dialer.storage.database import Connection, Row
from dialer.storage.rows import CAMPAIGN_COLUMNS, campaign_from_row, opt_us, to_us
from dialer.storage.sql_counts import destination_tallies, state_total

# DestinationPatch field -> column; only these may be patched.
_PATCHABLE = {
    "name": "name",
    "priority": "priority",
    "caller_id": "caller_id",
    "custom_data": "custom_data",
    "originate_time": "originate_time",
    "is_date_local": "is_date_local",
    "originate_at": "originate_at",
    "ignore_dnc": "ignore_dnc",
}


# is_final = 0 is destinations_waiting's predicate (migration 0028): the planner uses a partial
# index only for a query that states it.
_WAITING = (
    "SELECT id, number_raw, number_e164, name, caller_id, priority, custom_data,"
    " originate_time, is_date_local, state FROM destinations"
    " WHERE campaign_id = %s AND is_final = 0 AND state IN ('pending', 'in_flight')"
)


class DestinationQueries:
    _conn: Connection

    def _work_added(self, *, notify: bool = True) -> None: ...

    def campaign_by_code(self, code: str, *, lock: bool = False) -> Campaign | None:
        # lock: hold a key-share lock until commit, as a foreign key check would, so the
        # campaign cannot be deleted under destinations being added (no FK: see migration 0001).
        share = " FOR KEY SHARE" if lock else ""
        rows = self._conn.execute(
            f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE code = %s{share}", (code,)
        )
        return campaign_from_row(rows[0]) if rows else None

    def set_campaign_status(
        self, campaign_id: CampaignId, status: CampaignStatus, now: datetime
    ) -> None:
        if status is CampaignStatus.ENABLED:
            self._work_added()
        self._conn.execute(
            "UPDATE campaigns SET status = %s, updated_at = %s WHERE id = %s",
            (status.value, to_us(now), campaign_id),
        )

    def set_strategy(self, campaign_id: CampaignId, strategy: Strategy, now: datetime) -> None:
        self._conn.execute(
            "UPDATE campaigns SET strategy_queue_id = %s, strategy_max_callers = %s,"
            " strategy_coefficient = %s, updated_at = %s WHERE id = %s",
            (
                strategy.queue_id,
                strategy.max_callers,
                strategy.coefficient,
                to_us(now),
                campaign_id,
            ),
        )

    def campaign_counts(
        self, campaign_ids: Sequence[CampaignId], now: datetime
    ) -> dict[CampaignId, CampaignCounts]:
        """From the counters (migration 0006) and the ends of two indexes: no destination is
        counted, except pending ones that carry a still-future OriginateTime."""
        if not campaign_ids:
            return {}
        tallies = destination_tallies(self._conn, campaign_ids)
        waiting = {
            campaign_id: (state_total(tally, "pending"), state_total(tally, "in_flight"))
            for campaign_id, tally in tallies.items()
        }
        # One round trip for every campaign with pending destinations, each figure read from
        # an index: the future-scheduled ones alone, and the ready queue's two ends.
        extra: dict[int, Row] = {}
        with_pending = [c for c, (pending, _) in waiting.items() if pending]
        for start in range(0, len(with_pending), 500):
            chunk = with_pending[start : start + 500]
            marks = ", ".join("%s" for _ in chunk)
            for row in self._conn.execute(
                "SELECT c.id,"
                " (SELECT count(*) FROM destinations d WHERE d.campaign_id = c.id"
                "   AND d.state = 'pending' AND d.originate_at IS NOT NULL"
                "   AND d.originate_at > %s),"
                " (SELECT q.priority FROM dial_queue q WHERE q.campaign_id = c.id"
                "   ORDER BY q.priority DESC LIMIT 1),"
                " (SELECT q.priority FROM dial_queue q WHERE q.campaign_id = c.id"
                "   ORDER BY q.priority LIMIT 1)"
                f" FROM campaigns c WHERE c.id IN ({marks})",
                (to_us(now), *chunk),
            ):
                extra[row[0]] = row
        out: dict[CampaignId, CampaignCounts] = {}
        for campaign_id, (pending, originated) in waiting.items():
            if not pending and not originated:
                continue
            _, later, high, low = extra.get(campaign_id, (campaign_id, 0, None, None))
            out[campaign_id] = CampaignCounts(pending, originated, pending - int(later), high, low)
        return out

    def waiting_calls(
        self, campaign_id: CampaignId, after: tuple[int, int] | None, limit: int
    ) -> list[WaitingCall]:
        """Pending and originated calls in dial order (priority high to low, then oldest),
        starting after the (priority, id) of the last call of the previous page.

        The keyset is read as two index range scans (the rest of the cursor's priority, then
        lower priorities): one predicate with OR read 1,000,000 rows for a deep page.
        """
        rows: list[Row] = []
        if after is not None:
            rows = self._conn.execute(
                f"{_WAITING} AND priority = %s AND id > %s ORDER BY id LIMIT %s",
                (campaign_id, after[0], after[1], limit),
            )
        if len(rows) < limit:
            lower = "" if after is None else " AND priority < %s"
            rows += self._conn.execute(
                f"{_WAITING}{lower} ORDER BY priority DESC, id LIMIT %s",
                (campaign_id, *(() if after is None else (after[0],)), limit - len(rows)),
            )
        return [
            WaitingCall(
                i,
                raw,
                e164,
                name,
                cid,
                prio,
                data,
                otime,
                None if local is None else bool(local),
                CallStatus.PENDING if state == "pending" else CallStatus.ORIGINATED,
            )
            for i, raw, e164, name, cid, prio, data, otime, local, state in rows
        ]

    def cancel_pending(self, campaign_id: CampaignId, e164: str | None) -> int:
        """Take pending destinations (of one number, or all) out of the campaign.

        Never-dialled ones are deleted; ones waiting for a retry keep their history and become
        cancelled. Calls in flight and finished ones are left alone.
        """
        match, params = (
            ("", (campaign_id,)) if e164 is None else (" AND number_e164 = %s", (campaign_id, e164))
        )
        self._conn.execute(
            "DELETE FROM dial_queue WHERE campaign_id = %s AND destination_id IN"
            f" (SELECT id FROM destinations WHERE campaign_id = %s{match} AND state = 'pending')",
            (campaign_id, *params),
        )
        cancelled = self._conn.execute(
            "UPDATE destinations SET state = 'cancelled', is_final = 1"
            f" WHERE campaign_id = %s{match} AND state = 'pending' AND attempts_made > 0"
            " RETURNING id",
            params,
        )
        deleted = self._conn.execute(
            f"DELETE FROM destinations WHERE campaign_id = %s{match} AND state = 'pending'"
            " RETURNING id",
            params,
        )
        return len(cancelled) + len(deleted)

    def update_pending(self, campaign_id: CampaignId, e164: str, patch: DestinationPatch) -> int:
        """Apply the patch to every pending destination of the number; how many there were."""
        columns: list[str] = []
        values: list[object] = []
        for field, value in patch.fields.items():
            columns.append(f"{_PATCHABLE[field]} = %s")
            if isinstance(value, datetime):
                values.append(opt_us(value))
            elif isinstance(value, bool):
                values.append(int(value))
            else:
                values.append(value)
        if not columns:
            rows = self._conn.execute(
                "SELECT count(*) FROM destinations"
                " WHERE campaign_id = %s AND number_e164 = %s AND state = 'pending'",
                (campaign_id, e164),
            )
            return int(rows[0][0])
        updated = self._conn.execute(
            f"UPDATE destinations SET {', '.join(columns)}"
            " WHERE campaign_id = %s AND number_e164 = %s AND state = 'pending' RETURNING id",
            (*values, campaign_id, e164),
        )
        ids = [row[0] for row in updated]
        if ids:
            self._work_added()  # an earlier OriginateTime or a higher Priority
            # Keep the ready queue in step: priority always; the due time only of numbers not
            # yet attempted (a retry keeps the time its policy gave it).
            marks = ", ".join("%s" for _ in ids)
            self._conn.execute(
                "UPDATE dial_queue SET priority = (SELECT d.priority FROM destinations d"
                " WHERE d.id = dial_queue.destination_id),"
                " due_at = coalesce((SELECT coalesce(d.originate_at, 0) FROM destinations d"
                " WHERE d.id = dial_queue.destination_id AND d.attempts_made = 0), due_at)"
                f" WHERE destination_id IN ({marks})",
                ids,
            )
        return len(updated)

"""Store queries of campaign lifecycle, summaries and statistics (ports.store.LifecycleRepo):
batches of campaigns from the counters of migration 0006, the cancellation of migration 0017,
and attempts grouped by end time through migration 0016's index; no scan of destinations."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.progress import CampaignProgress, progress_from_tally
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us
from dialer.storage.sql_counts import destination_tallies

_CHUNK = 500


def _marks(values: Sequence[object]) -> str:
    return ", ".join("%s" for _ in values)


class LifecycleQueries:
    _conn: Connection

    def _work_added(self, *, notify: bool = True) -> None: ...

    def cancelled_at(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, datetime]:
        found: dict[CampaignId, datetime] = {}
        for start in range(0, len(campaign_ids), _CHUNK):
            chunk = list(campaign_ids[start : start + _CHUNK])
            for campaign_id, at in self._conn.execute(
                f"SELECT id, cancelled_at FROM campaigns WHERE id IN ({_marks(chunk)})"
                " AND cancelled_at IS NOT NULL",
                chunk,
            ):
                found[CampaignId(campaign_id)] = from_us(at)
        return found

    def cancel_campaign(self, campaign_id: CampaignId, now: datetime) -> int:
        stamp = to_us(now)
        self._conn.execute(
            "UPDATE campaigns SET status = 'disabled', cancelled_at = %s, updated_at = %s"
            " WHERE id = %s",
            (stamp, stamp, campaign_id),
        )
        self._conn.execute("DELETE FROM dial_queue WHERE campaign_id = %s", (campaign_id,))
        # Kept, not deleted (unlike the Dialer API's RemoveCall): a cancelled campaign's numbers
        # stay to be read, each with what happened to it so far.
        cancelled = self._conn.execute(
            "UPDATE destinations SET state = 'cancelled', is_final = 1"
            " WHERE campaign_id = %s AND state = 'pending' RETURNING id",
            (campaign_id,),
        )
        return len(cancelled)

    def sweep_cancelled(self) -> int:
        # Few campaigns are cancelled: the subquery lists them, each a range of the queue's
        # (campaign_id, ...) index.
        taken = self._conn.execute(
            "DELETE FROM dial_queue WHERE campaign_id IN"
            " (SELECT id FROM campaigns WHERE cancelled_at IS NOT NULL) RETURNING destination_id"
        )
        ids = [row[0] for row in taken]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            self._conn.execute(
                "UPDATE destinations SET state = 'cancelled', is_final = 1"
                f" WHERE id IN ({_marks(chunk)}) AND state = 'pending'",
                chunk,
            )
        return len(ids)

    def progress_of(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, CampaignProgress]:
        tallies = destination_tallies(self._conn, campaign_ids)
        lines: dict[int, int] = {}
        for start in range(0, len(campaign_ids), _CHUNK):
            chunk = list(campaign_ids[start : start + _CHUNK])
            for campaign_id, calls in self._conn.execute(
                "SELECT l.campaign_id, sum(l.calls) FROM engine_lines l"
                f" WHERE l.campaign_id IN ({_marks(chunk)})"
                " AND EXISTS (SELECT 1 FROM in_flight f"
                " WHERE f.worker = l.worker AND f.campaign_id = l.campaign_id)"
                " GROUP BY l.campaign_id",
                chunk,
            ):
                lines[campaign_id] = int(calls or 0)
        return {c: progress_from_tally(tallies.get(c, {}), lines.get(c, 0)) for c in campaign_ids}

    def attempts_since(
        self, campaign_ids: Sequence[CampaignId], since: datetime
    ) -> dict[CampaignId, int]:
        found: dict[CampaignId, int] = {}
        for start in range(0, len(campaign_ids), _CHUNK):
            chunk = list(campaign_ids[start : start + _CHUNK])
            for campaign_id, n in self._conn.execute(
                f"SELECT campaign_id, count(*) FROM attempts WHERE campaign_id IN ({_marks(chunk)})"
                " AND ended_at >= %s GROUP BY campaign_id",
                (*chunk, to_us(since)),
            ):
                found[CampaignId(campaign_id)] = int(n)
        return found

    def attempt_buckets(
        self, campaign_id: CampaignId, since: datetime, until: datetime, bucket: timedelta
    ) -> list[tuple[int, int, int, int]]:
        start = to_us(since)
        width = to_us(since + bucket) - start
        rows = self._conn.execute(
            "SELECT (ended_at - %s) / %s AS b, outcome, stage, count(*) FROM attempts"
            " WHERE campaign_id = %s AND ended_at >= %s AND ended_at < %s"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            (start, width, campaign_id, start, to_us(until)),
        )
        return [(int(b), int(o), int(s), int(n)) for b, o, s, n in rows]

"""Each agent campaign's pacing ratio over time (migration 0022, domain/pacing_history.py): one
row per campaign and minute, added to at each saved decision; minutes older than ``KEPT`` go at
each save, by the index on minute, so the table stays bounded however long a campaign dials."""

from datetime import datetime, timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.pacing_history import KEPT, PacingPoint, minute_of
from dialer.storage.database import Connection
from dialer.storage.rows import to_us


class PacingHistoryQueries:
    _conn: Connection

    def note_pacing(self, campaign_id: CampaignId, ratio: float, at: datetime) -> None:
        minute = minute_of(at)
        value = float(ratio)
        # Not for a campaign deleted meanwhile: its rows would outlive it.
        self._conn.execute(
            "INSERT INTO pacing_history"
            " (campaign_id, minute, decisions, ratio_sum, ratio_min, ratio_max)"
            " SELECT %s, %s, 1, %s, %s, %s WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = %s)"
            " ON CONFLICT (campaign_id, minute) DO UPDATE SET"
            " decisions = pacing_history.decisions + 1,"
            " ratio_sum = pacing_history.ratio_sum + excluded.ratio_sum,"
            " ratio_min = CASE WHEN excluded.ratio_min < pacing_history.ratio_min"
            " THEN excluded.ratio_min ELSE pacing_history.ratio_min END,"
            " ratio_max = CASE WHEN excluded.ratio_max > pacing_history.ratio_max"
            " THEN excluded.ratio_max ELSE pacing_history.ratio_max END",
            (campaign_id, to_us(minute), value, value, value, campaign_id),
        )
        self._conn.execute(
            "DELETE FROM pacing_history WHERE minute < %s", (to_us(minute_of(at - KEPT)),)
        )

    def pacing_history(
        self, campaign_id: CampaignId, since: datetime, until: datetime, bucket: timedelta
    ) -> list[PacingPoint]:
        start = to_us(since)
        width = to_us(since + bucket) - start
        rows = self._conn.execute(
            "SELECT (minute - %s) / %s AS b, sum(decisions), sum(ratio_sum), min(ratio_min),"
            " max(ratio_max) FROM pacing_history"
            " WHERE campaign_id = %s AND minute >= %s AND minute < %s GROUP BY 1 ORDER BY 1",
            (start, width, campaign_id, start, to_us(until)),
        )
        return [
            PacingPoint(int(b), int(n), float(total) / int(n), float(low), float(high))
            for b, n, total, low, high in rows
        ]

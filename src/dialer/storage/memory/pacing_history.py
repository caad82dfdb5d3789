"""Each agent campaign's pacing ratio over time in memory, as storage/sql_pacing_history.py
keeps it in SQL: one entry per campaign and minute, minutes older than ``KEPT`` deleted."""

from datetime import datetime, timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.pacing_history import KEPT, PacingPoint, minute_of
from dialer.storage.memory.base import SessionBase
from dialer.storage.memory.tables import to_us


class PacingHistoryParts(SessionBase):
    def note_pacing(self, campaign_id: CampaignId, ratio: float, at: datetime) -> None:
        if campaign_id in self._t.campaigns:
            key = (campaign_id, to_us(minute_of(at)))
            value = float(ratio)
            n, total, low, high = self._t.pacing_history.get(key, (0, 0.0, value, value))
            self._w("pacing_history")[key] = (
                n + 1,
                total + value,
                min(low, value),
                max(high, value),
            )
        cutoff = to_us(minute_of(at - KEPT))
        for old in [k for k in self._t.pacing_history if k[1] < cutoff]:
            del self._w("pacing_history")[old]

    def pacing_history(
        self, campaign_id: CampaignId, since: datetime, until: datetime, bucket: timedelta
    ) -> list[PacingPoint]:
        start, end = to_us(since), to_us(until)
        width = to_us(since + bucket) - start
        grouped: dict[int, tuple[int, float, float, float]] = {}
        for (campaign, minute), (n, total, low, high) in self._t.pacing_history.items():
            if campaign != campaign_id or not start <= minute < end:
                continue
            index = (minute - start) // width
            was = grouped.get(index)
            if was is not None:
                n, total = n + was[0], total + was[1]
                low, high = min(low, was[2]), max(high, was[3])
            grouped[index] = (n, total, low, high)
        return [
            PacingPoint(index, n, total / n, low, high)
            for index, (n, total, low, high) in sorted(grouped.items())
        ]

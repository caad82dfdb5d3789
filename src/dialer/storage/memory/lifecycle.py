"""Campaign lifecycle, summaries and statistics in memory (storage/sql_lifecycle.py)."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from dialer.domain.campaign import CampaignStatus
from dialer.domain.ids import CampaignId
from dialer.domain.progress import CampaignProgress, progress_from_tally
from dialer.storage.memory.base import SessionBase
from dialer.storage.memory.tables import from_us, to_us


class LifecycleParts(SessionBase):
    def cancelled_at(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, datetime]:
        return {c: from_us(self._t.cancelled[c]) for c in campaign_ids if c in self._t.cancelled}

    def cancel_campaign(self, campaign_id: CampaignId, now: datetime) -> int:
        campaign = self._t.campaigns.get(campaign_id)
        if campaign is None:
            return 0
        stamp = to_us(now)
        self._w("campaigns")[campaign_id] = dataclasses.replace(
            campaign, status=CampaignStatus.DISABLED, updated_at=from_us(stamp)
        )
        self._w("cancelled")[campaign_id] = stamp
        pending = [
            d
            for d in self._t.destinations.values()
            if d.campaign_id == campaign_id and d.state == "pending"
        ]
        for d in pending:
            if d.id in self._t.ready:
                del self._w("ready")[d.id]
            self._w("destinations")[d.id] = dataclasses.replace(d, state="cancelled")
        return len(pending)

    def sweep_cancelled(self) -> int:
        taken = [
            destination_id
            for destination_id, row in self._t.ready.items()
            if row.campaign_id in self._t.cancelled
        ]
        for destination_id in taken:
            del self._w("ready")[destination_id]
            d = self._t.destinations.get(destination_id)
            if d is not None and d.state == "pending":
                self._w("destinations")[destination_id] = dataclasses.replace(d, state="cancelled")
        return len(taken)

    def progress_of(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, CampaignProgress]:
        tallies = self._tallies(list(campaign_ids))
        lines: dict[CampaignId, int] = {}
        holders = {(lease.worker, lease.campaign_id) for lease in self._t.leases.values()}
        for (worker, campaign_id), n in self._t.lines.items():
            if (worker, campaign_id) in holders:
                lines[campaign_id] = lines.get(campaign_id, 0) + n
        return {c: progress_from_tally(tallies[c], lines.get(c, 0)) for c in campaign_ids}

    def attempts_since(
        self, campaign_ids: Sequence[CampaignId], since: datetime
    ) -> dict[CampaignId, int]:
        wanted, start = set(campaign_ids), to_us(since)
        found: dict[CampaignId, int] = {}
        for a in self._t.attempts.values():
            if a.campaign_id in wanted and a.ended_at is not None and a.ended_at >= start:
                found[a.campaign_id] = found.get(a.campaign_id, 0) + 1
        return found

    def attempt_buckets(
        self, campaign_id: CampaignId, since: datetime, until: datetime, bucket: timedelta
    ) -> list[tuple[int, int, int, int]]:
        start, end = to_us(since), to_us(until)
        width = to_us(since + bucket) - start
        counts: dict[tuple[int, int, int], int] = {}
        for a in self._t.attempts.values():
            if a.campaign_id != campaign_id or a.ended_at is None:
                continue
            if start <= a.ended_at < end:
                key = ((a.ended_at - start) // width, a.outcome.value, a.stage.value)
                counts[key] = counts.get(key, 0) + 1
        return [(*key, n) for key, n in sorted(counts.items())]

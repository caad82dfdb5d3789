"""The abandoned-call counts and a tenant's compliance settings in memory, as
storage/sql_abandonment.py keeps them in SQL."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from dialer.domain.abandonment import ComplianceSettings, PacingStatus, RecentCalls, Tally
from dialer.domain.attempt import SETTLED_WITHOUT_CALL
from dialer.domain.codes import Outcome
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.storage.memory.base import SessionBase, abandoned
from dialer.storage.memory.tables import NumberCallRow, from_us, to_us

_MACHINES = frozenset({Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT, Outcome.ANSWERPHONE_MESSAGE_LEFT})


class AbandonmentParts(SessionBase):
    def tally(self, campaign_id: CampaignId, since: datetime) -> Tally:
        start = to_us(since)
        live = dropped = machines = 0
        for a in self._t.attempts.values():
            if a.campaign_id != campaign_id or a.ended_at is None or a.ended_at < start:
                continue
            live += a.outcome is Outcome.ANSWERED
            dropped += abandoned(a.outcome, a.stage)
            machines += a.outcome in _MACHINES
        return Tally(live, dropped, machines)

    def recent(
        self, tenant_id: TenantId, numbers: Sequence[str], since: datetime
    ) -> dict[str, RecentCalls]:
        wanted, start = set(numbers), to_us(since)
        calls = sorted(
            (row.e164, row.ended_at, row.abandoned)
            for row in self._t.number_calls.values()
            if row.tenant_id == tenant_id and row.e164 in wanted and row.ended_at >= start
        )
        ended: dict[str, list[datetime]] = {}
        last_abandoned: dict[str, datetime] = {}
        for number, at, was_abandoned in calls:
            ended.setdefault(number, []).append(from_us(at))
            if was_abandoned:
                last_abandoned[number] = from_us(at)
        return {n: RecentCalls(tuple(times), last_abandoned.get(n)) for n, times in ended.items()}

    def calls_in_flight(
        self, tenant_id: TenantId, numbers: Sequence[str], excluding: Sequence[DestinationId]
    ) -> dict[str, int]:
        wanted, skip = set(numbers), set(excluding)
        found: dict[str, int] = {}
        for destination_id, lease in self._t.leases.items():
            campaign = self._t.campaigns.get(lease.campaign_id)
            d = self._t.destinations.get(destination_id)
            if destination_id in skip or campaign is None or campaign.tenant_id != tenant_id:
                continue
            if d is not None and d.e164 in wanted:
                found[d.e164] = found.get(d.e164, 0) + 1
        return found

    def save_pacing(
        self,
        campaign_id: CampaignId,
        ratio: float,
        reason: str,
        at: datetime,
        seen: tuple[int, int, int] | None = None,
    ) -> None:
        if campaign_id in self._t.campaigns:
            counts = (None, None, None) if seen is None else seen
            self._w("pacing")[campaign_id] = PacingStatus(
                float(ratio), reason, from_us(to_us(at)), *counts
            )

    def pacing(self, campaign_id: CampaignId) -> PacingStatus | None:
        return self._t.pacing.get(campaign_id)

    def compliance(self, tenant_id: TenantId) -> ComplianceSettings | None:
        row = self._t.tenants.get(tenant_id)
        return None if row is None else row.compliance

    def set_compliance(self, tenant_id: TenantId, settings: ComplianceSettings) -> None:
        row = self._t.tenants.get(tenant_id)
        if row is not None:
            self._w("tenants")[tenant_id] = dataclasses.replace(row, compliance=settings)

    def backfill_number_calls(self, tenant_id: TenantId, since: datetime) -> None:
        """As sql_abandonment.backfill_number_calls."""
        start = to_us(since)
        have = {
            (r.e164, r.ended_at) for r in self._t.number_calls.values() if r.tenant_id == tenant_id
        }
        for a in list(self._t.attempts.values()):
            campaign = self._t.campaigns.get(a.campaign_id)
            d = self._t.destinations.get(a.destination_id)
            if campaign is None or campaign.tenant_id != tenant_id or d is None or d.e164 is None:
                continue
            if a.ended_at is None or a.ended_at < start or (d.e164, a.ended_at) in have:
                continue
            if a.originated_at is None and a.outcome in SETTLED_WITHOUT_CALL:
                continue
            row = NumberCallRow(tenant_id, d.e164, a.ended_at, abandoned(a.outcome, a.stage))
            self._w("number_calls")[self._new_id("number_calls")] = row

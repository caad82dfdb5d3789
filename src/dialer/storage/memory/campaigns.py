"""Campaigns and their destinations: storage/sql_store.py, sql_numbers.py and
sql_destinations.py in memory, with the same orders, pages and counts."""

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from dialer.domain.agent import Strategy
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignSummary,
    NumberEntry,
    PhoneNumber,
    StoredNumber,
)
from dialer.domain.codes import Outcome
from dialer.domain.destination import CallStatus, CampaignCounts, DestinationPatch, WaitingCall
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.domain.numbering import NOT_VALID
from dialer.storage.memory.base import SessionBase, refers, state_total, unique
from dialer.storage.memory.tables import DestinationRow, ReadyRow, from_us, opt_us, to_us

_WAITING = ("pending", "in_flight")


def _stamped(moment: datetime) -> datetime:
    """An instant as the SQL store reads it back: in UTC, rounded through microseconds."""
    return from_us(to_us(moment))


class CampaignParts(SessionBase):
    # campaigns

    def add_campaign(
        self,
        tenant_id: TenantId,
        code: str,
        spec: CampaignSpec,
        status: CampaignStatus,
        now: datetime,
    ) -> CampaignId:
        refers(tenant_id in self._t.tenants, f"no tenant {tenant_id}")
        self._refer_catalog(spec)
        campaigns = self._w("campaigns")
        unique(any(c.code == code for c in campaigns.values()), f"campaign code {code}")
        campaign_id = CampaignId(self._new_id("campaigns"))
        stamp = _stamped(now)
        campaigns[campaign_id] = Campaign(campaign_id, tenant_id, code, status, spec, stamp, stamp)
        return campaign_id

    def get_campaign(
        self, tenant_id: TenantId, campaign_id: CampaignId, *, for_update: bool = False
    ) -> Campaign | None:
        # for_update: one writer at a time already keeps the row as read until commit.
        campaign = self._t.campaigns.get(campaign_id)
        return campaign if campaign is not None and campaign.tenant_id == tenant_id else None

    def campaign_by_code(self, code: str, *, lock: bool = False) -> Campaign | None:
        for campaign in self._t.campaigns.values():
            if campaign.code == code:
                return campaign
        return None

    def list_campaigns(
        self, tenant_id: TenantId, *, count_numbers: bool = True
    ) -> list[CampaignSummary]:
        campaigns = sorted(
            (c for c in self._t.campaigns.values() if c.tenant_id == tenant_id),
            key=lambda c: c.id,
        )
        counts: dict[CampaignId, int] = {}
        if count_numbers:
            tallies = self._tallies([c.id for c in campaigns])
            counts = {cid: sum(tally.values()) for cid, tally in tallies.items()}
        return [CampaignSummary(c, counts.get(c.id, 0)) for c in campaigns]

    def _change(self, campaign_id: CampaignId, now: datetime, **fields: Any) -> None:
        campaign = self._t.campaigns.get(campaign_id)
        if campaign is not None:
            self._w("campaigns")[campaign_id] = dataclasses.replace(
                campaign, updated_at=_stamped(now), **fields
            )

    def _refer_catalog(self, spec: CampaignSpec) -> None:
        refers(spec.callflow_id in self._t.callflows, f"no call flow {spec.callflow_id}")
        refers(spec.cli_id in self._t.clis, f"no caller ID {spec.cli_id}")

    def update_campaign(self, campaign_id: CampaignId, spec: CampaignSpec, now: datetime) -> None:
        if campaign_id in self._t.campaigns:
            self._refer_catalog(spec)
        self._change(campaign_id, now, spec=spec)

    def set_campaign_status(
        self, campaign_id: CampaignId, status: CampaignStatus, now: datetime
    ) -> None:
        if status is CampaignStatus.ENABLED:
            self._work_added()
        self._change(campaign_id, now, status=status)

    def set_strategy(self, campaign_id: CampaignId, strategy: Strategy, now: datetime) -> None:
        self._change(campaign_id, now, strategy=strategy)

    def delete_campaign(self, campaign_id: CampaignId) -> None:
        """With its destinations, their attempts, queue rows, leases and members."""
        ids = {d.id for d in self._t.destinations.values() if d.campaign_id == campaign_id}
        self._delete("attempts", lambda a: a.destination_id in ids)
        self._delete("ready", lambda r: r.campaign_id == campaign_id)
        self._delete("leases", lambda r: r.campaign_id == campaign_id)
        self._drop_destinations(list(ids))
        members = [key for key in self._t.members if key[0] == campaign_id]
        for key in members:
            del self._w("members")[key]
        if campaign_id in self._t.pacing:
            del self._w("pacing")[campaign_id]
        for key in [k for k in self._t.pacing_history if k[0] == campaign_id]:
            del self._w("pacing_history")[key]
        if campaign_id in self._t.cancelled:
            del self._w("cancelled")[campaign_id]
        if campaign_id in self._t.campaigns:
            del self._w("campaigns")[campaign_id]

    def campaign_counts(
        self, campaign_ids: Sequence[CampaignId], now: datetime
    ) -> dict[CampaignId, CampaignCounts]:
        if not campaign_ids:
            return {}
        tallies = self._tallies(list(campaign_ids))
        stamp = to_us(now)
        out: dict[CampaignId, CampaignCounts] = {}
        for campaign_id, tally in tallies.items():
            pending, originated = state_total(tally, "pending"), state_total(tally, "in_flight")
            if not pending and not originated:
                continue
            later, high, low = 0, None, None
            if pending and campaign_id in self._t.campaigns:
                later = sum(
                    1
                    for d in self._t.destinations.values()
                    if d.campaign_id == campaign_id
                    and d.state == "pending"
                    and d.originate_at is not None
                    and d.originate_at > stamp
                )
                priorities = [
                    r.priority for r in self._t.ready.values() if r.campaign_id == campaign_id
                ]
                if priorities:
                    high, low = max(priorities), min(priorities)
            out[campaign_id] = CampaignCounts(pending, originated, pending - later, high, low)
        return out

    # destinations

    def _of(self, campaign_id: CampaignId) -> list[DestinationRow]:
        """The campaign's destinations in id order (the order they were added)."""
        rows = [d for d in self._t.destinations.values() if d.campaign_id == campaign_id]
        rows.sort(key=lambda d: d.id)
        return rows

    def add_numbers(
        self, campaign_id: CampaignId, numbers: Iterable[PhoneNumber], now: datetime
    ) -> None:
        stamp = to_us(now)
        self._work_added()
        destinations = self._w("destinations")
        for n in numbers:
            row = DestinationRow(
                id=DestinationId(self._new_id("destinations")),
                campaign_id=campaign_id,
                raw=n.raw,
                e164=n.e164,
                name=n.name,
                parameters=tuple((int(k), v) for k, v in n.parameters),
                # A number that is not even possible is done with InvalidNumber: never dialled.
                state="pending" if n.possible else "done",
                attempts_made=0,
                last_outcome=None if n.possible else Outcome.INVALID_NUMBER,
                last_stage=None,
                created_at=stamp,
                priority=n.priority,
                caller_id=n.caller_id,
                custom_data=n.custom_data,
                originate_time=n.originate_time,
                is_date_local=n.is_date_local,
                originate_at=opt_us(n.originate_at),
                ignore_dnc=bool(n.ignore_dnc),
                number_type=n.number_type,
            )
            destinations[row.id] = row
            if row.state == "pending":
                self._w("ready")[row.id] = ReadyRow(
                    campaign_id, row.priority, row.originate_at or 0
                )

    def list_numbers(
        self, campaign_id: CampaignId, after: int = 0, limit: int | None = None
    ) -> list[StoredNumber]:
        rows = [d for d in self._of(campaign_id) if d.id > after]
        if limit is not None:
            rows = rows[: max(limit, 0)]
        return [
            StoredNumber(
                PhoneNumber(d.raw, d.e164, d.name, d.parameters, number_type=d.number_type),
                d.attempts_made,
                d.last_outcome,
                d.last_stage,
                d.id,
            )
            for d in rows
        ]

    def destination_ids(self, campaign_id: CampaignId) -> list[DestinationId]:
        return [d.id for d in self._of(campaign_id)]

    def numbers_for_update(self, campaign_id: CampaignId) -> list[NumberEntry]:
        attempted = {a.destination_id for a in self._t.attempts.values()}
        return [
            NumberEntry(
                d.id,
                d.e164 if d.e164 is not None else d.raw,
                d.name,
                d.parameters,
                d.attempts_made > 0 or d.state in ("in_flight", "cancelled") or d.id in attempted,
            )
            for d in self._of(campaign_id)
        ]

    def count_not_valid(self, campaign_id: CampaignId) -> int:
        return sum(
            1
            for d in self._t.destinations.values()
            if d.campaign_id == campaign_id and (d.e164 is None or d.number_type == NOT_VALID)
        )

    def delete_numbers(self, campaign_id: CampaignId, ids: Sequence[DestinationId]) -> None:
        """Remove these numbers, which have no history, and their ready-queue rows."""
        doomed = set(ids)
        for destination_id in doomed:
            ready = self._t.ready.get(destination_id)
            if ready is not None and ready.campaign_id == campaign_id:
                del self._w("ready")[destination_id]
            row = self._t.destinations.get(destination_id)
            if (
                row is not None
                and row.campaign_id == campaign_id
                and row.attempts_made == 0
                and row.state in ("pending", "done")
            ):
                self._drop_destinations([destination_id])

    def update_numbers_details(
        self, changes: Sequence[tuple[DestinationId, str | None, tuple[tuple[int, str], ...]]]
    ) -> None:
        for destination_id, name, parameters in changes:
            row = self._t.destinations.get(destination_id)
            if row is not None:
                self._w("destinations")[destination_id] = dataclasses.replace(
                    row, name=name, parameters=tuple(parameters)
                )

    def waiting_calls(
        self, campaign_id: CampaignId, after: tuple[int, int] | None, limit: int
    ) -> list[WaitingCall]:
        """Pending and originated calls in dial order (priority high to low, then oldest),
        after the (priority, id) of the last call of the previous page."""
        waiting = [d for d in self._of(campaign_id) if d.state in _WAITING]
        rows: list[DestinationRow] = []
        if after is not None:
            rows = [d for d in waiting if d.priority == after[0] and d.id > after[1]][:limit]
        if len(rows) < limit:
            lower = [d for d in waiting if after is None or d.priority < after[0]]
            lower.sort(key=lambda d: (-d.priority, d.id))
            rows += lower[: limit - len(rows)]
        return [
            WaitingCall(
                d.id,
                d.raw,
                d.e164,
                d.name,
                d.caller_id,
                d.priority,
                d.custom_data,
                d.originate_time,
                d.is_date_local,
                CallStatus.PENDING if d.state == "pending" else CallStatus.ORIGINATED,
            )
            for d in rows
        ]

    def cancel_pending(self, campaign_id: CampaignId, e164: str | None) -> int:
        """Never-dialled pending destinations are deleted; ones waiting for a retry keep their
        history and become cancelled. Calls in flight and finished ones are left alone."""
        pending = [
            d
            for d in self._t.destinations.values()
            if d.campaign_id == campaign_id
            and d.state == "pending"
            and (e164 is None or d.e164 == e164)
        ]
        for d in pending:
            if d.id in self._t.ready:
                del self._w("ready")[d.id]
            if d.attempts_made > 0:
                self._w("destinations")[d.id] = dataclasses.replace(d, state="cancelled")
            else:
                self._drop_destinations([d.id])
        return len(pending)

    def update_pending(self, campaign_id: CampaignId, e164: str, patch: DestinationPatch) -> int:
        """Apply the patch to every pending destination of the number; how many there were."""
        pending = [
            d
            for d in self._t.destinations.values()
            if d.campaign_id == campaign_id and d.state == "pending" and d.e164 == e164
        ]
        if not patch.fields or not pending:
            return len(pending)
        changes = {
            field: opt_us(value) if isinstance(value, datetime) else value
            for field, value in patch.fields.items()
        }
        self._work_added()  # an earlier OriginateTime or a higher Priority
        for d in pending:
            row = dataclasses.replace(d, **changes)  # type: ignore[arg-type]
            self._w("destinations")[d.id] = row
            ready = self._t.ready.get(d.id)
            if ready is not None:
                # Priority always; the due time only of numbers not yet attempted (a retry
                # keeps the time its policy gave it).
                due = (row.originate_at or 0) if row.attempts_made == 0 else ready.due_at
                self._w("ready")[d.id] = ReadyRow(ready.campaign_id, row.priority, due)
        return len(pending)

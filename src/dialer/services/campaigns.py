"""Voice campaigns: create, read, list, update and delete, for one tenant at a time.

What PUT may change once dialling has begun (any number attempted or in flight):
- allowed: name, the daily window, runover days, attempts, both policies, the caller ID, the
  details of numbers, adding numbers, and removing numbers that were never dialled;
- refused with Conflict: the start date and the call flow (history would describe another
  campaign), the type, and dropping a number that has been dialled (its history stays).
"""

import secrets
from dataclasses import dataclass
from typing import Any

from dialer.domain.campaign import (
    Campaign,
    CampaignStatus,
    CampaignSummary,
    PhoneNumber,
    StoredNumber,
)
from dialer.domain.codes import Outcome
from dialer.domain.errors import Conflict, NotFound, ValidationFailed
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, NumberNormaliser, Store, StoreSession
from dialer.services.campaign_input import CampaignInput, parse_campaign


def new_campaign_code() -> str:
    """An unguessable campaign code for the Dialer API: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class CampaignDetail:
    campaign: Campaign
    numbers: list[StoredNumber]


class CampaignService:
    def __init__(
        self, store: Store, normaliser: NumberNormaliser, clock: Clock, max_numbers: int
    ) -> None:
        self._store = store
        self._normaliser = normaliser
        self._clock = clock
        self.max_numbers = max_numbers

    def _read(self, tenant: Tenant, body: Any) -> tuple[CampaignInput, list[PhoneNumber]]:
        parsed = parse_campaign(body, max_numbers=self.max_numbers)
        e164s = self._normaliser.normalise([n.raw.strip() for n in parsed.numbers], tenant.region)
        numbers = [
            PhoneNumber(n.raw, e164, n.name, n.parameters)
            for n, e164 in zip(parsed.numbers, e164s, strict=True)
        ]
        return parsed, numbers

    @staticmethod
    def _check_references(session: StoreSession, tenant: Tenant, parsed: CampaignInput) -> None:
        problems: dict[str, list[str]] = {}
        spec = parsed.spec
        if not session.callflow_owned(tenant.id, spec.callflow_id):
            problems["CallFlow_Id"] = [f"There is no call flow {spec.callflow_id} in your account."]
        if not session.cli_owned(tenant.id, spec.cli_id):
            problems["Cli_Id"] = [f"There is no caller ID (CLI) {spec.cli_id} in your account."]
        if problems:
            raise ValidationFailed(problems)

    def create(self, tenant: Tenant, body: Any) -> CampaignDetail:
        parsed, numbers = self._read(tenant, body)
        now = self._clock.now()
        with self._store.write() as session:
            self._check_references(session, tenant, parsed)
            campaign_id = session.add_campaign(
                tenant.id, new_campaign_code(), parsed.spec, CampaignStatus.ENABLED, now
            )
            session.add_numbers(campaign_id, numbers, now)
            campaign = session.get_campaign(tenant.id, campaign_id)
        assert campaign is not None
        stored = [
            StoredNumber(n, 0, None if n.possible else Outcome.INVALID_NUMBER) for n in numbers
        ]
        return CampaignDetail(campaign, stored)

    def get(self, tenant: Tenant, campaign_id: CampaignId) -> CampaignDetail:
        with self._store.read() as session:
            campaign = session.get_campaign(tenant.id, campaign_id)
            if campaign is None:
                raise NotFound(f"campaign {campaign_id}")
            return CampaignDetail(campaign, session.list_numbers(campaign_id))

    def list(self, tenant: Tenant) -> list[CampaignSummary]:
        with self._store.read() as session:
            return session.list_campaigns(tenant.id)

    def update(self, tenant: Tenant, campaign_id: CampaignId, body: Any) -> None:
        parsed, numbers = self._read(tenant, body)
        now = self._clock.now()
        with self._store.write() as session:
            current = session.get_campaign(tenant.id, campaign_id, for_update=True)
            if current is None:
                raise NotFound(f"campaign {campaign_id}")
            self._check_references(session, tenant, parsed)
            dialled = session.dialled_numbers(campaign_id)
            if dialled:
                _refuse_history_changes(current, parsed)
            kept, added = _match_dialled(dialled, numbers)
            session.delete_undialled_numbers(campaign_id)
            for destination_id, number in kept:
                session.update_number_details(destination_id, number.name, number.parameters)
            session.add_numbers(campaign_id, added, now)
            session.update_campaign(campaign_id, parsed.spec, now)

    def delete(self, tenant: Tenant, campaign_id: CampaignId) -> None:
        with self._store.write() as session:
            if session.get_campaign(tenant.id, campaign_id, for_update=True) is None:
                raise NotFound(f"campaign {campaign_id}")
            session.delete_campaign(campaign_id)


def _refuse_history_changes(current: Campaign, parsed: CampaignInput) -> None:
    old, new = current.spec, parsed.spec
    reasons = []
    if new.schedule.start_date != old.schedule.start_date:
        reasons.append("the start date cannot change once dialling has begun")
    if new.callflow_id != old.callflow_id:
        reasons.append("the call flow cannot change once dialling has begun")
    if new.kind != old.kind:
        reasons.append("the campaign type cannot change once dialling has begun")
    if reasons:
        raise Conflict("; ".join(reasons))


def _match_dialled(
    dialled: list[tuple[DestinationId, str]], numbers: list[PhoneNumber]
) -> tuple[list[tuple[DestinationId, PhoneNumber]], list[PhoneNumber]]:
    """Pair each dialled number with an entry of the new list (same E.164); the rest are new."""
    waiting: dict[str, list[DestinationId]] = {}
    for destination_id, key in dialled:
        waiting.setdefault(key, []).append(destination_id)
    kept: list[tuple[DestinationId, PhoneNumber]] = []
    added: list[PhoneNumber] = []
    for number in numbers:
        ids = waiting.get(number.key)
        if ids:
            kept.append((ids.pop(0), number))
        else:
            added.append(number)
    missing = [key for key, ids in waiting.items() for _ in ids]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise Conflict(
            f"numbers that have been dialled cannot be removed; keep them in PhoneNumbers: {shown}"
        )
    return kept, added

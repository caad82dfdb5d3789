"""Voice campaigns: create, read, list, update and delete, for one tenant at a time.

What PUT may change once dialling has begun (any number attempted or in flight):
- allowed: name, the daily window, runover days, attempts, both policies, the caller ID, the
  details of numbers, adding numbers, and removing numbers that were never dialled;
- refused with Conflict: the start date and the call flow (history would describe another
  campaign), the type, and dropping a number that has been dialled (its history stays).
"""

import secrets
from collections.abc import Iterator
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
from dialer.domain.progress import CampaignProgress
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, NumberNormaliser, PendingNumbers, Store, StoreSession
from dialer.services.campaign_input import (
    CampaignInput,
    NumberInput,
    parse_campaign,
    prefetch_numbers,
)

NUMBERS_PAGE = 1_000  # numbers in a GET of one campaign, unless it asks for another page size
NUMBERS_PAGE_MAX = 10_000


def new_campaign_code() -> str:
    """An unguessable campaign code for the Dialer API: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class CampaignDetail:
    campaign: Campaign
    numbers: list[StoredNumber]
    progress: CampaignProgress | None = None  # given by get(), not by create()
    # get() gives a page of the numbers: pass this as ``numbers_after`` for the next one.
    numbers_next: int | None = None


class CampaignService:
    def __init__(
        self, store: Store, normaliser: NumberNormaliser, clock: Clock, max_numbers: int
    ) -> None:
        self._store = store
        self._normaliser = normaliser
        self._clock = clock
        self.max_numbers = max_numbers

    def _read(self, tenant: Tenant, body: Any) -> tuple[CampaignInput, Iterator[PhoneNumber]]:
        """Validate the body; the numbers follow lazily, as their parsing finishes."""
        # Number parsing dominates big requests: start it on other cores, validate meanwhile.
        raws = prefetch_numbers(body)
        pending = self._normaliser.start(raws[: self.max_numbers], tenant.region)
        try:
            parsed = parse_campaign(body, max_numbers=self.max_numbers)
        except BaseException:
            pending.cancel()
            raise
        if raws != [n.raw.strip() for n in parsed.numbers]:  # pragma: no cover - defensive
            pending.cancel()
            pending = self._normaliser.start([n.raw.strip() for n in parsed.numbers], tenant.region)
        return parsed, _with_e164(parsed.numbers, pending)

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
        written: list[PhoneNumber] = []
        with self._store.write() as session:
            self._check_references(session, tenant, parsed)
            campaign_id = session.add_campaign(
                tenant.id, new_campaign_code(), parsed.spec, CampaignStatus.ENABLED, now
            )
            # Rows stream into the store while later slices are still being parsed.
            session.add_numbers(campaign_id, _collect(numbers, written), now)
            campaign = session.get_campaign(tenant.id, campaign_id)
        assert campaign is not None
        invalid = Outcome.INVALID_NUMBER
        return CampaignDetail(
            campaign, [StoredNumber(n, 0, None if n.e164 else invalid) for n in written]
        )

    def get(
        self,
        tenant: Tenant,
        campaign_id: CampaignId,
        numbers_after: int = 0,
        numbers_limit: int = NUMBERS_PAGE,
    ) -> CampaignDetail:
        """The campaign with one page of its numbers (in the order added), read a page at a
        time from the store, so that a campaign of millions costs what one of a thousand does."""
        with self._store.read() as session:
            campaign = session.get_campaign(tenant.id, campaign_id)
            if campaign is None:
                raise NotFound(f"campaign {campaign_id}")
            # One more than asked tells whether another page follows.
            rows = session.list_numbers(campaign_id, numbers_after, numbers_limit + 1)
            page = rows[:numbers_limit]
            more = len(rows) > numbers_limit
            return CampaignDetail(
                campaign,
                [number for _, number in page],
                session.progress(campaign_id),
                page[-1][0] if more else None,
            )

    def list(self, tenant: Tenant) -> list[CampaignSummary]:
        with self._store.read() as session:
            return session.list_campaigns(tenant.id)

    def update(self, tenant: Tenant, campaign_id: CampaignId, body: Any) -> None:
        parsed, lazy_numbers = self._read(tenant, body)
        numbers = list(lazy_numbers)
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


def _with_e164(inputs: list[NumberInput], pending: PendingNumbers) -> Iterator[PhoneNumber]:
    position = 0
    for chunk in pending.chunks():
        for number, e164 in zip(inputs[position : position + len(chunk)], chunk, strict=True):
            yield PhoneNumber(number.raw, e164, number.name, number.parameters)
        position += len(chunk)


def _collect(numbers: Iterator[PhoneNumber], into: list[PhoneNumber]) -> Iterator[PhoneNumber]:
    for number in numbers:
        into.append(number)
        yield number


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

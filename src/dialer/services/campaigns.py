"""Voice campaigns: create, read, list, update and delete, for one tenant at a time.

What PUT may change once dialling has begun (any number attempted or in flight):
- allowed: name, the daily window, runover days, attempts, both policies, the caller ID, the
  details of numbers, adding numbers, and removing numbers that were never dialled;
- refused with Conflict: the start date and the call flow (history would describe another
  campaign), the type, and dropping a number that has been dialled (its history stays).
"""

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialer.domain.calendar import last_close
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignSummary,
    NumberEntry,
    PhoneNumber,
    StoredNumber,
    lacks_message,
)
from dialer.domain.codes import Outcome
from dialer.domain.errors import Conflict, NotFound, ValidationFailed
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.lifecycle import CampaignState
from dialer.domain.numbering import NOT_VALID
from dialer.domain.progress import CampaignProgress
from dialer.domain.schedule import Schedule
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, NumberNormaliser, PendingNumbers, Store, StoreSession
from dialer.services.abandonment_view import AbandonmentView, abandonment_view
from dialer.services.campaign_input import (
    CampaignInput,
    NumberInput,
    parse_campaign,
    prefetch_numbers,
)
from dialer.services.campaign_states import refuse_if_cancelled, states_of
from dialer.services.results import iso_utc

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
    not_valid: int = 0  # numbers not possible, or possible but not valid (domain.numbering)
    # get() gives a page of the numbers: pass this as ``numbers_after`` for the next one.
    numbers_next: int | None = None
    # get() gives an agent campaign's abandoned-call figures (services/abandonment_view.py).
    abandonment: AbandonmentView | None = None
    # get() gives its lifecycle state (domain/lifecycle.py).
    state: CampaignState | None = None


class CampaignService:
    def __init__(
        self, store: Store, normaliser: NumberNormaliser, clock: Clock, max_numbers: int
    ) -> None:
        self._store = store
        self._normaliser = normaliser
        self._clock = clock
        self.max_numbers = max_numbers

    def _read(
        self, tenant: Tenant, body: Any, *, new: bool = False
    ) -> tuple[CampaignInput, Iterator[PhoneNumber]]:
        """Validate the body; the numbers follow lazily, as their parsing finishes. ``new``: a
        campaign to create, which is refused if its last window has closed already."""
        # Number parsing dominates big requests: start it on other cores, validate meanwhile.
        raws = prefetch_numbers(body)
        pending = self._normaliser.start(raws[: self.max_numbers], tenant.region)
        try:
            parsed = parse_campaign(body, max_numbers=self.max_numbers)
            if new:
                refuse_closed_schedule(parsed.spec.schedule, tenant.timezone, self._clock.now())
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
        if not session.catalog.callflow_owned(tenant.id, spec.callflow_id):
            problems["CallFlow_Id"] = [f"There is no call flow {spec.callflow_id} in your account."]
        if not session.catalog.cli_owned(tenant.id, spec.cli_id):
            problems["Cli_Id"] = [f"There is no caller ID (CLI) {spec.cli_id} in your account."]
        if problems:
            raise ValidationFailed(problems)

    def create(self, tenant: Tenant, body: Any) -> CampaignDetail:
        parsed, numbers = self._read(tenant, body, new=True)
        now = self._clock.now()
        written: list[PhoneNumber] = []
        with self._store.write() as session:
            self._check_references(session, tenant, parsed)
            status = parsed.status or CampaignStatus.ENABLED
            refuse_without_message(session, tenant, parsed.spec, status)
            campaign_id = session.campaigns.add_campaign(
                tenant.id, new_campaign_code(), parsed.spec, status, now
            )
            # Rows stream into the store while later slices are still being parsed.
            session.destinations.add_numbers(campaign_id, _collect(numbers, written), now)
            # Rows are inserted in the body's order, so ids in order pair with ``written``.
            ids = session.destinations.destination_ids(campaign_id)
            campaign = session.campaigns.get_campaign(tenant.id, campaign_id)
        assert campaign is not None
        invalid = Outcome.INVALID_NUMBER
        return CampaignDetail(
            campaign,
            [
                StoredNumber(n, 0, None if n.e164 else invalid, None, destination_id)
                for n, destination_id in zip(written, ids, strict=True)
            ],
            not_valid=sum(1 for n in written if n.e164 is None or n.number_type == NOT_VALID),
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
            campaign = session.campaigns.get_campaign(tenant.id, campaign_id)
            if campaign is None:
                raise NotFound(f"campaign {campaign_id}")
            # One more than asked tells whether another page follows.
            rows = session.destinations.list_numbers(campaign_id, numbers_after, numbers_limit + 1)
            page = rows[:numbers_limit]
            more = len(rows) > numbers_limit
            return CampaignDetail(
                campaign,
                page,
                replace(
                    session.results.progress(campaign_id),
                    on_line=session.queue.calls_on_line(campaign_id),
                ),
                session.destinations.count_not_valid(campaign_id),
                page[-1].id if more else None,
                abandonment_view(session, campaign, self._clock.now()),
                states_of(session.lifecycle, [campaign], tenant.timezone, self._clock.now())[
                    campaign.id
                ],
            )

    def list(self, tenant: Tenant) -> list[CampaignSummary]:
        with self._store.read() as session:
            return session.campaigns.list_campaigns(tenant.id)

    def list_with_states(
        self, tenant: Tenant
    ) -> tuple[Sequence[CampaignSummary], dict[CampaignId, CampaignState]]:
        """The list, with each campaign's lifecycle state (read in the same transaction)."""
        with self._store.read() as session:
            summaries = session.campaigns.list_campaigns(tenant.id)
            campaigns = [s.campaign for s in summaries]
            now = self._clock.now()
            return summaries, states_of(session.lifecycle, campaigns, tenant.timezone, now)

    def update(self, tenant: Tenant, campaign_id: CampaignId, body: Any) -> None:
        parsed, lazy_numbers = self._read(tenant, body)
        numbers = list(lazy_numbers)
        now = self._clock.now()
        with self._store.write() as session:
            current = session.campaigns.get_campaign(tenant.id, campaign_id, for_update=True)
            if current is None:
                raise NotFound(f"campaign {campaign_id}")
            self._check_references(session, tenant, parsed)
            stored = session.destinations.numbers_for_update(campaign_id)
            if any(entry.has_history for entry in stored):
                _refuse_history_changes(current, parsed)
            plan = match_numbers(stored, numbers)
            if plan.added or parsed.spec.schedule != current.spec.schedule:
                # Leaving a finished campaign's schedule and numbers as they were (a rename)
                # is fine; new numbers or a new schedule that can never dial are not.
                refuse_closed_schedule(parsed.spec.schedule, tenant.timezone, now)
            refuse_without_message(session, tenant, parsed.spec, parsed.status or current.status)
            session.destinations.delete_numbers(campaign_id, plan.removed)
            session.destinations.update_numbers_details(plan.changed)
            session.destinations.add_numbers(campaign_id, plan.added, now)
            session.campaigns.update_campaign(campaign_id, parsed.spec, now)
            if parsed.status is CampaignStatus.ENABLED:
                refuse_if_cancelled(session.lifecycle, campaign_id, "enabled")
            if parsed.status is not None and parsed.status is not current.status:
                # As the Dialer API's StopCampaign / StartCampaign: engines skip a Disabled
                # campaign's claims and take it up again when it is Enabled.
                session.campaigns.set_campaign_status(campaign_id, parsed.status, now)

    def delete(self, tenant: Tenant, campaign_id: CampaignId) -> None:
        with self._store.write() as session:
            if session.campaigns.get_campaign(tenant.id, campaign_id, for_update=True) is None:
                raise NotFound(f"campaign {campaign_id}")
            session.campaigns.delete_campaign(campaign_id)


def refuse_without_message(
    session: StoreSession, tenant: Tenant, spec: CampaignSpec, status: CampaignStatus
) -> None:
    """A 409 for an agent campaign left Enabled that would abandon calls with no information
    message to play them, under a regime that requires one (docs/compliance.md)."""
    settings = session.tenants.compliance(tenant.id)
    if status is CampaignStatus.ENABLED and settings and lacks_message(spec, settings):
        raise Conflict(
            f"an agent campaign may not dial under the {settings.regime.value} rules without"
            " an information message for its abandoned calls: give agentOptions."
            "informationMessage, set the tenant's (PUT /api/settings/compliance), or send"
            " status Disabled"
        )


def refuse_closed_schedule(schedule: Schedule, timezone: str, now: datetime) -> None:
    """A 400 for a schedule whose last window has closed: its numbers could only end OutOfTime.

    The error names the date field of the last dialling day and the closing time in the
    tenant's zone, where the client wrote it.
    """
    closes = last_close(schedule, timezone)
    if closes is None or now < closes:
        return
    days = schedule.runover_days
    last = max(range(len(days)), key=lambda i: days[i].day, default=None)
    field = "StartDate" if last is None else f"RunoverDays[{last}].Date"
    local = closes.astimezone(ZoneInfo(timezone))
    raise ValidationFailed(
        {
            field: [
                f"The campaign's last window closed at {local:%Y-%m-%d %H:%M} {timezone}"
                f" ({iso_utc(closes)}): nothing could be dialled. Give a date and times still"
                " to come."
            ]
        }
    )


def _with_e164(inputs: list[NumberInput], pending: PendingNumbers) -> Iterator[PhoneNumber]:
    position = 0
    for chunk in pending.chunks():
        for number, (e164, kind) in zip(
            inputs[position : position + len(chunk)], chunk, strict=True
        ):
            yield PhoneNumber(number.raw, e164, number.name, number.parameters, number_type=kind)
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


@dataclass(frozen=True, slots=True)
class NumbersPlan:
    """What a PUT does to the stored numbers."""

    changed: list[tuple[DestinationId, str | None, tuple[tuple[int, str], ...]]]
    removed: list[DestinationId]
    added: list[PhoneNumber]


def match_numbers(stored: list[NumberEntry], numbers: list[PhoneNumber]) -> NumbersPlan:
    """Pair each number of a PUT with a stored number of the same key (E.164, else as sent).

    A paired number keeps its row: its id, its state and whatever the Dialer API stored for it
    (priority, caller ID, originate time, custom data, DNC override), which a REST body cannot
    express; only its name and parameters take the body's values. Numbers with history are
    paired first, so a dialled number is never the one dropped when a key appears twice.
    Unpaired stored numbers without history are removed; with history, the PUT is refused.
    """
    waiting: dict[str, list[NumberEntry]] = {}
    for entry in sorted(stored, key=lambda e: (not e.has_history, e.id)):
        waiting.setdefault(entry.key, []).append(entry)
    changed: list[tuple[DestinationId, str | None, tuple[tuple[int, str], ...]]] = []
    added: list[PhoneNumber] = []
    for number in numbers:
        entries = waiting.get(number.key)
        if not entries:
            added.append(number)
            continue
        entry = entries.pop(0)
        if (entry.name, entry.parameters) != (number.name, number.parameters):
            changed.append((entry.id, number.name, number.parameters))
    left = [entry for entries in waiting.values() for entry in entries]
    missing = [entry.key for entry in left if entry.has_history]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise Conflict(
            f"numbers that have been dialled cannot be removed; keep them in PhoneNumbers: {shown}"
        )
    return NumbersPlan(changed, sorted(entry.id for entry in left), added)

"""The Dialer API's use cases (dialer-api.txt): campaigns by code, destinations, agents, strategy.

A campaign code (192 random bits) is the credential of every campaign method, as in the seed,
whose examples send no ``Code`` with them; when a request does send ``Code``, the campaign must
belong to that key's tenant. GetCampaignList needs ``Code``, the tenant's API key.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import orjson

from dialer.domain.agent import Agent, PacingMode, Strategy, strategy_problems
from dialer.domain.campaign import (
    Campaign,
    CampaignStatus,
    CampaignType,
    PhoneNumber,
    lacks_message,
)
from dialer.domain.destination import MAX_PRIORITY, MIN_PRIORITY, CampaignCounts, WaitingCall
from dialer.domain.errors import (
    DialerError,
    MemberInvalid,
    NumberInvalid,
    PayloadTooLarge,
    RequestRejected,
    Unauthorized,
    UnknownCampaign,
)
from dialer.domain.ids import CampaignId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, NumberNormaliser, Store, StoreSession
from dialer.services.abandonment_view import AbandonmentView, abandonment_view
from dialer.services.destinations import (
    CallDetails,
    campaign_code,
    check_campaign,
    new_destination,
    patch_of,
    read_details,
    target_e164,
    target_text,
)
from dialer.services.dialer_input import Params, parse_integer
from dialer.services.numbers import looks_like_number
from dialer.services.pacing_input import MAX_RATIO, strategy_pacing
from dialer.services.tenants import MAX_KEY_LENGTH, TenantService, hash_key

# The Dialer API's words for what docs/compliance.md says (a campaign that may abandon calls
# must have a message to play them).
MESSAGE_MISSING = (
    "an agent campaign needs an information message for its abandoned calls under the tenant's"
    " regime: set the campaign's (REST agentOptions.informationMessage) or the tenant's"
    " (PUT /api/settings/compliance)"
)
MAX_BULK_ITEMS = 10_000
MAX_PAGE_SIZE = 10_000
DEFAULT_PAGE_SIZE = 1_000
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY = 200
_MAX_ID = 2**63 - 1  # ids are 64-bit on both stores


@dataclass(frozen=True, slots=True)
class CampaignView:
    campaign: Campaign
    counts: CampaignCounts
    abandonment: AbandonmentView | None = None  # GetCampaignDetails of an agent campaign


@dataclass(frozen=True, slots=True)
class PendingPage:
    view: CampaignView
    calls: list[WaitingCall]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One AddCallsBulk item: ``error`` is None when it was added."""

    target: Any
    error: DialerError | None
    custom_data: Any


class DialerService:
    def __init__(
        self, store: Store, normaliser: NumberNormaliser, clock: Clock, tenants: TenantService
    ) -> None:
        self._store = store
        self._normaliser = normaliser
        self._clock = clock
        self._tenants = tenants
        self._tenant_cache: dict[int, Tenant] = {}

    # lookups

    def _tenant_of_key(self, params: Params) -> Tenant | None:
        key = params.text("Code", max_length=500)
        return None if key is None else self._tenants.authenticate(key)

    def _campaign(
        self,
        session: StoreSession,
        params: Params,
        key_tenant: Tenant | None,
        *,
        lock: bool = False,
    ) -> Campaign:
        code = campaign_code(params)
        return check_campaign(session.campaigns.campaign_by_code(code, lock=lock), key_tenant)

    def _view(self, session: StoreSession, campaign: Campaign) -> CampaignView:
        counts = session.campaigns.campaign_counts([campaign.id], self._clock.now())
        return CampaignView(campaign, counts.get(campaign.id, CampaignCounts()))

    def _tenant(self, session: StoreSession, campaign: Campaign) -> Tenant:
        # Tenants never change once made (no API edits them), so one lookup per process will do.
        tenant = self._tenant_cache.get(campaign.tenant_id)
        if tenant is None:
            tenant = session.tenants.get_tenant(campaign.tenant_id)
            assert tenant is not None  # a campaign's tenant is never deleted
            self._tenant_cache[campaign.tenant_id] = tenant
        return tenant

    @staticmethod
    def _caller_ids(session: StoreSession, tenant: Tenant) -> Callable[[], set[str]]:
        """The tenant's caller IDs, looked up only if a call names one."""
        found: list[set[str]] = []

        def load() -> set[str]:
            if not found:
                found.append({cli.number for cli in session.catalog.list_clis(tenant.id)})
            return found[0]

        return load

    # campaigns

    def campaign_list(self, params: Params) -> list[CampaignView]:
        tenant = self._tenants.authenticate(params.text("Code", max_length=500))
        with self._store.read() as session:
            summaries = session.campaigns.list_campaigns(tenant.id, count_numbers=False)
            ids = [s.campaign.id for s in summaries]
            counts = session.campaigns.campaign_counts(ids, self._clock.now())
        return [
            CampaignView(s.campaign, counts.get(s.campaign.id, CampaignCounts())) for s in summaries
        ]

    def details(self, params: Params) -> CampaignView:
        key_tenant = self._tenant_of_key(params)
        with self._store.read() as session:
            campaign = self._campaign(session, params, key_tenant)
            view = self._view(session, campaign)
            figures = abandonment_view(session, campaign, self._clock.now())
            return replace(view, abandonment=figures)

    def set_status(self, params: Params, status: CampaignStatus) -> None:
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign = self._campaign(session, params, key_tenant)
            if status is CampaignStatus.ENABLED:
                if session.lifecycle.cancelled_at([campaign.id]):
                    # Cancelling is final (docs/rest-api.md, "Campaign lifecycle").
                    raise RequestRejected("the campaign was cancelled; it cannot be started")
                settings = session.tenants.compliance(campaign.tenant_id)
                if settings is not None and lacks_message(campaign.spec, settings):
                    raise RequestRejected(MESSAGE_MISSING)
            session.campaigns.set_campaign_status(campaign.id, status, self._clock.now())

    def set_strategy(self, params: Params) -> None:
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign = self._campaign(session, params, key_tenant)
            values = {}
            for name in ("setQueueForMonitoring", "setQueueMaximumCallers", "setCoefficient"):
                value = params.integer(name, low=-(2**31), high=2**31 - 1)
                if value is None:
                    raise RequestRejected(f"{name} is required")
                values[name] = value
            queue_id = values["setQueueForMonitoring"]
            problems = strategy_problems(values["setQueueMaximumCallers"], values["setCoefficient"])
            if not session.agents.queue_owned(campaign.tenant_id, queue_id):
                problems.append(
                    f"setQueueForMonitoring: there is no queue {queue_id} in your account"
                )
            mode = PacingMode.RATIO
            if params.has("setPacing"):
                named = params.text("setPacing", max_length=20)
                if named is None or named.lower() not in {m.value for m in PacingMode}:
                    problems.append("setPacing must be progressive, ratio or predictive")
                else:
                    mode = PacingMode(named.lower())
            if mode is PacingMode.RATIO and values["setCoefficient"] > MAX_RATIO:
                problems.append(f"setCoefficient must be at most {MAX_RATIO:g} lines per agent")
            if problems:
                raise RequestRejected("; ".join(problems))
            strategy = Strategy(
                queue_id, values["setQueueMaximumCallers"], values["setCoefficient"]
            )
            now = self._clock.now()
            session.campaigns.set_strategy(campaign.id, strategy, now)
            if campaign.spec.kind is CampaignType.AGENT:
                # Read again under the row's lock: a REST PUT meanwhile keeps its changes.
                locked = session.campaigns.get_campaign(
                    campaign.tenant_id, campaign.id, for_update=True
                )
                assert locked is not None  # the code's campaign, in this transaction
                session.campaigns.update_campaign(
                    campaign.id, strategy_pacing(locked.spec, mode, strategy.coefficient), now
                )

    # destinations

    def _read_call(
        self, session: StoreSession, params: Params, key_tenant: Tenant | None
    ) -> tuple[Campaign, PhoneNumber, CallDetails]:
        """AddCall's and UpdateCall's parameters, checked in the seed's order of errors."""
        campaign = self._campaign(session, params, key_tenant, lock=True)
        tenant = self._tenant(session, campaign)
        raw = target_text(params)
        e164 = target_e164(raw, tenant.region)
        details = read_details(params, tenant, self._caller_ids(session, tenant))
        return campaign, new_destination(raw, e164, details), details

    def add_call(self, params: Params) -> None:
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign, destination, _ = self._read_call(session, params, key_tenant)
            session.destinations.add_numbers(campaign.id, [destination], self._clock.now())

    def update_call(self, params: Params) -> None:
        """Update every pending destination of the Target, or add one when there is none."""
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign, destination, details = self._read_call(session, params, key_tenant)
            assert destination.e164 is not None  # target_e164 refused anything else
            if (
                session.destinations.update_pending(
                    campaign.id, destination.e164, patch_of(details)
                )
                == 0
            ):
                session.destinations.add_numbers(campaign.id, [destination], self._clock.now())

    def remove_call(self, params: Params) -> int:
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign = self._campaign(session, params, key_tenant)
            e164 = target_e164(target_text(params), self._tenant(session, campaign).region)
            return session.destinations.cancel_pending(campaign.id, e164)

    def clear(self, params: Params) -> int:
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign = self._campaign(session, params, key_tenant)
            return session.destinations.cancel_pending(campaign.id, None)

    def pending(self, params: Params) -> PendingPage:
        key_tenant = self._tenant_of_key(params)
        size = params.integer("PageSize", low=1, high=MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        after = _read_cursor(params.text("Cursor"))
        with self._store.read() as session:
            campaign = self._campaign(session, params, key_tenant)
            view = self._view(session, campaign)
            calls = session.destinations.waiting_calls(campaign.id, after, size + 1)
        more = len(calls) > size
        calls = calls[:size]
        cursor = f"{calls[-1].priority}.{calls[-1].id}" if more and calls else None
        return PendingPage(view, calls, cursor)

    def add_calls_bulk(
        self,
        items: list[Any],
        idempotency_key: str | None,
        render: Callable[[list[ItemResult]], bytes],
    ) -> bytes:
        """Add each item on its own; one bad item never fails the others.

        ``render`` gives the response body; with an idempotency key it is stored with the key,
        and a repeat of the same request gets it back and adds nothing. The same key with another
        request is refused.
        """
        if len(items) > MAX_BULK_ITEMS:
            raise PayloadTooLarge(f"at most {MAX_BULK_ITEMS} calls per AddCallsBulk request")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise RequestRejected(f"IdempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        request_hash = hashlib.sha256(orjson.dumps(items, option=orjson.OPT_SORT_KEYS)).hexdigest()
        now = self._clock.now()
        with self._store.write() as session:
            if idempotency_key is not None:
                session.idempotency.forget_idempotency_keys(now - IDEMPOTENCY_TTL)
                earlier = session.idempotency.claim_idempotency_key(
                    idempotency_key, request_hash, now
                )
                if earlier is not None:
                    if earlier[0] != request_hash or earlier[1] is None:
                        raise RequestRejected(
                            "IdempotencyKey was already used for a different request"
                        )
                    return earlier[1].encode()
            body = render(_BulkAdd(self, session).run(items))
            if idempotency_key is not None:
                session.idempotency.store_idempotent_response(idempotency_key, body.decode())
        return body

    # members

    def members(self, params: Params) -> list[Agent]:
        key_tenant = self._tenant_of_key(params)
        with self._store.read() as session:
            return session.agents.campaign_members(self._campaign(session, params, key_tenant).id)

    def change_members(self, params: Params, *, add: bool) -> int:
        key_tenant = self._tenant_of_key(params)
        with self._store.write() as session:
            campaign = self._campaign(session, params, key_tenant)
            text = params.text("Member", max_length=4000)
            members = list(dict.fromkeys(m.strip() for m in (text or "").split(",") if m.strip()))
            if not members:
                raise MemberInvalid("Member Missing")
            if campaign.spec.kind is not CampaignType.AGENT:
                raise MemberInvalid(
                    "Members belong to Agent Dialer campaigns; this is an IVR Dialer"
                )
            agents = session.agents.agents_by_member(campaign.tenant_id, members)
            unknown = [m for m in members if m not in agents]
            if unknown:
                raise MemberInvalid(f"Member {', '.join(unknown)} is not one of your agents")
            ids = [agents[m].id for m in members]
            if add:
                return session.agents.add_members(campaign.id, ids, self._clock.now())
            removed = session.agents.remove_members(campaign.id, ids)
            if removed == 0:
                raise MemberInvalid(f"Member {text} is not in this campaign")
            return removed


class _BulkAdd:
    """One AddCallsBulk request inside one transaction: campaigns and caller IDs looked up once."""

    def __init__(self, service: DialerService, session: StoreSession) -> None:
        self._service = service
        self._session = session
        self._campaigns: dict[str, Campaign | UnknownCampaign] = {}
        self._tenants: dict[int, tuple[Tenant, Callable[[], set[str]]]] = {}
        self._keys: dict[str, Tenant | None] = {}

    def _tenant_of_key(self, params: Params) -> Tenant | None:
        """The tenant of the item's ``Code``, if it sent one: as every other method checks it,
        but in this request's transaction and looked up once per distinct key."""
        key = params.text("Code", max_length=500)
        if key is None:
            return None
        if key not in self._keys:
            found = None
            if len(key) <= MAX_KEY_LENGTH:
                found = self._session.tenants.tenant_by_key_hash(hash_key(key))
            self._keys[key] = found
        tenant = self._keys[key]
        if tenant is None:
            raise Unauthorized("a valid API key is required")
        return tenant

    def _campaign_for(self, code: str) -> Campaign:
        if code not in self._campaigns:
            found = self._session.campaigns.campaign_by_code(code, lock=True)
            self._campaigns[code] = found if found is not None else UnknownCampaign(missing=False)
        campaign = self._campaigns[code]
        if isinstance(campaign, UnknownCampaign):
            raise campaign
        return campaign

    def _tenant_for(self, campaign: Campaign) -> tuple[Tenant, Callable[[], set[str]]]:
        if campaign.tenant_id not in self._tenants:
            tenant = self._service._tenant(self._session, campaign)
            self._tenants[campaign.tenant_id] = (
                tenant,
                self._service._caller_ids(self._session, tenant),
            )
        return self._tenants[campaign.tenant_id]

    def run(self, items: list[Any]) -> list[ItemResult]:
        results: list[ItemResult] = []
        accepted: list[tuple[int, Campaign, str, CallDetails]] = []
        for item in items:
            target: Any = None
            echo: Any = {}
            try:
                if not isinstance(item, dict):
                    raise RequestRejected("Each call must be a JSON object")
                params = Params(item)
                target = params.raw("Target")
                echo = (
                    item.get("CustomData", {}) if isinstance(item.get("CustomData"), dict) else {}
                )
                key_tenant = self._tenant_of_key(params)
                campaign = check_campaign(self._campaign_for(campaign_code(params)), key_tenant)
                tenant, caller_ids = self._tenant_for(campaign)
                raw = target_text(params)
                if not looks_like_number(raw):
                    target_e164(raw, tenant.region)  # raises NumberInvalid
                details = read_details(params, tenant, caller_ids)
                echo = details.custom_data_echo
                accepted.append((len(results), campaign, raw, details))
                results.append(ItemResult(target, None, echo))
            except DialerError as error:
                results.append(ItemResult(target, error, echo))
        self._normalise_and_add(accepted, results)
        return results

    def _normalise_and_add(
        self, accepted: list[tuple[int, Campaign, str, CallDetails]], results: list[ItemResult]
    ) -> None:
        by_region: dict[str, list[int]] = {}
        for position, (_, campaign, _, _) in enumerate(accepted):
            region = self._tenants[campaign.tenant_id][0].region
            by_region.setdefault(region, []).append(position)
        e164s: dict[int, str | None] = {}
        for region, positions in by_region.items():
            found = self._service._normaliser.normalise([accepted[p][2] for p in positions], region)
            e164s.update(zip(positions, found, strict=True))
        per_campaign: dict[CampaignId, list[PhoneNumber]] = {}
        for position, (index, campaign, raw, details) in enumerate(accepted):
            e164 = e164s[position]
            if e164 is None:
                results[index] = ItemResult(
                    results[index].target, NumberInvalid(), results[index].custom_data
                )
                continue
            per_campaign.setdefault(campaign.id, []).append(new_destination(raw, e164, details))
        now = self._service._clock.now()
        for campaign_id, numbers in per_campaign.items():
            self._session.destinations.add_numbers(campaign_id, numbers, now)


def _read_cursor(text: str | None) -> tuple[int, int] | None:
    """A cursor as ``next_cursor`` writes it: a priority and a destination id, both in range
    (SQLite cannot even compare with an integer past 64 bits)."""
    if text is None:
        return None
    priority_text, _, id_text = text.partition(".")
    priority, last_id = parse_integer(priority_text), parse_integer(id_text)
    if (
        priority is None
        or last_id is None
        or not MIN_PRIORITY <= priority <= MAX_PRIORITY
        or not 0 <= last_id <= _MAX_ID
    ):
        raise RequestRejected("Cursor is not one this server gave out")
    return priority, last_id

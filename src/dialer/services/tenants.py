"""Tenants and their API keys. Keys are shown once and stored only as a SHA-256 hash.

A key carries 256 random bits, so a fast hash is enough: there is nothing to brute-force, and
a per-request lookup by hash stays one indexed query.
"""

import hashlib
import re
import secrets
import zoneinfo
from collections.abc import Mapping
from typing import Protocol

from dialer.domain.abandonment import ComplianceSettings, default_regime
from dialer.domain.campaign import CampaignStatus, lacks_message
from dialer.domain.compliance import DEFAULT_CALLING_HOURS, CallingHours
from dialer.domain.dialling import DAY
from dialer.domain.errors import (
    Conflict,
    FieldErrors,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from dialer.domain.ids import TenantId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock
from dialer.ports.store import CampaignRepo, TenantRepo, UnitOfWork
from dialer.services.compliance_input import apply_update
from dialer.services.numbers import supported_region

KEY_PREFIX = "dk_"
_HOUR_MINUTE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MAX_KEY_LENGTH = 200


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class TenantSettingsSession(Protocol):
    """Tenants, and their campaigns a change of settings may leave without a message."""

    @property
    def tenants(self) -> TenantRepo: ...
    @property
    def campaigns(self) -> CampaignRepo: ...


class TenantService:
    def __init__(self, store: UnitOfWork[TenantSettingsSession], clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def create(
        self,
        name: str,
        region: str = "GB",
        timezone: str = "Europe/London",
        calling_hours: str | None = None,
        compliance: Mapping[str, object] | None = None,
    ) -> tuple[Tenant, str]:
        """``calling_hours`` ("08:00-21:00", the default): when callees may be rung, in the
        callee's own zone. ``compliance``: settings other than the region's defaults, as
        ``update_compliance`` takes them."""
        problems: dict[str, list[str]] = {}
        settings = ComplianceSettings(regime=default_regime(region))
        try:
            settings = apply_update(settings, dict(compliance or {}))
        except ValidationFailed as exc:
            problems.update(exc.errors)
        hours = DEFAULT_CALLING_HOURS
        if calling_hours is not None:
            try:
                hours = CallingHours.parse(calling_hours)
            except ValueError as exc:
                problems["calling_hours"] = [str(exc)]
        if not name.strip() or len(name) > 200:
            problems["name"] = ["must be 1 to 200 characters"]
        region = region.upper()
        if not supported_region(region):
            problems["region"] = [f"{region!r} is not an ISO 3166 region known to phonenumbers"]
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems["timezone"] = [f"{timezone!r} is not an IANA time zone such as Europe/London"]
        if problems:
            raise ValidationFailed(problems)
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._store.write() as session:
            tenant = session.tenants.add_tenant(
                name, region, timezone, hash_key(api_key), self._clock.now()
            )
            session.tenants.set_calling_hours(
                tenant.id, f"{hours.start:%H:%M}", f"{hours.end:%H:%M}"
            )
            session.tenants.set_compliance(tenant.id, settings)
        return tenant, api_key

    def rotate_key(self, tenant_id: TenantId) -> str:
        """A new API key for the tenant, shown once; the old one stops working at once (every
        request looks its key up, nothing caches it)."""
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._store.write() as session:
            if not session.tenants.set_api_key_hash(tenant_id, hash_key(api_key)):
                raise NotFound(f"tenant {tenant_id}")
        return api_key

    def authenticate(self, api_key: str | None) -> Tenant:
        if not api_key or len(api_key) > MAX_KEY_LENGTH:
            raise Unauthorized("a valid API key is required")
        with self._store.read() as session:
            tenant = session.tenants.tenant_by_key_hash(hash_key(api_key))
        if tenant is None:
            raise Unauthorized("a valid API key is required")
        return tenant

    def compliance(self, tenant_id: TenantId) -> ComplianceSettings:
        """The tenant's abandoned-call settings (docs/compliance.md)."""
        with self._store.read() as session:
            settings = session.tenants.compliance(tenant_id)
        if settings is None:
            raise NotFound(f"tenant {tenant_id}")
        return settings

    def update_compliance(self, tenant_id: TenantId, body: object) -> ComplianceSettings:
        """Change what ``body`` (a JSON object, services/compliance_input.py) names; all of it
        or, if any of it is wrong, nothing."""
        with self._store.write() as session:
            current = session.tenants.compliance(tenant_id)
            if current is None:
                raise NotFound(f"tenant {tenant_id}")
            settings = apply_update(current, body)
            silent = [
                s.campaign.id
                for s in session.campaigns.list_campaigns(tenant_id, count_numbers=False)
                if s.campaign.status is CampaignStatus.ENABLED
                and lacks_message(s.campaign.spec, settings)
            ]
            if silent:
                raise Conflict(
                    "these Enabled agent campaigns have no information message of their own"
                    f" and would have none: {', '.join(map(str, silent))}; give them one"
                    " (agentOptions.informationMessage) or disable them first"
                )
            session.tenants.set_compliance(tenant_id, settings)
            if current.attempts_per_day is None and settings.attempts_per_day is not None:
                # Without a cap the ledger keeps only abandoned calls: the day's others count
                # from the moment the cap is on (docs/compliance.md, The cap).
                session.tenants.backfill_number_calls(tenant_id, self._clock.now() - DAY)
        return settings

    def get(self, tenant_id: TenantId) -> Tenant:
        with self._store.read() as session:
            tenant = session.tenants.get_tenant(tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id}")
        return tenant

    def calling_hours(self, tenant_id: TenantId) -> CallingHours:
        """When the tenant's callees may be rung, in each callee's own zone."""
        with self._store.read() as session:
            stored = session.tenants.calling_hours(tenant_id)
        if stored is None:
            raise NotFound(f"tenant {tenant_id}")
        return CallingHours.parse("-".join(stored))

    def update_calling_hours(self, tenant_id: TenantId, body: object) -> CallingHours:
        """``{"start": "08:00", "end": "21:00"}``, either or both; every problem by field, and
        nothing changed unless all of it is valid. Campaigns running pick the new hours up at
        their next batch of numbers (the engine reads them with each one)."""
        errors = FieldErrors()
        if not isinstance(body, Mapping):
            errors.add("$", "must be a JSON object")
            errors.raise_if_any()
            return DEFAULT_CALLING_HOURS
        for key in sorted(str(k) for k in body if k not in ("start", "end")):
            errors.add(key, "unknown field; calling hours have start and end")
        for key in ("start", "end"):
            value = body.get(key)
            if key in body and not (isinstance(value, str) and _HOUR_MINUTE.fullmatch(value)):
                errors.add(key, "must be a time of day as HH:MM, 00:00 to 23:59")
        errors.raise_if_any()
        with self._store.write() as session:
            stored = session.tenants.calling_hours(tenant_id)
            if stored is None:
                raise NotFound(f"tenant {tenant_id}")
            start = str(body.get("start", stored[0]))
            end = str(body.get("end", stored[1]))
            if end <= start:
                errors.add("end", f"must be later than start ({start}) on the same day")
                errors.raise_if_any()
            session.tenants.set_calling_hours(tenant_id, start, end)
        return CallingHours.parse(f"{start}-{end}")

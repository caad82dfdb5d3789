"""A tenant's do-not-call list. Numbers are stored in E.164; the engine refuses them unless a
destination says IgnoreDncStatus."""

from collections.abc import Iterable
from dataclasses import dataclass

from dialer.domain.errors import PayloadTooLarge, ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.ports import Clock
from dialer.ports.store import DncSession, UnitOfWork
from dialer.services.numbers import looks_like_number, to_e164

MAX_NUMBERS_PER_CALL = 100_000  # per REST request (docs/dialer-api.md); files: dnc_import.py
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class DncChange:
    changed: int  # added or removed
    unchanged: int  # already listed, or not listed


class DncService:
    def __init__(self, store: UnitOfWork[DncSession], clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _normalise(self, tenant: Tenant, numbers: Iterable[object], label: str) -> list[str]:
        """All numbers in E.164, or every bad one reported (by position) and nothing done."""
        out: list[str] = []
        problems: dict[str, list[str]] = {}
        for i, number in enumerate(numbers):
            if i >= MAX_NUMBERS_PER_CALL:
                raise PayloadTooLarge(f"at most {MAX_NUMBERS_PER_CALL} numbers at once")
            text = number.strip() if isinstance(number, str) else ""
            e164 = to_e164(text, tenant.region) if looks_like_number(text) else None
            if e164 is None:
                problems[f"{label}[{i}]"] = [f"{str(number)[:50]!r} is not a possible phone number"]
            else:
                out.append(e164)
        if problems:
            raise ValidationFailed(problems)
        return out

    def add(self, tenant: Tenant, numbers: Iterable[object], label: str = "numbers") -> DncChange:
        e164s = self._normalise(tenant, numbers, label)
        with self._store.write() as session:
            added = session.dnc.add_dnc(tenant.id, e164s, self._clock.now())
        return DncChange(added, len(set(e164s)) - added)

    def remove(
        self, tenant: Tenant, numbers: Iterable[object], label: str = "numbers"
    ) -> DncChange:
        e164s = self._normalise(tenant, numbers, label)
        with self._store.write() as session:
            removed = session.dnc.remove_dnc(tenant.id, e164s)
        return DncChange(removed, len(set(e164s)) - removed)

    def listed(self, tenant: Tenant, after: str | None, limit: int) -> list[str]:
        with self._store.read() as session:
            return session.dnc.list_dnc(tenant.id, after, min(max(limit, 1), MAX_PAGE))

    def contains(self, tenant: Tenant, number: str) -> tuple[str, bool]:
        (e164,) = self._normalise(tenant, [number], "number")
        with self._store.read() as session:
            return e164, bool(session.dnc.dnc_listed(tenant.id, [e164]))

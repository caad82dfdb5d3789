"""storage/sql_number_pages.py in memory: the same filters, order and pages."""

from collections.abc import Sequence

from dialer.domain.campaign import PhoneNumber, StoredNumber
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.number_page import NumberFilter, NumberRow
from dialer.storage.memory.base import SessionBase
from dialer.storage.memory.tables import DestinationRow, from_us

_FINAL = ("done", "cancelled")


def _matches(d: DestinationRow, where: NumberFilter) -> bool:
    prefix, name = where.number_prefix, where.name_contains
    if prefix is not None and (d.e164 is None or not d.e164.startswith(prefix)):
        return False
    # As SQL's LIKE/ILIKE: ASCII letters only fold case.
    if name is not None and (d.name is None or _ascii_lower(name) not in _ascii_lower(d.name)):
        return False
    if where.outcome is not None and d.last_outcome is not where.outcome:
        return False
    if where.stage is not None and d.last_stage is not where.stage:
        return False
    return where.final is None or (d.state in _FINAL) is where.final


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


class NumberPageParts(SessionBase):
    def number_page(
        self,
        campaign_id: CampaignId,
        where: NumberFilter,
        after: int,
        skip: int,
        limit: int,
    ) -> list[NumberRow]:
        # A search by number goes in number order, as the SQL store's index gives it.
        by_number = where.number_prefix is not None

        def key(d: DestinationRow) -> tuple[str, int]:
            return (d.e164 or "", d.id) if by_number else ("", d.id)

        cursor = self._t.destinations.get(DestinationId(after)) if after else None
        if by_number and after and (cursor is None or cursor.campaign_id != campaign_id):
            return []
        if by_number and cursor is not None and cursor.e164 is None:
            return []
        start = ("", after) if cursor is None or not by_number else key(cursor)
        rows = sorted(
            (
                d
                for d in self._t.destinations.values()
                if d.campaign_id == campaign_id and key(d) > start and _matches(d, where)
            ),
            key=key,
        )[skip : skip + limit]
        out = []
        for d in rows:
            ready = self._t.ready.get(d.id)
            out.append(
                NumberRow(
                    StoredNumber(
                        PhoneNumber(d.raw, d.e164, d.name, d.parameters, number_type=d.number_type),
                        d.attempts_made,
                        d.last_outcome,
                        d.last_stage,
                        d.id,
                    ),
                    d.state in _FINAL,
                    None if ready is None else from_us(ready.due_at),
                )
            )
        return out

    def numbers_present(self, campaign_id: CampaignId, keys: Sequence[str]) -> set[str]:
        wanted = set(keys)
        return {
            key
            for d in self._t.destinations.values()
            if d.campaign_id == campaign_id
            and (key := d.e164 if d.e164 is not None else d.raw) in wanted
        }

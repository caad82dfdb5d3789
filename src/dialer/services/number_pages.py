"""A campaign's numbers a page at a time, filtered and searched (docs/rest-api.md, A campaign's
numbers).

Pages go by a keyset cursor (``after``: the ``next`` of the previous page, a destination id),
which costs the same at any depth; ``page`` N is offered too for a console's page links, and
finds its first row by reading the (campaign_id, id) index alone.

``q`` is a number when it is written like one (digits, spaces, ()-./ and a leading +): an E.164
prefix, read through the index on (campaign_id, number_e164), and its pages go in number order
(then the order added), the index's own. Anything else is a case-insensitive
substring of the name, which no index serves: a scan in id order that stops once the page is
full (fast for common names, slowest for a name that matches nothing).
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

import phonenumbers
from phonenumbers import PhoneMetadata

from dialer.domain.codes import Outcome, Stage
from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.number_page import NumberFilter, NumberRow
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, Store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000
MAX_PAGE = 1_000_000
MAX_QUERY = 100

_NUMBER_LIKE = re.compile(r"^\+?[\d\s().\-/]*\d[\d\s().\-/]*$")
_OUTCOMES = {o.api_name.lower(): o for o in Outcome}
_STAGES = {s.api_name.lower(): s for s in Stage}
_E = TypeVar("_E", Outcome, Stage)


@dataclass(frozen=True, slots=True)
class NumberPage:
    rows: list[NumberRow]
    next_after: int | None  # pass as ``after`` for the page that follows; None: the last page


def number_prefix(q: str, region: str) -> str | None:
    """The E.164 prefix a search written as a number means in this region, else None.

    ``+44 7700`` and ``447700`` are international (country code first); a search starting with
    the region's national prefix (``07700`` in GB) is national: that prefix gives way to the
    country code.
    """
    text = q.strip()
    if not _NUMBER_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return f"+{digits}"
    metadata = PhoneMetadata.metadata_for_region(region, None)
    national = None if metadata is None else metadata.national_prefix
    if national and digits.startswith(national):
        code = phonenumbers.country_code_for_region(region)
        return f"+{code}{digits[len(national) :]}"
    return f"+{digits}"


def read_filter(
    tenant: Tenant,
    q: str | None,
    outcome: str | None,
    stage: str | None,
    state: str | None,
) -> NumberFilter:
    problems: dict[str, list[str]] = {}
    where = NumberFilter()
    if q is not None and q.strip():
        if len(q) > MAX_QUERY:
            problems["query.q"] = [f"Must be at most {MAX_QUERY} characters."]
        else:
            prefix = number_prefix(q, tenant.region)
            where = (
                replace(where, number_prefix=prefix)
                if prefix is not None
                else replace(where, name_contains=q.strip())
            )
    if outcome is not None:
        found_outcome = _coded(outcome, _OUTCOMES, Outcome)
        if found_outcome is None:
            problems["query.outcome"] = ["Must be an outcome's name (e.g. Busy) or its code."]
        where = replace(where, outcome=found_outcome)
    if stage is not None:
        found_stage = _coded(stage, _STAGES, Stage)
        if found_stage is None:
            problems["query.stage"] = ["Must be a stage's name (e.g. CorrectCallee) or its code."]
        where = replace(where, stage=found_stage)
    if state is not None:
        if state.lower() not in ("final", "pending"):
            problems["query.state"] = ["Must be final or pending."]
        else:
            where = replace(where, final=state.lower() == "final")
    if problems:
        raise ValidationFailed(problems)
    return where


def _coded(text: str, names: dict[str, _E], kind: type[_E]) -> _E | None:
    if text.isascii() and text.isdigit() and len(text) < 4:
        try:
            return kind(int(text))
        except ValueError:
            return None
    return names.get(text.lower())


class NumberPages:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def page(
        self,
        tenant: Tenant,
        campaign_id: CampaignId,
        where: NumberFilter,
        *,
        after: int = 0,
        page: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> NumberPage:
        skip = 0 if page is None else (page - 1) * limit
        with self._store.read() as session:
            if session.campaigns.get_campaign(tenant.id, campaign_id) is None:
                raise NotFound(f"campaign {campaign_id}")
            # One more than asked tells whether another page follows.
            rows = session.destinations.number_page(campaign_id, where, after, skip, limit + 1)
        now = self._clock.now()
        shown = [_due_now(row, now) for row in rows[:limit]]
        more = len(rows) > limit
        last = shown[-1].stored.id if more and shown else None
        return NumberPage(shown, None if last is None else int(last))


def _due_now(row: NumberRow, now: datetime) -> NumberRow:
    """A queued number already due (stored as 0, or a past time) is due now."""
    if row.next_attempt_at is not None and row.next_attempt_at < now:
        return row._replace(next_attempt_at=now)
    return row

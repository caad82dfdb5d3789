"""A campaign's results: one row per attempt, in the order attempts were recorded.

The published shape of a row (``result_fields``) lives in dialer.domain.result_row, where the
webhook message is built from it too; it is re-exported here for the REST API and the CLI.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from dialer.domain.attempt import AttemptResult
from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.result_row import RESULT_FIELDS, iso_utc, result_fields, sms_cell
from dialer.domain.tenant import Tenant
from dialer.ports.store import ResultsSession, UnitOfWork

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_AFTER",
    "MAX_LIMIT",
    "RESULT_FIELDS",
    "STREAM_PAGE",
    "ResultsPage",
    "ResultsService",
    "check_paging",
    "iso_utc",
    "result_fields",
    "sms_cell",
]

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 10_000
MAX_AFTER = 2**63 - 1  # attempt ids are 64-bit
STREAM_PAGE = 2_000


@dataclass(frozen=True, slots=True)
class ResultsPage:
    results: list[AttemptResult]
    next_after: int | None  # pass as ``after`` for the next page; None on the last page


def check_paging(after: int | None, limit: int) -> None:
    errors: dict[str, list[str]] = {}
    if after is not None and not 0 <= after <= MAX_AFTER:
        errors["after"] = [f"after must be an attempt id from 0 to {MAX_AFTER}."]
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [f"limit must be from 1 to {MAX_LIMIT:,}."]
    if errors:
        raise ValidationFailed(errors)


class ResultsService:
    def __init__(self, store: UnitOfWork[ResultsSession], stream_page: int = STREAM_PAGE) -> None:
        self._store = store
        self.stream_page = stream_page

    def page(
        self, tenant: Tenant, campaign_id: CampaignId, after: int | None, limit: int
    ) -> ResultsPage:
        """Up to ``limit`` results after attempt id ``after``, and where the next page starts."""
        check_paging(after, limit)
        with self._store.read() as session:
            if session.campaigns.get_campaign(tenant.id, campaign_id) is None:
                raise NotFound(f"campaign {campaign_id}")
            # One row more than asked tells whether another page exists.
            rows = session.results.attempt_results(campaign_id, after, limit + 1)
        if len(rows) > limit:
            return ResultsPage(rows[:limit], rows[limit - 1].attempt_id)
        return ResultsPage(rows, None)

    def stream(
        self, tenant: Tenant, campaign_id: CampaignId, after: int | None = None
    ) -> Iterator[list[AttemptResult]]:
        """Every result after ``after``, a page at a time, each page read in its own short
        transaction: an export of millions of rows holds neither memory nor a snapshot.

        Ownership is checked here, before the first page is asked for, so an unknown campaign
        fails while the caller can still answer 404.
        """
        check_paging(after, 1)
        with self._store.read() as session:
            if session.campaigns.get_campaign(tenant.id, campaign_id) is None:
                raise NotFound(f"campaign {campaign_id}")
        return self._pages(campaign_id, after)

    def _pages(self, campaign_id: CampaignId, after: int | None) -> Iterator[list[AttemptResult]]:
        size = self.stream_page
        while True:
            with self._store.read() as session:
                rows = session.results.attempt_results(campaign_id, after, size)
            if rows:
                yield rows
            if len(rows) < size:
                return
            after = rows[-1].attempt_id

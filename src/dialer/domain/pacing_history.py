"""A campaign's pacing ratio over time (docs/pacing.md, "The ratio over time"): the store keeps,
per campaign and minute, the count, sum, least and greatest of the ratios the engine saved in
it (at most one every 5 s), for the last ``KEPT``; the statistics group the minutes into their
buckets. The minute is the store's unit; a bucket is a whole number of minutes."""

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

STEP = timedelta(minutes=1)
# The statistics' longest default span (1-hour buckets over 7 days): older minutes are deleted.
KEPT = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def minute_of(moment: datetime) -> datetime:
    """The start of the minute ``moment`` falls in (UTC)."""
    return _EPOCH + ((moment - _EPOCH) // STEP) * STEP


class PacingPoint(NamedTuple):
    """The saved decisions of one bucket of a read: its index from the read's start, how many,
    their mean ratio (lines dialled per agent available), the least and the greatest."""

    bucket: int
    decisions: int
    mean: float
    low: float
    high: float

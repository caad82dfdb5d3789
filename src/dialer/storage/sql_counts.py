"""Counts of a campaign's destinations, read from the counters the triggers of migration 0006
keep, never by counting destinations: O(1) per campaign however many numbers it has."""

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from dialer.domain.ids import CampaignId
from dialer.storage.database import Connection

_T = TypeVar("_T")
log = logging.getLogger(__name__)

# (state, last outcome of done ones or 0) -> how many
Tally = dict[tuple[str, int], int]
# One destination's move between counter keys: (campaign id, (state, outcome) before, after).
Move = tuple[int, tuple[str, int], tuple[str, int]]

# PostgreSQL: a campaign's delta rows are folded into one per key once it has more than this.
FOLD_AFTER = 64
_FOLD_LOCK = 0x636F756E  # any fixed number, the same in every process


def counted_by_hand(
    conn: Connection,
    change: Callable[[], _T],
    moves: Callable[[_T], Iterable[Move] | None],
    *,
    recount: Sequence[int] = (),
) -> _T:
    """Run ``change``, an UPDATE of destinations that moves them into or out of in_flight,
    and keep the counters exact. On SQLite, whose triggers run per row, the trigger leaves
    such moves alone (migration 0027: they are the engine's) and the batch is counted here in
    one statement from ``moves`` (what ``change`` returned says which rows moved from which
    key to which: the engine's updates know the state their rows left, so no key is read
    before or after). ``moves`` may answer None (it cannot tell): the ``recount`` campaigns
    are then counted again from their destinations. PostgreSQL's statement trigger counts
    every change already."""
    if conn.dialect != "sqlite":
        return change()
    result = change()
    moved = moves(result)
    if moved is None:
        log.error("counting campaigns %s again: a batch moved rows it did not expect", recount)
        _count_again(conn, recount)
        return result
    # A batch's moves are a few kinds repeated (a claim's are all one): counted by kind in C
    # first, the Python below runs per kind, not per destination (docs/engine.md, "eighth
    # round").
    tally: Counter[tuple[int, str, int]] = Counter()
    for (campaign_id, before, after), n in Counter(moved).items():
        if before != after:
            tally[(campaign_id, *before)] -= n
            tally[(campaign_id, *after)] += n
    rows = [(*key, n) for key, n in tally.items() if n]
    if rows:
        conn.execute_many(
            "INSERT INTO destination_counts (campaign_id, state, outcome, n)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (campaign_id, state, outcome)"
            " DO UPDATE SET n = n + excluded.n",
            rows,
        )
    return result


def _count_again(conn: Connection, campaign_ids: Sequence[int]) -> None:
    """Rebuild the counters of these campaigns from their destinations (SQLite)."""
    for campaign_id in campaign_ids:
        conn.execute("DELETE FROM destination_counts WHERE campaign_id = %s", (campaign_id,))
        conn.execute(
            "INSERT INTO destination_counts (campaign_id, state, outcome, n)"
            " SELECT campaign_id, state,"
            " CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, count(*)"
            " FROM destinations WHERE campaign_id = %s GROUP BY 1, 2, 3",
            (campaign_id,),
        )


def destination_tallies(
    conn: Connection, campaign_ids: Sequence[CampaignId]
) -> dict[CampaignId, Tally]:
    """Each campaign's destinations by (state, last outcome), from the counters."""
    if not campaign_ids:
        return {}
    tallies: dict[CampaignId, Tally] = {c: {} for c in campaign_ids}
    for start in range(0, len(campaign_ids), 500):
        chunk = campaign_ids[start : start + 500]
        marks = ", ".join("%s" for _ in chunk)
        for campaign_id, state, outcome, n in conn.execute(
            "SELECT campaign_id, state, outcome, sum(n) FROM destination_counts"
            f" WHERE campaign_id IN ({marks}) GROUP BY campaign_id, state, outcome",
            chunk,
        ):
            if n:
                tallies[CampaignId(campaign_id)][(state, int(outcome))] = int(n)
    return tallies


class CountQueries:
    _conn: Connection

    def destination_tallies(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, Tally]:
        return destination_tallies(self._conn, campaign_ids)

    def fold_counts(self, min_rows: int = FOLD_AFTER) -> int:
        """Fold the delta rows of campaigns with over ``min_rows`` into one row per key
        (PostgreSQL; SQLite keeps one row per key already). Safe beside writers and other
        folders: it deletes only rows it saw and puts back their sum. Returns rows folded."""
        if self._conn.dialect != "postgres":
            return 0
        # One folder at a time (others skip this round): two deleting the same rows in
        # different orders could deadlock.
        if not self._conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_FOLD_LOCK,))[0][0]:
            return 0
        rows = self._conn.execute(
            "WITH busy AS (SELECT campaign_id FROM destination_counts GROUP BY campaign_id"
            " HAVING count(*) > %s),"
            " gone AS (DELETE FROM destination_counts WHERE campaign_id IN"
            " (SELECT campaign_id FROM busy) RETURNING campaign_id, state, outcome, n),"
            " folded AS (INSERT INTO destination_counts (campaign_id, state, outcome, n)"
            " SELECT campaign_id, state, outcome, sum(n) FROM gone"
            " GROUP BY campaign_id, state, outcome HAVING sum(n) <> 0)"
            " SELECT count(*) FROM gone",
            (min_rows,),
        )
        return int(rows[0][0])

    def forget_counts(self, campaign_id: CampaignId) -> None:
        self._conn.execute("DELETE FROM destination_counts WHERE campaign_id = %s", (campaign_id,))


def state_total(tally: Tally, state: str) -> int:
    return sum(n for (s, _), n in tally.items() if s == state)

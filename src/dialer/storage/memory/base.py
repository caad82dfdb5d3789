"""What every part of a memory session shares: its tables, the copy-on-write hook, and the
destination tallies the SQL store reads from its counters (here counted by a scan)."""

from collections.abc import Callable
from typing import Any

from dialer.domain.errors import Conflict
from dialer.domain.ids import CampaignId
from dialer.storage.memory.tables import Tables, table

# (state, last outcome value of done ones or 0) -> how many, as storage/sql_counts.py's Tally
Tally = dict[tuple[str, int], int]


class SessionBase:
    def __init__(self, tables: Tables, *, writable: bool) -> None:
        self._t = tables
        self._writable = writable
        self._copied: set[str] = set()
        self.work_added = False

    def _w(self, name: str) -> dict[Any, Any]:
        """The table ``name``, made this transaction's own before its first change."""
        if not self._writable:
            # As PostgreSQL's READ ONLY transaction: a read never changes the store.
            raise RuntimeError("cannot write in a read transaction of the store")
        if name not in self._copied:
            setattr(self._t, name, dict(table(self._t, name)))
            self._copied.add(name)
        return table(self._t, name)

    def _new_id(self, name: str) -> int:
        if not self._writable:
            raise RuntimeError("cannot write in a read transaction of the store")
        return self._t.next_id(name)

    def _delete(self, name: str, doomed: Callable[[Any], bool]) -> list[Any]:
        """Delete the rows of table ``name`` that ``doomed`` picks; their keys."""
        keys = [key for key, row in table(self._t, name).items() if doomed(row)]
        if keys:
            writable = self._w(name)
            for key in keys:
                del writable[key]
        return keys

    def _work_added(self) -> None:
        """Rows went into the ready queue (or a campaign was enabled): ring the listeners
        after commit, as PostgreSQL's trigger on dial_queue does."""
        self.work_added = True

    def _tallies(self, campaign_ids: list[CampaignId]) -> dict[CampaignId, Tally]:
        tallies: dict[CampaignId, Tally] = {c: {} for c in campaign_ids}
        for row in self._t.destinations.values():
            tally = tallies.get(row.campaign_id)
            if tally is None:
                continue
            outcome = 0
            if row.state == "done" and row.last_outcome is not None:
                outcome = row.last_outcome.value
            key = (row.state, outcome)
            tally[key] = tally.get(key, 0) + 1
        return tallies


def unique(taken: bool, what: str) -> None:
    """A UNIQUE constraint: SQL refuses the row with an integrity error; this store says why."""
    if taken:
        raise Conflict(f"{what} already exists")


def referenced(in_use: bool, what: str) -> None:
    """A FOREIGN KEY: SQL refuses the change with an integrity error; this store says why."""
    if in_use:
        raise Conflict(f"{what} is in use")


def state_total(tally: Tally, state: str) -> int:
    return sum(n for (s, _), n in tally.items() if s == state)

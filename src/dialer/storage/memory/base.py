"""What every part of a memory session shares: its tables, the copy-on-write hook, and the
destination tallies the SQL store reads from its counters (here counted by a scan)."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from dialer.domain.attempt import FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.storage.memory.tables import NumberCallRow, Tables, table, to_us

# (state, last outcome value of done ones or 0) -> how many, as storage/sql_counts.py's Tally
Tally = dict[tuple[str, int], int]


def abandoned(outcome: Outcome, stage: Stage) -> bool:
    """An abandoned call as recorded: answered, Stage CallDropped."""
    return outcome is Outcome.ANSWERED and stage is Stage.CALL_DROPPED


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

    def _drop_destinations(self, ids: list[Any]) -> None:
        """Delete destinations, and their attempts with them (ON DELETE CASCADE)."""
        if not ids:
            return
        doomed = set(ids)
        destinations = self._w("destinations")
        for destination_id in doomed:
            destinations.pop(destination_id, None)
        self._delete("attempts", lambda a: a.destination_id in doomed)

    def _drop_agent_rows(self, agent_id: int) -> None:
        """An agent's sessions, their changes, its tokens and its console sessions go with it
        (ON DELETE CASCADE)."""
        sessions = set(self._delete("agent_sessions", lambda s: s.agent_id == agent_id))
        self._delete("state_changes", lambda c: c.session_id in sessions)
        self._delete("agent_tokens", lambda t: t.agent_id == agent_id)
        self._delete("console_sessions", lambda s: s.agent_id == agent_id)

    def _work_added(self) -> None:
        """Rows went into the ready queue (or a campaign was enabled): ring the listeners
        after commit, as PostgreSQL's trigger on dial_queue does."""
        self.work_added = True

    def _note_number_calls(self, finished: Sequence[FinishedAttempt], now: datetime) -> None:
        """As sql_abandonment.note_number_calls: a row per attempt that placed a call, if it
        was abandoned or its tenant has a per-number cap."""
        for f in finished:
            d = self._t.destinations.get(f.record.destination_id)
            if not f.record.counted or d is None or d.e164 is None:
                continue
            tenant = self._t.tenants.get(f.tenant_id)
            capped = tenant is not None and tenant.compliance.attempts_per_day is not None
            if not capped and not abandoned(f.record.outcome, f.record.stage):
                continue
            self._w("number_calls")[self._new_id("number_calls")] = NumberCallRow(
                f.tenant_id,
                d.e164,
                to_us(f.record.ended_at or now),
                abandoned(f.record.outcome, f.record.stage),
            )

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


class IntegrityError(Exception):
    """A row the SQL schema would refuse (a UNIQUE key taken, a foreign key naming nothing, a
    row still referenced): SQL raises its driver's IntegrityError there, and the transaction
    fails whole. The services check first, so only a caller's mistake meets it."""


def unique(taken: bool, what: str) -> None:
    """A UNIQUE constraint the SQL store leaves to the schema."""
    if taken:
        raise IntegrityError(f"{what} already exists")


def refers(exists: bool, what: str) -> None:
    """A foreign key: the row it names must exist (and a referenced row must not go)."""
    if not exists:
        raise IntegrityError(f"foreign key: {what}")


def state_total(tally: Tally, state: str) -> int:
    return sum(n for (s, _), n in tally.items() if s == state)

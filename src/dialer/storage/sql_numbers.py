"""Store queries over a campaign's numbers: adding them (with their ready-queue rows), listing,
replacing the undialled ones, and recording attempts outside the engine."""

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime

from dialer.domain.campaign import NumberEntry, PhoneNumber, StoredNumber
from dialer.domain.codes import Outcome, Stage
from dialer.domain.destination import DestinationState
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.numbering import NOT_VALID
from dialer.storage.database import Connection
from dialer.storage.rows import opt_us, parameters_from_column, parameters_to_column, to_us

_NUMBER_COLUMNS = (
    "campaign_id",
    "number_raw",
    "number_e164",
    "name",
    "parameters",
    "state",
    "last_outcome",
    "created_at",
    "priority",
    "caller_id",
    "custom_data",
    "originate_time",
    "is_date_local",
    "originate_at",
    "ignore_dnc",
    "number_type",
    "is_final",
)
_SMALL_BATCH = 20  # at most this many numbers go in one INSERT statement
_DELETE_BATCH = 500
# SQLite: count a campaign's destinations added after id %s (migration 0006 has no INSERT
# trigger there). Whatever adds destinations to a SQLite store without add_numbers runs this.
COUNT_ADDED_SQLITE = (
    "INSERT INTO destination_counts (campaign_id, state, outcome, n)"
    " SELECT campaign_id, state,"
    " CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, count(*)"
    " FROM destinations WHERE campaign_id = %s AND id > %s GROUP BY 1, 2, 3"
    " ON CONFLICT (campaign_id, state, outcome) DO UPDATE SET n = n + excluded.n"
)


class NumberQueries:
    _conn: Connection

    def _work_added(self, *, notify: bool = True) -> None: ...

    # a campaign's numbers

    def add_numbers(
        self, campaign_id: CampaignId, numbers: Iterable[PhoneNumber], now: datetime
    ) -> None:
        stamp = to_us(now)
        invalid = Outcome.INVALID_NUMBER.value
        pending, done = DestinationState.PENDING.value, DestinationState.DONE.value
        # A number that is not even possible is recorded as done with InvalidNumber: never dialled.
        rows = (
            (
                campaign_id,
                n.raw,
                n.e164,
                n.name,
                parameters_to_column(n.parameters),
                pending if n.possible else done,
                None if n.possible else invalid,
                stamp,
                n.priority,
                n.caller_id,
                n.custom_data,
                n.originate_time,
                None if n.is_date_local is None else int(n.is_date_local),
                opt_us(n.originate_at),
                int(n.ignore_dnc),
                n.number_type,
                0 if n.possible else 1,
            )
            for n in numbers
        )
        # dial_queue's trigger notifies PostgreSQL engines; this process's ring needs the flag.
        self._work_added(notify=False)
        head = list(itertools.islice(rows, _SMALL_BATCH + 1))
        if len(head) <= _SMALL_BATCH and self._conn.dialect == "postgres":
            # An AddCall: the destination and its queue row in one round trip.
            if head:
                marks = ", ".join("%s" for _ in _NUMBER_COLUMNS)
                self._conn.execute(
                    f"WITH added AS (INSERT INTO destinations ({', '.join(_NUMBER_COLUMNS)})"
                    f" VALUES {', '.join(f'({marks})' for _ in head)}"
                    " RETURNING id, campaign_id, priority, originate_at, state)"
                    " INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
                    " SELECT id, campaign_id, priority, coalesce(originate_at, 0) FROM added"
                    " WHERE state = 'pending'",
                    [value for row in head for value in row],
                )
            return
        before = self._conn.execute(
            "SELECT coalesce(max(id), 0) FROM destinations WHERE campaign_id = %s", (campaign_id,)
        )[0][0]
        self._conn.insert_many("destinations", _NUMBER_COLUMNS, itertools.chain(head, rows))
        if self._conn.dialect == "sqlite":
            # PostgreSQL's statement trigger counts them; SQLite's would run once per row.
            self._conn.execute(COUNT_ADDED_SQLITE, (campaign_id, before))
        # Queue the new pending rows for the engine. Rows another transaction adds to the same
        # campaign at once are queued by it too; ON CONFLICT keeps that harmless.
        self._conn.execute(
            "INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)"
            " SELECT id, campaign_id, priority, coalesce(originate_at, 0) FROM destinations"
            " WHERE campaign_id = %s AND id > %s AND state = 'pending'"
            " ON CONFLICT (destination_id) DO NOTHING",
            (campaign_id, before),
        )

    def list_numbers(
        self, campaign_id: CampaignId, after: int = 0, limit: int | None = None
    ) -> list[StoredNumber]:
        """The campaign's numbers in the order they were added, from after the destination id
        ``after``; at most ``limit`` of them (one page of a GET: the rows never all load)."""
        page = "" if limit is None else " LIMIT %s"
        rows = self._conn.execute(
            "SELECT number_raw, number_e164, name, parameters, attempts_made, last_outcome,"
            " last_stage, id, number_type FROM destinations"
            f" WHERE campaign_id = %s AND id > %s ORDER BY id{page}",
            (campaign_id, after) if limit is None else (campaign_id, after, limit),
        )
        return [
            StoredNumber(
                PhoneNumber(raw, e164, name, parameters_from_column(params), number_type=kind),
                made,
                None if outcome is None else Outcome(outcome),
                None if stage is None else Stage(stage),
                DestinationId(did),
            )
            for raw, e164, name, params, made, outcome, stage, did, kind in rows
        ]

    def count_not_valid(self, campaign_id: CampaignId) -> int:
        """Numbers that are not possible, or possible but in no allocated range."""
        rows = self._conn.execute(
            "SELECT count(*) FROM destinations WHERE campaign_id = %s"
            f" AND (number_e164 IS NULL OR number_type = {NOT_VALID})",
            (campaign_id,),
        )
        return int(rows[0][0])

    def numbers_for_update(self, campaign_id: CampaignId) -> list[NumberEntry]:
        """Every number of the campaign with what a PUT matches it by, in id order."""
        rows = self._conn.execute(
            "SELECT d.id, coalesce(d.number_e164, d.number_raw), d.name, d.parameters,"
            " CASE WHEN d.attempts_made > 0 OR d.state IN ('in_flight', 'cancelled')"
            " OR EXISTS (SELECT 1 FROM attempts a WHERE a.destination_id = d.id)"
            " THEN 1 ELSE 0 END"
            " FROM destinations d WHERE d.campaign_id = %s ORDER BY d.id",
            (campaign_id,),
        )
        return [
            NumberEntry(DestinationId(i), key, name, parameters_from_column(params), bool(kept))
            for i, key, name, params, kept in rows
        ]

    def delete_numbers(self, campaign_id: CampaignId, ids: Sequence[DestinationId]) -> None:
        """Remove these numbers, which have no history, and their ready-queue rows."""
        for start in range(0, len(ids), _DELETE_BATCH):
            chunk = list(ids[start : start + _DELETE_BATCH])
            marks = ", ".join("%s" for _ in chunk)
            self._conn.execute(
                f"DELETE FROM dial_queue WHERE campaign_id = %s AND destination_id IN ({marks})",
                (campaign_id, *chunk),
            )
            self._conn.execute(
                f"DELETE FROM destinations WHERE campaign_id = %s AND id IN ({marks})"
                " AND attempts_made = 0 AND state IN ('pending', 'done')",
                (campaign_id, *chunk),
            )

    def update_numbers_details(
        self, changes: Sequence[tuple[DestinationId, str | None, tuple[tuple[int, str], ...]]]
    ) -> None:
        """A PUT's new name and parameters of numbers it kept; nothing else of theirs changes."""
        if changes:
            self._conn.execute_many(
                "UPDATE destinations SET name = %s, parameters = %s WHERE id = %s",
                [(name, parameters_to_column(params), i) for i, name, params in changes],
            )

    def destination_ids(self, campaign_id: CampaignId) -> list[DestinationId]:
        rows = self._conn.execute(
            "SELECT id FROM destinations WHERE campaign_id = %s ORDER BY id", (campaign_id,)
        )
        return [DestinationId(r[0]) for r in rows]

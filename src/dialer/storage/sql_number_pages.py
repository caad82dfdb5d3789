"""Store queries behind the numbers endpoint: a filtered page of a campaign's numbers, and which
numbers of an upload a campaign already has (docs/rest-api.md, A campaign's numbers)."""

from collections.abc import Sequence
from typing import Any, NamedTuple

from dialer.domain.campaign import PhoneNumber, StoredNumber
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.number_page import NumberFilter, NumberRow
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, parameters_from_column

_FINAL = "d.state IN ('done', 'cancelled')"
_LOOKUP_BATCH = 500


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _conditions(where: NumberFilter, dialect: str, from_number: str = "") -> tuple[str, list[Any]]:
    """The filter's SQL; ``from_number``: a search by number resumes at this number."""
    parts: list[str] = []
    args: list[Any] = []
    if where.number_prefix is not None:
        # One range on (campaign_id, number_e164), the index migration 0002 made (E.164 holds
        # only '+' and digits; ':' sorts just after '9'): a second lower bound on the same
        # column would leave SQLite scanning from the first.
        parts.append("d.number_e164 >= %s AND d.number_e164 < %s")
        args += [max(where.number_prefix, from_number), where.number_prefix + ":"]
    if where.name_contains is not None:
        # SQLite's LIKE ignores ASCII case as PostgreSQL's ILIKE does.
        like = "ILIKE" if dialect == "postgres" else "LIKE"
        parts.append(f"d.name {like} %s ESCAPE '!'")
        args.append(_like(where.name_contains))
    if where.outcome is not None:
        parts.append("d.last_outcome = %s")
        args.append(where.outcome.value)
    if where.stage is not None:
        parts.append("d.last_stage = %s")
        args.append(where.stage.value)
    if where.final is not None:
        parts.append(_FINAL if where.final else f"NOT {_FINAL}")
    return "".join(f" AND {p}" for p in parts), args


class _Cursor(NamedTuple):
    id: int
    e164: str  # for a search by number, whose pages go in (number_e164, id) order
    inclusive: bool


def _resume(by_number: bool, start: _Cursor) -> tuple[str, list[Any]]:
    """The page's lower bound, written as one range the index can seek to: a second bound on
    the same column (id > 0 AND id > 499000) left SQLite scanning from the first."""
    if not by_number:
        return " AND d.id > %s", [start.id - 1 if start.inclusive else start.id]
    if not start.e164:
        return "", []
    # The lower bound on the number itself is in the filter's range (_conditions).
    tie = "<" if start.inclusive else "<="
    return f" AND NOT (d.number_e164 = %s AND d.id {tie} %s)", [start.e164, start.id]


class NumberPageQueries:
    _conn: Connection

    def number_page(
        self,
        campaign_id: CampaignId,
        where: NumberFilter,
        after: int,
        skip: int,
        limit: int,
    ) -> list[NumberRow]:
        by_number = where.number_prefix is not None
        start = self._start(campaign_id, by_number, after)
        if start is None:
            return []
        if skip > 0:
            # Page N: its first row found by the index alone (no row, no join read for those
            # skipped); the page is then read from there like any other.
            start = self._skip(campaign_id, where, start, skip)
            if start is None:
                return []
        conditions, args = _conditions(where, self._conn.dialect, start.e164)
        resume, resume_args = _resume(by_number, start)
        order = "d.number_e164, d.id" if by_number else "d.id"
        rows = self._conn.execute(
            "SELECT d.id, d.number_raw, d.number_e164, d.name, d.parameters, d.attempts_made,"
            " d.last_outcome, d.last_stage, d.number_type, d.state,"
            # Looked up row by row: PostgreSQL merge-joined the whole ready queue from its
            # start for a deep page (450,000 rows read for 1,000 shown).
            " (SELECT q.due_at FROM dial_queue q WHERE q.destination_id = d.id)"
            " FROM destinations d"
            f" WHERE d.campaign_id = %s{resume}{conditions} ORDER BY {order} LIMIT %s",
            (campaign_id, *resume_args, *args, limit),
        )
        return [
            NumberRow(
                StoredNumber(
                    PhoneNumber(raw, e164, name, parameters_from_column(params), number_type=kind),
                    made,
                    None if outcome is None else Outcome(outcome),
                    None if stage is None else Stage(stage),
                    DestinationId(did),
                ),
                state in ("done", "cancelled"),
                None if due is None else from_us(due),
            )
            for did, raw, e164, name, params, made, outcome, stage, kind, state, due in rows
        ]

    def _start(self, campaign_id: CampaignId, by_number: bool, after: int) -> _Cursor | None:
        """Where a page starts (exclusive): the cursor's row; None if that is not the campaign's."""
        if not by_number or after == 0:
            return _Cursor(after, "", inclusive=False)
        rows = self._conn.execute(
            "SELECT number_e164 FROM destinations WHERE id = %s AND campaign_id = %s",
            (after, campaign_id),
        )
        if not rows or rows[0][0] is None:
            return None
        return _Cursor(after, rows[0][0], inclusive=False)

    def _skip(
        self,
        campaign_id: CampaignId,
        where: NumberFilter,
        start: _Cursor,
        skip: int,
    ) -> _Cursor | None:
        by_number = where.number_prefix is not None
        conditions, args = _conditions(where, self._conn.dialect, start.e164)
        resume, resume_args = _resume(by_number, start)
        order = "d.number_e164, d.id" if by_number else "d.id"
        # By id, the id alone: the skipped entries are read from the index only.
        number = "d.number_e164" if by_number else "''"
        rows = self._conn.execute(
            f"SELECT d.id, {number} FROM destinations d WHERE d.campaign_id = %s{resume}"
            f"{conditions} ORDER BY {order} LIMIT 1 OFFSET %s",
            (campaign_id, *resume_args, *args, skip),
        )
        if not rows:
            return None
        return _Cursor(rows[0][0], rows[0][1] or "", inclusive=True)

    def numbers_present(self, campaign_id: CampaignId, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _LOOKUP_BATCH):
            chunk = unique[start : start + _LOOKUP_BATCH]
            marks = ", ".join("%s" for _ in chunk)
            # Two lookups, each by an index: (campaign_id, number_e164), and the raw form of
            # numbers stored without one (few: not possible numbers).
            rows = self._conn.execute(
                "SELECT number_e164 FROM destinations"
                f" WHERE campaign_id = %s AND number_e164 IN ({marks})",
                (campaign_id, *chunk),
            )
            found.update(r[0] for r in rows)
            rows = self._conn.execute(
                "SELECT number_raw FROM destinations WHERE campaign_id = %s"
                f" AND number_e164 IS NULL AND number_raw IN ({marks})",
                (campaign_id, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

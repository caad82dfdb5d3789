"""Store queries behind the numbers endpoint: a filtered page of a campaign's numbers, and which
numbers of an upload a campaign already has (docs/rest-api.md, A campaign's numbers)."""

from collections.abc import Sequence
from typing import Any

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


def _conditions(where: NumberFilter, dialect: str) -> tuple[str, list[Any]]:
    parts: list[str] = []
    args: list[Any] = []
    if where.number_prefix is not None:
        # A range on (campaign_id, number_e164), the index migration 0002 made; E.164 holds
        # only '+' and digits, and ':' sorts just after '9'.
        parts.append("d.number_e164 >= %s AND d.number_e164 < %s")
        args += [where.number_prefix, where.number_prefix + ":"]
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
        conditions, args = _conditions(where, self._conn.dialect)
        start = ""
        start_args: list[Any] = []
        if skip > 0:
            # Page N: find its first id by the index alone (no row, no join read for the rows
            # skipped), then read one page from there.
            start = (
                " AND d.id >= (SELECT d.id FROM destinations d WHERE d.campaign_id = %s"
                f" AND d.id > %s{conditions} ORDER BY d.id LIMIT 1 OFFSET %s)"
            )
            start_args = [campaign_id, after, *args, skip]
        rows = self._conn.execute(
            "SELECT d.id, d.number_raw, d.number_e164, d.name, d.parameters, d.attempts_made,"
            " d.last_outcome, d.last_stage, d.number_type, d.state, q.due_at"
            " FROM destinations d LEFT JOIN dial_queue q ON q.destination_id = d.id"
            f" WHERE d.campaign_id = %s AND d.id > %s{conditions}{start}"
            " ORDER BY d.id LIMIT %s",
            (campaign_id, after, *args, *start_args, limit),
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

"""The recording's write of each destination's outcome on SQLite, batched (PostgreSQL's is one
statement over arrays, in sql_engine.py)."""

from collections.abc import Mapping, Sequence

from dialer.domain.ids import DestinationId
from dialer.storage.database import Connection

# Destinations a recording UPDATE carries on SQLite: 5 parameters each, far below SQLite's
# 32,766 a statement, and above the engine's claim batch, so a batch is one statement.
NOTE_CHUNK = 1000


def note_outcomes_sqlite(
    conn: Connection,
    by_id: Mapping[DestinationId, tuple[int, int, int, str]],
    ids: Sequence[DestinationId],
) -> int:
    """Write a recorded batch's destinations in one UPDATE per ``NOTE_CHUNK``, not one per
    destination: on a table with a row trigger (migration 0011's counter) each UPDATE
    statement has a set-up cost, whether the trigger counts or not, and one per destination
    made it two thirds of the recording's SQLite time (docs/engine.md, "Throughput").
    Returns how many of the rows were in flight (and so were written)."""
    updated = 0
    for start in range(0, len(ids), NOTE_CHUNK):
        chunk = ids[start : start + NOTE_CHUNK]
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
        rows = conn.execute(
            f"WITH v (id, made, outcome, stage, state) AS (VALUES {values})"
            " UPDATE destinations SET attempts_made = v.made, last_outcome = v.outcome,"
            " last_stage = v.stage, state = v.state FROM v"
            " WHERE destinations.id = v.id AND destinations.state = 'in_flight'"
            " RETURNING destinations.id",
            [value for i in chunk for value in (i, *by_id[i])],
        )
        updated += len(rows)
    return updated

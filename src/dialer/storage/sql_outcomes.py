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
        # Run through execute_many for its count of rows changed (the trigger's own writes
        # are not in it): a RETURNING clause would cost a row of a temporary table for each
        # destination, 15% of the statement's time (docs/engine.md, "sixth round"). The
        # statement starts with UPDATE, not WITH: Python's sqlite3 counts the changes only of
        # a statement it sees as one that changes rows.
        updated += conn.execute_many(
            "UPDATE destinations SET attempts_made = v.column2, last_outcome = v.column3,"
            " last_stage = v.column4, state = v.column5, is_final = v.column5 = 'done'"
            f" FROM (VALUES {values}) AS v"
            " WHERE destinations.id = v.column1 AND destinations.state = 'in_flight'",
            [[value for i in chunk for value in (i, *by_id[i])]],
        )
    return updated

"""The recording's write of each destination's outcome on SQLite, batched (PostgreSQL's is one
statement over arrays, in sql_engine.py)."""

from collections.abc import Mapping, Sequence

from dialer.domain.ids import DestinationId
from dialer.storage.database import Connection

# Destinations a recording UPDATE carries on SQLite: 4 parameters each, far below SQLite's
# 32,766 a statement, and above the engine's claim batch, so a batch is one statement (two
# when it holds both done destinations and retries).
NOTE_CHUNK = 1000

# What the recording's UPDATE sets besides the VALUES' columns, for the destinations that are
# done and for the retries (the only two states a recording gives: sql_engine._note_outcomes).
# The state is written as a constant, not carried in the VALUES, and is_final is set only where
# it changes: a column named in SET makes SQLite rewrite the entry of every index whose columns
# or predicate name it, whatever the value, so `is_final = 0` for a retry would delete and
# re-insert its identical destinations_waiting entry (docs/engine.md, "eighth round"). A
# destination in flight is never final, so a retry's is_final is already 0.
_DONE = "state = 'done', is_final = 1"
_RETRIED = "state = 'pending'"


def note_outcomes_sqlite(
    conn: Connection,
    by_id: Mapping[DestinationId, tuple[int, int, int, str]],
    ids: Sequence[DestinationId],
) -> int:
    """Write a recorded batch's destinations in one UPDATE per ``NOTE_CHUNK`` and state they
    take, not one per destination: on a table with a row trigger (migration 0011's counter)
    each UPDATE statement has a set-up cost, whether the trigger counts or not, and one per
    destination made it two thirds of the recording's SQLite time (docs/engine.md,
    "Throughput"). Returns how many of the rows were in flight (and so were written)."""
    updated = 0
    for start in range(0, len(ids), NOTE_CHUNK):
        chunk = ids[start : start + NOTE_CHUNK]
        # Comprehensions, not a loop appending: no Python call per destination.
        done = [i for i in chunk if by_id[i][3] == "done"]
        retried = [i for i in chunk if by_id[i][3] != "done"] if len(done) < len(chunk) else []
        for sets, part in ((_DONE, done), (_RETRIED, retried)):
            if not part:
                continue
            values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
            # Run through execute_many for its count of rows changed (the trigger's own
            # writes are not in it): a RETURNING clause would cost a row of a temporary table
            # for each destination, 15% of the statement's time (docs/engine.md, "sixth
            # round"). The statement starts with UPDATE, not WITH: Python's sqlite3 counts the
            # changes only of a statement it sees as one that changes rows.
            updated += conn.execute_many(
                "UPDATE destinations SET attempts_made = v.column2, last_outcome = v.column3,"
                f" last_stage = v.column4, {sets}"
                f" FROM (VALUES {values}) AS v"
                " WHERE destinations.id = v.column1 AND destinations.state = 'in_flight'",
                [[value for i in part for value in (i, *by_id[i][:3])]],
            )
    return updated

-- SQLite's 0025 rebuilds the dial queue and the leases as WITHOUT ROWID tables, so a row is
-- written into its key's b-tree only (issue 11). A PostgreSQL table has no rowid, and its rows
-- already sit in the heap with the primary key's index beside them: nothing to change. The
-- migration exists so both dialects list the same migrations (tests/integration/
-- test_schema_parity.py).
SELECT 1;

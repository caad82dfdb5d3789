-- Nothing to change for the counters on PostgreSQL: its counting triggers run once per
-- statement and count every writer, the engine's batches included (SQLite's 0027 leaves the
-- engine's moves into and out of in_flight to the engine, which counts them by hand).
SELECT 1;

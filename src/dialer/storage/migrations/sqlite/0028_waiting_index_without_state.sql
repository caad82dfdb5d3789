-- destinations_waiting (0002) serves GetWaitingCalls' pages over the pending and in-flight
-- destinations in dial order. Its predicate named state, and SQLite rewrites a partial index's
-- entry whenever a column its predicate names is updated, whatever the values: every claim
-- (pending -> in_flight, both waiting) deleted and re-inserted an identical entry per row (per
-- 20,000 attempts 0.58 M VM instructions and 295 pages written; docs/engine.md, "seventh
-- round"). The predicate now names is_final, which only a move into or out of done or
-- cancelled changes: the claim does not touch it, so it leaves the index alone.
ALTER TABLE destinations ADD COLUMN is_final INTEGER NOT NULL DEFAULT 0;
UPDATE destinations SET is_final = 1 WHERE state IN ('done', 'cancelled');
DROP INDEX destinations_waiting;
CREATE INDEX destinations_waiting ON destinations (campaign_id, priority DESC, id)
    WHERE is_final = 0;

-- As on SQLite: destinations_waiting's predicate names is_final (1 once a destination is done
-- or cancelled), not state, so that SQLite's claim (pending -> in_flight, both waiting) leaves
-- the index alone (docs/engine.md, "seventh round"). PostgreSQL gains nothing by it (its claim
-- is not a HOT update either way: other indexes name state), but both dialects keep one schema
-- and one set of queries.
ALTER TABLE destinations ADD COLUMN is_final SMALLINT NOT NULL DEFAULT 0;
UPDATE destinations SET is_final = 1 WHERE state IN ('done', 'cancelled');
DROP INDEX destinations_waiting;
CREATE INDEX destinations_waiting ON destinations (campaign_id, priority DESC, id)
    WHERE is_final = 0;

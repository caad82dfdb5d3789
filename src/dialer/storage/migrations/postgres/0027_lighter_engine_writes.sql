-- Nothing to change for the counters on PostgreSQL: its counting triggers run once per
-- statement and count every writer, the engine's batches included (SQLite's 0027 leaves the
-- engine's moves into and out of in_flight to the engine, which counts them by hand).

-- The attempts' index of 0016, as on SQLite: the attempt's id before outcome and stage, so
-- that attempts ending at one instant are appended in the order recorded, not written at one
-- place per (outcome, stage). Outcome and stage still ride along (index-only scans).
DROP INDEX attempts_campaign_ended;
CREATE INDEX attempts_campaign_ended ON attempts (campaign_id, ended_at, id, outcome, stage);

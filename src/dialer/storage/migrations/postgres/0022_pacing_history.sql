-- Each agent campaign's pacing ratio over time (docs/pacing.md, "The ratio over time"): one row
-- per campaign per minute, summing the decisions the engine saved in it (at most one every 5 s).
-- The statistics endpoint groups the minutes into its 5-minute or hourly buckets. Kept 7 days
-- (the longest default span of the statistics): each save deletes the minutes older than that,
-- of every campaign, by the index on minute, so the table holds at most 10,080 rows per
-- campaign dialled in the last 7 days, however long a campaign runs. Deleted with its campaign.
-- minute: the minute's start, UTC epoch microseconds, as every instant here.
CREATE TABLE pacing_history (
    campaign_id BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    decisions INTEGER NOT NULL,
    ratio_sum DOUBLE PRECISION NOT NULL,
    ratio_min DOUBLE PRECISION NOT NULL,
    ratio_max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (campaign_id, minute)
);
CREATE INDEX pacing_history_minute ON pacing_history (minute);

-- A rotated API key ends the GET /api/events streams opened with the old one (api/live_hub.py):
-- the change to tenants must reach every API process's watcher, as migration 0017's do.
-- (SQLite's data_version watch sees every write already.)
CREATE TRIGGER tenants_notify AFTER UPDATE OF api_key_hash OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION dialer_changes_notify('tenant');

-- Limits that hold across every engine sharing the store (docs/engine.md, Limits).
-- One row per rate limit (a campaign's, a tenant's, a trunk's): the calls claimed in its
-- current window, as JSON [[claimed at (epoch us), calls], ...], pruned at every claim.
-- A claim locks the rows it takes from (SELECT ... FOR UPDATE), so claims sharing a limit take
-- turns, and claims sharing none never meet. The campaign's row also serialises the count of
-- its calls in flight. expires_at: when the last entry leaves its window (the row may go).
CREATE TABLE rate_windows (
    name TEXT NOT NULL PRIMARY KEY,
    calls TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A campaign's live leases, counted by every claim of it.
CREATE INDEX in_flight_campaign ON in_flight (campaign_id, lease_until);

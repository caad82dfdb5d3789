-- Campaign lifecycle (domain/lifecycle.py): when a user cancelled the campaign (epoch
-- microseconds; NULL: not cancelled). A cancelled campaign is also Disabled, so engines claim
-- none of its numbers; Paused is Disabled alone. Every other state is derived.
ALTER TABLE campaigns ADD COLUMN cancelled_at BIGINT;
-- The engine's housekeeping looks up the cancelled campaigns (to cancel retries queued after
-- the cancel) every third of a lease: a partial index holds only them.
CREATE INDEX campaigns_cancelled ON campaigns (id) WHERE cancelled_at IS NOT NULL;

-- Statistics (GET .../statistics) group a campaign's attempts by their end time: migration
-- 0016's index attempts_campaign_ended (campaign_id, ended_at, outcome, stage) answers them
-- alone, so no index is added here.
-- Live events: the API process watches PRAGMA data_version (storage/notify.py); nothing here.

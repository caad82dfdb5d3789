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

-- Live events (GET /api/events): an API process LISTENs on 'dialer_changes' and reads the
-- summaries of the campaigns its open streams show again. A change of a campaign's counts
-- appends to destination_counts (migration 0006's statement triggers), so one statement-level
-- trigger there, one on campaigns and one on agents' state changes hear every change that a
-- summary or the wallboard shows. PostgreSQL folds a transaction's equal notifications into
-- one, and sends them at commit (none on rollback).
CREATE FUNCTION dialer_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dialer_changes', TG_ARGV[0]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER destination_counts_notify AFTER INSERT ON destination_counts
    FOR EACH STATEMENT EXECUTE FUNCTION dialer_changes_notify('campaign');
CREATE TRIGGER campaigns_notify AFTER INSERT OR UPDATE OR DELETE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION dialer_changes_notify('campaign');
CREATE TRIGGER agent_state_changes_notify AFTER INSERT ON agent_state_changes
    FOR EACH STATEMENT EXECUTE FUNCTION dialer_changes_notify('agent');

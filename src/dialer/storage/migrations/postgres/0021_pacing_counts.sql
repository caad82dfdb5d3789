-- What each campaign's latest pacing decision saw (docs/console.md, the wallboard): its agents
-- ready, its calls ringing and its answered calls waiting for an agent. NULL for a decision
-- saved before this migration, until the engine's next one (at most 5 s while it dials).
ALTER TABLE campaign_pacing ADD COLUMN agents_ready INTEGER;
ALTER TABLE campaign_pacing ADD COLUMN calls_ringing INTEGER;
ALTER TABLE campaign_pacing ADD COLUMN waiting_for_agent INTEGER;

-- The summaries show these counts, so a saved decision is a change the live events must hear
-- (migration 0017's notifications; SQLite's watch sees every write already).
CREATE TRIGGER campaign_pacing_notify AFTER INSERT OR UPDATE ON campaign_pacing
    FOR EACH STATEMENT EXECUTE FUNCTION dialer_changes_notify('campaign');

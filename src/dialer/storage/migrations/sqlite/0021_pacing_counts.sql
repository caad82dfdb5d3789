-- What each campaign's latest pacing decision saw (docs/console.md, the wallboard): its agents
-- ready, its calls ringing and its answered calls waiting for an agent. NULL for a decision
-- saved before this migration, until the engine's next one (at most 5 s while it dials).
ALTER TABLE campaign_pacing ADD COLUMN agents_ready INTEGER;
ALTER TABLE campaign_pacing ADD COLUMN calls_ringing INTEGER;
ALTER TABLE campaign_pacing ADD COLUMN waiting_for_agent INTEGER;

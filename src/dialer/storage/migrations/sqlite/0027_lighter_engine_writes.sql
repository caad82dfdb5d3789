-- The counting trigger of 0011 tested for its pause marker (a look-up in destination_counts)
-- on every row the engine moved, though the engine counts each of its batches itself: per
-- 20,000 attempts, 0.46 M of SQLite's 11.10 M VM instructions (docs/engine.md, "sixth round").
-- Now the rule is one cheap test of the row itself: a move into or out of in_flight is the
-- engine's (only its lease code makes one: the claim, the recording, a release, a recovered
-- lease), and the engine counts those by hand in the same transaction (storage/sql_counts.py,
-- counted_by_hand). Every other change is counted by this trigger, as before: cancellations,
-- a row moved to another campaign (even in flight), and any writer outside the engine.
DROP TRIGGER destinations_counted_update;

CREATE TRIGGER destinations_counted_update AFTER UPDATE OF state, last_outcome, campaign_id
    ON destinations
    WHEN OLD.campaign_id IS NOT NEW.campaign_id
        OR (OLD.state IS NOT 'in_flight' AND NEW.state IS NOT 'in_flight'
            AND (OLD.state IS NOT NEW.state
                OR (NEW.state = 'done' AND OLD.last_outcome IS NOT NEW.last_outcome)))
BEGIN
    UPDATE destination_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND state = OLD.state
        AND outcome = CASE WHEN OLD.state = 'done' THEN coalesce(OLD.last_outcome, 0) ELSE 0 END;
    INSERT INTO destination_counts (campaign_id, state, outcome, n)
        VALUES (NEW.campaign_id, NEW.state,
            CASE WHEN NEW.state = 'done' THEN coalesce(NEW.last_outcome, 0) ELSE 0 END, 1)
        ON CONFLICT (campaign_id, state, outcome) DO UPDATE SET n = n + 1;
END;

-- The pause marker of 0011, should a crash ever have left one behind (it lived only inside
-- its writer's transaction, so none should be there).
DELETE FROM destination_counts WHERE campaign_id = 0 AND state = 'counted by hand';

-- The attempts' index of 0016 ordered the attempts that ended at one instant by outcome and
-- stage, so a recorded batch of them was written at one place per (outcome, stage) in the
-- index: a leaf page each, per batch. With the attempt's id before them, such attempts lie in
-- the order they were recorded, and a batch is appended at one place, whatever the clock's
-- resolution (the engine's zero-duration bench ends every call at one instant: 740 of 6,217
-- pages written per 20,000 attempts). Outcome and stage still ride along: the abandonment
-- tally and the campaign's activity read it alone, as before.
DROP INDEX attempts_campaign_ended;
CREATE INDEX attempts_campaign_ended ON attempts (campaign_id, ended_at, id, outcome, stage);

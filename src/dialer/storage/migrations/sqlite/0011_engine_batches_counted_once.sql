-- SQLite runs a trigger once per row: the counting trigger of 0006 made each of the engine's
-- batches (a claim of 500 destinations, the recording of 500 results) write the counters a
-- thousand times, a fifth of the engine's time. The engine now counts such a batch itself, in a
-- few statements (storage/sql_counts.py, counted_by_hand), with the trigger paused by a marker
-- row that lives only inside its own write transaction (campaign 0, which no campaign is).
-- Every other change is counted by the trigger, as before.
DROP TRIGGER destinations_counted_update;

CREATE TRIGGER destinations_counted_update AFTER UPDATE OF state, last_outcome, campaign_id
    ON destinations
    WHEN (OLD.campaign_id IS NOT NEW.campaign_id OR OLD.state IS NOT NEW.state
        OR (NEW.state = 'done' AND OLD.last_outcome IS NOT NEW.last_outcome))
        AND NOT EXISTS (SELECT 1 FROM destination_counts
            WHERE campaign_id = 0 AND state = 'counted by hand' AND outcome = 0)
BEGIN
    UPDATE destination_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND state = OLD.state
        AND outcome = CASE WHEN OLD.state = 'done' THEN coalesce(OLD.last_outcome, 0) ELSE 0 END;
    INSERT INTO destination_counts (campaign_id, state, outcome, n)
        VALUES (NEW.campaign_id, NEW.state,
            CASE WHEN NEW.state = 'done' THEN coalesce(NEW.last_outcome, 0) ELSE 0 END, 1)
        ON CONFLICT (campaign_id, state, outcome) DO UPDATE SET n = n + 1;
END;

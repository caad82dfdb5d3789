-- Counts of each campaign's destinations by state (and, for done ones, by last outcome), kept
-- by triggers in the transaction of every change, so that reading them costs the same for ten
-- numbers or ten million. SQLite has one writer at a time, so one row per key serialises
-- nothing that was not serialised already (PostgreSQL appends deltas instead: see its 0006).
CREATE TABLE destination_counts (
    campaign_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    outcome INTEGER NOT NULL,  -- the last outcome of done destinations; 0 otherwise
    n INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, state, outcome)
) WITHOUT ROWID;

INSERT INTO destination_counts (campaign_id, state, outcome, n)
    SELECT campaign_id, state,
        CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, count(*)
    FROM destinations GROUP BY 1, 2, 3;

-- No INSERT trigger: a row trigger doubled the cost of adding a big list, so add_numbers (the
-- one place that adds destinations) counts what it added with one statement.
CREATE TRIGGER destinations_counted_delete AFTER DELETE ON destinations
BEGIN
    UPDATE destination_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND state = OLD.state
        AND outcome = CASE WHEN OLD.state = 'done' THEN coalesce(OLD.last_outcome, 0) ELSE 0 END;
END;

CREATE TRIGGER destinations_counted_update AFTER UPDATE OF state, last_outcome, campaign_id
    ON destinations
    WHEN OLD.campaign_id IS NOT NEW.campaign_id OR OLD.state IS NOT NEW.state
        OR (NEW.state = 'done' AND OLD.last_outcome IS NOT NEW.last_outcome)
BEGIN
    UPDATE destination_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND state = OLD.state
        AND outcome = CASE WHEN OLD.state = 'done' THEN coalesce(OLD.last_outcome, 0) ELSE 0 END;
    INSERT INTO destination_counts (campaign_id, state, outcome, n)
        VALUES (NEW.campaign_id, NEW.state,
            CASE WHEN NEW.state = 'done' THEN coalesce(NEW.last_outcome, 0) ELSE 0 END, 1)
        ON CONFLICT (campaign_id, state, outcome) DO UPDATE SET n = n + 1;
END;

-- TotalAwaitingCalls leaves out pending destinations held back by a future OriginateTime:
-- this index holds only those that carry one.
CREATE INDEX destinations_scheduled ON destinations (campaign_id, originate_at)
    WHERE state = 'pending' AND originate_at IS NOT NULL;

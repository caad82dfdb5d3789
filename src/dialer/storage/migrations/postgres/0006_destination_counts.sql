-- Counts of each campaign's destinations by state (and, for done ones, by last outcome), kept
-- by triggers in the transaction of every change, so that reading them costs the same for ten
-- numbers or ten million. One row per key would be a hot row every engine and API writer
-- queues on, so writers append signed deltas instead (statement triggers with transition
-- tables: one row per key and statement, however many rows it touched) and readers sum them;
-- SqlSession.fold_counts folds them back to one row per key now and then.
CREATE TABLE destination_counts (
    campaign_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    outcome INTEGER NOT NULL,  -- the last outcome of done destinations; 0 otherwise
    n BIGINT NOT NULL
);
CREATE INDEX destination_counts_campaign ON destination_counts (campaign_id);

INSERT INTO destination_counts (campaign_id, state, outcome, n)
    SELECT campaign_id, state,
        CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, count(*)
    FROM destinations GROUP BY 1, 2, 3;

CREATE FUNCTION destination_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO destination_counts (campaign_id, state, outcome, n)
        SELECT campaign_id, state,
            CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, count(*)
        FROM added GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;

CREATE FUNCTION destination_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO destination_counts (campaign_id, state, outcome, n)
        SELECT campaign_id, state,
            CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, -count(*)
        FROM removed GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;

-- Transition tables cannot go with a column list (UPDATE OF state), so every UPDATE comes
-- here; one that moves no destination between keys (a name, a priority) writes nothing.
CREATE FUNCTION destination_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO destination_counts (campaign_id, state, outcome, n)
        SELECT campaign_id, state, outcome, sum(n) FROM (
            SELECT campaign_id, state,
                CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END AS outcome,
                -1 AS n
            FROM before
            UNION ALL
            SELECT campaign_id, state,
                CASE WHEN state = 'done' THEN coalesce(last_outcome, 0) ELSE 0 END, 1
            FROM after
        ) moved GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER destinations_counted_insert AFTER INSERT ON destinations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION destination_counts_added();
CREATE TRIGGER destinations_counted_delete AFTER DELETE ON destinations
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION destination_counts_removed();
CREATE TRIGGER destinations_counted_update AFTER UPDATE ON destinations
    REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
    EXECUTE FUNCTION destination_counts_changed();

-- TotalAwaitingCalls leaves out pending destinations held back by a future OriginateTime:
-- this index holds only those that carry one.
CREATE INDEX destinations_scheduled ON destinations (campaign_id, originate_at)
    WHERE state = 'pending' AND originate_at IS NOT NULL;

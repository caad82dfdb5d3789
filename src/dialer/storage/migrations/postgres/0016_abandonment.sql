-- What the abandoned-call rules count (storage/sql_abandonment.py, docs/compliance.md).

-- A campaign's tally over its window (24 h or 30 days) reads the attempts that ended in it,
-- by this index alone: outcome and stage ride along.
CREATE INDEX attempts_campaign_ended ON attempts (campaign_id, ended_at, outcome, stage);

-- Every call placed to a number, by tenant: the per-number cap and the 72-hour rule look a
-- claimed batch of numbers up here in one query. Written with the attempt; kept when its
-- campaign is deleted, since the person was called all the same (a tenant cannot reset the
-- cap by deleting a campaign). abandoned: 1 for a CallDropped call.
CREATE TABLE number_calls (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    number_e164 TEXT NOT NULL,
    ended_at BIGINT NOT NULL,
    abandoned SMALLINT NOT NULL
);
CREATE INDEX number_calls_by_number ON number_calls (tenant_id, number_e164, ended_at, abandoned);

INSERT INTO number_calls (tenant_id, number_e164, ended_at, abandoned)
    SELECT c.tenant_id, d.number_e164, a.ended_at,
        CASE WHEN a.outcome = 1 AND a.stage = 20 THEN 1 ELSE 0 END
    FROM attempts a
    JOIN destinations d ON d.id = a.destination_id
    JOIN campaigns c ON c.id = d.campaign_id
    WHERE d.number_e164 IS NOT NULL AND a.ended_at IS NOT NULL
        AND (a.originated_at IS NOT NULL OR a.outcome NOT IN (8, 11, 13));

-- Each campaign's latest pacing decision (the engine writes it at most every 5 s).
CREATE TABLE campaign_pacing (
    campaign_id BIGINT PRIMARY KEY,
    ratio DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);

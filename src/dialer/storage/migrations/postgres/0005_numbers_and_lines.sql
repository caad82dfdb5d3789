-- Each destination's number type as phonenumbers judges it (PhoneNumberType: 0 fixed line,
-- 1 mobile, 2 either, ..., 99 unknown = not a valid number). NULL when the number is not even
-- possible (it is InvalidNumber), or was stored before this migration (read from number_e164).
ALTER TABLE destinations ADD COLUMN number_type SMALLINT;
-- The campaign's numbers that are not valid, counted by GET: few, so the count reads few entries.
CREATE INDEX destinations_not_valid ON destinations (campaign_id)
    WHERE number_e164 IS NULL OR number_type = 99;

-- Calls each engine has on the line now, by campaign, written in transactions the engine makes
-- anyway (claims, recording, lease renewal). in_flight cannot tell them apart from calls that
-- have ended but are not recorded yet. Rows of an engine that holds no lease are stale.
CREATE TABLE engine_lines (
    worker TEXT NOT NULL,
    campaign_id BIGINT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (worker, campaign_id)
);

-- Each destination's number type as phonenumbers judges it (PhoneNumberType: 0 fixed line,
-- 1 mobile, 2 either, ..., 99 unknown = not a valid number). NULL when the number is not even
-- possible (it is InvalidNumber), or was stored before this migration (read from number_e164).
ALTER TABLE destinations ADD COLUMN number_type SMALLINT;
-- The campaign's numbers that are not valid, counted by GET: few, so the count reads few entries.
CREATE INDEX destinations_not_valid ON destinations (campaign_id)
    WHERE number_e164 IS NULL OR number_type = 99;

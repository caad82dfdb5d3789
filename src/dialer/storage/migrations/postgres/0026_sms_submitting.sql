-- A text being submitted (docs/sms.md, "A sender that dies mid-submit"): the claim stamps it,
-- every answer (accepted, failed, retry, unknown) clears it. A row found due with the stamp
-- still set lost its sender between submit_sm and the answer: the provider may have taken it,
-- so it turns UNKNOWN and waits for a receipt instead of being submitted again at once.
-- UTC epoch microseconds; NULL when no submit is under way.
ALTER TABLE sms_outbox ADD COLUMN submitting_since BIGINT;

-- The numbers endpoint's filter by last outcome (GET /api/campaign/voice/{id}/numbers?outcome=):
-- the console's "show me the Busy ones" reads only the matching entries, in id order, at any
-- campaign size. Stage and final/pending filters scan (campaign_id, id) instead: an index per
-- column the engine rewrites on every attempt would cost every call placed (docs/rest-api.md).
CREATE INDEX destinations_outcome ON destinations (campaign_id, last_outcome, id)
    WHERE last_outcome IS NOT NULL;

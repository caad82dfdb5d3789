-- What the dialing engine adds: a ready queue to claim from, leases on calls in flight, the
-- tenant's calling hours, webhooks with their outbox, and attempts findable by campaign.

-- Every pending destination has one row here, deleted when an engine claims it (DESIGN.md,
-- principle 3: claiming by DELETE from a narrow queue stays fast where a status flag on
-- destinations fills its index with dead entries). due_at: epoch microseconds, 0 = now.
CREATE TABLE dial_queue (
    destination_id BIGINT PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    priority INTEGER NOT NULL,
    due_at BIGINT NOT NULL
);
-- Dial order (priority high to low, then oldest); due_at rides along so the claim reads
-- the index alone.
CREATE INDEX dial_queue_order ON dial_queue (campaign_id, priority DESC, destination_id, due_at);
-- When the next destination of a campaign falls due (the engine's wake-up time).
CREATE INDEX dial_queue_due ON dial_queue (campaign_id, due_at);

INSERT INTO dial_queue (destination_id, campaign_id, priority, due_at)
    SELECT id, campaign_id, priority, coalesce(originate_at, 0) FROM destinations
    WHERE state = 'pending';

-- A claimed destination, held by one worker until lease_until; a lease that runs out means the
-- worker died, and another records the attempt as NoConnection.
CREATE TABLE in_flight (
    destination_id BIGINT PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    attempt_number INTEGER NOT NULL,
    worker TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    queued_at BIGINT NOT NULL
);
CREATE INDEX in_flight_lease ON in_flight (lease_until);
CREATE INDEX in_flight_worker ON in_flight (worker);

ALTER TABLE attempts ADD COLUMN campaign_id BIGINT;
UPDATE attempts SET campaign_id =
    (SELECT d.campaign_id FROM destinations d WHERE d.id = attempts.destination_id);
CREATE INDEX attempts_campaign ON attempts (campaign_id, id);

-- Callee-local calling hours (HH:MM, start inclusive, end exclusive).
ALTER TABLE tenants ADD COLUMN calling_hours_start TEXT NOT NULL DEFAULT '08:00';
ALTER TABLE tenants ADD COLUMN calling_hours_end TEXT NOT NULL DEFAULT '21:00';

CREATE TABLE webhooks (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per finished attempt to deliver; written in the transaction that records the attempt.
CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_try_at) WHERE delivered_at IS NULL;

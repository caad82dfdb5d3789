-- SQLite lets a PRIMARY KEY column other than an INTEGER rowid alias hold NULL (a legacy it
-- keeps for compatibility); PostgreSQL refuses it. These four key columns become NOT NULL here
-- too, so both stores refuse the same rows (tests/integration/test_schema_parity.py). SQLite
-- cannot alter a column: each table is rebuilt with its rows and indexes, in the migration's
-- one transaction. A row with a NULL key could name nothing (no destination, tenant or
-- request), so none is carried over; the store never wrote one.
CREATE TABLE dial_queue_rebuilt (
    destination_id BIGINT NOT NULL PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    priority INTEGER NOT NULL,
    due_at BIGINT NOT NULL
);
INSERT INTO dial_queue_rebuilt (destination_id, campaign_id, priority, due_at)
    SELECT destination_id, campaign_id, priority, due_at FROM dial_queue
    WHERE destination_id IS NOT NULL;
DROP TABLE dial_queue;
ALTER TABLE dial_queue_rebuilt RENAME TO dial_queue;
CREATE INDEX dial_queue_order ON dial_queue (campaign_id, priority DESC, destination_id, due_at);
CREATE INDEX dial_queue_due ON dial_queue (campaign_id, due_at);

CREATE TABLE in_flight_rebuilt (
    destination_id BIGINT NOT NULL PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    attempt_number INTEGER NOT NULL,
    worker TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    queued_at BIGINT NOT NULL
);
INSERT INTO in_flight_rebuilt (destination_id, campaign_id, attempt_number, worker,
        lease_until, queued_at)
    SELECT destination_id, campaign_id, attempt_number, worker, lease_until, queued_at
    FROM in_flight WHERE destination_id IS NOT NULL;
DROP TABLE in_flight;
ALTER TABLE in_flight_rebuilt RENAME TO in_flight;
CREATE INDEX in_flight_lease ON in_flight (lease_until);
CREATE INDEX in_flight_worker ON in_flight (worker);

CREATE TABLE webhooks_rebuilt (
    tenant_id BIGINT NOT NULL PRIMARY KEY REFERENCES tenants (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO webhooks_rebuilt (tenant_id, url, secret, created_at)
    SELECT tenant_id, url, secret, created_at FROM webhooks WHERE tenant_id IS NOT NULL;
DROP TABLE webhooks;
ALTER TABLE webhooks_rebuilt RENAME TO webhooks;

CREATE TABLE idempotency_keys_rebuilt (
    idem_key TEXT NOT NULL PRIMARY KEY,
    request_hash TEXT NOT NULL,
    response TEXT,
    created_at BIGINT NOT NULL
);
INSERT INTO idempotency_keys_rebuilt (idem_key, request_hash, response, created_at)
    SELECT idem_key, request_hash, response, created_at FROM idempotency_keys
    WHERE idem_key IS NOT NULL;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_rebuilt RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- The dial queue and the leases as WITHOUT ROWID tables (issue 11, docs/engine.md
-- "Throughput"). Their key is a BIGINT, not an INTEGER rowid alias, so each was a rowid table
-- plus an automatic index on destination_id: every claim, lease and recording wrote each row
-- into one b-tree more than it needed. Keyed by destination_id itself, a row lives in its key's
-- b-tree only; the other indexes point at the key. Same columns, keys, indexes and rows
-- (SQLite cannot change a table's kind in place: rebuilt, in the migration's one transaction).
-- PostgreSQL has no rowid: its 0025 changes nothing.
CREATE TABLE dial_queue_rebuilt (
    destination_id BIGINT NOT NULL PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    priority INTEGER NOT NULL,
    due_at BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO dial_queue_rebuilt (destination_id, campaign_id, priority, due_at)
    SELECT destination_id, campaign_id, priority, due_at FROM dial_queue;
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
) WITHOUT ROWID;
INSERT INTO in_flight_rebuilt (destination_id, campaign_id, attempt_number, worker,
        lease_until, queued_at)
    SELECT destination_id, campaign_id, attempt_number, worker, lease_until, queued_at
    FROM in_flight;
DROP TABLE in_flight;
ALTER TABLE in_flight_rebuilt RENAME TO in_flight;
CREATE INDEX in_flight_lease ON in_flight (lease_until);
CREATE INDEX in_flight_worker ON in_flight (worker);
CREATE INDEX in_flight_campaign ON in_flight (campaign_id, lease_until);

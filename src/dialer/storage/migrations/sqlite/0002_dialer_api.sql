-- What the Dialer API (dialer-api.txt) adds: per-destination dialling details, agents, queues,
-- campaign members and strategy, the do-not-call list, and idempotency keys for AddCallsBulk.
ALTER TABLE destinations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE destinations ADD COLUMN caller_id TEXT;
ALTER TABLE destinations ADD COLUMN custom_data TEXT;
-- originate_time and is_date_local are kept as sent; originate_at is the UTC instant they mean.
ALTER TABLE destinations ADD COLUMN originate_time BIGINT;
ALTER TABLE destinations ADD COLUMN is_date_local INTEGER;
ALTER TABLE destinations ADD COLUMN originate_at BIGINT;
ALTER TABLE destinations ADD COLUMN ignore_dnc INTEGER NOT NULL DEFAULT 0;

-- Pending and originated calls in dial order (GetCampaignPendingCalls pages over this).
CREATE INDEX destinations_waiting ON destinations (campaign_id, priority DESC, id)
    WHERE state IN ('pending', 'in_flight');
CREATE INDEX destinations_number ON destinations (campaign_id, number_e164);

ALTER TABLE campaigns ADD COLUMN strategy_queue_id BIGINT;
ALTER TABLE campaigns ADD COLUMN strategy_max_callers INTEGER;
ALTER TABLE campaigns ADD COLUMN strategy_coefficient INTEGER;

CREATE TABLE queues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX queues_tenant ON queues (tenant_id, id);

CREATE TABLE agents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    member TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, member)
);

CREATE TABLE campaign_members (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, agent_id)
);

CREATE TABLE dnc_numbers (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    number TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE idempotency_keys (
    idem_key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    response TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

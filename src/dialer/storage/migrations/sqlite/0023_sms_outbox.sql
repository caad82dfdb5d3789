-- The SMS outbox (docs/sms.md): each text an attempt earned (smsOnBusy, an sms node), queued in
-- the transaction that records the attempt, drained by the sender through the tenant's provider.
-- status: queued -> sent -> delivered | failed; unknown (written, no answer) waits until
-- next_try_at for a receipt before it is sent again. A sender claims a row by pushing
-- next_try_at past its lease. provider_ids: the provider's ids of its parts, space-separated.
-- Times are UTC epoch microseconds, as elsewhere.
CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL,
    campaign_id BIGINT NOT NULL,
    destination_id BIGINT NOT NULL,
    attempt_number INTEGER NOT NULL,
    to_number TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'unknown')),
    provider TEXT,
    parts INTEGER NOT NULL DEFAULT 0,
    provider_ids TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The sender's claim: only rows still to submit are indexed.
CREATE INDEX sms_outbox_due ON sms_outbox (next_try_at) WHERE status IN ('queued', 'unknown');
-- The results: an attempt's texts.
CREATE INDEX sms_outbox_attempt ON sms_outbox (destination_id, attempt_number);
-- A receipt for a text whose submit got no answer is matched by its recipient; an inbound text
-- (STOP) finds the tenant that texted its sender.
CREATE INDEX sms_outbox_to ON sms_outbox (to_number);

-- One row per part a provider took: its receipts are matched here by the provider's id.
-- state: the last receipt's DeliveryState, NULL before any.
CREATE TABLE sms_parts (
    message_id BIGINT NOT NULL REFERENCES sms_outbox (id) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    tenant_id BIGINT NOT NULL,
    provider_id TEXT NOT NULL,
    state TEXT,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, part)
);
CREATE INDEX sms_parts_provider_id ON sms_parts (provider_id);

-- Receipts that matched no part yet: a receipt may come before the submit's answer is stored.
-- They are matched when the ids are stored, and forgotten after a day. tenant_id: NULL when the
-- receipt came through the process's default provider, which serves every tenant.
CREATE TABLE sms_receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT,
    provider_id TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    recipient TEXT,
    text_prefix TEXT,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX sms_receipts_provider_id ON sms_receipts (provider_id);
CREATE INDEX sms_receipts_recipient ON sms_receipts (recipient);
CREATE INDEX sms_receipts_age ON sms_receipts (received_at);

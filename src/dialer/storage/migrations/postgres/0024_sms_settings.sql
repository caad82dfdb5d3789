-- A tenant's SMS settings (domain/sms_settings.py, docs/sms.md): its provider and the provider's
-- settings as JSON, secrets included (never shown by the API), its alphanumeric sender ID, and
-- the random id in its callback URL (/api/sms/callbacks/{callback_id}). No row: the process's
-- default provider (--sms) and the campaign's caller ID.
CREATE TABLE sms_settings (
    tenant_id BIGINT NOT NULL PRIMARY KEY REFERENCES tenants (id),
    provider TEXT NOT NULL CHECK (provider IN ('sim', 'smpp', 'http')),
    settings TEXT NOT NULL,
    callback_id TEXT NOT NULL UNIQUE,
    updated_at BIGINT NOT NULL
);

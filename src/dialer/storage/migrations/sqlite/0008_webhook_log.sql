-- The delivery log (GET /api/webhook/deliveries) reads one tenant's outbox rows newest first;
-- without this it would walk every tenant's rows.
CREATE INDEX webhook_outbox_tenant ON webhook_outbox (tenant_id, id);

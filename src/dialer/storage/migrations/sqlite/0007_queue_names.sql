-- Call flows transfer to queues by name (queue:<name>), so a name must mean one queue. Older
-- stores may hold a tenant's name twice: every copy after the first gets its id appended.
UPDATE queues SET name = name || ' (' || id || ')'
WHERE EXISTS (
    SELECT 1 FROM queues AS earlier
    WHERE earlier.tenant_id = queues.tenant_id AND earlier.name = queues.name
      AND earlier.id < queues.id
);
CREATE UNIQUE INDEX queues_tenant_name ON queues (tenant_id, name);

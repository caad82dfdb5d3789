"""Store queries for tenants' webhooks and the outbox of deliveries to them.

The engine fills the outbox in the transaction that records an attempt (one INSERT ... SELECT
FROM webhooks, so a tenant without a webhook gets no rows); these queries read and drain it.
"""

from datetime import datetime, timedelta

from dialer.domain.ids import TenantId
from dialer.domain.webhook import NEVER, Backlog, Delivery, DeliveryRecord, Webhook
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us

# Claims due rows by pushing their next try past the lease: a deliverer that dies holding them
# loses them only until then. SKIP LOCKED lets deliverers on PostgreSQL claim side by side;
# SQLite has one writer at a time and the connection drops the clause.
_CLAIM = (
    "UPDATE webhook_outbox SET next_try_at = %s WHERE id IN ("
    " SELECT o.id FROM webhook_outbox o"
    " WHERE o.delivered_at IS NULL AND o.next_try_at <= %s"
    " AND EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = o.tenant_id)"
    " ORDER BY o.next_try_at LIMIT %s FOR UPDATE SKIP LOCKED)"
    " RETURNING id, tenant_id, payload, tries, created_at"
)


# The delivery log's filters; a row is in exactly one of them.
_STATUS_WHERE = {
    "delivered": "delivered_at IS NOT NULL",
    "failed": "delivered_at IS NULL AND next_try_at >= %s",
    "pending": "delivered_at IS NULL AND next_try_at < %s",
}


class WebhookQueries:
    _conn: Connection

    def set_webhook(self, tenant_id: TenantId, url: str, secret: str, now: datetime) -> Webhook:
        """Register or replace; deliveries given up on are scheduled again, with fresh tries."""
        self._conn.execute(
            "INSERT INTO webhooks (tenant_id, url, secret, created_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (tenant_id) DO UPDATE"
            " SET url = excluded.url, secret = excluded.secret, created_at = excluded.created_at",
            (tenant_id, url, secret, to_us(now)),
        )
        self._conn.execute(
            "UPDATE webhook_outbox SET tries = 0, next_try_at = %s"
            " WHERE tenant_id = %s AND delivered_at IS NULL AND next_try_at >= %s",
            (to_us(now), tenant_id, to_us(NEVER)),
        )
        return Webhook(tenant_id, url, from_us(to_us(now)))

    def get_webhook(self, tenant_id: TenantId) -> Webhook | None:
        rows = self._conn.execute(
            "SELECT url, created_at FROM webhooks WHERE tenant_id = %s", (tenant_id,)
        )
        return Webhook(tenant_id, rows[0][0], from_us(rows[0][1])) if rows else None

    def webhook_target(self, tenant_id: TenantId) -> tuple[str, str] | None:
        rows = self._conn.execute(
            "SELECT url, secret FROM webhooks WHERE tenant_id = %s", (tenant_id,)
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def delete_webhook(self, tenant_id: TenantId) -> bool:
        """Forget the webhook and drop its undelivered rows; False if there was none."""
        deleted = self._conn.execute(
            "DELETE FROM webhooks WHERE tenant_id = %s RETURNING tenant_id", (tenant_id,)
        )
        self._conn.execute(
            "DELETE FROM webhook_outbox WHERE tenant_id = %s AND delivered_at IS NULL",
            (tenant_id,),
        )
        return bool(deleted)

    def webhook_backlog(self, tenant_id: TenantId) -> Backlog:
        rows = self._conn.execute(
            "SELECT coalesce(sum(CASE WHEN next_try_at < %s THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN next_try_at >= %s THEN 1 ELSE 0 END), 0)"
            " FROM webhook_outbox WHERE tenant_id = %s AND delivered_at IS NULL",
            (to_us(NEVER), to_us(NEVER), tenant_id),
        )
        return Backlog(int(rows[0][0]), int(rows[0][1]))

    def claim_deliveries(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
        """Due undelivered rows, oldest due first, held by this caller until ``now + lease``."""
        claimed = self._conn.execute(_CLAIM, (to_us(now + lease), to_us(now), limit))
        if not claimed:
            return []
        tenants = sorted({row[1] for row in claimed})
        marks = ", ".join("%s" for _ in tenants)
        targets = {
            tenant: (url, secret)
            for tenant, url, secret in self._conn.execute(
                f"SELECT tenant_id, url, secret FROM webhooks WHERE tenant_id IN ({marks})",
                tenants,
            )
        }
        # A webhook deleted between the two statements (PostgreSQL, READ COMMITTED) leaves its
        # rows claimed but unsent; the claim skips them from then on.
        return [
            Delivery(i, TenantId(t), *targets[t], payload, tries, from_us(created))
            for i, t, payload, tries, created in sorted(claimed)
            if t in targets
        ]

    def mark_delivered(self, delivery_id: int, now: datetime) -> None:
        self._conn.execute(
            "UPDATE webhook_outbox SET delivered_at = %s WHERE id = %s AND delivered_at IS NULL",
            (to_us(now), delivery_id),
        )

    def mark_failed(self, delivery_id: int, error: str, next_try_at: datetime) -> None:
        """Count a failed try; a row another deliverer has meanwhile delivered stays delivered."""
        self._conn.execute(
            "UPDATE webhook_outbox SET tries = tries + 1, last_error = %s, next_try_at = %s"
            " WHERE id = %s AND delivered_at IS NULL",
            (error[:1000], to_us(next_try_at), delivery_id),
        )

    def retry_given_up(self, tenant_id: TenantId, now: datetime) -> int:
        """Schedule the deliveries given up on for now, with fresh tries; the webhook and its
        secret stay as they are. Returns how many."""
        rows = self._conn.execute(
            "UPDATE webhook_outbox SET tries = 0, next_try_at = %s"
            " WHERE tenant_id = %s AND delivered_at IS NULL AND next_try_at >= %s RETURNING id",
            (to_us(now), tenant_id, to_us(NEVER)),
        )
        return len(rows)

    def list_deliveries(
        self, tenant_id: TenantId, status: str | None, before: int | None, limit: int
    ) -> list[DeliveryRecord]:
        """The tenant's deliveries, newest first, optionally of one status and older than the
        id ``before``."""
        where = ["tenant_id = %s"]
        params: list[object] = [tenant_id]
        if status is not None:
            where.append(_STATUS_WHERE[status])
            if "%s" in _STATUS_WHERE[status]:
                params.append(to_us(NEVER))
        if before is not None:
            where.append("id < %s")
            params.append(before)
        params.append(limit)
        rows = self._conn.execute(
            "SELECT id, tries, created_at, delivered_at, next_try_at, last_error, payload"
            f" FROM webhook_outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT %s",
            params,
        )
        never = to_us(NEVER)
        records = []
        for row_id, tries, created, delivered, next_try_at, error, payload in rows:
            if delivered is not None:
                state, due, made = "delivered", None, tries + 1
            elif next_try_at >= never:
                state, due, made = "failed", None, tries
            else:
                state, due, made = "pending", from_us(next_try_at), tries
            records.append(
                DeliveryRecord(
                    row_id,
                    state,
                    made,
                    from_us(created),
                    None if delivered is None else from_us(delivered),
                    due,
                    error,
                    payload,
                )
            )
        return records

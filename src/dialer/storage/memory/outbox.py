"""Webhook registrations and the delivery outbox in memory (storage/sql_webhooks.py); the
queue's finish_attempts fills the outbox as it records attempts."""

import dataclasses
from datetime import datetime, timedelta

from dialer.domain.ids import TenantId
from dialer.domain.webhook import NEVER, Backlog, Delivery, DeliveryRecord, Webhook
from dialer.storage.memory.base import SessionBase, refers
from dialer.storage.memory.tables import WebhookRow, from_us, to_us


class OutboxParts(SessionBase):
    def set_webhook(self, tenant_id: TenantId, url: str, secret: str, now: datetime) -> Webhook:
        """Register or replace; deliveries given up on are scheduled again, with fresh tries."""
        refers(tenant_id in self._t.tenants, f"no tenant {tenant_id}")
        self._w("webhooks")[tenant_id] = WebhookRow(url, secret, to_us(now))
        self.retry_given_up(tenant_id, now)
        return Webhook(tenant_id, url, from_us(to_us(now)))

    def get_webhook(self, tenant_id: TenantId) -> Webhook | None:
        row = self._t.webhooks.get(tenant_id)
        return None if row is None else Webhook(tenant_id, row.url, from_us(row.created_at))

    def webhook_target(self, tenant_id: TenantId) -> tuple[str, str] | None:
        row = self._t.webhooks.get(tenant_id)
        return None if row is None else (row.url, row.secret)

    def delete_webhook(self, tenant_id: TenantId) -> bool:
        """Forget the webhook and drop its undelivered rows; False if there was none."""
        existed = tenant_id in self._t.webhooks
        if existed:
            del self._w("webhooks")[tenant_id]
        self._delete("outbox", lambda o: o.tenant_id == tenant_id and o.delivered_at is None)
        return existed

    def webhook_tenants(self) -> list[TenantId]:
        return sorted(self._t.webhooks)

    def webhook_backlog(self, tenant_id: TenantId) -> Backlog:
        never = to_us(NEVER)
        waiting = [
            o.next_try_at
            for o in self._t.outbox.values()
            if o.tenant_id == tenant_id and o.delivered_at is None
        ]
        failed = sum(1 for at in waiting if at >= never)
        return Backlog(len(waiting) - failed, failed)

    def claim_deliveries(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
        """Due undelivered rows, oldest due first, held by this caller until ``now + lease``
        (pushing their next try past the lease: a deliverer that dies loses them until then)."""
        stamp = to_us(now)
        due = sorted(
            (o.next_try_at, o.id)
            for o in self._t.outbox.values()
            if o.delivered_at is None and o.next_try_at <= stamp and o.tenant_id in self._t.webhooks
        )[: max(limit, 0)]
        if not due:
            return []
        outbox = self._w("outbox")
        held = to_us(now + lease)
        claimed = []
        for _, row_id in sorted(due, key=lambda pair: pair[1]):
            row = outbox[row_id]
            outbox[row_id] = dataclasses.replace(row, next_try_at=held)
            hook = self._t.webhooks[row.tenant_id]
            claimed.append(
                Delivery(
                    row.id,
                    row.tenant_id,
                    hook.url,
                    hook.secret,
                    row.payload,
                    row.tries,
                    from_us(row.created_at),
                )
            )
        return claimed

    def mark_delivered(self, delivery_id: int, now: datetime) -> None:
        row = self._t.outbox.get(delivery_id)
        if row is not None and row.delivered_at is None:
            self._w("outbox")[delivery_id] = dataclasses.replace(row, delivered_at=to_us(now))

    def mark_failed(self, delivery_id: int, error: str, next_try_at: datetime) -> None:
        """Count a failed try; a row another deliverer has meanwhile delivered stays delivered."""
        row = self._t.outbox.get(delivery_id)
        if row is not None and row.delivered_at is None:
            self._w("outbox")[delivery_id] = dataclasses.replace(
                row, tries=row.tries + 1, last_error=error[:1000], next_try_at=to_us(next_try_at)
            )

    def retry_given_up(self, tenant_id: TenantId, now: datetime) -> int:
        """Schedule the deliveries given up on for now, with fresh tries; how many."""
        never = to_us(NEVER)
        given_up = [
            o
            for o in self._t.outbox.values()
            if o.tenant_id == tenant_id and o.delivered_at is None and o.next_try_at >= never
        ]
        for row in given_up:
            self._w("outbox")[row.id] = dataclasses.replace(row, tries=0, next_try_at=to_us(now))
        return len(given_up)

    def list_deliveries(
        self, tenant_id: TenantId, status: str | None, before: int | None, limit: int
    ) -> list[DeliveryRecord]:
        """The tenant's deliveries, newest first, optionally of one status and older than the
        id ``before``."""
        if limit <= 0:
            return []
        never = to_us(NEVER)
        records = []
        for row in sorted(self._t.outbox.values(), key=lambda o: -o.id):
            if row.tenant_id != tenant_id or (before is not None and row.id >= before):
                continue
            if row.delivered_at is not None:
                state, due, made = "delivered", None, row.tries + 1
            elif row.next_try_at >= never:
                state, due, made = "failed", None, row.tries
            else:
                state, due, made = "pending", from_us(row.next_try_at), row.tries
            if status is not None and state != status:
                continue
            records.append(
                DeliveryRecord(
                    row.id,
                    state,
                    made,
                    from_us(row.created_at),
                    None if row.delivered_at is None else from_us(row.delivered_at),
                    due,
                    row.last_error,
                    row.payload,
                )
            )
            if len(records) >= limit:
                break
        return records

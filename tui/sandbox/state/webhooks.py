"""Webhooks and the outcomes of their deliveries."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tui.sandbox.state.db import Database, DbRow, SqlArgs, new_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    event_types_json TEXT NOT NULL,
    target_url TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    last_delivery_ms INTEGER,
    last_status_code INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    message_id TEXT,
    status_code INTEGER,
    attempts INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error_message TEXT,
    response_excerpt TEXT,
    request_id TEXT,
    delivered_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant ON webhook_deliveries(tenant_id, delivered_ms);
"""


@dataclass(slots=True)
class Webhook:
    """A webhook, its event types decoded."""

    seq: int
    id: str
    tenant_id: str
    event_types: list[str]
    target_url: str
    secret: str
    status: str
    last_delivery_ms: int | None
    last_status_code: int | None
    created_ms: int


@dataclass(slots=True)
class Delivery:
    """The final outcome of one event's delivery to one webhook."""

    id: str
    tenant_id: str
    webhook_id: str
    event_type: str
    message_id: str | None
    status_code: int | None
    attempts: int
    ok: int
    error_message: str | None
    response_excerpt: str | None
    request_id: str | None
    delivered_ms: int = 0
    seq: int = 0


def _webhook(row: DbRow) -> Webhook:
    row["event_types"] = json.loads(row.pop("event_types_json"))
    return Webhook(**row)


class Webhooks(Database):
    """Webhooks and deliveries."""

    def create_webhook(
        self, tenant_id: str, event_types: list[str], target_url: str, secret: str
    ) -> Webhook:
        """Store an ``active`` webhook; return its row."""
        webhook_id = new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO webhooks (id, tenant_id, event_types_json, target_url, secret, "
                "status, created_ms) VALUES (?, ?, ?, ?, ?, 'active', ?)",
                (webhook_id, tenant_id, json.dumps(event_types), target_url, secret, self.now_ms()),
            )
            row = self._one("SELECT * FROM webhooks WHERE id=?", (webhook_id,))
        assert row is not None
        return _webhook(row)

    def webhooks(self, tenant_id: str) -> list[Webhook]:
        """The tenant's webhooks sorted by ``target_url`` (then creation)."""
        with self._lock:
            rows = self._all(
                "SELECT * FROM webhooks WHERE tenant_id=? ORDER BY target_url, seq", (tenant_id,)
            )
        return [_webhook(row) for row in rows]

    def webhook(self, tenant_id: str | None, webhook_id: str) -> Webhook | None:
        """One webhook (of the tenant, unless ``tenant_id`` is None)."""
        with self._lock:
            if tenant_id is None:
                row = self._one("SELECT * FROM webhooks WHERE id=?", (webhook_id,))
            else:
                row = self._one(
                    "SELECT * FROM webhooks WHERE tenant_id=? AND id=?", (tenant_id, webhook_id)
                )
        return _webhook(row) if row is not None else None

    def rotate_webhook_secret(self, tenant_id: str, webhook_id: str, secret: str) -> bool:
        """Replace a webhook's secret; False for an unknown or foreign webhook."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE webhooks SET secret=? WHERE tenant_id=? AND id=?",
                (secret, tenant_id, webhook_id),
            )
            return cur.rowcount == 1

    def record_delivery(self, delivery: Delivery) -> None:
        """Write a delivery's final outcome (``delivered_ms`` is now) and update the webhook's
        last delivery fields."""
        d = delivery
        with self._tx() as db:
            now = self.now_ms()
            rest = (d.attempts, int(d.ok), d.error_message, d.response_excerpt, d.request_id, now)
            db.execute(
                "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_type, "
                "message_id, status_code, attempts, ok, error_message, response_excerpt, "
                "request_id, delivered_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.id, d.tenant_id, d.webhook_id, d.event_type, d.message_id, d.status_code, *rest),
            )
            db.execute(
                "UPDATE webhooks SET last_delivery_ms=?, last_status_code=? WHERE id=?",
                (now, d.status_code, d.webhook_id),
            )

    def deliveries(self, tenant_id: str, webhook_id: str | None = None) -> list[Delivery]:
        """The tenant's webhook deliveries, newest first, optionally of one webhook."""
        sql = "SELECT * FROM webhook_deliveries WHERE tenant_id=?"
        args: SqlArgs = (tenant_id,)
        if webhook_id is not None:
            sql += " AND webhook_id=?"
            args += (webhook_id,)
        with self._lock:
            rows = self._all(sql + " ORDER BY delivered_ms DESC, seq DESC", args)
        return [Delivery(**r) for r in rows]

    def delivery(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        """One of the tenant's webhook deliveries."""
        with self._lock:
            row = self._one(
                "SELECT * FROM webhook_deliveries WHERE tenant_id=? AND id=?",
                (tenant_id, delivery_id),
            )
        return Delivery(**row) if row is not None else None

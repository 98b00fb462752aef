"""Operator state of the sandbox: quotas, freezes, audit log, risk, jobs, runtime settings.

Lives in the same SQLite database as :class:`tui.sandbox.state.store.Store` (its own tables, created
on first use) and takes the store's lock, so admin writes and tenant requests are serialised.
The lists and details are :class:`tui.sandbox.state.admin_views.AdminViews`, which this class
extends.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid

from tui.jsontypes import JsonObject, JsonValue
from tui.sandbox.state.admin_views import DEFAULT_MAILBOX_LIMIT, AdminViews, Iso
from tui.sandbox.state.messages import Message
from tui.sandbox.state.store import Store

TENANT_STATUSES = ("active", "suspended", "archived")
"""Statuses an operator may give a tenant."""
POLICY_TYPES = ("domain_denylist", "tenant_rate_limit", "tenant_watch")
"""Risk policy types (the reference dashboard's three)."""
POLICY_ACTIONS = ("add", "update", "remove")
"""Risk policy actions."""
ADMIN_ACTOR = "system:admin-token"
"""``actor_did`` of every action taken with the admin token (as in the reference)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant_quotas (
    tenant_id TEXT PRIMARY KEY,
    qps INTEGER,
    mailbox_limit INTEGER,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mailbox_freezes (
    mailbox_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    frozen_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    ts_ms INTEGER NOT NULL,
    tenant_id TEXT,
    actor_did TEXT,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    request_id TEXT,
    result TEXT NOT NULL,
    metadata_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_tenant ON audit_logs(tenant_id, seq);
CREATE TABLE IF NOT EXISTS risk_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT,
    severity TEXT NOT NULL,
    type TEXT NOT NULL,
    detail TEXT,
    occurred_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS risk_policies (
    key TEXT PRIMARY KEY,
    policy_type TEXT NOT NULL,
    value TEXT NOT NULL,
    action TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runtime_settings (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL,
    result_json TEXT,
    error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payment_challenges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL
);
"""


def policy_key(policy_type: str, value: str) -> str:
    """The policy's identity: a tenant has one rate limit, anything else is keyed by value."""
    if policy_type == "tenant_rate_limit":
        return f"{policy_type}:{value.split(':', 1)[0].strip()}"
    return f"{policy_type}:{value}"


def parse_rate_limit(value: str) -> tuple[str, int] | None:
    """``"<tenant_id>:<qps>"`` of a ``tenant_rate_limit`` policy, or None when malformed."""
    tenant, sep, qps = value.partition(":")
    if not sep or not tenant.strip() or not qps.strip().isdigit():
        return None
    return tenant.strip(), int(qps.strip())


class AdminState(AdminViews):
    """The operator tables over a :class:`Store` (use :func:`admin_state` to share one)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        """The sandbox state these tables live beside."""
        with store._lock:
            store._conn.executescript(_SCHEMA)
        self._qps_cache: dict[tuple[str, int], int] = {}

    # -- audit, risk, jobs ------------------------------------------------------------------

    def audit(
        self,
        action: str,
        resource_type: str,
        resource_id: str | None,
        *,
        tenant_id: str | None = None,
        actor_did: str | None = ADMIN_ACTOR,
        request_id: str | None = None,
        result: str = "success",
        metadata: JsonObject | None = None,
    ) -> None:
        """Append one audit row."""
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO audit_logs (id, ts_ms, tenant_id, actor_did, action, resource_type, "
                "resource_id, request_id, result, metadata_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    str(uuid.uuid4()),
                    self._now(),
                    tenant_id,
                    actor_did,
                    action,
                    resource_type,
                    resource_id,
                    request_id,
                    result,
                    json.dumps(metadata or {}),
                ),
            )

    def risk(self, tenant_id: str | None, severity: str, type_: str, detail: str) -> None:
        """Record one risk event."""
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO risk_events (id, tenant_id, severity, type, detail, occurred_ms) "
                "VALUES (?,?,?,?,?,?)",
                (str(uuid.uuid4()), tenant_id, severity, type_, detail[:500], self._now()),
            )

    def job(
        self,
        type_: str,
        payload: JsonObject,
        *,
        status: str = "completed",
        result: JsonValue = None,
        error: str | None = None,
    ) -> str:
        """Record one job (the sandbox runs its jobs inline); return its id."""
        job_id = str(uuid.uuid4())
        now = self._now()
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, type, payload_json, status, result_json, error, "
                "created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?)",
                (
                    job_id,
                    type_,
                    json.dumps(payload),
                    status,
                    json.dumps(result) if result is not None else None,
                    error,
                    now,
                    now,
                ),
            )
        return job_id

    def tenant_actor(self, tenant_id: str, agent_id: str) -> str:
        """``actor_did`` of a tenant's own action: its DID, else ``agent:<agent_id>``."""
        with self.store._lock:
            row = self.store._one("SELECT did FROM tenants WHERE id=?", (tenant_id,))
        return str(row["did"]) if row and row["did"] else f"agent:{agent_id}"

    def payment_challenge(self, tenant_id: str) -> None:
        """Count one 402 answered to the tenant (the payment conversion denominator)."""
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO payment_challenges (tenant_id, ts_ms) VALUES (?, ?)",
                (tenant_id, self._now()),
            )

    # -- quotas and policies -----------------------------------------------------------------

    def quotas(self, tenant_id: str, default_qps: int) -> dict[str, int]:
        """The tenant's ``{qps, mailbox_limit}`` (defaults where none was set)."""
        with self.store._lock:
            row = self.store._one(
                "SELECT qps, mailbox_limit FROM tenant_quotas WHERE tenant_id=?", (tenant_id,)
            )
        qps = row["qps"] if row and row["qps"] is not None else default_qps
        limit = row["mailbox_limit"] if row and row["mailbox_limit"] is not None else None
        return {"qps": int(qps), "mailbox_limit": int(limit or DEFAULT_MAILBOX_LIMIT)}

    def effective_qps(self, tenant_id: str, default_qps: int) -> int:
        """The qps limit that applies now: the quota, lowered by a ``tenant_rate_limit``.

        Asked on every metered request: remembered until a quota or a policy changes.
        """
        key = (tenant_id, default_qps)
        cached = self._qps_cache.get(key)
        if cached is not None:
            return cached
        if len(self._qps_cache) >= 4096:
            self._qps_cache.clear()
        qps = self._qps_cache[key] = self._effective_qps(tenant_id, default_qps)
        return qps

    def _effective_qps(self, tenant_id: str, default_qps: int) -> int:
        qps = self.quotas(tenant_id, default_qps)["qps"]
        with self.store._lock:
            row = self.store._one(
                "SELECT value FROM risk_policies WHERE key=?",
                (policy_key("tenant_rate_limit", tenant_id),),
            )
        parsed = parse_rate_limit(row["value"]) if row else None
        if parsed is not None and (qps <= 0 or parsed[1] < qps):
            return parsed[1]
        return qps

    def denied_domain(self, domain: str) -> str | None:
        """The denylisted domain matching ``domain`` (itself or a parent), or None."""
        domain = domain.strip().lower().rstrip(".")
        if not domain:
            return None
        labels = domain.split(".")
        candidates = [".".join(labels[i:]) for i in range(len(labels))]
        keys = [policy_key("domain_denylist", c) for c in candidates]
        marks = ",".join("?" * len(keys))
        with self.store._lock:
            row = self.store._one(
                f"SELECT value FROM risk_policies WHERE key IN ({marks}) LIMIT 1",  # noqa: S608
                tuple(keys),
            )
        return str(row["value"]) if row else None

    def watched(self, tenant_id: str) -> bool:
        """True when a ``tenant_watch`` policy names the tenant."""
        with self.store._lock:
            row = self.store._one(
                "SELECT 1 AS x FROM risk_policies WHERE key=?",
                (policy_key("tenant_watch", tenant_id),),
            )
        return row is not None

    def set_policy(self, policy_type: str, value: str, action: str) -> str:
        """Add, change or remove a policy; return its key."""
        key = policy_key(policy_type, value)
        self._qps_cache.clear()
        with self.store._tx() as db:
            if action == "remove":
                db.execute("DELETE FROM risk_policies WHERE key=?", (key,))
            else:
                db.execute(
                    "INSERT INTO risk_policies (key, policy_type, value, action, updated_ms) "
                    "VALUES (?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value, "
                    "action=excluded.action, updated_ms=excluded.updated_ms",
                    (key, policy_type, value, action, self._now()),
                )
        self._qps_cache.clear()
        return key

    def active_lease_count(self, tenant_id: str) -> int:
        """The tenant's active, unexpired leases."""
        return self.store.count_active_unexpired(tenant_id)

    # -- runtime settings --------------------------------------------------------------------

    def settings(self) -> JsonObject:
        """Persisted runtime settings (``overage_charge_usdc``, ``agent_allocate_hourly_limit``)."""
        with self.store._lock:
            rows = self.store._all("SELECT key, value_json FROM runtime_settings")
        return {r["key"]: json.loads(r["value_json"]) for r in rows}

    def save_settings(self, values: JsonObject) -> None:
        """Persist runtime settings."""
        with self.store._tx() as db:
            for key, value in values.items():
                db.execute(
                    "INSERT INTO runtime_settings (key, value_json) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value_json=excluded.value_json",
                    (key, json.dumps(value)),
                )

    # -- tenants ---------------------------------------------------------------------------

    def patch_tenant(
        self, tenant_id: str, status: str | None, qps: int | None, mailbox_limit: int | None
    ) -> bool:
        """Change a tenant's status and quotas; False for an unknown tenant."""
        self._qps_cache.clear()
        with self.store._tx() as db:
            if self.store._one("SELECT 1 AS x FROM tenants WHERE id=?", (tenant_id,)) is None:
                return False
            if status is not None:
                db.execute("UPDATE tenants SET status=? WHERE id=?", (status, tenant_id))
            db.execute(
                "INSERT INTO tenant_quotas (tenant_id, qps, mailbox_limit, updated_ms) "
                "VALUES (?,?,?,?) ON CONFLICT(tenant_id) DO UPDATE SET "
                "qps=COALESCE(excluded.qps, qps), "
                "mailbox_limit=COALESCE(excluded.mailbox_limit, mailbox_limit), "
                "updated_ms=excluded.updated_ms",
                (tenant_id, qps, mailbox_limit, self._now()),
            )
        self._qps_cache.clear()
        return True

    # -- mailboxes and leases --------------------------------------------------------------

    def freeze(self, mailbox_id: str, reason: str) -> str | None:
        """Freeze a mailbox (its active lease ends); return its tenant, None if unknown."""
        with self.store._tx() as db:
            tenant_id, now = self._end_lease(db, mailbox_id, "frozen")
            if tenant_id is not None:
                db.execute(
                    "INSERT INTO mailbox_freezes (mailbox_id, reason, frozen_ms) VALUES (?,?,?) "
                    "ON CONFLICT(mailbox_id) DO UPDATE SET reason=excluded.reason, "
                    "frozen_ms=excluded.frozen_ms",
                    (mailbox_id, reason, now),
                )
            return tenant_id

    def release(self, mailbox_id: str) -> str | None:
        """End a mailbox's lease and unfreeze it (``available``); None if unknown."""
        with self.store._tx() as db:
            tenant_id, _ = self._end_lease(db, mailbox_id, "available")
            if tenant_id is not None:
                db.execute("DELETE FROM mailbox_freezes WHERE mailbox_id=?", (mailbox_id,))
            return tenant_id

    def _end_lease(
        self, db: sqlite3.Connection, mailbox_id: str, status: str
    ) -> tuple[str | None, int]:
        """In a transaction: end the mailbox's active lease and give it ``status``;
        ``(tenant_id, now)``, the tenant None (nothing changed) if the mailbox is unknown."""
        now = self._now()
        self.store._expire(now)
        mailbox = self.store._one("SELECT tenant_id FROM mailboxes WHERE id=?", (mailbox_id,))
        if mailbox is None:
            return None, now
        cur = db.execute(
            "UPDATE leases SET status='released', released_ms=? "
            "WHERE mailbox_id=? AND status='active'",
            (now, mailbox_id),
        )
        if cur.rowcount:
            self.store._leases_changed = True
        db.execute(
            "UPDATE mailboxes SET status=?, updated_ms=? WHERE id=?", (status, now, mailbox_id)
        )
        return str(mailbox["tenant_id"]), now

    # -- messages and sends -----------------------------------------------------------------

    def message_row(self, message_id: str) -> Message | None:
        """The full message row (with ``raw``)."""
        return self.store.message(None, message_id)

    def tenant_messages_between(self, tenant_id: str, start: int, end: int) -> list[Message]:
        """The tenant's messages received in ``[start, end]`` (oldest first, at most 1000)."""
        with self.store._lock:
            rows = self.store._all(
                "SELECT * FROM messages WHERE tenant_id=? AND received_ms>=? AND received_ms<=? "
                "ORDER BY received_ms, seq LIMIT 1000",
                (tenant_id, start, end),
            )
        return [Message(**r) for r in rows]

    def set_parse_result(self, message_id: str, otp: str | None, link: str | None) -> str:
        """Store a parse result; return the new ``parsed_status``."""
        status = "parsed" if (otp or link) else "failed"
        with self.store._tx() as db:
            db.execute(
                "UPDATE messages SET otp_code=?, verification_link=?, parsed_status=? WHERE id=?",
                (otp, link, status, message_id),
            )
        return status

    # -- webhooks -----------------------------------------------------------------------------

    def rotate_secret(self, webhook_id: str) -> tuple[str, str] | None:
        """Give a webhook a fresh secret; return ``(tenant_id, secret)``, None if unknown."""
        hook = self.store.webhook(None, webhook_id)
        if hook is None:
            return None
        secret = secrets.token_hex(18)
        self.store.rotate_webhook_secret(hook.tenant_id, webhook_id, secret)
        return str(hook.tenant_id), secret

    # -- billing ------------------------------------------------------------------------------

    def issue_invoice(self, invoice_id: str) -> tuple[str, str] | None:
        """``draft`` -> ``issued`` (idempotent); return ``(tenant_id, status)``, None if unknown."""
        with self.store._tx() as db:
            row = self.store._one(
                "SELECT tenant_id, status FROM invoices WHERE id=?", (invoice_id,)
            )
            if row is None:
                return None
            if row["status"] == "draft":
                db.execute(
                    "UPDATE invoices SET status='issued', statement_hash=? WHERE id=?",
                    (f"stmt_{uuid.uuid4().hex}", invoice_id),
                )
                return str(row["tenant_id"]), "issued"
            return str(row["tenant_id"]), str(row["status"])

    # -- overview ---------------------------------------------------------------------------

    def metrics(self) -> JsonObject:
        """The six overview metrics, computed over the last 24 hours."""
        self.store.expire_leases()
        now = self._now()
        since = now - 86_400_000
        q = self.store._one
        with self.store._lock:
            tenants = q(
                "SELECT COUNT(DISTINCT tenant_id) AS n FROM usage_records WHERE ts_ms>=?", (since,)
            )
            leases = q(
                "SELECT COUNT(*) AS n FROM leases WHERE status='active' AND expires_ms>?", (now,)
            )
            inbound = q(
                "SELECT COUNT(*) AS n, COALESCE(SUM(otp_code IS NOT NULL), 0) AS otp "
                "FROM messages WHERE received_ms>=?",
                (since,),
            )
            hooks = q(
                "SELECT COUNT(*) AS n, COALESCE(SUM(ok), 0) AS ok FROM webhook_deliveries "
                "WHERE delivered_ms>=?",
                (since,),
            )
            paid = q("SELECT COUNT(*) AS n FROM usage_records WHERE paid=1 AND ts_ms>=?", (since,))
            asked = q("SELECT COUNT(*) AS n FROM payment_challenges WHERE ts_ms>=?", (since,))
        assert tenants and leases and inbound and hooks and paid and asked

        def pct(part: int, whole: int, empty: float) -> float:
            return empty if whole <= 0 else round(min(part, whole) * 100 / whole, 1)

        return {
            "active_tenants_24h": tenants["n"],
            "active_mailbox_leases": leases["n"],
            "inbound_messages_24h": inbound["n"],
            "otp_extract_success_rate": pct(int(inbound["otp"]), inbound["n"], 0.0),
            "webhook_success_rate": pct(int(hooks["ok"]), hooks["n"], 100.0),
            "payment_conversion_rate": pct(paid["n"], asked["n"], 100.0),
        }

    def timeseries(self, start: int, end: int, step: int, iso: Iso) -> list[JsonObject]:
        """Inbound messages per bucket from ``start`` to ``end`` (at most 1000 buckets)."""
        with self.store._lock:
            rows = self.store._all(
                "SELECT (received_ms-?)/? AS b, COUNT(*) AS n FROM messages "
                "WHERE received_ms>=? AND received_ms<? GROUP BY b",
                (start, step, start, end + step),
            )
        counts = {int(r["b"]): int(r["n"]) for r in rows}
        points = []
        for i, ts in enumerate(range(start, end + 1, step)):
            if i >= 1000:
                break
            points.append({"ts": iso(ts), "value": counts.get(i, 0)})
        return points


def admin_state(store: Store) -> AdminState:
    """The one :class:`AdminState` of a store (created on first use)."""
    state = getattr(store, "_admin_state", None)
    if state is None:
        state = AdminState(store)
        store._admin_state = state
    return state

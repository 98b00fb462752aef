"""SQLite state of the sandbox: tenants, mailboxes, leases, messages, usage, invoices.

One connection guarded by one lock (WAL journal for files). All times are integer
milliseconds since the epoch, read from an injectable clock. Lease expiry is lazy: every
operation that reads or changes leases or mailboxes first expires the leases whose
``expires_at`` has passed (status ``expired``, ``released_at = expires_at``, mailbox back to
``available``).
"""

from __future__ import annotations

import calendar
import json
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui.sandbox.files import prepare_database

log = logging.getLogger("tui.sandbox")

MAILBOXES_PER_TENANT = 5
ALLOCATE_ENDPOINTS = ("POST /v2/mailboxes/leases", "POST /v1/mailboxes/allocate")
USAGE_FLUSH_S = 0.5
"""Usage records counted in memory are written at most this long after the first of them."""
USAGE_FLUSH_BATCH = 2000
"""... or as soon as this many are pending."""
RECENT_USAGE_MS = 5000
"""How far back each tenant's usage is also kept in memory (the per-second request cap)."""
_LIST_COLUMNS = (
    "seq, id, tenant_id, mailbox_id, sender, sender_domain, subject, raw_ref, received_ms, "
    "otp_code, verification_link, parsed_status, provider_message_id, header_message_id, "
    "envelope_from"
)
"""Every column of ``messages`` but the raw bytes (a listing never shows them)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    wallet_address TEXT UNIQUE,
    wallet_bound INTEGER NOT NULL DEFAULT 0,
    did TEXT,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mailboxes (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    address TEXT NOT NULL UNIQUE,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    password TEXT,
    provider_ref TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
    agent_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    released_ms INTEGER
);
CREATE INDEX IF NOT EXISTS leases_active ON leases(status, expires_ms);
CREATE INDEX IF NOT EXISTS leases_mailbox ON leases(mailbox_id, status);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    mailbox_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_domain TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw_ref TEXT,
    received_ms INTEGER NOT NULL,
    otp_code TEXT,
    verification_link TEXT,
    parsed_status TEXT NOT NULL,
    provider_message_id TEXT,
    header_message_id TEXT,
    envelope_from TEXT,
    raw BLOB
);
CREATE INDEX IF NOT EXISTS messages_mailbox ON messages(mailbox_id, received_ms);
CREATE TABLE IF NOT EXISTS usage_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    agent_id TEXT,
    endpoint TEXT NOT NULL,
    paid INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_tenant ON usage_records(tenant_id, ts_ms);
CREATE INDEX IF NOT EXISTS usage_agent ON usage_records(agent_id, ts_ms);
CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    period TEXT NOT NULL,
    amount_micro INTEGER NOT NULL,
    status TEXT NOT NULL,
    statement_hash TEXT,
    settlement_tx_hash TEXT,
    created_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, period)
);
CREATE TABLE IF NOT EXISTS send_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    agent_id TEXT,
    mailbox_id TEXT NOT NULL,
    to_json TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT,
    html_body TEXT,
    status TEXT NOT NULL,
    accepted_json TEXT NOT NULL DEFAULT '[]',
    rejected_json TEXT NOT NULL DEFAULT '[]',
    message_id TEXT,
    response TEXT,
    envelope_json TEXT,
    error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS send_attempts_tenant ON send_attempts(tenant_id, created_ms);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    send_attempt_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    raw BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
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


class AddressTakenError(Exception):
    """Another wallet already owns the mailbox addresses this wallet would get."""


@dataclass
class Challenge:
    """An outstanding SIWE challenge (kept in memory, like the reference server)."""

    nonce: str
    message: str
    expires_ms: int


def period_of(ms: int) -> str:
    """``YYYY-MM`` of a UTC timestamp in milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def period_bounds(period: str) -> tuple[str, str]:
    """First and last day (``YYYY-MM-DD``) of a ``YYYY-MM`` period."""
    year, month = (int(x) for x in period.split("-"))
    last = calendar.monthrange(year, month)[1]
    return f"{period}-01", f"{period}-{last:02d}"


def period_ms_range(period: str) -> tuple[int, int]:
    """Half-open ``[start, end)`` millisecond range of a ``YYYY-MM`` period."""
    year, month = (int(x) for x in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _new_id() -> str:
    return str(uuid.uuid4())


class Store:
    """The sandbox's persistent state. Thread-safe; every public method takes the lock."""

    def __init__(self, path: str = ":memory:", clock: Callable[[], float] | None = None) -> None:
        self.path = path
        """SQLite path or ``:memory:``."""
        self.clock: Callable[[], float] = clock or time.time
        """Seconds since the epoch; tests inject a fake clock."""
        self.parser = "ours"
        """What reads inbound mail (``SandboxConfig.parser``; see ``tui.sandbox.mail``)."""
        self._lock = threading.RLock()
        prepare_database(path)  # 0600 from the start: it holds webmail passwords
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: durable across a crash of the process, no fsync per metered GET.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)
        self._challenges: dict[str, Challenge] = {}
        self._message_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._lease_listeners: list[Callable[[], None]] = []
        self._leases_changed = False
        # Usage is counted in memory and written in batches (one transaction for many metered
        # requests): flushed USAGE_FLUSH_S after the first pending record, before any query
        # that reads ``usage_records`` (see ``_one``/``_all``) and at ``close``.
        self._pending_usage: list[tuple[str, str | None, str, int, int]] = []
        self._flush_timer: threading.Timer | None = None
        self._recent_usage: dict[str, deque[int]] = {}
        self._usage_in_tx: list[tuple[str, str | None, str, int, int]] = []

    # -- plumbing -------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The clock's current time in integer milliseconds."""
        return int(self.clock() * 1000)

    def close(self) -> None:
        """Write the pending usage records and close the database connection."""
        with self._lock:
            self._flush_usage_locked()
            if self._flush_timer is not None:
                self._flush_timer.cancel()
                self._flush_timer = None
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._leases_changed = False
                # usage records flushed inside this transaction are pending again
                self._pending_usage[:0] = self._usage_in_tx
                self._usage_in_tx = []
                raise
            self._conn.execute("COMMIT")
            self._usage_in_tx = []
            changed, self._leases_changed = self._leases_changed, False
        if changed:
            self._notify_lease_listeners()

    def _notify_lease_listeners(self) -> None:
        for listener in list(self._lease_listeners):
            try:
                listener()
            except Exception:  # a listener (the IMAP users file) must never fail a request
                log.exception("sandbox: lease listener failed")

    def add_lease_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after a change to the active leases' credentials is committed.

        That is an allocation, a release, an expiry or a password reset (in the changing
        thread). See :meth:`active_credentials`. Exceptions are logged.
        """
        self._lease_listeners.append(listener)

    def remove_lease_listener(self, listener: Callable[[], None]) -> None:
        """Undo :meth:`add_lease_listener` (no error when absent)."""
        if listener in self._lease_listeners:
            self._lease_listeners.remove(listener)

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        if self._pending_usage and "usage_records" in sql:
            self._flush_usage_locked()
        row = self._conn.execute(sql, args).fetchone()
        return dict(row) if row is not None else None

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self._pending_usage and "usage_records" in sql:
            self._flush_usage_locked()
        return [dict(r) for r in self._conn.execute(sql, args).fetchall()]

    def _expire(self, now: int) -> None:
        """Expire active leases whose ``expires_at`` has passed (caller holds the tx)."""
        expired = self._all(
            "SELECT id, mailbox_id, expires_ms FROM leases WHERE status='active' AND expires_ms<=?",
            (now,),
        )
        if expired:
            self._leases_changed = True
        for lease in expired:
            self._conn.execute(
                "UPDATE leases SET status='expired', released_ms=expires_ms WHERE id=?",
                (lease["id"],),
            )
            self._conn.execute(
                "UPDATE mailboxes SET status='available', updated_ms=? "
                "WHERE id=? AND status='leased'",
                (lease["expires_ms"], lease["mailbox_id"]),
            )

    def expire_leases(self) -> None:
        """Expire every lease whose time is up (also done lazily by every lease operation)."""
        with self._tx():
            self._expire(self.now_ms())

    # -- SIWE challenges (memory only) --------------------------------------------------------

    def put_challenge(self, address: str, challenge: Challenge) -> None:
        """Store the one outstanding challenge of a wallet (lowercase address), replacing any."""
        with self._lock:
            self._challenges[address.lower()] = challenge

    def live_challenge(self, address: str) -> Challenge | None:
        """The wallet's challenge if it has not expired."""
        with self._lock:
            challenge = self._challenges.get(address.lower())
            if challenge is None:
                return None
            if challenge.expires_ms <= self.now_ms():
                del self._challenges[address.lower()]
                return None
            return challenge

    def consume_challenge(self, address: str, nonce: str) -> bool:
        """Remove the wallet's challenge if it still has ``nonce``; True when removed."""
        with self._lock:
            challenge = self._challenges.get(address.lower())
            if challenge is None or challenge.nonce != nonce:
                return False
            del self._challenges[address.lower()]
            return True

    # -- tenants ------------------------------------------------------------------------------

    def tenant_for_wallet(
        self, address: str, did: str, mailbox_domain: str
    ) -> tuple[str, str, bool]:
        """Return ``(tenant_id, agent_id, created)`` for a wallet, creating everything at first.

        First login creates the tenant, its ``default-agent``, 5 mailboxes and a draft
        invoice for the current month.
        """
        wallet = address.lower()
        with self._tx() as db:
            row = self._one("SELECT id FROM tenants WHERE wallet_address=?", (wallet,))
            if row is not None:
                agent = self._one(
                    "SELECT id FROM agents WHERE tenant_id=? ORDER BY created_ms, rowid LIMIT 1",
                    (row["id"],),
                )
                if agent is None:  # pragma: no cover - never happens with sandbox data
                    raise RuntimeError("tenant without agent")
                return row["id"], agent["id"], False
            now = self.now_ms()
            prefix = wallet[2:8] + wallet[-4:]
            tenant_id, agent_id = _new_id(), _new_id()
            db.execute(
                "INSERT INTO tenants (id, name, status, wallet_address, wallet_bound, did, "
                "created_ms) VALUES (?, ?, 'active', ?, 1, ?, ?)",
                (tenant_id, f"tenant-{prefix}", wallet, did, now),
            )
            db.execute(
                "INSERT INTO agents (id, tenant_id, name, status, created_ms) "
                "VALUES (?, ?, 'default-agent', 'active', ?)",
                (agent_id, tenant_id, now),
            )
            try:
                for n in range(1, MAILBOXES_PER_TENANT + 1):
                    db.execute(
                        "INSERT INTO mailboxes (id, tenant_id, address, seq, status, created_ms, "
                        "updated_ms) VALUES (?, ?, ?, ?, 'available', ?, ?)",
                        (_new_id(), tenant_id, f"{prefix}-{n}@{mailbox_domain}", n, now, now),
                    )
            except sqlite3.IntegrityError as exc:
                raise AddressTakenError(prefix) from exc
            self._ensure_invoice(tenant_id, period_of(now))
            return tenant_id, agent_id, True

    def create_unbound_tenant(self, mailbox_domain: str) -> tuple[str, str]:
        """Create a tenant with no wallet identity (its agent, 5 mailboxes, a draft invoice).

        Such a tenant is subject to the send cooldown (§5.5). Its mailbox prefix starts with
        ``u`` (not a hex digit), so it can never take a wallet's addresses.
        """
        with self._tx() as db:
            now = self.now_ms()
            while True:
                prefix = "u" + secrets.token_hex(5)[:9]
                taken = self._one(
                    "SELECT 1 AS x FROM mailboxes WHERE address=?",
                    (f"{prefix}-1@{mailbox_domain}",),
                )
                if taken is None:
                    break
            tenant_id, agent_id = _new_id(), _new_id()
            db.execute(
                "INSERT INTO tenants (id, name, status, wallet_address, wallet_bound, did, "
                "created_ms) VALUES (?, ?, 'active', NULL, 0, NULL, ?)",
                (tenant_id, f"tenant-{prefix}", now),
            )
            db.execute(
                "INSERT INTO agents (id, tenant_id, name, status, created_ms) "
                "VALUES (?, ?, 'default-agent', 'active', ?)",
                (agent_id, tenant_id, now),
            )
            for n in range(1, MAILBOXES_PER_TENANT + 1):
                db.execute(
                    "INSERT INTO mailboxes (id, tenant_id, address, seq, status, created_ms, "
                    "updated_ms) VALUES (?, ?, ?, ?, 'available', ?, ?)",
                    (_new_id(), tenant_id, f"{prefix}-{n}@{mailbox_domain}", n, now, now),
                )
            self._ensure_invoice(tenant_id, period_of(now))
            return tenant_id, agent_id

    def tenant_context(self, tenant_id: str, agent_id: str) -> dict[str, Any] | None:
        """Tenant and agent status when the agent belongs to the tenant, else None."""
        with self._lock:
            return self._one(
                "SELECT t.id AS tenant_id, t.status AS tenant_status, t.wallet_bound, "
                "t.created_ms AS tenant_created_ms, a.id AS agent_id, a.status AS agent_status "
                "FROM tenants t JOIN agents a ON a.tenant_id=t.id WHERE t.id=? AND a.id=?",
                (tenant_id, agent_id),
            )

    def set_tenant_status(self, tenant_id: str, status: str) -> None:
        """Change a tenant's status (``active``, ``suspended``, ``archived``)."""
        with self._tx() as db:
            db.execute("UPDATE tenants SET status=? WHERE id=?", (status, tenant_id))

    def set_agent_status(self, agent_id: str, status: str) -> None:
        """Change an agent's status."""
        with self._tx() as db:
            db.execute("UPDATE agents SET status=? WHERE id=?", (status, agent_id))

    # -- mailboxes and leases ---------------------------------------------------------------

    _LEASE_SELECT = (
        "SELECT l.id AS lease_id, l.mailbox_id, m.address, l.agent_id, l.purpose, "
        "l.status AS lease_status, l.started_ms, l.expires_ms, l.released_ms "
        "FROM leases l JOIN mailboxes m ON m.id=l.mailbox_id "
    )

    def allocate(
        self, tenant_id: str, agent_id: str, purpose: str, ttl_ms: int, password: str
    ) -> dict[str, Any] | None:
        """Lease the tenant's first available mailbox (creation order); None when all are busy."""
        with self._tx() as db:
            now = self.now_ms()
            self._expire(now)
            mailbox = self._one(
                "SELECT id, address FROM mailboxes WHERE tenant_id=? AND status='available' "
                "ORDER BY seq LIMIT 1",
                (tenant_id,),
            )
            if mailbox is None:
                return None
            lease_id = _new_id()
            db.execute(
                "INSERT INTO leases (id, tenant_id, mailbox_id, agent_id, purpose, status, "
                "started_ms, expires_ms) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
                (lease_id, tenant_id, mailbox["id"], agent_id, purpose, now, now + ttl_ms),
            )
            db.execute(
                "UPDATE mailboxes SET status='leased', password=?, updated_ms=?, "
                "provider_ref=COALESCE(provider_ref, 'sandbox:' || address) WHERE id=?",
                (password, now, mailbox["id"]),
            )
            self._leases_changed = True
            return self._one(self._LEASE_SELECT + "WHERE l.id=?", (lease_id,))

    def lease_count(self, tenant_id: str) -> int:
        """How many leases the tenant ever had."""
        with self._lock:
            row = self._one("SELECT COUNT(*) AS n FROM leases WHERE tenant_id=?", (tenant_id,))
            return int(row["n"]) if row else 0

    def active_leases(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's active leases, in the accounts order (``updated_at`` descending)."""
        with self._tx():
            self._expire(self.now_ms())
            return self._all(
                self._LEASE_SELECT + "WHERE l.tenant_id=? AND l.status='active' "
                "ORDER BY m.updated_ms DESC, m.seq",
                (tenant_id,),
            )

    def get_lease(self, tenant_id: str, lease_id: str) -> dict[str, Any] | None:
        """One of the tenant's leases, whatever its status."""
        with self._tx():
            self._expire(self.now_ms())
            return self._one(
                self._LEASE_SELECT + "WHERE l.tenant_id=? AND l.id=?", (tenant_id, lease_id)
            )

    def release(self, tenant_id: str, lease_id: str) -> dict[str, Any] | None:
        """Release one lease (only that lease, never a newer one on the same mailbox).

        Idempotent: a released or expired lease is returned unchanged. None for unknown ids.
        """
        with self._tx() as db:
            now = self.now_ms()
            self._expire(now)
            lease = self._one(
                "SELECT id, mailbox_id, status FROM leases WHERE tenant_id=? AND id=?",
                (tenant_id, lease_id),
            )
            if lease is None:
                return None
            if lease["status"] == "active":
                db.execute(
                    "UPDATE leases SET status='released', released_ms=? WHERE id=?",
                    (now, lease_id),
                )
                db.execute(
                    "UPDATE mailboxes SET status='available', updated_ms=? WHERE id=?",
                    (now, lease["mailbox_id"]),
                )
                self._leases_changed = True
                lease["status"] = "released"
            return lease

    def accounts(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's 5 mailboxes with their active lease, ``updated_at`` descending."""
        with self._tx():
            self._expire(self.now_ms())
            return self._all(
                "SELECT m.id AS mailbox_id, m.address, m.status, m.provider_ref, m.updated_ms, "
                "l.id AS lease_id, l.status AS lease_status, l.expires_ms "
                "FROM mailboxes m LEFT JOIN leases l ON l.mailbox_id=m.id AND l.status='active' "
                "WHERE m.tenant_id=? ORDER BY m.updated_ms DESC, m.seq",
                (tenant_id,),
            )

    def mailbox(self, tenant_id: str, mailbox_id: str) -> dict[str, Any] | None:
        """One of the tenant's mailboxes."""
        with self._lock:
            return self._one(
                "SELECT id AS mailbox_id, address, status, updated_ms FROM mailboxes "
                "WHERE tenant_id=? AND id=?",
                (tenant_id, mailbox_id),
            )

    def set_password(self, tenant_id: str, mailbox_id: str, password: str) -> bool:
        """Replace a mailbox's webmail password; False for an unknown or foreign mailbox."""
        with self._tx() as db:
            now = self.now_ms()
            cur = db.execute(
                "UPDATE mailboxes SET password=?, updated_ms=? WHERE tenant_id=? AND id=?",
                (password, now, tenant_id, mailbox_id),
            )
            self._leases_changed = cur.rowcount == 1
            return cur.rowcount == 1

    def mailbox_by_address(self, address: str) -> dict[str, Any] | None:
        """A mailbox by address (case-insensitive) with its active lease id, if any."""
        with self._tx():
            self._expire(self.now_ms())
            return self._one(
                "SELECT m.id AS mailbox_id, m.tenant_id, m.address, m.status, m.password, "
                "l.id AS lease_id, l.expires_ms "
                "FROM mailboxes m LEFT JOIN leases l ON l.mailbox_id=m.id AND l.status='active' "
                "WHERE m.address=?",
                (address.strip().lower(),),
            )

    def mailbox_address(self, mailbox_id: str) -> str | None:
        """The address of a mailbox, by id (any tenant)."""
        with self._lock:
            row = self._one("SELECT address FROM mailboxes WHERE id=?", (mailbox_id,))
            return str(row["address"]) if row else None

    def active_credentials(self) -> list[tuple[str, str]]:
        """``(address, password)`` of every active, unexpired lease (the IMAP users)."""
        with self._lock:
            rows = self._all(
                "SELECT m.address, m.password FROM leases l JOIN mailboxes m ON m.id=l.mailbox_id "
                "WHERE l.status='active' AND l.expires_ms>? AND m.password IS NOT NULL "
                "ORDER BY m.address",
                (self.now_ms(),),
            )
        return [(str(r["address"]), str(r["password"])) for r in rows]

    def check_password(self, address: str, password: str) -> bool:
        """True when ``password`` is the mailbox's current webmail password (constant time)."""
        import hmac

        with self._lock:
            row = self._one(
                "SELECT password FROM mailboxes WHERE address=?", (address.strip().lower(),)
            )
        current = (row or {}).get("password") or ""
        return bool(current) and hmac.compare_digest(current.encode(), password.encode())

    def count_active_unexpired(self, tenant_id: str) -> int:
        """Active leases not past ``expires_at`` right now."""
        with self._tx():
            now = self.now_ms()
            self._expire(now)
            row = self._one(
                "SELECT COUNT(*) AS n FROM leases WHERE tenant_id=? AND status='active' "
                "AND expires_ms>?",
                (tenant_id, now),
            )
            return int(row["n"]) if row else 0

    # -- usage and invoices -----------------------------------------------------------------

    def record_usage(self, tenant_id: str, agent_id: str | None, endpoint: str, paid: bool) -> None:
        """Count one usage record (quantity 1) now.

        Kept in memory and written with others in one transaction (``flush_usage``); every
        reader of ``usage_records`` through this store sees it, as if written at once.
        """
        with self._lock:
            now = self.now_ms()
            self._pending_usage.append((tenant_id, agent_id, endpoint, int(paid), now))
            recent = self._recent_usage.get(tenant_id)
            if recent is None:
                recent = self._recent_usage[tenant_id] = deque()
            recent.append(now)
            while recent and recent[0] < now - RECENT_USAGE_MS:
                recent.popleft()
            if len(self._pending_usage) >= USAGE_FLUSH_BATCH:
                self._flush_usage_locked()
            elif self._flush_timer is None:
                timer = threading.Timer(USAGE_FLUSH_S, self.flush_usage)
                timer.daemon = True
                timer.name = "sandbox-usage-flush"
                self._flush_timer = timer
                timer.start()

    def flush_usage(self) -> None:
        """Write the usage records counted in memory (one transaction)."""
        with self._lock:
            self._flush_timer = None
            self._flush_usage_locked()

    def _flush_usage_locked(self) -> None:
        if not self._pending_usage:
            return
        pending, self._pending_usage = self._pending_usage, []
        in_tx = self._conn.in_transaction
        if not in_tx:
            self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT INTO usage_records (tenant_id, agent_id, endpoint, paid, ts_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                pending,
            )
        except BaseException:
            if not in_tx:
                self._conn.execute("ROLLBACK")
            self._pending_usage[:0] = pending
            raise
        if in_tx:
            self._usage_in_tx.extend(pending)  # pending again if that transaction rolls back
        else:
            self._conn.execute("COMMIT")

    def recent_usage_count(self, tenant_id: str, since_ms: int, stop_at: int) -> int:
        """The tenant's usage records at or after ``since_ms`` (within the last
        ``RECENT_USAGE_MS``, counted in memory), counting no further than ``stop_at``."""
        with self._lock:
            if since_ms < self.now_ms() - RECENT_USAGE_MS:
                return self.usage_count_since(tenant_id, since_ms)
            recent = self._recent_usage.get(tenant_id)
            if not recent:
                return 0
            n = 0
            for ts in reversed(recent):
                if ts < since_ms or n >= stop_at:
                    break
                n += 1
            return n

    def usage_count_since(self, tenant_id: str, since_ms: int) -> int:
        """The tenant's usage records at or after ``since_ms``."""
        with self._lock:
            row = self._one(
                "SELECT COUNT(*) AS n FROM usage_records WHERE tenant_id=? AND ts_ms>=?",
                (tenant_id, since_ms),
            )
            return int(row["n"]) if row else 0

    def allocations_since(self, agent_id: str, since_ms: int) -> int:
        """The agent's successful allocations (paid or not) at or after ``since_ms``."""
        with self._lock:
            row = self._one(
                "SELECT COUNT(*) AS n FROM usage_records WHERE agent_id=? AND ts_ms>=? "
                "AND endpoint IN (?, ?)",
                (agent_id, since_ms, *ALLOCATE_ENDPOINTS),
            )
            return int(row["n"]) if row else 0

    def usage_summary(self, tenant_id: str, period: str) -> dict[str, int]:
        """``api_calls`` and ``message_parses`` of a month (UTC)."""
        start, end = period_ms_range(period)
        with self._lock:
            row = self._one(
                "SELECT COUNT(*) AS calls, "
                "COALESCE(SUM(endpoint='GET /v2/messages'), 0) AS parses "
                "FROM usage_records WHERE tenant_id=? AND ts_ms>=? AND ts_ms<?",
                (tenant_id, start, end),
            )
        assert row is not None
        return {"api_calls": int(row["calls"]), "message_parses": int(row["parses"])}

    def _ensure_invoice(self, tenant_id: str, period: str) -> str:
        row = self._one(
            "SELECT id FROM invoices WHERE tenant_id=? AND period=?", (tenant_id, period)
        )
        if row is not None:
            return str(row["id"])
        invoice_id = _new_id()
        self._conn.execute(
            "INSERT INTO invoices (id, tenant_id, period, amount_micro, status, created_ms) "
            "VALUES (?, ?, ?, 0, 'draft', ?)",
            (invoice_id, tenant_id, period, self.now_ms()),
        )
        return invoice_id

    def charge(self, tenant_id: str, amount_micro: int) -> None:
        """Add an overage charge to the tenant's current-month invoice (created if needed)."""
        with self._tx() as db:
            invoice_id = self._ensure_invoice(tenant_id, period_of(self.now_ms()))
            db.execute(
                "UPDATE invoices SET amount_micro=amount_micro+? WHERE id=?",
                (amount_micro, invoice_id),
            )

    def invoices(self, tenant_id: str, period: str | None = None) -> list[dict[str, Any]]:
        """The tenant's invoices, newest period first, optionally only one period."""
        with self._lock:
            if period is None:
                return self._all(
                    "SELECT * FROM invoices WHERE tenant_id=? ORDER BY period DESC", (tenant_id,)
                )
            return self._all(
                "SELECT * FROM invoices WHERE tenant_id=? AND period=?", (tenant_id, period)
            )

    def invoice(self, tenant_id: str, invoice_id: str) -> dict[str, Any] | None:
        """One of the tenant's invoices."""
        with self._lock:
            return self._one(
                "SELECT * FROM invoices WHERE tenant_id=? AND id=?", (tenant_id, invoice_id)
            )

    # -- messages -----------------------------------------------------------------------------

    def find_duplicate(self, mailbox_id: str, provider_message_id: str) -> str | None:
        """Id of a message already ingested in the mailbox with this provider message id."""
        with self._lock:
            row = self._one(
                "SELECT id FROM messages WHERE mailbox_id=? AND provider_message_id=?",
                (mailbox_id, provider_message_id),
            )
            return str(row["id"]) if row else None

    def insert_message(self, **fields: Any) -> str:
        """Insert a message row (see the ``messages`` table); return its new id."""
        message_id = _new_id()
        row = {"id": message_id, **fields}
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        with self._tx() as db:
            db.execute(f"INSERT INTO messages ({columns}) VALUES ({marks})", tuple(row.values()))  # noqa: S608
        for listener in list(self._message_listeners):
            try:
                listener(row)
            except Exception:  # a listener (webhooks) must never fail an ingest
                log.exception("sandbox: message listener failed")
        return message_id

    def inbound_messages(self) -> Iterator[dict[str, Any]]:
        """Every stored message with a body as ``{address, raw, received_ms}``, oldest first
        (to rebuild the Maildirs)."""
        with self._lock:
            ids = [
                r["seq"]
                for r in self._all("SELECT seq FROM messages WHERE raw IS NOT NULL ORDER BY seq")
            ]
        for seq in ids:
            with self._lock:
                row = self._one(
                    "SELECT b.address, m.raw, m.received_ms FROM messages m "
                    "JOIN mailboxes b ON b.id=m.mailbox_id WHERE m.seq=?",
                    (seq,),
                )
            if row is not None:
                yield row

    def add_message_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener(row)`` after each newly inserted message (in the inserting thread).

        ``row`` holds the ``messages`` columns, ``id`` included. Exceptions are logged.
        """
        self._message_listeners.append(listener)

    def remove_message_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Undo :meth:`add_message_listener` (no error when absent)."""
        if listener in self._message_listeners:
            self._message_listeners.remove(listener)

    def list_messages(
        self, tenant_id: str, mailbox_id: str, since_ms: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """A mailbox's messages received at or after ``since_ms``, newest first."""
        sql = f"SELECT {_LIST_COLUMNS} FROM messages WHERE tenant_id=? AND mailbox_id=?"  # noqa: S608
        args: tuple[Any, ...] = (tenant_id, mailbox_id)
        if since_ms is not None:
            sql += " AND received_ms>=?"
            args += (since_ms,)
        sql += " ORDER BY received_ms DESC, seq DESC LIMIT ?"
        with self._lock:
            return self._all(sql, (*args, limit))

    def message(self, tenant_id: str | None, message_id: str) -> dict[str, Any] | None:
        """One message (of the tenant, unless ``tenant_id`` is None)."""
        with self._lock:
            if tenant_id is None:
                return self._one("SELECT * FROM messages WHERE id=?", (message_id,))
            return self._one(
                "SELECT * FROM messages WHERE tenant_id=? AND id=?", (tenant_id, message_id)
            )

    # -- send attempts and outbox ---------------------------------------------------------------

    def mailbox_password(self, tenant_id: str, mailbox_id: str) -> str | None:
        """The current webmail (SMTP) password of one of the tenant's mailboxes, if any."""
        with self._lock:
            row = self._one(
                "SELECT password FROM mailboxes WHERE tenant_id=? AND id=?", (tenant_id, mailbox_id)
            )
            return (row or {}).get("password")

    def successful_sends_since(self, tenant_id: str, since_ms: int) -> int:
        """The tenant's accepted send attempts created at or after ``since_ms``."""
        with self._lock:
            row = self._one(
                "SELECT COUNT(*) AS n FROM send_attempts WHERE tenant_id=? AND status='accepted' "
                "AND created_ms>=?",
                (tenant_id, since_ms),
            )
            return int(row["n"]) if row else 0

    def create_send_attempt(
        self,
        *,
        tenant_id: str,
        agent_id: str | None,
        mailbox_id: str,
        to: list[str],
        subject: str,
        text: str | None,
        html: str | None,
    ) -> str:
        """Store a ``queued`` send attempt (bodies included); return its id."""
        attempt_id = _new_id()
        with self._tx() as db:
            now = self.now_ms()
            db.execute(
                "INSERT INTO send_attempts (id, tenant_id, agent_id, mailbox_id, to_json, subject, "
                "text_body, html_body, status, created_ms, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                (
                    attempt_id,
                    tenant_id,
                    agent_id,
                    mailbox_id,
                    json.dumps(to),
                    subject,
                    text,
                    html,
                    now,
                    now,
                ),
            )
        return attempt_id

    def finish_send_attempt(
        self,
        attempt_id: str,
        *,
        status: str,
        accepted: list[str],
        rejected: list[str],
        message_id: str | None,
        response: str | None,
        envelope: dict[str, Any] | None,
        error: str | None,
    ) -> None:
        """Record a send attempt's outcome (``accepted`` or ``failed``)."""
        with self._tx() as db:
            db.execute(
                "UPDATE send_attempts SET status=?, accepted_json=?, rejected_json=?, "
                "message_id=?, response=?, envelope_json=?, error=?, updated_ms=? WHERE id=?",
                (
                    status,
                    json.dumps(accepted),
                    json.dumps(rejected),
                    message_id,
                    response,
                    json.dumps(envelope) if envelope is not None else None,
                    error,
                    self.now_ms(),
                    attempt_id,
                ),
            )

    @staticmethod
    def _attempt(row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        for key in ("to", "accepted", "rejected", "envelope"):
            raw = row.pop(f"{key}_json")
            row[key] = json.loads(raw) if raw is not None else None
        return row

    def send_attempts(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's send attempts, newest first (``to``/``accepted``/... decoded)."""
        with self._lock:
            rows = self._all(
                "SELECT * FROM send_attempts WHERE tenant_id=? ORDER BY created_ms DESC, seq DESC",
                (tenant_id,),
            )
        return [r for r in (self._attempt(row) for row in rows) if r is not None]

    def send_attempt(self, tenant_id: str, attempt_id: str) -> dict[str, Any] | None:
        """One of the tenant's send attempts."""
        with self._lock:
            row = self._one(
                "SELECT * FROM send_attempts WHERE tenant_id=? AND id=?", (tenant_id, attempt_id)
            )
        return self._attempt(row)

    def add_outbox(
        self, attempt_id: str, tenant_id: str, sender: str, recipient: str, raw: bytes
    ) -> None:
        """Keep a message for a recipient the sandbox does not deliver to."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO outbox (send_attempt_id, tenant_id, sender, recipient, raw, "
                "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (attempt_id, tenant_id, sender, recipient, raw, self.now_ms()),
            )

    def outbox(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Outbox entries (oldest first), of one tenant or all."""
        with self._lock:
            if tenant_id is None:
                return self._all("SELECT * FROM outbox ORDER BY seq")
            return self._all("SELECT * FROM outbox WHERE tenant_id=? ORDER BY seq", (tenant_id,))

    # -- webhooks -------------------------------------------------------------------------------

    @staticmethod
    def _webhook(row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        row["event_types"] = json.loads(row.pop("event_types_json"))
        return row

    def create_webhook(
        self, tenant_id: str, event_types: list[str], target_url: str, secret: str
    ) -> dict[str, Any]:
        """Store an ``active`` webhook; return its row."""
        webhook_id = _new_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO webhooks (id, tenant_id, event_types_json, target_url, secret, "
                "status, created_ms) VALUES (?, ?, ?, ?, ?, 'active', ?)",
                (webhook_id, tenant_id, json.dumps(event_types), target_url, secret, self.now_ms()),
            )
            row = self._webhook(self._one("SELECT * FROM webhooks WHERE id=?", (webhook_id,)))
        assert row is not None
        return row

    def webhooks(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's webhooks sorted by ``target_url`` (then creation)."""
        with self._lock:
            rows = self._all(
                "SELECT * FROM webhooks WHERE tenant_id=? ORDER BY target_url, seq", (tenant_id,)
            )
        return [r for r in (self._webhook(row) for row in rows) if r is not None]

    def webhook(self, tenant_id: str | None, webhook_id: str) -> dict[str, Any] | None:
        """One webhook (of the tenant, unless ``tenant_id`` is None)."""
        with self._lock:
            if tenant_id is None:
                row = self._one("SELECT * FROM webhooks WHERE id=?", (webhook_id,))
            else:
                row = self._one(
                    "SELECT * FROM webhooks WHERE tenant_id=? AND id=?", (tenant_id, webhook_id)
                )
        return self._webhook(row)

    def rotate_webhook_secret(self, tenant_id: str, webhook_id: str, secret: str) -> bool:
        """Replace a webhook's secret; False for an unknown or foreign webhook."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE webhooks SET secret=? WHERE tenant_id=? AND id=?",
                (secret, tenant_id, webhook_id),
            )
            return cur.rowcount == 1

    def record_delivery(
        self,
        *,
        delivery_id: str,
        tenant_id: str,
        webhook_id: str,
        event_type: str,
        message_id: str | None,
        status_code: int | None,
        attempts: int,
        ok: bool,
        error_message: str | None,
        response_excerpt: str | None,
        request_id: str | None,
    ) -> None:
        """Write a delivery's final outcome and update the webhook's last delivery fields."""
        with self._tx() as db:
            now = self.now_ms()
            db.execute(
                "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_type, "
                "message_id, status_code, attempts, ok, error_message, response_excerpt, "
                "request_id, delivered_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    delivery_id,
                    tenant_id,
                    webhook_id,
                    event_type,
                    message_id,
                    status_code,
                    attempts,
                    int(ok),
                    error_message,
                    response_excerpt,
                    request_id,
                    now,
                ),
            )
            db.execute(
                "UPDATE webhooks SET last_delivery_ms=?, last_status_code=? WHERE id=?",
                (now, status_code, webhook_id),
            )

    def deliveries(self, tenant_id: str, webhook_id: str | None = None) -> list[dict[str, Any]]:
        """The tenant's webhook deliveries, newest first, optionally of one webhook."""
        sql = "SELECT * FROM webhook_deliveries WHERE tenant_id=?"
        args: tuple[Any, ...] = (tenant_id,)
        if webhook_id is not None:
            sql += " AND webhook_id=?"
            args += (webhook_id,)
        with self._lock:
            return self._all(sql + " ORDER BY delivered_ms DESC, seq DESC", args)

    def delivery(self, tenant_id: str, delivery_id: str) -> dict[str, Any] | None:
        """One of the tenant's webhook deliveries."""
        with self._lock:
            return self._one(
                "SELECT * FROM webhook_deliveries WHERE tenant_id=? AND id=?",
                (tenant_id, delivery_id),
            )

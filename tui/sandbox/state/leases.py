"""Mailboxes (5 per tenant) and their leases."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from tui.sandbox.state.db import Database, new_id

SCHEMA = """
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
"""


@dataclass(slots=True)
class Lease:
    """A lease with its mailbox's address."""

    lease_id: str
    mailbox_id: str
    address: str
    agent_id: str
    purpose: str
    lease_status: str
    started_ms: int
    expires_ms: int
    released_ms: int | None


@dataclass(slots=True)
class LeaseEnd:
    """A lease after a release (``status`` is ``released`` or ``expired``)."""

    id: str
    mailbox_id: str
    status: str


@dataclass(slots=True)
class Account:
    """A tenant's mailbox with its active lease, if any."""

    mailbox_id: str
    address: str
    status: str
    provider_ref: str | None
    updated_ms: int
    lease_id: str | None
    lease_status: str | None
    expires_ms: int | None


@dataclass(slots=True)
class Mailbox:
    """One of a tenant's mailboxes."""

    mailbox_id: str
    address: str
    status: str
    updated_ms: int


@dataclass(slots=True)
class MailTarget:
    """A mailbox found by address (any tenant) with its active lease id, if any."""

    mailbox_id: str
    tenant_id: str
    address: str
    status: str
    password: str | None
    lease_id: str | None
    expires_ms: int | None


_LEASE_SELECT = (
    "SELECT l.id AS lease_id, l.mailbox_id, m.address, l.agent_id, l.purpose, "
    "l.status AS lease_status, l.started_ms, l.expires_ms, l.released_ms "
    "FROM leases l JOIN mailboxes m ON m.id=l.mailbox_id "
)


class Leases(Database):
    """Mailboxes and leases."""

    def allocate(
        self, tenant_id: str, agent_id: str, purpose: str, ttl_ms: int, password: str
    ) -> Lease | None:
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
            lease_id = new_id()
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
            row = self._one(_LEASE_SELECT + "WHERE l.id=?", (lease_id,))
        return Lease(**row) if row is not None else None

    def lease_count(self, tenant_id: str) -> int:
        """How many leases the tenant ever had."""
        with self._lock:
            return self._count("SELECT COUNT(*) AS n FROM leases WHERE tenant_id=?", (tenant_id,))

    def active_leases(self, tenant_id: str) -> list[Lease]:
        """The tenant's active leases, in the accounts order (``updated_at`` descending)."""
        with self._tx():
            self._expire(self.now_ms())
            rows = self._all(
                _LEASE_SELECT + "WHERE l.tenant_id=? AND l.status='active' "
                "ORDER BY m.updated_ms DESC, m.seq",
                (tenant_id,),
            )
        return [Lease(**r) for r in rows]

    def get_lease(self, tenant_id: str, lease_id: str) -> Lease | None:
        """One of the tenant's leases, whatever its status."""
        with self._tx():
            self._expire(self.now_ms())
            row = self._one(_LEASE_SELECT + "WHERE l.tenant_id=? AND l.id=?", (tenant_id, lease_id))
        return Lease(**row) if row is not None else None

    def release(self, tenant_id: str, lease_id: str) -> LeaseEnd | None:
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
        return LeaseEnd(**lease)

    def accounts(self, tenant_id: str) -> list[Account]:
        """The tenant's 5 mailboxes with their active lease, ``updated_at`` descending."""
        with self._tx():
            self._expire(self.now_ms())
            rows = self._all(
                "SELECT m.id AS mailbox_id, m.address, m.status, m.provider_ref, m.updated_ms, "
                "l.id AS lease_id, l.status AS lease_status, l.expires_ms "
                "FROM mailboxes m LEFT JOIN leases l ON l.mailbox_id=m.id AND l.status='active' "
                "WHERE m.tenant_id=? ORDER BY m.updated_ms DESC, m.seq",
                (tenant_id,),
            )
        return [Account(**r) for r in rows]

    def mailbox(self, tenant_id: str, mailbox_id: str) -> Mailbox | None:
        """One of the tenant's mailboxes."""
        with self._lock:
            row = self._one(
                "SELECT id AS mailbox_id, address, status, updated_ms FROM mailboxes "
                "WHERE tenant_id=? AND id=?",
                (tenant_id, mailbox_id),
            )
        return Mailbox(**row) if row is not None else None

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

    def mailbox_by_address(self, address: str) -> MailTarget | None:
        """A mailbox by address (case-insensitive) with its active lease id, if any."""
        with self._tx():
            self._expire(self.now_ms())
            row = self._one(
                "SELECT m.id AS mailbox_id, m.tenant_id, m.address, m.status, m.password, "
                "l.id AS lease_id, l.expires_ms "
                "FROM mailboxes m LEFT JOIN leases l ON l.mailbox_id=m.id AND l.status='active' "
                "WHERE m.address=?",
                (address.strip().lower(),),
            )
        return MailTarget(**row) if row is not None else None

    def mailbox_address(self, mailbox_id: str) -> str | None:
        """The address of a mailbox, by id (any tenant)."""
        with self._lock:
            row = self._one("SELECT address FROM mailboxes WHERE id=?", (mailbox_id,))
            return str(row["address"]) if row else None

    def mailbox_password(self, tenant_id: str, mailbox_id: str) -> str | None:
        """The current webmail (SMTP) password of one of the tenant's mailboxes, if any."""
        with self._lock:
            row = self._one(
                "SELECT password FROM mailboxes WHERE tenant_id=? AND id=?", (tenant_id, mailbox_id)
            )
            return (row or {}).get("password")

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
            return self._count(
                "SELECT COUNT(*) AS n FROM leases WHERE tenant_id=? AND status='active' "
                "AND expires_ms>?",
                (tenant_id, now),
            )

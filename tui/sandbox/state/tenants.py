"""Tenants and their agents (with each tenant's 5 mailboxes), and the SIWE challenges."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass

from tui.sandbox.state.db import Challenge, Database, new_id
from tui.sandbox.state.usage import ensure_invoice, period_of

MAILBOXES_PER_TENANT = 5

SCHEMA = """
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
"""


class AddressTakenError(Exception):
    """Another wallet already owns the mailbox addresses this wallet would get."""


@dataclass(slots=True)
class TenantContext:
    """A token's tenant and agent, as every authenticated request checks them."""

    tenant_id: str
    tenant_status: str
    wallet_bound: int
    tenant_created_ms: int
    agent_id: str
    agent_status: str


def _insert_tenant(
    db: sqlite3.Connection,
    prefix: str,
    wallet: str | None,
    did: str | None,
    mailbox_domain: str,
    now: int,
) -> tuple[str, str]:
    """Insert a tenant, its ``default-agent``, 5 mailboxes and a draft invoice (caller's tx)."""
    tenant_id, agent_id = new_id(), new_id()
    db.execute(
        "INSERT INTO tenants (id, name, status, wallet_address, wallet_bound, did, "
        "created_ms) VALUES (?, ?, 'active', ?, ?, ?, ?)",
        (tenant_id, f"tenant-{prefix}", wallet, int(wallet is not None), did, now),
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
            (new_id(), tenant_id, f"{prefix}-{n}@{mailbox_domain}", n, now, now),
        )
    ensure_invoice(db, tenant_id, period_of(now), now)
    return tenant_id, agent_id


class Tenants(Database):
    """Tenants, agents and SIWE challenges."""

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
            prefix = wallet[2:8] + wallet[-4:]
            try:
                tenant_id, agent_id = _insert_tenant(
                    db, prefix, wallet, did, mailbox_domain, self.now_ms()
                )
            except sqlite3.IntegrityError as exc:
                raise AddressTakenError(prefix) from exc
            return tenant_id, agent_id, True

    def create_unbound_tenant(self, mailbox_domain: str) -> tuple[str, str]:
        """Create a tenant with no wallet identity (its agent, 5 mailboxes, a draft invoice).

        Such a tenant is subject to the send cooldown (§5.5). Its mailbox prefix starts with
        ``u`` (not a hex digit), so it can never take a wallet's addresses.
        """
        with self._tx() as db:
            while True:
                prefix = "u" + secrets.token_hex(5)[:9]
                taken = self._one(
                    "SELECT 1 AS x FROM mailboxes WHERE address=?",
                    (f"{prefix}-1@{mailbox_domain}",),
                )
                if taken is None:
                    break
            return _insert_tenant(db, prefix, None, None, mailbox_domain, self.now_ms())

    def tenant_context(self, tenant_id: str, agent_id: str) -> TenantContext | None:
        """Tenant and agent status when the agent belongs to the tenant, else None."""
        with self._lock:
            row = self._one(
                "SELECT t.id AS tenant_id, t.status AS tenant_status, t.wallet_bound, "
                "t.created_ms AS tenant_created_ms, a.id AS agent_id, a.status AS agent_status "
                "FROM tenants t JOIN agents a ON a.tenant_id=t.id WHERE t.id=? AND a.id=?",
                (tenant_id, agent_id),
            )
        return TenantContext(**row) if row is not None else None

    def set_tenant_status(self, tenant_id: str, status: str) -> None:
        """Change a tenant's status (``active``, ``suspended``, ``archived``)."""
        with self._tx() as db:
            db.execute("UPDATE tenants SET status=? WHERE id=?", (status, tenant_id))

    def set_agent_status(self, agent_id: str, status: str) -> None:
        """Change an agent's status."""
        with self._tx() as db:
            db.execute("UPDATE agents SET status=? WHERE id=?", (status, agent_id))

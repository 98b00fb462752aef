"""Metered usage records and monthly invoices."""

from __future__ import annotations

import calendar
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from tui.sandbox.state.db import Database, new_id

ALLOCATE_ENDPOINTS = ("POST /v2/mailboxes/leases", "POST /v1/mailboxes/allocate")
USAGE_FLUSH_S = 0.5
"""Usage records counted in memory are written at most this long after the first of them."""
USAGE_FLUSH_BATCH = 2000
"""... or as soon as this many are pending."""
RECENT_USAGE_MS = 5000
"""How far back each tenant's usage is also kept in memory (the per-second request cap)."""

SCHEMA = """
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
"""


@dataclass(slots=True)
class Invoice:
    """A tenant's invoice of one month."""

    id: str
    tenant_id: str
    period: str
    amount_micro: int
    status: str
    statement_hash: str | None
    settlement_tx_hash: str | None
    created_ms: int


@dataclass(slots=True)
class UsageSummary:
    """A tenant's metered calls of one month."""

    api_calls: int
    message_parses: int


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


def ensure_invoice(db: sqlite3.Connection, tenant_id: str, period: str, now_ms: int) -> str:
    """The id of the tenant's invoice of ``period``, a draft created if needed (caller's tx)."""
    row = db.execute(
        "SELECT id FROM invoices WHERE tenant_id=? AND period=?", (tenant_id, period)
    ).fetchone()
    if row is not None:
        return str(row["id"])
    invoice_id = new_id()
    db.execute(
        "INSERT INTO invoices (id, tenant_id, period, amount_micro, status, created_ms) "
        "VALUES (?, ?, ?, 0, 'draft', ?)",
        (invoice_id, tenant_id, period, now_ms),
    )
    return invoice_id


class Usage(Database):
    """Usage records (counted in memory, written in batches) and invoices."""

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
            return self._count(
                "SELECT COUNT(*) AS n FROM usage_records WHERE tenant_id=? AND ts_ms>=?",
                (tenant_id, since_ms),
            )

    def allocations_since(self, agent_id: str, since_ms: int) -> int:
        """The agent's successful allocations (paid or not) at or after ``since_ms``."""
        with self._lock:
            return self._count(
                "SELECT COUNT(*) AS n FROM usage_records WHERE agent_id=? AND ts_ms>=? "
                "AND endpoint IN (?, ?)",
                (agent_id, since_ms, *ALLOCATE_ENDPOINTS),
            )

    def usage_summary(self, tenant_id: str, period: str) -> UsageSummary:
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
        return UsageSummary(api_calls=int(row["calls"]), message_parses=int(row["parses"]))

    def charge(self, tenant_id: str, amount_micro: int) -> None:
        """Add an overage charge to the tenant's current-month invoice (created if needed)."""
        with self._tx() as db:
            now = self.now_ms()
            invoice_id = ensure_invoice(db, tenant_id, period_of(now), now)
            db.execute(
                "UPDATE invoices SET amount_micro=amount_micro+? WHERE id=?",
                (amount_micro, invoice_id),
            )

    def invoices(self, tenant_id: str, period: str | None = None) -> list[Invoice]:
        """The tenant's invoices, newest period first, optionally only one period."""
        with self._lock:
            if period is None:
                rows = self._all(
                    "SELECT * FROM invoices WHERE tenant_id=? ORDER BY period DESC", (tenant_id,)
                )
            else:
                rows = self._all(
                    "SELECT * FROM invoices WHERE tenant_id=? AND period=?", (tenant_id, period)
                )
        return [Invoice(**r) for r in rows]

    def invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None:
        """One of the tenant's invoices."""
        with self._lock:
            row = self._one(
                "SELECT * FROM invoices WHERE tenant_id=? AND id=?", (tenant_id, invoice_id)
            )
        return Invoice(**row) if row is not None else None

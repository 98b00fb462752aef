"""The sandbox database: one SQLite connection guarded by one lock (WAL journal for files).

All times are integer milliseconds since the epoch, read from an injectable clock. Lease expiry
is lazy: every operation that reads or changes leases or mailboxes first expires the leases
whose ``expires_at`` has passed (status ``expired``, ``released_at = expires_at``, mailbox back
to ``available``). Usage records are counted in memory and written in batches (see
:mod:`tui.sandbox.state.usage`); the batching lives here because a transaction's rollback and
every query that reads ``usage_records`` must know about it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from tui.sandbox.files import prepare_database

if TYPE_CHECKING:
    from tui.sandbox.state.messages import Message

log = logging.getLogger("tui.sandbox")

SqlValue: TypeAlias = str | int | float | bytes | None
"""A value SQLite takes as a parameter (or returns in a column)."""

SqlArgs: TypeAlias = tuple[SqlValue, ...]
"""The parameters of one statement, in ``?`` order."""

DbRow: TypeAlias = dict[str, Any]
"""One result row as sqlite3 returns it (column name -> value): the columns are checked by
the row dataclass (``Lease(**row)``) or the answer builder that reads them, as JSON is at the
HTTP edge."""

UsageRecord = tuple[str, str | None, str, int, int]
"""``(tenant_id, agent_id, endpoint, paid, ts_ms)`` of one pending usage record."""


@dataclass
class Challenge:
    """An outstanding SIWE challenge (kept in memory, like the reference server)."""

    nonce: str
    message: str
    expires_ms: int


def new_id() -> str:
    """A fresh UUID v4 as text (every row id)."""
    return str(uuid.uuid4())


class Database:
    """The connection, lock, transactions and listeners every table group shares."""

    def __init__(
        self, path: str, clock: Callable[[], float] | None = None, schema: str = ""
    ) -> None:
        self.path = path
        """SQLite path or ``:memory:``."""
        self.clock: Callable[[], float] = clock or time.time
        """Seconds since the epoch; tests inject a fake clock."""
        self.parser = "ours"
        """What reads inbound mail (``SandboxConfig.parser``; see ``tui.sandbox.mail.inbound``)."""
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
        self._conn.executescript(schema)
        self._challenges: dict[str, Challenge] = {}
        self._message_listeners: list[Callable[[Message], None]] = []
        self._lease_listeners: list[Callable[[], None]] = []
        self._leases_changed = False
        # Usage is counted in memory and written in batches (one transaction for many metered
        # requests): flushed USAGE_FLUSH_S after the first pending record, before any query
        # that reads ``usage_records`` (see ``_one``/``_all``) and at ``close``.
        self._pending_usage: list[UsageRecord] = []
        self._flush_timer: threading.Timer | None = None
        self._recent_usage: dict[str, deque[int]] = {}
        self._usage_in_tx: list[UsageRecord] = []

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
        thread). See ``active_credentials``. Exceptions are logged.
        """
        self._lease_listeners.append(listener)

    def remove_lease_listener(self, listener: Callable[[], None]) -> None:
        """Undo :meth:`add_lease_listener` (no error when absent)."""
        if listener in self._lease_listeners:
            self._lease_listeners.remove(listener)

    def _one(self, sql: str, args: SqlArgs = ()) -> DbRow | None:
        if self._pending_usage and "usage_records" in sql:
            self._flush_usage_locked()
        row = self._conn.execute(sql, args).fetchone()
        return dict(row) if row is not None else None

    def _all(self, sql: str, args: SqlArgs = ()) -> list[DbRow]:
        if self._pending_usage and "usage_records" in sql:
            self._flush_usage_locked()
        return [dict(r) for r in self._conn.execute(sql, args).fetchall()]

    def _count(self, sql: str, args: SqlArgs = ()) -> int:
        """The ``n`` column of a ``SELECT COUNT(*) AS n`` query (caller holds the lock)."""
        row = self._one(sql, args)
        return int(row["n"]) if row else 0

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

"""Send attempts (``POST /v2/messages/send``) and the outbox of undeliverable recipients."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tui.jsontypes import JsonObject
from tui.sandbox.state.db import Database, DbRow, new_id

SCHEMA = """
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
"""


@dataclass(slots=True)
class SendAttempt:
    """A send attempt, its JSON columns decoded."""

    seq: int
    id: str
    tenant_id: str
    agent_id: str | None
    mailbox_id: str
    to: list[str]
    subject: str
    text_body: str | None
    html_body: str | None
    status: str
    accepted: list[str]
    rejected: list[str]
    message_id: str | None
    response: str | None
    envelope: JsonObject | None
    error: str | None
    created_ms: int
    updated_ms: int


@dataclass(slots=True)
class SendOutcome:
    """How a send attempt ended (``accepted`` or ``failed``)."""

    status: str
    accepted: list[str]
    rejected: list[str]
    message_id: str | None
    response: str | None = None
    envelope: JsonObject | None = None
    error: str | None = None


@dataclass(slots=True)
class OutboxEntry:
    """A message kept for a recipient the sandbox does not deliver to."""

    seq: int
    send_attempt_id: str
    tenant_id: str
    sender: str
    recipient: str
    raw: bytes
    created_ms: int


def _attempt(row: DbRow) -> SendAttempt:
    for key in ("to", "accepted", "rejected", "envelope"):
        raw = row.pop(f"{key}_json")
        row[key] = json.loads(raw) if raw is not None else None
    return SendAttempt(**row)


class Sends(Database):
    """Send attempts and the outbox."""

    def successful_sends_since(self, tenant_id: str, since_ms: int) -> int:
        """The tenant's accepted send attempts created at or after ``since_ms``."""
        with self._lock:
            return self._count(
                "SELECT COUNT(*) AS n FROM send_attempts WHERE tenant_id=? AND status='accepted' "
                "AND created_ms>=?",
                (tenant_id, since_ms),
            )

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
        attempt_id = new_id()
        with self._tx() as db:
            now = self.now_ms()
            row = (text, html, now, now)
            db.execute(
                "INSERT INTO send_attempts (id, tenant_id, agent_id, mailbox_id, to_json, subject, "
                "text_body, html_body, status, created_ms, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                (attempt_id, tenant_id, agent_id, mailbox_id, json.dumps(to), subject, *row),
            )
        return attempt_id

    def finish_send_attempt(self, attempt_id: str, outcome: SendOutcome) -> None:
        """Record a send attempt's outcome."""
        with self._tx() as db:
            db.execute(
                "UPDATE send_attempts SET status=?, accepted_json=?, rejected_json=?, "
                "message_id=?, response=?, envelope_json=?, error=?, updated_ms=? WHERE id=?",
                (
                    outcome.status,
                    json.dumps(outcome.accepted),
                    json.dumps(outcome.rejected),
                    outcome.message_id,
                    outcome.response,
                    json.dumps(outcome.envelope) if outcome.envelope is not None else None,
                    outcome.error,
                    self.now_ms(),
                    attempt_id,
                ),
            )

    def send_attempts(self, tenant_id: str) -> list[SendAttempt]:
        """The tenant's send attempts, newest first."""
        with self._lock:
            rows = self._all(
                "SELECT * FROM send_attempts WHERE tenant_id=? ORDER BY created_ms DESC, seq DESC",
                (tenant_id,),
            )
        return [_attempt(row) for row in rows]

    def send_attempt(self, tenant_id: str, attempt_id: str) -> SendAttempt | None:
        """One of the tenant's send attempts."""
        with self._lock:
            row = self._one(
                "SELECT * FROM send_attempts WHERE tenant_id=? AND id=?", (tenant_id, attempt_id)
            )
        return _attempt(row) if row is not None else None

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

    def outbox(self, tenant_id: str | None = None) -> list[OutboxEntry]:
        """Outbox entries (oldest first), of one tenant or all."""
        with self._lock:
            if tenant_id is None:
                rows = self._all("SELECT * FROM outbox ORDER BY seq")
            else:
                rows = self._all(
                    "SELECT * FROM outbox WHERE tenant_id=? ORDER BY seq", (tenant_id,)
                )
        return [OutboxEntry(**r) for r in rows]

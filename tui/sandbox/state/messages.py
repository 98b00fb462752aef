"""Inbound messages (with their raw bytes) and the listeners told of each new one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tui.sandbox.state.db import Database, DbRow, SqlArgs, SqlValue, new_id

log = logging.getLogger("tui.sandbox")

SCHEMA = """
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
"""

_LIST_COLUMNS = (
    "seq, id, tenant_id, mailbox_id, sender, sender_domain, subject, raw_ref, received_ms, "
    "otp_code, verification_link, parsed_status, provider_message_id, header_message_id, "
    "envelope_from"
)
"""Every column of ``messages`` but the raw bytes (a listing never shows them)."""


@dataclass(slots=True)
class Message:
    """A stored message. ``raw`` is None in listings; ``seq`` is 0 for a listener's copy."""

    id: str
    tenant_id: str
    mailbox_id: str
    sender: str
    sender_domain: str
    subject: str
    raw_ref: str | None
    received_ms: int
    otp_code: str | None
    verification_link: str | None
    parsed_status: str
    provider_message_id: str | None
    header_message_id: str | None
    envelope_from: str | None
    raw: bytes | None = None
    seq: int = 0


MessageListener = Callable[[Message], None]


@dataclass(slots=True)
class StoredMail:
    """A message's bytes and where they go (to rebuild the Maildirs)."""

    address: str
    raw: bytes
    received_ms: int


class Messages(Database):
    """Messages."""

    def find_duplicate(self, mailbox_id: str, provider_message_id: str) -> str | None:
        """Id of a message already ingested in the mailbox with this provider message id."""
        with self._lock:
            row = self._one(
                "SELECT id FROM messages WHERE mailbox_id=? AND provider_message_id=?",
                (mailbox_id, provider_message_id),
            )
            return str(row["id"]) if row else None

    def insert_message(self, **fields: SqlValue) -> str:
        """Insert a message row (see the ``messages`` table); return its new id."""
        message_id = new_id()
        row: DbRow = {"id": message_id, **fields}
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        with self._tx() as db:
            db.execute(f"INSERT INTO messages ({columns}) VALUES ({marks})", tuple(row.values()))  # noqa: S608
        message = Message(**row)
        for listener in list(self._message_listeners):
            try:
                listener(message)
            except Exception:  # a listener (webhooks) must never fail an ingest
                log.exception("sandbox: message listener failed")
        return message_id

    def inbound_messages(self) -> Iterator[StoredMail]:
        """Every stored message with a body, oldest first (to rebuild the Maildirs)."""
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
                yield StoredMail(**row)

    def add_message_listener(self, listener: MessageListener) -> None:
        """Call ``listener(message)`` after each newly inserted message (in the inserting
        thread). Exceptions are logged."""
        self._message_listeners.append(listener)

    def remove_message_listener(self, listener: MessageListener) -> None:
        """Undo :meth:`add_message_listener` (no error when absent)."""
        if listener in self._message_listeners:
            self._message_listeners.remove(listener)

    def list_messages(
        self, tenant_id: str, mailbox_id: str, since_ms: int | None, limit: int
    ) -> list[Message]:
        """A mailbox's messages received at or after ``since_ms``, newest first (no bytes)."""
        sql = f"SELECT {_LIST_COLUMNS} FROM messages WHERE tenant_id=? AND mailbox_id=?"  # noqa: S608
        args: SqlArgs = (tenant_id, mailbox_id)
        if since_ms is not None:
            sql += " AND received_ms>=?"
            args += (since_ms,)
        sql += " ORDER BY received_ms DESC, seq DESC LIMIT ?"
        with self._lock:
            rows = self._all(sql, (*args, limit))
        return [Message(**r) for r in rows]

    def message(self, tenant_id: str | None, message_id: str) -> Message | None:
        """One message (of the tenant, unless ``tenant_id`` is None)."""
        with self._lock:
            if tenant_id is None:
                row = self._one("SELECT * FROM messages WHERE id=?", (message_id,))
            else:
                row = self._one(
                    "SELECT * FROM messages WHERE tenant_id=? AND id=?", (tenant_id, message_id)
                )
        return Message(**row) if row is not None else None

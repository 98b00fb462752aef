"""Mail read over IMAP, kept per lease so a reopened inbox fetches only what is new.

One SQLite file per profile, ``<state>/mail/cache.sqlite3`` (WAL; the folder 0700, the files
0600; a link there is never followed): per lease the reader's
:class:`~tui.imap.reader.MailboxState` (UIDVALIDITY, last UID), and one row per message with
its IMAP facts, its fetched bytes and what parsing them gave (so reopening a big mailbox reads
rows, it does not parse 10,000 messages again). Saving writes only the rows of messages not
there yet (one new mail, one row). A new UIDVALIDITY empties the lease's rows (the reader
re-syncs); releasing the lease deletes them. Only the newest :data:`KEEP` messages, at most
:data:`MAX_BYTES` in all, are kept. Nothing here raises on a damaged cache: it is rebuilt.

The cache of earlier versions (a folder per lease: ``index.json`` and ``<uid>.eml``) is
discarded when the new one is first opened: it is only a cache, and the mail is read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tui.files import O_NOFOLLOW, FileRefused, ensure_private_dir

if TYPE_CHECKING:
    from tui.extract import Extraction
    from tui.imap.message import ImapMessage, SubjectReading
    from tui.imap.state import MailboxState
    from tui.jsontypes import JsonObject, JsonValue

log = logging.getLogger(__name__)

T = TypeVar("T")

KEEP = 20_000
"""Messages kept per lease (the newest; within :data:`MAX_BYTES`). Older messages of a big
mailbox are kept as the headers the reader read (see ``ImapMessage.headers_only``)."""
MAX_BYTES = 50 * 1024 * 1024
"""Bytes kept per lease, newest first."""
DB_FILE = "cache.sqlite3"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    lease TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    lease TEXT NOT NULL,
    uid INTEGER NOT NULL,
    size INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    received TEXT,
    raw BLOB NOT NULL,
    facts TEXT,
    PRIMARY KEY (lease, uid)
);
"""
_PARTIAL, _HEADERS_ONLY, _LAZY = 1, 2, 4


class MailCache:
    """The on-disk cache of every lease's IMAP mail (thread-safe; call it off the UI thread)."""

    def __init__(self, root: Path, *, keep: int = KEEP, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        """``<state>/mail``."""
        self.keep = keep
        """Messages kept per lease."""
        self.max_bytes = max_bytes
        """Bytes kept per lease."""
        self.path = root / DB_FILE
        """The SQLite file."""
        self.last_written = 0
        """Message rows written by the last :meth:`save` (new mail only)."""
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def folder(self, lease_id: str) -> Path:
        """Where the old cache kept a lease's mail (an odd id hashed: never outside the root)."""
        name = (
            lease_id if _SAFE_ID.match(lease_id) else hashlib.sha256(lease_id.encode()).hexdigest()
        )
        return self.root / name

    # -- the database ----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        ensure_private_dir(self.root)
        for child in self.root.iterdir():  # the cache of earlier versions: folders per lease
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
        try:  # created 0600 (SQLite gives its -wal and -shm files the same mode), never a link
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise FileRefused(f"{self.path}: {exc.strerror or exc}") from None
        os.close(fd)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # a cache: cheap to lose, never corrupt
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        self._db = db
        return db

    def _run(self, what: str, work: Callable[[sqlite3.Connection], T], fallback: T) -> T:
        """``work(db)`` under the lock; a damaged or refused cache is logged and rebuilt."""
        with self._lock:
            try:
                return work(self._open())
            except FileRefused as exc:
                log.warning("ignoring the mail cache: %s", exc)
            except (sqlite3.DatabaseError, OSError) as exc:
                log.warning("the mail cache could not %s (%s): starting it again", what, exc)
                self._reset()
            return fallback

    def _reset(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{self.path}{suffix}")
            if not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.unlink()

    def close(self) -> None:
        """Close the database (reopened on the next use)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- load / save / drop ----------------------------------------------------------------------

    def load(self, lease_id: str) -> tuple[MailboxState, list[ImapMessage]]:
        """The saved state and messages (newest first); a fresh state when nothing usable."""
        from tui.imap.state import MailboxState

        def work(db: sqlite3.Connection) -> tuple[MailboxState, list[ImapMessage]]:
            row = db.execute("SELECT state FROM leases WHERE lease=?", (lease_id,)).fetchone()
            state = MailboxState.from_dict(_json(row[0]) if row else None)
            if state.uidvalidity is None:
                return MailboxState(), []
            rows = db.execute(
                "SELECT uid, size, flags, received, raw, facts FROM messages WHERE lease=? "
                "ORDER BY uid DESC",
                (lease_id,),
            ).fetchall()
            messages = []
            for row in rows:
                message = _message(*row)
                if message is not None:
                    messages.append(message)
            return state, messages

        nothing: list[ImapMessage] = []
        return self._run("be read", work, (MailboxState(), nothing))

    def save(self, lease_id: str, state: MailboxState, messages: list[ImapMessage]) -> None:
        """Remember ``state`` and ``messages`` (newest kept): rows already there are kept, so
        only new messages are written."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                self.last_written = self._save(db, lease_id, state, messages)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        self._run("be written", work, None)

    def _save(
        self,
        db: sqlite3.Connection,
        lease_id: str,
        state: MailboxState,
        messages: list[ImapMessage],
    ) -> int:
        row = db.execute("SELECT state FROM leases WHERE lease=?", (lease_id,)).fetchone()
        old = _json(row[0]) if row else None
        if (
            isinstance(old, dict)
            and old.get("uidvalidity") == state.uidvalidity
            and isinstance(old.get("last_uid"), int)
            and old["last_uid"] > state.last_uid
        ):
            return 0  # a newer save got here first
        if not isinstance(old, dict) or old.get("uidvalidity") != state.uidvalidity:
            db.execute("DELETE FROM messages WHERE lease=?", (lease_id,))  # never another UID's
            have: set[int] = set()
        else:
            have = {
                uid for (uid,) in db.execute("SELECT uid FROM messages WHERE lease=?", (lease_id,))
            }
        kept: list[ImapMessage] = []
        total = 0
        for message in sorted(messages, key=lambda m: m.uid, reverse=True)[: self.keep]:
            total += len(message.raw)
            if total > self.max_bytes and kept:
                break
            kept.append(message)
        new = [m for m in kept if m.uid not in have]
        db.executemany(
            "INSERT INTO messages (lease, uid, size, flags, received, raw, facts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_row(lease_id, m) for m in new],
        )
        if have:
            lowest = kept[-1].uid if kept else None
            gone = have - {m.uid for m in kept}
            if lowest is not None:
                gone = {uid for uid in gone if uid < lowest}  # below what is kept: too old
            db.executemany(
                "DELETE FROM messages WHERE lease=? AND uid=?", [(lease_id, uid) for uid in gone]
            )
        db.execute(
            "INSERT INTO leases (lease, state) VALUES (?, ?) "
            "ON CONFLICT(lease) DO UPDATE SET state=excluded.state",
            (lease_id, json.dumps(state.to_dict())),
        )
        return len(new)

    def drop(self, lease_id: str) -> None:
        """Forget a lease's mail (released: nobody can read that mailbox any more)."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM messages WHERE lease=?", (lease_id,))
            db.execute("DELETE FROM leases WHERE lease=?", (lease_id,))

        self._run("forget a lease", work, None)

    def count(self, lease_id: str) -> int:
        """Messages kept for a lease."""

        def work(db: sqlite3.Connection) -> int:
            (n,) = db.execute("SELECT COUNT(*) FROM messages WHERE lease=?", (lease_id,)).fetchone()
            return int(n)

        return self._run("be read", work, 0)


# -- rows ----------------------------------------------------------------------------------------


def _json(text: object) -> JsonValue:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _row(lease_id: str, m: ImapMessage) -> tuple[str | int | bytes | None, ...]:
    flags = (_PARTIAL if m.partial else 0) | (_HEADERS_ONLY if m.headers_only else 0)
    flags |= _LAZY if m.lazy else 0
    facts: JsonObject = {
        "message_id": m.message_id,
        "sender": m.sender,
        "sender_name": m.sender_name,
        "subject": m.subject,
        "date": m.date.isoformat() if m.date else None,
        "notice": m.notice,
    }
    from tui.imap.message import SubjectReading  # (the cache opens before IMAP is needed)

    reading = m.reading
    if isinstance(reading, SubjectReading):
        # a subject still to be read (or read from it again): kept as its source, so saving
        # a big mailbox never reads thousands of subjects, nor does reopening it
        facts["read"] = {"subject": reading.subject, "sender": reading.sender}
    else:
        facts["x"] = _extraction_facts(reading)
    received = m.received.isoformat() if m.received else None
    return (lease_id, m.uid, m.size, flags, received, m.raw, json.dumps(facts))


def _extraction_facts(x: Extraction) -> JsonObject:
    return {
        "otp": x.otp,
        "link": x.link,
        "otp_candidates": [[c.value, c.score, c.reason] for c in x.otp_candidates],
        "link_candidates": [[c.value, c.score, c.reason] for c in x.link_candidates],
        "subject": x.subject,
        "text": x.text,
        "html": x.html,
        "sender": x.sender,
        "attachments": [[a.filename, a.content_type, a.size] for a in x.attachments],
    }


def _message(  # Any: the row's SQLite cells, checked by the conversions below
    uid: Any, size: Any, flags: Any, received: Any, raw: Any, facts: Any
) -> ImapMessage | None:
    """A cached row as an :class:`ImapMessage`: from its parsed facts, or parsed again from its
    bytes when they are missing or damaged; None for a row that makes no sense."""
    from tui.imap.message import ImapMessage, parse_message

    try:
        uid, size, flags = int(uid), int(size), int(flags)
        raw = bytes(raw)
        when = datetime.fromisoformat(received) if received else None
    except (TypeError, ValueError):
        return None
    partial, headers_only, lazy = (bool(flags & f) for f in (_PARTIAL, _HEADERS_ONLY, _LAZY))
    data = _json(facts)
    if isinstance(data, dict):
        try:
            date = data.get("date")
            return ImapMessage(
                uid=uid,
                size=size,
                partial=partial,
                message_id=_str_or_none(data.get("message_id")),
                sender=str(data["sender"]),
                sender_name=str(data["sender_name"]),
                subject=str(data["subject"]),
                date=datetime.fromisoformat(date) if isinstance(date, str) else None,
                received=when,
                reading=_reading(data, headers_only),
                raw=raw,
                notice=_str_or_none(data.get("notice")),
                headers_only=headers_only,
                lazy=lazy,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # parsed again below
    return parse_message(
        uid,
        raw,
        size=size,
        partial=partial,
        internaldate=when,
        headers_only=headers_only,
        lazy=lazy,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _reading(data: JsonObject, headers_only: bool) -> Extraction | SubjectReading:
    """The extraction kept, or a header-only message's subject still to be read."""
    from tui.imap.message import LONG_SUBJECT, SubjectReading

    read = data.get("read")
    if isinstance(read, dict) and headers_only:
        subject, sender = read["subject"], read["sender"]
        if isinstance(subject, str) and isinstance(sender, str) and len(subject) <= LONG_SUBJECT:
            return SubjectReading(subject, sender)
        raise ValueError("a damaged subject")  # (a long one is never left to read later)
    x = data["x"]
    if not isinstance(x, dict):
        raise ValueError("a damaged extraction")
    return _extraction(x)


def _extraction(x: JsonObject) -> Extraction:
    from tui.extract import Attachment, Extraction
    from tui.extract.model import Candidate

    return Extraction(
        otp=_str_or_none(x.get("otp")),
        link=_str_or_none(x.get("link")),
        otp_candidates=[Candidate(str(v), float(s), str(r)) for v, s, r in x["otp_candidates"]],
        link_candidates=[Candidate(str(v), float(s), str(r)) for v, s, r in x["link_candidates"]],
        subject=str(x["subject"]),
        text=str(x["text"]),
        html=_str_or_none(x.get("html")),
        sender=str(x["sender"]),
        attachments=[Attachment(_str_or_none(f), str(c), int(n)) for f, c, n in x["attachments"]],
    )

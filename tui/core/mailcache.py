"""Mail read over IMAP, kept per lease so a reopened inbox fetches only what is new.

One folder per lease under ``<state>/mail/`` (0700): ``index.json`` holds the reader's
:class:`~tui.imap.reader.MailboxState` (UIDVALIDITY, last UID) and each message's IMAP facts,
``<uid>.eml`` its fetched bytes (0600; the headers of an older message read by its headers
only are kept in the index). A new UIDVALIDITY empties it (the reader re-syncs);
releasing the lease deletes it. Only the newest :data:`KEEP` messages, at most
:data:`MAX_BYTES` in all, are kept. Nothing here raises on a damaged cache: it is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.files import (
    MAX_STATE_FILE,
    FileRefused,
    ensure_private_dir,
    read_json,
    read_state,
    write_private,
)

MAX_CACHED_MESSAGE = MAX_STATE_FILE
"""Largest cached message read back (the cache holds 50 MB at most in all)."""

if TYPE_CHECKING:
    from tui.imap.message import ImapMessage
    from tui.imap.reader import MailboxState

log = logging.getLogger(__name__)

KEEP = 20_000
"""Messages kept per lease (the newest; within :data:`MAX_BYTES`). Older messages of a big
mailbox are kept as the headers the reader read (see ``ImapMessage.headers_only``)."""
MAX_BYTES = 50 * 1024 * 1024
"""Bytes kept per lease, newest first."""
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class MailCache:
    """The on-disk cache of every lease's IMAP mail (thread-safe; call it off the UI thread)."""

    def __init__(self, root: Path, *, keep: int = KEEP, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        """``<state>/mail``."""
        self.keep = keep
        """Messages kept per lease."""
        self.max_bytes = max_bytes
        """Bytes kept per lease."""
        self._lock = threading.Lock()

    def folder(self, lease_id: str) -> Path:
        """The lease's folder (an odd id is hashed: it never names a path outside the root)."""
        name = (
            lease_id if _SAFE_ID.match(lease_id) else hashlib.sha256(lease_id.encode()).hexdigest()
        )
        return self.root / name

    def load(self, lease_id: str) -> tuple[MailboxState, list[ImapMessage]]:
        """The saved state and messages (newest first); a fresh state when nothing usable."""
        from tui.imap.message import parse_message
        from tui.imap.reader import MailboxState

        folder = self.folder(lease_id)
        try:
            index = read_json(folder / "index.json", None)
        except FileRefused as exc:  # a link or another user's file: not ours to trust
            log.warning("ignoring the mail cache in %s: %s", folder, exc)
            return MailboxState(), []
        if not isinstance(index, dict):
            return MailboxState(), []
        state = MailboxState.from_dict(index.get("state"))
        metas = index.get("messages")
        messages: list[ImapMessage] = []
        for key, meta in metas.items() if isinstance(metas, dict) else []:
            try:
                uid = int(key)
                headers = meta.get("headers")
                raw = (
                    headers.encode("latin-1")
                    if isinstance(headers, str)
                    else read_state(folder / f"{uid}.eml", MAX_CACHED_MESSAGE)
                )
                if raw is None:
                    continue
                received = meta.get("received")
                messages.append(
                    parse_message(
                        uid,
                        raw,
                        size=int(meta.get("size", len(raw))),
                        partial=bool(meta.get("partial")),
                        internaldate=datetime.fromisoformat(received) if received else None,
                        headers_only=bool(meta.get("headers_only")),
                        lazy=bool(meta.get("lazy")),
                    )
                )
            except (OSError, ValueError, TypeError, AttributeError, FileRefused):
                continue  # a missing or damaged entry is fetched again if still wanted
        if state.uidvalidity is None:
            return MailboxState(), []
        messages.sort(key=lambda m: m.uid, reverse=True)
        return state, messages

    def save(self, lease_id: str, state: MailboxState, messages: list[ImapMessage]) -> None:
        """Remember ``state`` and ``messages`` (newest kept); files already there are kept."""
        folder = self.folder(lease_id)
        with self._lock:
            try:
                self._save(folder, state, messages)
            except (OSError, FileRefused) as exc:
                log.warning("cannot write the mail cache in %s: %s", folder, exc)

    def _save(self, folder: Path, state: MailboxState, messages: list[ImapMessage]) -> None:
        old = read_json(folder / "index.json", None)
        old_state = old.get("state") if isinstance(old, dict) else None
        if (
            isinstance(old_state, dict)
            and old_state.get("uidvalidity") == state.uidvalidity
            and isinstance(old_state.get("last_uid"), int)
            and old_state["last_uid"] > state.last_uid
        ):
            return  # a newer save got here first
        ensure_private_dir(self.root)
        ensure_private_dir(folder)
        if not isinstance(old_state, dict) or old_state.get("uidvalidity") != state.uidvalidity:
            for path in folder.glob("*.eml"):  # other UIDs: never reuse a file under a new one
                path.unlink(missing_ok=True)
        kept: dict[str, Any] = {}
        total = 0
        for message in sorted(messages, key=lambda m: m.uid, reverse=True)[: self.keep]:
            total += len(message.raw)
            if total > self.max_bytes and kept:
                break
            meta: dict[str, Any] = {
                "size": message.size,
                "partial": message.partial,
                "received": message.received.isoformat() if message.received else None,
                "headers_only": message.headers_only,
                "lazy": message.lazy,
            }
            if message.headers_only:  # small and many: in the index, not a file each
                meta["headers"] = message.raw.decode("latin-1")
            else:
                path = folder / f"{message.uid}.eml"
                if not path.exists():
                    write_private(path, message.raw, sync=False)  # a cache: cheap to lose
            kept[str(message.uid)] = meta
        # Compact (the C encoder: a pretty-printed index of 10,000 entries held the GIL, and so
        # the UI, for about a third of a second).
        index = json.dumps({"state": state.to_dict(), "messages": kept}, separators=(",", ":"))
        write_private(folder / "index.json", index.encode(), sync=False)
        for path in folder.glob("*.eml"):
            if path.stem not in kept:
                with contextlib.suppress(OSError):
                    path.unlink()

    def drop(self, lease_id: str) -> None:
        """Forget a lease's mail (released: nobody can read that mailbox any more)."""
        with self._lock:
            shutil.rmtree(self.folder(lease_id), ignore_errors=True)

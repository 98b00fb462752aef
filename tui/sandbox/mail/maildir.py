"""One Maildir per mailbox address: how inbound mail reaches the sandbox's IMAP server.

Delivery follows the Maildir rule that makes it atomic: the message is written and synced in
``<maildir>/tmp/``, then renamed into ``<maildir>/new/``, where an IMAP server (Dovecot) picks
it up. When the process runs as root, directories and files take the owner of the root
directory (the mail uid Dovecot reads them as).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tui.sandbox.files import make_private_dir

if TYPE_CHECKING:
    from tui.sandbox.state.messages import Message, MessageListener
    from tui.sandbox.state.store import Store

log = logging.getLogger("tui.sandbox.maildir")

SUBDIRS = ("tmp", "new", "cur")
"""The three folders of a Maildir."""

_counter = itertools.count()
_SAFE_ADDRESS = re.compile(r"^[a-z0-9][a-z0-9._+\-]*@[a-z0-9][a-z0-9.\-]*$")


class InvalidAddressError(ValueError):
    """An address that cannot name a Maildir folder (path separators, odd characters)."""


def _hostname() -> str:
    return socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"


class Maildirs:
    """The Maildirs of every address under ``root`` (``root/<address>/{tmp,new,cur}``)."""

    def __init__(self, root: str | os.PathLike[str], *, owner: tuple[int, int] | None = None):
        self.root = Path(root)
        """The folder holding one Maildir per address."""
        self.owner = owner
        """``(uid, gid)`` given to new folders and files when running as root, else None."""
        self._lock = threading.Lock()

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> Maildirs:
        """The Maildirs under an existing or new ``root``; as root, files take its owner."""
        path = make_private_dir(root)
        owner = None
        if os.geteuid() == 0:
            st = path.stat()
            owner = (st.st_uid, st.st_gid)
        return cls(path, owner=owner)

    def path_for(self, address: str) -> Path:
        """The Maildir of ``address`` (lower-cased); refuses names that are not plain."""
        name = address.strip().lower()
        if not _SAFE_ADDRESS.match(name) or ".." in name:
            raise InvalidAddressError(f"not a plain mailbox address: {address!r}")
        return self.root / name

    def _chown(self, path: Path) -> None:
        if self.owner is not None and os.geteuid() == 0:
            os.chown(path, *self.owner)

    def ensure(self, address: str) -> Path:
        """Create the Maildir of ``address`` if needed; return its path."""
        box = self.path_for(address)
        with self._lock:
            for sub in ("", *SUBDIRS):
                folder = box / sub if sub else box
                if not folder.is_dir():
                    make_private_dir(folder)
                    self._chown(folder)
        return box

    def deliver(self, address: str, raw: bytes, *, received_s: float | None = None) -> Path:
        """Write ``raw`` into the Maildir of ``address`` (tmp/, then rename into new/).

        ``received_s`` becomes the file's mtime, which IMAP servers report as INTERNALDATE.
        Returns the path in ``new/``.
        """
        box = self.ensure(address)
        now = time.time()
        name = (
            f"{int(now)}.M{int((now % 1) * 1_000_000):06d}P{os.getpid()}"
            f"Q{next(_counter)}R{os.urandom(4).hex()}.{_hostname()}"
        )
        tmp = box / "tmp" / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            self._chown(tmp)
            if received_s is not None:
                os.utime(tmp, (received_s, received_s))
            final = box / "new" / name
            os.rename(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return final

    def messages(self, address: str) -> list[Path]:
        """Every message file of ``address`` (new/ and cur/), oldest name first."""
        box = self.path_for(address)
        found: list[Path] = []
        for sub in ("new", "cur"):
            folder = box / sub
            if folder.is_dir():
                found.extend(p for p in folder.iterdir() if p.is_file())
        return sorted(found, key=lambda p: p.name)

    def listener(self, store: Store) -> MessageListener:
        """A ``Store.add_message_listener`` callback that copies each new message here.

        ``store`` resolves the row's mailbox to its address. Failures are logged by the store
        and never fail the ingest.
        """

        def on_message(row: Message) -> None:
            if not row.raw:
                return
            address = store.mailbox_address(row.mailbox_id)
            if address is None:
                return
            received_s = row.received_ms / 1000 if isinstance(row.received_ms, int) else None
            self.deliver(address, bytes(row.raw), received_s=received_s)

        return on_message

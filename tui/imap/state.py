"""What an IMAP reader reports and remembers: the mailbox's state (to persist), the connection
status (for the status bar) and one update of :meth:`tui.imap.reader.ImapReader.run`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tui.imap.message import ImapMessage


@dataclass
class MailboxState:
    """Where a reader stopped in one mailbox; persist it with :meth:`to_dict`."""

    uidvalidity: int | None = None
    """The mailbox's UIDVALIDITY when ``last_uid`` was read."""
    last_uid: int = 0
    """Highest UID already fetched (0: nothing yet)."""
    uidnext: int | None = None
    """UIDNEXT at the last SELECT (informational)."""

    def to_dict(self) -> dict[str, int | None]:
        """A JSON-ready dict."""
        return {"uidvalidity": self.uidvalidity, "last_uid": self.last_uid, "uidnext": self.uidnext}

    @classmethod
    def from_dict(cls, data: Any) -> MailboxState:
        """The inverse of :meth:`to_dict`; anything malformed gives a fresh state."""
        if not isinstance(data, dict):
            return cls()

        def number(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(number("uidvalidity"), max(0, number("last_uid") or 0), number("uidnext"))


StatusState = Literal["connecting", "live", "offline", "auth_failed", "error", "closed"]


@dataclass(frozen=True)
class ImapStatus:
    """What the status bar shows about the IMAP source (see :attr:`text`)."""

    state: StatusState = "connecting"
    """``connecting``, ``live``, ``offline`` (retrying), ``auth_failed``, ``error``, ``closed``."""
    mode: Literal["idle", "polling"] | None = None
    """While live: ``idle`` (push) or ``polling`` (NOOP)."""
    error: str | None = None
    """The last failure's safe one-line reason."""
    kind: str | None = None
    """The failure's kind (``auth``, ``unreachable``, ``tls``, ``protocol``, ``closed``...)."""
    retry_in: float | None = None
    """Seconds until the next attempt, while offline."""
    failures: int = 0
    """Consecutive failed attempts."""

    @property
    def live(self) -> bool:
        """True while connected and watching INBOX."""
        return self.state == "live"

    @property
    def text(self) -> str:
        """``connecting``, ``live (IDLE)``, ``live (polling)``, ``auth failed: …``,
        ``offline: … retrying in Ns``, ``error: …`` or ``closed``."""
        if self.state == "live":
            return "live (IDLE)" if self.mode == "idle" else "live (polling)"
        if self.state == "auth_failed":
            return f"auth failed: {self.error or 'login refused'}"
        if self.state == "offline":
            retry = f"; retrying in {self.retry_in:.0f}s" if self.retry_in is not None else ""
            return f"offline: {self.error or 'disconnected'}{retry}"
        if self.state == "error":
            return f"error: {self.error or 'unknown'}"
        return self.state


@dataclass(frozen=True)
class ImapUpdate:
    """One report of :meth:`ImapReader.run` (safe to coalesce: ``messages`` is the whole list)."""

    status: ImapStatus
    """The connection state."""
    new: list[ImapMessage] = field(default_factory=list)
    """Messages fetched since the previous update, oldest first."""
    messages: list[ImapMessage] = field(default_factory=list)
    """Every message fetched in this run (up to ``keep``), newest first."""
    state: MailboxState = field(default_factory=MailboxState)
    """A copy of the reader's state, to persist."""
    reset: bool = False
    """UIDVALIDITY changed: drop IMAP messages reported before this update."""

    def __repr__(self) -> str:
        # Short: a worker given an update describes itself with its repr (Textual's @work),
        # and the repr of 10,000 messages with their bytes took the UI half a second.
        return (
            f"ImapUpdate(status={self.status!r}, new={len(self.new)} messages, "
            f"messages={len(self.messages)}, state={self.state!r}, reset={self.reset})"
        )

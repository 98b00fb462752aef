"""One small exception hierarchy for the IMAP reader, with messages safe to show and log.

``str(exc)`` (= :meth:`ImapError.user_message`) is one line a status bar can show. It never
contains the password: every message is built by this package (never copied from a library
exception that might echo a command) and passes through :func:`safe_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
MAX_REASON = 160


def safe_text(text: str, secrets: Iterable[str] = (), limit: int = MAX_REASON) -> str:
    """One line: control characters squeezed to spaces, ``secrets`` masked, length capped."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ImapError(Exception):
    """Base class: ``reason`` is a short, safe, one-line explanation."""

    kind = "error"
    """Short machine name of the failure (``auth``, ``unreachable``, ``tls``, ``protocol``...)."""

    def __init__(self, reason: str) -> None:
        self.reason = safe_text(reason)
        """The one-line explanation (no password, no control characters)."""
        super().__init__(self.reason)

    def user_message(self) -> str:
        """The line for a status bar or stderr."""
        return self.reason


class ImapConfigError(ImapError):
    """The settings cannot work (no host, a bad port, plaintext to a non-loopback host)."""

    kind = "config"


class ImapAuthError(ImapError):
    """The server refused the login (wrong password, a released lease...)."""

    kind = "auth"


class ImapUnreachableError(ImapError):
    """The host could not be resolved or reached, or did not answer in time."""

    kind = "unreachable"


class ImapTLSError(ImapError):
    """The TLS handshake failed (certificate, protocol) or STARTTLS is not offered."""

    kind = "tls"


class ImapProtocolError(ImapError):
    """The server answered something unexpected (a refused SELECT, a malformed response)."""

    kind = "protocol"


class ImapClosedError(ImapProtocolError):
    """The server closed the connection (BYE, a kicked session, a dropped socket)."""

    kind = "closed"

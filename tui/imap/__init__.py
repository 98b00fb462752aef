"""Read a lease's full messages over IMAP (aioimaplib): bodies, extraction, IDLE push.

Public API (imported lazily, so ``import tui.imap`` stays cheap)::

    from tui.imap import (
        ImapSettings, resolve_imap_settings,          # where: host, port, tls/starttls/plain
        ImapReader, MailboxState, ImapStatus, ImapUpdate,
        ImapMessage, parse_message,
        ImapError, ImapAuthError, ImapUnreachableError, ImapTLSError, ImapProtocolError,
        ImapClosedError, ImapConfigError,
    )

No Textual here; the inbox runs :meth:`ImapReader.run` in a worker beside the API poller.

Modules: ``reader`` (:class:`ImapReader`: the reconnecting loop, IDLE or polling, reports),
``connection`` (connect, log in, SELECT, commands, close), ``sync`` (what is new, bodies,
older messages by their header fields, one message whole), ``client`` (aioimaplib with linear
response handling), ``message`` (parsing), ``protocol`` (response parsing), ``state``
(MailboxState, ImapStatus, ImapUpdate), ``settings``, ``errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.imap.errors import (
        ImapAuthError,
        ImapClosedError,
        ImapConfigError,
        ImapError,
        ImapProtocolError,
        ImapTLSError,
        ImapUnreachableError,
    )
    from tui.imap.message import ImapMessage, parse_message
    from tui.imap.reader import ImapReader
    from tui.imap.settings import ImapSettings, is_loopback, resolve_imap_settings
    from tui.imap.state import ImapStatus, ImapUpdate, MailboxState

__all__ = [
    "ImapAuthError",
    "ImapClosedError",
    "ImapConfigError",
    "ImapError",
    "ImapMessage",
    "ImapProtocolError",
    "ImapReader",
    "ImapSettings",
    "ImapStatus",
    "ImapTLSError",
    "ImapUnreachableError",
    "ImapUpdate",
    "MailboxState",
    "is_loopback",
    "parse_message",
    "resolve_imap_settings",
]

_WHERE = {
    "ImapAuthError": "tui.imap.errors",
    "ImapClosedError": "tui.imap.errors",
    "ImapConfigError": "tui.imap.errors",
    "ImapError": "tui.imap.errors",
    "ImapProtocolError": "tui.imap.errors",
    "ImapTLSError": "tui.imap.errors",
    "ImapUnreachableError": "tui.imap.errors",
    "ImapMessage": "tui.imap.message",
    "parse_message": "tui.imap.message",
    "ImapReader": "tui.imap.reader",
    "ImapStatus": "tui.imap.state",
    "ImapUpdate": "tui.imap.state",
    "MailboxState": "tui.imap.state",
    "ImapSettings": "tui.imap.settings",
    "is_loopback": "tui.imap.settings",
    "resolve_imap_settings": "tui.imap.settings",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)

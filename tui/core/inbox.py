"""Inbox items: what the UI and the CLI show for one message, whatever its source.

The API's own parser is often wrong (it returns words such as ``WITHIN`` or ``NULL`` as codes,
and years as codes); the reference server also inserts a fake sample message with code
``123456`` on every allocation. This module decides what to present as *the* code, what is only
the server's guess, and what is a sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.api.models import Message

SAMPLE_SENDER = "noreply@example.com"
SAMPLE_LINK = "https://example.com/verify?token=test-token"

_HAS_DIGIT = re.compile(r"\d")


def is_sample(message: Message) -> bool:
    """The reference server's fake message inserted on allocation (never a real code)."""
    return (
        message.sender.lower() == SAMPLE_SENDER and (message.verification_link or "") == SAMPLE_LINK
    )


def plausible_server_code(code: str | None) -> bool:
    """A server code worth showing as a code: has a digit, 4+ chars (``WITHIN`` is not)."""
    return bool(code) and len(code or "") >= 4 and bool(_HAS_DIGIT.search(code or ""))


@dataclass
class InboxItem:
    """One row of an inbox, merged from the API (and, later, IMAP)."""

    message: Message
    """The API's message (subject, sender, server parse)."""
    code: str | None = None
    """The code the client trusts enough to show as the code (None: no code)."""
    code_source: str = ""
    """``body`` (our extractor on the full message), ``subject`` or ``server``."""
    server_guess: str | None = None
    """The server's ``otp_code`` when it differs from :attr:`code` (shown as its guess)."""
    link: str | None = None
    """The verification link to offer."""
    sample: bool = False
    """The fake sample message of the reference server."""
    before_lease: bool = False
    """Received before the current lease started (an earlier lessee's mail)."""
    after_lease: bool = False
    """Received after the lease was released (a later lessee's mail)."""

    @property
    def foreign(self) -> bool:
        """Another lessee's mail (before the lease started or after it ended)."""
        return self.before_lease or self.after_lease

    body_text: str | None = None
    """The text body, when a source provided one."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Source-specific details (IMAP uid, attachments...)."""

    @property
    def message_id(self) -> str:
        """The API message id."""
        return self.message.message_id

    @property
    def received_at(self) -> datetime | None:
        """When it arrived."""
        return self.message.received_at


def build_item(
    message: Message, lease_started: datetime | None = None, lease_ended: datetime | None = None
) -> InboxItem:
    """Decide code, guess, link and flags for an API message.

    Our own extractor on the subject wins when it finds a code (the subject is the only text
    the API returns). The server's code is shown as the code only when it looks like one and
    came from the body; a code the server took from the subject that our extractor rejects (a
    year, an order number) or a word such as ``WITHIN`` is only the server's guess.
    """
    from tui.extract import analyze_parts

    sample = is_sample(message)
    ours = analyze_parts(subject=message.subject) if message.subject else None
    server_code = message.otp_code
    code: str | None = None
    source = ""
    in_subject = bool(server_code) and server_code.lower() in message.subject.lower()
    if ours is not None and ours.otp:
        code, source = ours.otp, "subject"
    elif plausible_server_code(server_code) and not in_subject:
        # Found in the body, which the client cannot see: the server's word for it.
        code, source = server_code, "server"
    guess = server_code if server_code and server_code != code else None
    received = message.received_at
    before = bool(lease_started and received and received < lease_started)
    after = bool(lease_ended and received and received > lease_ended)
    return InboxItem(
        message=message,
        code=None if sample else code,
        code_source=source,
        server_guess=server_code if sample else guess,
        link=message.verification_link,
        sample=sample,
        before_lease=before,
        after_lease=after,
    )

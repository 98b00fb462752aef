"""One fetched message: IMAP facts (uid, size, dates), headers, and the extractor's result.

Parsing never raises: a header the stdlib cannot parse counts as absent, and the body goes
through :func:`tui.extract.analyze_message`, which copes with broken charsets and malformed
MIME. Header strings are stripped of control characters and capped; bodies stay as the
extractor returns them (render them as plain text, never as markup).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime

from tui.escapes import strip_escapes
from tui.extract import Attachment, Extraction, analyze_message

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
MAX_HEADER = 998
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_INTERNALDATE = re.compile(
    r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\s*$"
)


def clean_header(value: str | None, limit: int = MAX_HEADER) -> str:
    """One line: control and bidi characters squeezed to spaces, capped at ``limit``."""
    if not value:
        return ""
    text = " ".join(_CONTROL.sub(" ", strip_escapes(str(value))).split())
    return text[:limit]


def parse_internaldate(value: str | None) -> datetime | None:
    """``25-Nov-2026 15:50:28 +0000`` -> an aware datetime (locale-independent); else None."""
    match = _INTERNALDATE.match(value or "")
    if not match:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = match.groups()
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    try:
        return datetime(
            int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=timezone(offset)
        )
    except ValueError:
        return None


def parse_date(value: str | None) -> datetime | None:
    """An RFC 5322 ``Date`` -> an aware datetime (a date without zone is taken as UTC)."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ImapMessage:
    """A message read over IMAP (``raw`` is the fetched bytes, possibly cut, see ``partial``)."""

    uid: int
    """IMAP UID in INBOX (valid with the reader's ``uidvalidity``)."""
    size: int
    """RFC822.SIZE: the full size on the server, in bytes."""
    partial: bool
    """True when only the first ``len(raw)`` bytes were fetched (over the size limit)."""
    message_id: str | None
    """The ``Message-ID`` header (with its angle brackets), if any."""
    sender: str
    """The sender's address (lower-cased), from ``From``; may be empty."""
    sender_name: str
    """The display name of ``From``; may be empty."""
    subject: str
    """The decoded subject (one clean line)."""
    date: datetime | None
    """The ``Date`` header as an aware datetime, if it parses."""
    received: datetime | None
    """The server's INTERNALDATE (when it arrived), as an aware datetime."""
    extraction: Extraction
    """The extractor's result: ``otp``, ``link``, ``text``, ``html``, ``attachments``..."""
    raw: bytes
    """The fetched RFC 5322 bytes (for ``show --raw`` and saving attachments)."""
    notice: str | None = None
    """A note for the reader of the message (e.g. why the body is incomplete)."""
    headers_only: bool = False
    """Only the header was fetched (an older message of a big mailbox): fetch it whole to
    show its body."""
    lazy: bool = False
    """A big message of which a sync read only the start on purpose (``partial`` too): fetch
    it (up to the size limit) when it is shown."""

    @property
    def otp(self) -> str | None:
        """The extracted one-time code, if any."""
        return self.extraction.otp

    @property
    def link(self) -> str | None:
        """The extracted verification link, if any."""
        return self.extraction.link

    @property
    def text(self) -> str:
        """The readable body (the text part, or the HTML part as text)."""
        return self.extraction.text

    @property
    def html(self) -> str | None:
        """The decoded HTML part (hostile: never render it as markup)."""
        return self.extraction.html

    @property
    def attachments(self) -> list[Attachment]:
        """The attachments (name, type, decoded size)."""
        return self.extraction.attachments

    @property
    def when(self) -> datetime | None:
        """The best arrival time: INTERNALDATE, else the Date header."""
        return self.received or self.date


def size_text(n: int) -> str:
    """``532 bytes``, ``12 KB``, ``1.4 MB``."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def parse_message(
    uid: int,
    raw: bytes,
    *,
    size: int | None = None,
    partial: bool = False,
    internaldate: str | datetime | None = None,
    headers_only: bool = False,
    lazy: bool = False,
) -> ImapMessage:
    """Build an :class:`ImapMessage` from fetched bytes; never raises on hostile input."""
    raw = bytes(raw)
    headers = None
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    except Exception:  # the stdlib parser is lenient, but never let a header crash a fetch
        headers = None

    def header(name: str) -> str | None:
        if headers is None:
            return None
        try:
            value = headers.get(name)
        except Exception:  # a header policy.default cannot parse counts as absent
            return None
        return str(value) if value is not None else None

    extraction = analyze_message(raw)
    name, address = parseaddr(clean_header(extraction.sender or header("From")))
    received = (
        internaldate if isinstance(internaldate, datetime) else parse_internaldate(internaldate)
    )
    full = size if size is not None else len(raw)
    notice = None
    if headers_only:
        partial = True
        notice = "Only the headers of this older message were read; it is fetched when shown."
    elif lazy:
        partial = True
        notice = (
            f"Only the first {size_text(len(raw))} of this {size_text(full)} message were read "
            "while the mailbox synced; the rest is fetched when it is shown."
        )
    elif partial:
        notice = (
            f"Only the first {size_text(len(raw))} of this {size_text(full)} message were "
            "fetched; the body and attachments may be incomplete."
        )
    message_id = clean_header(header("Message-ID"), 400) or None
    return ImapMessage(
        uid=uid,
        size=full,
        partial=partial,
        message_id=message_id,
        sender=clean_header(address, 320).lower(),
        sender_name=clean_header(name, 200),
        subject=clean_header(extraction.subject or header("Subject")),
        date=parse_date(header("Date")),
        received=received,
        extraction=extraction,
        raw=raw,
        notice=notice,
        headers_only=headers_only,
        lazy=lazy,
    )

"""One fetched message: IMAP facts (uid, size, dates), headers, and the extractor's result.

Parsing never raises: a header the stdlib cannot parse counts as absent, and the body goes
through :func:`tui.extract.analyze_message`, which copes with broken charsets and malformed
MIME. Header strings are stripped of control characters and capped; bodies stay as the
extractor returns them (render them as plain text, never as markup).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from functools import lru_cache

from tui.escapes import strip_escapes
from tui.extract import (
    Attachment,
    Extraction,
    analyze_message,
    analyze_parts,
    clean_subject,
)
from tui.extract.decode import decode_header_value

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


@lru_cache(maxsize=4096)
def _address(value: str) -> tuple[str, str]:
    """``parseaddr`` of a clean ``From``, remembered: a mailbox has mail from few senders."""
    return parseaddr(value)


@lru_cache(maxsize=4096)
def _decoded(value: str | None) -> str:
    """:func:`decode_header_value` of a header field, remembered: senders and subjects repeat."""
    return decode_header_value(value)


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


class SubjectReading:
    """The extractor's reading of a subject alone, done when first asked for.

    A big mailbox lists thousands of older messages by their header fields; the extractor on
    each subject (~80 us) is most of a listing's CPU, and only the rows shown (or the filter,
    or the inbox's background warming) need it. Reading twice (two threads at once) gives the
    same result: the extractor is a pure function of the text."""

    __slots__ = ("_done", "sender", "subject")

    def __init__(self, subject: str, sender: str) -> None:
        self.subject = subject
        """The decoded ``Subject`` field, as the extractor is given it."""
        self.sender = sender
        """The decoded ``From`` field (the extraction's ``sender``)."""
        self._done: Extraction | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SubjectReading):
            return NotImplemented
        return (self.subject, self.sender) == (other.subject, other.sender)

    def __hash__(self) -> int:
        return hash((self.subject, self.sender))

    def __repr__(self) -> str:
        return f"SubjectReading({self.subject[:60]!r}, done={self._done is not None})"

    @property
    def done(self) -> Extraction | None:
        """The reading when it has been done, else None (never does it)."""
        return self._done

    @property
    def extraction(self) -> Extraction:
        """The reading (done now, once, if not yet)."""
        done = self._done
        if done is None:
            done = analyze_parts(subject=self.subject, sender=self.sender)
            self._done = done
        return done


@dataclass(frozen=True, slots=True)
class ImapMessage:
    """A message read over IMAP (``raw`` is the fetched bytes, possibly cut, see ``partial``).

    Slotted: an inbox holds tens of thousands of them, and an instance dict is one more object
    for every full garbage collection to scan."""

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
    reading: Extraction | SubjectReading = field(repr=False)
    """The extractor's result (see :attr:`extraction`), or, for an older message read by its
    header fields, the reading of its subject still to be done."""
    raw: bytes = field(repr=False)
    """The fetched RFC 5322 bytes (for ``show --raw`` and saving attachments); left out of
    the repr (a worker given a message describes itself with it, see Textual's ``@work``)."""
    notice: str | None = None
    """A note for the reader of the message (e.g. why the body is incomplete)."""
    headers_only: bool = False
    """Only the header was fetched (an older message of a big mailbox): fetch it whole to
    show its body."""
    lazy: bool = False
    """A big message of which a sync read only the start on purpose (``partial`` too): fetch
    it (up to the size limit) when it is shown."""

    @property
    def extraction(self) -> Extraction:
        """The extractor's result: ``otp``, ``link``, ``text``, ``html``, ``attachments``...
        (for a message read by its header fields, its subject read now if not yet)."""
        reading = self.reading
        return reading if isinstance(reading, Extraction) else reading.extraction

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


def _notice(
    headers_only: bool, lazy: bool, partial: bool, fetched: int, full: int
) -> tuple[bool, str | None]:
    """(partial, notice) of a message of which ``fetched`` of ``full`` bytes were read."""
    if headers_only:
        return True, "Only the headers of this older message were read; it is fetched when shown."
    if lazy:
        return True, (
            f"Only the first {size_text(fetched)} of this {size_text(full)} message were read "
            "while the mailbox synced; the rest is fetched when it is shown."
        )
    if partial:
        return True, (
            f"Only the first {size_text(fetched)} of this {size_text(full)} message were "
            "fetched; the body and attachments may be incomplete."
        )
    return False, None


def _header_getter(raw: bytes) -> Callable[[str], str | None]:
    """A lookup of ``raw``'s headers as ``policy.default`` reads them (None when absent or
    unreadable)."""
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    except Exception:  # the stdlib parser is lenient, but never let a header crash a fetch
        return lambda name: None

    def header(name: str) -> str | None:
        try:
            value = headers.get(name)
        except Exception:  # a header policy.default cannot parse counts as absent
            return None
        return str(value) if value is not None else None

    return header


def _received(internaldate: str | datetime | None) -> datetime | None:
    if isinstance(internaldate, datetime):
        return internaldate
    return parse_internaldate(internaldate)


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
    fields, _body = header_fields(raw)
    slow: list[Callable[[str], str | None]] = []

    def header(name: str) -> str | None:
        # policy.default's reading (slow: it builds header objects), only when the extractor
        # found no sender or subject
        if not slow:
            slow.append(_header_getter(raw))
        return slow[0](name)

    extraction = analyze_message(raw)
    name, address = _address(clean_header(extraction.sender or header("From")))
    full = size if size is not None else len(raw)
    partial, notice = _notice(headers_only, lazy, partial, len(raw), full)
    return ImapMessage(
        uid=uid,
        size=full,
        partial=partial,
        message_id=_message_id(fields, header),
        sender=clean_header(address, 320).lower(),
        sender_name=clean_header(name, 200),
        subject=clean_header(extraction.subject or header("Subject")),
        date=parse_date(_unfold(fields.get("date"))),
        received=_received(internaldate),
        reading=extraction,
        raw=raw,
        notice=notice,
        headers_only=headers_only,
        lazy=lazy,
    )


LONG_SUBJECT = 300
"""A subject longer than this (a hostile one may be megabytes: 57 ms for 1 MB) is read when
its message is parsed, in the parser's thread, not later on the UI's time (a row is built in
one piece; the inbox's warm-up slices are 3 ms)."""

HEADER_FIELDS = ("FROM", "TO", "SUBJECT", "DATE", "MESSAGE-ID")
"""The header fields a sync reads of an older message of a big mailbox (what its row shows)."""

# A header line for the stdlib's feed parser (``email.feedparser.headerRE``: ``From ``, a
# field name and a colon, or a fold): anything else ends the header block.


def _field_name(name: str) -> bool:
    """Only printable ASCII but space and colon (``[\\041-\\071\\073-\\176]*``, the
    feed parser's field name; ``name`` has no colon, it was cut at the first)."""
    return name.isascii() and name.isprintable() and " " not in name


_LINE_TEXT = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_OTHER_BREAKS = re.compile(rb"[\x0b\x0c\x1c-\x1e]")
"""What ``str.splitlines`` also takes for a line break, beside CR and LF (in ASCII)."""
_NOT_BLANK = re.compile(rb"[^ \t\r\n]")


def header_fields(raw: bytes) -> tuple[dict[str, str], bool]:
    """The header fields of ``raw`` by lower-cased name (the first of each), each value as the
    stdlib's parser keeps it raw for ``policy.default`` (leading blanks off, folds kept, line
    end off); the same lines count as fields (``email.feedparser``). Also whether anything
    but blank lines follows them (a body)."""
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    rest = len(raw)
    text = raw.decode("ascii", "surrogateescape")  # (one character per byte)
    lines: Iterator[str]
    if _OTHER_BREAKS.search(raw):  # str.splitlines would also split at these: line by line
        lines = (match.group() for match in _LINE_TEXT.finditer(text))
    else:
        lines = iter(text.splitlines(keepends=True))  # at CR LF, CR and LF alone
    at = 0
    envelope: int | None = None  # where the last line began, when it was a later "From "
    for line in lines:
        if line[:1] in (" ", "\t"):  # a fold
            at, envelope = at + len(line), None
            if current is not None:
                current.append(line)
            continue
        current = None
        name, colon, value = line.partition(":")
        if line.startswith("From "):
            envelope = at if at else None
            at += len(line)
            continue  # an mbox envelope line: never a field
        if not (colon and _field_name(name)):
            rest = at  # the blank line (or a line that is no field) ends them
            break
        at, envelope = at + len(line), None
        if name:  # (a field without a name is never a field)
            current = [value.lstrip(" \t")]
            fields.setdefault(name.lower(), current)
    if envelope is not None:
        rest = envelope  # the stdlib reads a "From " line last of the fields as the body's
    body = _NOT_BLANK.search(raw, rest) is not None
    return {name: "".join(parts).rstrip("\r\n") for name, parts in fields.items()}, body


def parse_headers(
    uid: int, raw: bytes, *, size: int, internaldate: str | datetime | None = None
) -> ImapMessage:
    """:func:`parse_message` of an older message's header fields (``headers_only``), without
    the MIME parser: a big mailbox lists thousands of them. Falls back to
    :func:`parse_message` when a field does not decode plainly or a body follows."""
    raw = bytes(raw)
    fields, body = header_fields(raw)
    subject = _decoded(fields.get("subject"))
    sender = _decoded(fields.get("from"))
    if body or ("subject" in fields and not subject) or ("from" in fields and not sender):
        return parse_message(uid, raw, size=size, internaldate=internaldate, headers_only=True)
    lazy = SubjectReading(subject, sender)
    # a long subject is read now, in the parser's thread (see LONG_SUBJECT)
    reading = lazy.extraction if len(subject) > LONG_SUBJECT else lazy
    name, address = _address(clean_header(sender))
    partial, notice = _notice(True, False, True, len(raw), size)
    date = fields.get("date")
    return ImapMessage(
        uid=uid,
        size=size,
        partial=partial,
        message_id=_message_id(fields, lambda name: _header_getter(raw)(name)),
        sender=clean_header(address, 320).lower(),
        sender_name=clean_header(name, 200),
        subject=clean_header(clean_subject(subject)),
        date=parse_date(_unfold(date)) if date else None,
        received=_received(internaldate),
        reading=reading,
        raw=raw,
        notice=notice,
        headers_only=True,
    )


_SIMPLE_ID = re.compile(r"\s*<[^<>()\\\"\s]*>\s*")


def _message_id(fields: dict[str, str], header: Callable[[str], str | None]) -> str | None:
    """The Message-ID as ``policy.default`` reads it: the field itself when it is a plain
    ``<...>``, else the stdlib's reading (it drops comments and odd parts)."""
    value = _unfold(fields.get("message-id"))
    if value is not None and not _SIMPLE_ID.fullmatch(value):
        value = header("Message-ID")
    return clean_header(value, 400) or None


def _unfold(value: str | None) -> str | None:
    return value.replace("\r", "").replace("\n", "") if value is not None else None

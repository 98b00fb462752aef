"""Inbound mail for the sandbox: MIME parsing, OTP/link extraction, ingestion, demo mails.

``deliver`` is the single way mail enters the sandbox: the SMTP server, the internal inbound
endpoint and ``sandbox deliver --data-dir`` all end up here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from tui.sandbox.store import Store

NO_SUBJECT = "(no subject)"


class NoActiveLeaseError(LookupError):
    """The address is unknown or not under an active lease (SMTP answers 550)."""


@dataclass(frozen=True)
class Extracted:
    """What the extractor found in a message."""

    otp: str | None
    """The most likely one-time code, or None."""
    link: str | None
    """The most likely verification link, or None."""


def analyze(raw: bytes) -> Extracted:
    """Run the project's extractor (``tui.extract.analyze_message``) on raw RFC 5322 bytes.

    Never raises: an extractor failure counts as "nothing found".
    """
    from tui.extract import analyze_message  # lazy: only needed once mail arrives

    try:
        result = analyze_message(raw)
    except Exception:  # the extractor promises not to raise; a failure finds nothing
        return Extracted(None, None)
    otp = getattr(result, "otp", None)
    link = getattr(result, "link", None)
    return Extracted(otp if isinstance(otp, str) and otp else None, link if link else None)


PARSERS = ("ours", "reference")
"""What reads inbound mail: ``ours`` (the project's extractor) or ``reference`` (the reference
service's simpler rules, API notes 5.4, as :func:`tui.extract.server_style_extract` re-implements
them, over the raw body as production feeds it)."""
REFERENCE_EXCERPT = 4000
"""Characters of the raw, undecoded body the reference service's parser sees."""


def analyze_like_reference(raw: bytes) -> Extracted:
    """What the reference service's parser makes of a message: its rules over the decoded
    subject and the raw, undecoded body cut at :data:`REFERENCE_EXCERPT` characters (in
    production the HTML fields are always missing). Never raises."""
    from tui.extract import server_style_extract

    try:
        _head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            _head, sep, body = raw.partition(b"\n\n")
        text = body.decode("utf-8", "replace")[:REFERENCE_EXCERPT]
        otp, link = server_style_extract(parse_headers(raw).subject, text, None)
    except Exception:  # a parser failure finds nothing, as :func:`analyze`
        return Extracted(None, None)
    return Extracted(otp, link)


@dataclass(frozen=True)
class ParsedHeaders:
    """The header fields the message rows keep."""

    sender: str
    sender_domain: str
    subject: str
    message_id: str | None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_headers(raw: bytes, envelope_from: str | None = None) -> ParsedHeaders:
    """Sender (From, else the envelope), its domain, the decoded subject and Message-ID."""
    msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)

    def header(name: str) -> str:
        try:
            value = msg.get(name)
        except Exception:  # a header policy.default cannot parse counts as absent
            return ""
        return str(value) if value is not None else ""

    _name, addr = parseaddr(header("From"))
    sender = (addr or envelope_from or "").strip().lower()
    domain = sender.rsplit("@", 1)[1] if "@" in sender else ""
    subject = _CONTROL.sub(" ", header("Subject")).strip() or NO_SUBJECT
    message_id = header("Message-ID").strip() or None
    return ParsedHeaders(sender, domain, subject, message_id)


def build_mime(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str | None = None,
    html: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
) -> bytes:
    """Build a small RFC 5322 message (text, html, or multipart/alternative) as bytes.

    ``to`` is the To header as is (several addresses comma-separated); ``message_id`` defaults
    to a fresh ``<...@sandbox.mailagents.test>``.
    """
    msg = EmailMessage()
    msg["From"] = sender or "unknown@sandbox.invalid"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="sandbox.mailagents.test")
    if text:
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
    elif html:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content("")
    return msg.as_bytes(policy=policy.SMTP)


@dataclass(frozen=True)
class Parsed:
    """What one inbound message yields, computed once however many recipients it has."""

    headers: ParsedHeaders
    """Sender, subject, Message-ID."""
    found: Extracted
    """The extractor's OTP and link."""


def parse(store: Store, raw: bytes, envelope_from: str | None = None) -> Parsed:
    """Parse headers and run the extractor ``store.parser`` names (CPU-bound: call it off the
    event loop). Never recurses without bound: the header parse stops at the header block,
    and the extractor reads a message with too many nested MIME parts as plain text."""
    found = analyze_like_reference(raw) if store.parser == "reference" else analyze(raw)
    return Parsed(parse_headers(raw, envelope_from), found)


def deliver(
    store: Store,
    address: str,
    raw: bytes,
    *,
    envelope_from: str | None = None,
    require_active_lease: bool = True,
    received_ms: int | None = None,
    overrides: dict[str, Any] | None = None,
    parsed: Parsed | None = None,
) -> dict[str, Any]:
    """Store one message for ``address``; return ``{message_id, mailbox_id, tenant_id, ...}``.

    With ``require_active_lease`` (SMTP) an address that is unknown or not under an active
    lease raises :class:`NoActiveLeaseError`. The extractor (``store.parser``) runs once, here,
    unless ``parsed`` (from :func:`parse`) is given. ``overrides`` replaces parsed fields (the
    internal inbound endpoint passes its own sender, subject, raw_ref and
    provider_message_id). Blocking (parsing, SQLite, Maildir): never call it on the loop.
    """
    mailbox = store.mailbox_by_address(address)
    if mailbox is None or (require_active_lease and mailbox["lease_id"] is None):
        raise NoActiveLeaseError(address)
    parsed = parsed or parse(store, raw, envelope_from)
    headers, found = parsed.headers, parsed.found
    fields: dict[str, Any] = {
        "tenant_id": mailbox["tenant_id"],
        "mailbox_id": mailbox["mailbox_id"],
        "sender": headers.sender,
        "sender_domain": headers.sender_domain,
        "subject": headers.subject,
        "raw_ref": None,
        "received_ms": received_ms if received_ms is not None else store.now_ms(),
        "otp_code": found.otp,
        "verification_link": found.link,
        "parsed_status": "parsed" if (found.otp or found.link) else "failed",
        "provider_message_id": None,
        "header_message_id": headers.message_id,
        "envelope_from": envelope_from,
        "raw": raw,
    }
    fields.update(overrides or {})
    message_id = store.insert_message(**fields)
    return {
        "message_id": message_id,
        "mailbox_id": mailbox["mailbox_id"],
        "tenant_id": mailbox["tenant_id"],
        "otp_code": found.otp,
        "verification_link": found.link,
    }


def deliver_all(
    store: Store, addresses: list[str], raw: bytes, *, envelope_from: str | None = None
) -> list[str]:
    """Store ``raw`` once per distinct address (case-insensitive) under an active lease;
    return the addresses stored. Parses the message once. Blocking: run it in a thread."""
    parsed = parse(store, raw, envelope_from)
    stored: list[str] = []
    seen: set[str] = set()
    for address in addresses:
        key = address.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            deliver(store, address, raw, envelope_from=envelope_from, parsed=parsed)
        except NoActiveLeaseError:
            continue
        stored.append(address)
    return stored


def demo_messages(address: str) -> list[bytes]:
    """A few realistic verification mails addressed to ``address`` (for ``--demo``)."""
    return [
        build_mime(
            sender="Acme Cloud <no-reply@acme.example>",
            to=address,
            subject="Your Acme verification code",
            text="Hi,\n\nYour verification code is 482913.\nIt expires in 10 minutes.\n",
            html=(
                "<p>Hi,</p><p>Your verification code is <b>482913</b>.</p>"
                "<p>It expires in 10 minutes.</p>"
            ),
        ),
        build_mime(
            sender="Forumly <accounts@forumly.example>",
            to=address,
            subject="Confirm your email address",
            text=(
                "Welcome! Confirm your address by opening this link:\n"
                "https://forumly.example/verify-email?token=demo-7f3a9c\n"
            ),
            html=(
                '<p>Welcome!</p><p><a href="https://forumly.example/verify-email?token=demo-7f3a9c">'
                "Confirm my email</a></p>"
            ),
        ),
        build_mime(
            sender="Shop <security@shop.example>",
            to=address,
            subject="Sign-in code: 771045",
            text="Use 771045 to sign in. If this wasn't you, ignore this message.\n",
        ),
    ]

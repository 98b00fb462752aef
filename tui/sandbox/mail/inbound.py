"""Inbound mail for the sandbox: MIME parsing, OTP/link extraction, ingestion, demo mails.

``deliver`` is the single way mail enters the sandbox: the SMTP server, the internal inbound
endpoint and ``sandbox deliver --data-dir`` all end up here.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import IO

from tui.escapes import strip_escapes
from tui.jsontypes import JsonObject
from tui.sandbox.state.db import SqlValue
from tui.sandbox.state.store import Store

log = logging.getLogger("tui.sandbox")

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
    subject = _CONTROL.sub(" ", strip_escapes(header("Subject"))).strip() or NO_SUBJECT
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
    """Parse headers and run the extractor ``store.parser`` names, in this thread (CPU-bound:
    never on the event loop; see :func:`parse_isolated`). Never recurses without bound: the
    header parse stops at the header block, and the extractor reads a message with too many
    nested MIME parts as plain text."""
    return _parse_job(store.parser, raw, envelope_from)


def _parse_job(parser: str, raw: bytes, envelope_from: str | None) -> Parsed:
    found = analyze_like_reference(raw) if parser == "reference" else analyze(raw)
    return Parsed(parse_headers(raw, envelope_from), found)


PARSE_TIMEOUT_S = 120.0
"""Longest the parser child may take over one message before it is given up (headers only)."""


class ParserChildError(RuntimeError):
    """The parser child died, hung or could not answer (the mail may be what killed it)."""


class _ParserChild:
    """One ``python -m tui.sandbox.mail.parser_worker`` for the whole process, started by the first
    mail (not at start-up: the TUI's first frame does not wait for it).

    Requests go one at a time (a lock). The child ends when our end of its stdin closes,
    i.e. when this process ends, however it ends (no orphan after ``os._exit``).
    """

    MAX_FAILURES = 3

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._failures = 0
        self.unavailable = False
        """True once the child cannot be started or keeps failing: parse in threads."""

    def _ensure(self) -> subprocess.Popen[bytes] | None:
        if self.unavailable or os.name != "posix":  # select() on pipes is POSIX-only
            return None
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        import tui

        root = str(Path(tui.__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tui.sandbox.mail.parser_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
                env=env,
            )
        except (OSError, ValueError) as exc:
            log.warning("sandbox: parsing mail in threads (no parser process: %s)", exc)
            self.unavailable = True
            return None
        return self._proc

    def parse(self, parser: str, raw: bytes, envelope_from: str | None) -> Parsed | None:
        """The child's answer; None when there is no child (parse in this thread);
        :class:`ParserChildError` when it failed on this message."""
        with self._lock:
            proc = self._ensure()
            if proc is None:
                return None
            try:
                answer = self._ask(proc, pickle.dumps((parser, envelope_from)), raw)
            except (OSError, EOFError, TimeoutError, pickle.UnpicklingError) as exc:
                self._kill()
                self._failures += 1
                if self._failures >= self.MAX_FAILURES:
                    log.warning("sandbox: parser process keeps failing; parsing in threads")
                    self.unavailable = True
                raise ParserChildError(f"{type(exc).__name__}: {exc}") from None
            self._failures = 0
        status, value = answer
        if status != "ok" or not isinstance(value, Parsed):
            raise ParserChildError(str(value))
        return value

    @staticmethod
    def _ask(proc: subprocess.Popen[bytes], meta: bytes, raw: bytes) -> tuple[str, object]:
        from tui.sandbox.mail.parser_worker import HEADER

        assert proc.stdin is not None and proc.stdout is not None
        for part in (len(meta).to_bytes(HEADER, "big") + meta, len(raw).to_bytes(HEADER, "big")):
            _write_all(proc.stdin, part)
        _write_all(proc.stdin, raw)  # as is: copying 10 MB would hold the GIL
        deadline = time.monotonic() + PARSE_TIMEOUT_S
        size = int.from_bytes(_read_before(proc.stdout, HEADER, deadline), "big")
        return pickle.loads(_read_before(proc.stdout, size, deadline))  # noqa: S301 - our child

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(5)

    def close(self) -> None:
        """Close the child's stdin (it exits) and reap it."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                proc.kill()


def _write_all(stream: IO[bytes], data: bytes) -> None:
    """All of ``data`` to an unbuffered pipe (each call may take part of it)."""
    view = memoryview(data)
    while view:
        view = view[stream.write(view[: 1 << 20]) or 0 :]


def _read_before(stream: IO[bytes], size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes from an unbuffered pipe, or TimeoutError / EOFError."""
    chunks: list[bytes] = []
    while size:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([stream], [], [], remaining)[0]:
            raise TimeoutError("the parser process did not answer in time")
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            raise EOFError("the parser process ended")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


_child = _ParserChild()
atexit.register(_child.close)


def parse_isolated(store: Store, raw: bytes, envelope_from: str | None = None) -> Parsed:
    """:func:`parse` in a child process (one, shared by every sandbox of this process).

    Parsing holds the GIL for long stretches (regular expressions over big bodies, base64),
    so even in a worker thread it makes the event loop late; in a process it cannot. A mail
    that kills or hangs the child is stored with its headers and nothing extracted. Without
    a child process (cannot start), it parses in the calling thread. Blocking: call it off
    the event loop.
    """
    try:
        parsed = _child.parse(store.parser, raw, envelope_from)
    except ParserChildError as exc:
        log.warning("sandbox: the mail parser process failed (%s); storing headers only", exc)
        return Parsed(parse_headers(raw, envelope_from), Extracted(None, None))
    return parsed if parsed is not None else parse(store, raw, envelope_from)


def deliver(
    store: Store,
    address: str,
    raw: bytes,
    *,
    envelope_from: str | None = None,
    require_active_lease: bool = True,
    received_ms: int | None = None,
    overrides: Mapping[str, SqlValue] | None = None,
    parsed: Parsed | None = None,
) -> JsonObject:
    """Store one message for ``address``; return ``{message_id, mailbox_id, tenant_id, ...}``.

    With ``require_active_lease`` (SMTP) an address that is unknown or not under an active
    lease raises :class:`NoActiveLeaseError`. The extractor (``store.parser``) runs once, here,
    unless ``parsed`` (from :func:`parse`) is given. ``overrides`` replaces parsed fields (the
    internal inbound endpoint passes its own sender, subject, raw_ref and
    provider_message_id). Blocking (parsing, SQLite, Maildir): never call it on the loop.
    """
    mailbox = store.mailbox_by_address(address)
    if mailbox is None or (require_active_lease and mailbox.lease_id is None):
        raise NoActiveLeaseError(address)
    parsed = parsed or parse(store, raw, envelope_from)
    headers, found = parsed.headers, parsed.found
    fields: dict[str, SqlValue] = {
        "tenant_id": mailbox.tenant_id,
        "mailbox_id": mailbox.mailbox_id,
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
        "mailbox_id": mailbox.mailbox_id,
        "tenant_id": mailbox.tenant_id,
        "otp_code": found.otp,
        "verification_link": found.link,
    }


def deliver_all(
    store: Store,
    addresses: list[str],
    raw: bytes,
    *,
    envelope_from: str | None = None,
    parsed: Parsed | None = None,
) -> list[str]:
    """Store ``raw`` once per distinct address (case-insensitive) under an active lease;
    return the addresses stored. Parses the message once (in a child process unless
    ``parsed`` is given). Blocking: run it in a thread."""
    parsed = parsed or parse_isolated(store, raw, envelope_from)
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


def deliver_demo(store: Store, address: str) -> int:
    """Deliver the sample verification mails to a leased address; return how many (blocking;
    ``--demo``'s first lease of a tenant gets them)."""
    count = 0
    for raw in demo_messages(address):
        try:
            deliver(store, address, raw)
            count += 1
        except NoActiveLeaseError:
            break
        except Exception:  # a demo must never break the server
            log.exception("sandbox: demo delivery to %s failed", address)
            break
    return count


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

"""IMAP without a server: response parsing, message parsing of hostile mail, state, status."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.imap import ImapAuthError, MailboxState, parse_message
from tui.imap.errors import safe_text
from tui.imap.message import (
    ImapMessage,
    clean_header,
    header_fields,
    parse_date,
    parse_headers,
    parse_internaldate,
)
from tui.imap.protocol import (
    bye_text,
    parse_fetch,
    parse_search,
    parse_select,
    signals_new_mail,
    uid_set,
)
from tui.imap.reader import ImapStatus

BODY = b"From: a@b\r\nSubject: hi\r\n\r\nYour code is 123456.\r\n"
INTERNALDATE = "06-Dec-2026 22:08:01 +0000"


def test_parse_fetch_splits_items_and_literals():
    lines = [
        b'1 FETCH (UID 7 RFC822.SIZE 48 INTERNALDATE "25-Nov-2026 15:50:28 +0000" BODY[] {48}',
        bytearray(BODY),
        b")",
        b"2 FETCH (FLAGS (\\Seen))",  # unsolicited: no UID, no literal
        b"3 FETCH (UID 9 RFC822.SIZE 9000 BODY[]<0> {4}",
        bytearray(b"From"),
        b" FLAGS (\\Recent))",
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    items = parse_fetch(lines)
    assert [(i.seq, i.uid, i.size) for i in items] == [(1, 7, 48), (2, None, None), (3, 9, 9000)]
    assert items[0].literal == BODY and items[0].internaldate == "25-Nov-2026 15:50:28 +0000"
    assert items[1].literal is None and items[1].flags == ["\\Seen"]
    assert items[2].literal == b"From" and items[2].flags == ["\\Recent"]
    # a body that looks like IMAP syntax is data, not a response
    tricky = b"1 FETCH (UID 2 BODY[] {5}\r\n"
    items = parse_fetch([b"1 FETCH (UID 3 BODY[] {26}", bytearray(tricky + b"x)"), b")"])
    assert [(i.uid, i.literal) for i in items] == [(3, tricky + b"x)")]


def test_parse_select_and_pushes():
    info = parse_select(
        [
            b"FLAGS (\\Answered \\Seen)",
            b"OK [PERMANENTFLAGS ()] Flags permitted.",
            b"3 EXISTS",
            b"0 RECENT",
            b"OK [UIDVALIDITY 1795620856] UIDs valid",
            b"OK [UIDNEXT 4] Predicted next UID",
            b"[READ-WRITE] Select completed",
        ]
    )
    assert (info.uidvalidity, info.uidnext, info.exists) == (1795620856, 4, 3)
    assert signals_new_mail([b"4 EXISTS"]) and signals_new_mail([b"1 RECENT"])
    assert not signals_new_mail([b"OK Still here"])
    assert bye_text([b"BYE Server shutting down."]) == "Server shutting down."
    assert bye_text([b"4 EXISTS"]) is None
    assert uid_set([7, 1, 2, 3, 9, 10]) == "1:3,7,9:10"


def test_a_plain_message():
    raw = (
        b'From: "Acme" <No-Reply@Acme.Example>\r\n'
        b"Subject: Your verification code\r\n"
        b"Date: Tue, 25 Nov 2026 16:50:28 +0100\r\n"
        b"Message-ID: <abc@acme.example>\r\n"
        b"\r\n"
        b"Your verification code is 482913.\r\n"
    )
    m = parse_message(4, raw, size=len(raw), internaldate="25-Nov-2026 15:50:28 +0000")
    assert (m.uid, m.size, m.partial, m.notice) == (4, len(raw), False, None)
    assert (m.sender, m.sender_name) == ("no-reply@acme.example", "Acme")
    assert m.subject == "Your verification code" and m.message_id == "<abc@acme.example>"
    assert m.otp == "482913" and "482913" in m.text and m.raw == raw
    assert m.date == datetime(2026, 11, 25, 15, 50, 28, tzinfo=UTC)
    assert m.received == m.date == m.when


def test_broken_charset_never_crashes():
    raw = (
        b"From: =?x-unknown?q?Bad=FF?= <a@b.example>\r\n"
        b"Subject: =?utf-8?b?!!!notbase64?= caf\xe9 \xff\xfe\r\n"
        b"Content-Type: text/plain; charset=klingon-9\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"Code =3D 553311 caf\xe9 =FF=FE=ZZ\r\n"
    )
    m = parse_message(1, raw)
    assert m.sender == "a@b.example"
    assert "553311" in m.text
    assert isinstance(m.subject, str)


def test_html_only_message_gives_text_and_code():
    raw = (
        b"From: x@y.example\r\nSubject: Verify\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>Your code is <b>246810</b></p>"
        b'<a href="https://y.example/verify?t=1">Verify</a><script>alert(1)</script></body></html>'
    )
    m = parse_message(1, raw)
    assert m.html is not None and "<b>246810</b>" in m.html
    assert "246810" in m.text and "<b>" not in m.text
    assert m.otp == "246810"
    assert m.link == "https://y.example/verify?t=1"


def test_hostile_headers_and_bodies_are_inert_strings():
    raw = (
        b"From: \x1b]52;c;ZXZpbA==\x07 <evil@x.example>\r\n"
        b"Subject: [@click=app.quit]Win[/] \x1b[31mred\x1b[0m \xe2\x80\xaereversed\r\n"
        b"Message-ID: <\x1b[2J@x>\r\n"
        b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: text/plain\r\n\r\n"
        b"\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ [b]bold[/b] code 775533\r\n"
        b"--zz\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd\x1b[2J"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--zz--\r\n"
    )
    m = parse_message(1, raw)
    for value in (m.subject, m.sender, m.sender_name, m.message_id or ""):
        assert "\x1b" not in value and "\x07" not in value and "\u202e" not in value
    assert "[@click=app.quit]" in m.subject  # kept as text: the UI renders it as Text
    assert "\x1b" not in m.text and "775533" in m.text
    assert len(m.attachments) == 1 and m.attachments[0].size == 3


def test_truncated_message_is_parsed_with_a_notice():
    raw = b"From: a@b\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n"
    m = parse_message(3, raw, size=6_000_000, partial=True)
    assert m.partial and m.size == 6_000_000
    assert m.notice is not None and "5.7 MB" in m.notice


def test_dates():
    moment = parse_internaldate(" 1-Jan-2026 00:00:00 -0130")
    assert moment == datetime(2026, 1, 1, 1, 30, tzinfo=UTC)
    assert moment is not None and moment.utcoffset() == -timedelta(hours=1, minutes=30)
    assert parse_internaldate("31-Foo-2026 00:00:00 +0000") is None
    assert parse_internaldate("garbage") is None
    naive = parse_date("25 Nov 2026 10:00:00")
    assert naive is not None and naive.tzinfo is not None
    assert parse_date("not a date") is None


def test_mailbox_state_round_trip():
    state = MailboxState(uidvalidity=5, last_uid=9, uidnext=10)
    assert MailboxState.from_dict(state.to_dict()) == state
    assert MailboxState.from_dict({"last_uid": "9", "uidvalidity": True}) == MailboxState()
    assert MailboxState.from_dict(None) == MailboxState()


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (ImapStatus("connecting"), "connecting"),
        (ImapStatus("live", mode="idle"), "live (IDLE)"),
        (ImapStatus("live", mode="polling"), "live (polling)"),
        (ImapStatus("auth_failed", error="login refused"), "auth failed: login refused"),
        (
            ImapStatus("offline", error="h:993 (TLS): connection refused", retry_in=4.2),
            "offline: h:993 (TLS): connection refused; retrying in 4s",
        ),
    ],
)
def test_status_text(status, text):
    assert status.text == text


def test_error_messages_are_safe():
    assert safe_text("login pw=hunter2\r\n\x1b[31m", ["hunter2"]) == "login pw=*** [31m"
    assert len(safe_text("x" * 1000)) <= 160
    error = ImapAuthError("refused\nhunter2")
    assert "\n" not in str(error) and error.user_message() == str(error)


def test_parse_search_reads_the_numbers_only():
    assert parse_search([b"1 5 3", b"Search completed (0.001 + 0.000 secs)."]) == [1, 3, 5]
    assert parse_search(["* SEARCH 7 2"]) == [2, 7]
    assert parse_search([b"SEARCH", b"Search completed."]) == []
    assert parse_search([b"", b"OK done 12"]) == []


# -- the fast paths of a big listing (issue 16) ------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
HOSTILE_HEADERS = [
    b"From: =?utf-8?b?SsO2cmc=?= <j@x.de>\r\nSubject: =?utf-8?q?Dein_Code_ist_123456?=\r\n"
    b"Date: Sun, 06 Dec 2026 22:08:01 +0000\r\nMessage-ID: <a@b>\r\n\r\n",
    b"Subject: folded\r\n line two 482913\r\nFrom: A <a@b.c>\r\n\r\n",
    b"Subject: \xc3\xa9t\xc3\xa9 code 999111\r\nFrom: \xff\xfe <x@y>\r\n\r\n",
    b"From x@y Mon Jan 1\r\n cont\r\nSubject: s1\r\nSubject: s2\r\nDate: garbage\r\n"
    b"Message-ID:   <c@d>  \r\n\r\n",
    b": nothing\r\n more\r\nSubject : spaced\r\nFrom: a@b\r\n\r\n",
    b" leading\r\nFrom: a@b\r\nSubject: \x1b[31mred\x1b[0m 123456\r\n\r\n",
    b"From: a@b\nSubject: lf only 654321\nDate: Mon, 1 Jan 2024 10:00:00\n\n",
    b"From: a@b\rSubject: cr only\r\r",
    b"Subject: =?utf-8?b?invalid\r\nFrom: =?bogus?q?x?=\r\n\r\n",
    b"Message-ID: <a (comment) @b>\r\nDate: Mon,\r\n 1 Jan 2024 10:00:00 +0100\r\n\r\n",
    b"",
    b"Subject: Verify https://example.com/verify?token=abc123\r\nFrom: x@y.z\r\n\r\n",
]


def _header_block(raw: bytes) -> bytes:
    match = re.search(rb"\r?\n\r?\n", raw)
    return raw[: match.end()] if match else raw


def _facts(m: ImapMessage) -> tuple[object, ...]:
    return (
        m.uid, m.size, m.partial, m.message_id, m.sender, m.sender_name, m.subject, m.date,
        m.received, m.notice, m.headers_only, m.lazy, m.otp, m.link, m.text, m.html,
        m.extraction.sender, m.extraction.subject, repr(m.extraction.otp_candidates),
        repr(m.extraction.link_candidates),
    )  # fmt: skip


def test_header_fields_are_read_as_parse_message_reads_them() -> None:
    """A big mailbox's older messages are listed by their header fields without the MIME
    parser (parse_headers): the same row as parse_message(headers_only=True) gives, on every
    corpus message's header and on hostile ones (folds, encoded words, 8-bit, mbox lines,
    nameless fields, bare CR or LF, comments in a Message-ID)."""
    blocks = [_header_block(p.read_bytes()) for p in sorted(CORPUS.glob("*.eml"))]
    assert len(blocks) > 100
    for raw in blocks + HOSTILE_HEADERS:
        slow = parse_message(7, raw, size=1234, internaldate=INTERNALDATE, headers_only=True)
        fast = parse_headers(7, raw, size=1234, internaldate=INTERNALDATE)
        assert _facts(fast) == _facts(slow), raw[:300]


def test_parse_message_reads_date_and_message_id_as_policy_default() -> None:
    """parse_message reads Date and Message-ID from the raw fields; the values are what the
    stdlib's policy.default gives (a Message-ID that is not a plain <...> is left to it)."""
    from email import policy
    from email.parser import BytesParser

    for path in sorted(CORPUS.glob("*.eml")):
        raw = path.read_bytes()
        std = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        message = parse_message(1, raw)
        date = std.get("Date")
        assert message.date == parse_date(str(date) if date is not None else None), path.name
        mid = std.get("Message-ID")
        expected = clean_header(str(mid) if mid is not None else None, 400) or None
        assert message.message_id == expected, path.name
    odd = b"Message-ID: <a (comment) @b>\r\nSubject: x\r\n\r\nbody"
    assert parse_message(1, odd).message_id == "<a"  # what policy.default makes of it


def test_a_body_after_the_fields_falls_back_to_the_mime_parser() -> None:
    raw = b"Subject : spaced\r\nFrom: a@b\r\n\r\n"  # not a field: the stdlib reads a body
    fields, body = header_fields(raw)
    assert body and fields == {}
    assert parse_headers(1, raw, size=9).text == parse_message(1, raw, headers_only=True).text
    assert parse_headers(1, raw, size=9).text.startswith("Subject : spaced")


def test_reprs_leave_out_the_bytes() -> None:
    """Textual's @work describes a worker with the repr of its arguments: a message's repr
    must not carry its bytes (megabytes), an update's not every message."""
    from tui.imap.reader import ImapUpdate

    message = parse_message(3, BODY + b"x" * 100_000)
    assert len(repr(message)) < 400 and "xxxx" not in repr(message)
    update = ImapUpdate(ImapStatus("live"), new=[message], messages=[message] * 10_000)
    assert len(repr(update)) < 400 and "messages=10000" in repr(update)


_PIECES = [
    b"From: A <a@b.c>\r\n", b"Subject: code 482913\r\n", b"From x@y Mon\r\n", b"\r\n", b"\n",
    b"\r", b" fold 1\r\n", b"\tfold\n", b"X-A: 1\r", b": nameless\r\n", b"Bad Name: v\r\n",
    b"\x0b", b"\x0c", b"\x1c", b"\x1e", b"\x85", b"\xe9", b"Date: Mon, 1 Jan 2024 10:00:00\r\n",
    b"body", b"Na\xffme: v\r\n", b"Subject:\r\n", b"SUBJECT: y 123456\n", b" ", b"\t", b":",
    b"From ", b"\x7f: v\r\n", b"Message-ID: <x@y>\r\n", b"Subject: =?utf-8?q?caf=C3=A9?=\r\n",
]  # fmt: skip


def test_header_fields_agree_with_the_stdlib_on_random_blocks() -> None:
    """Header blocks made at random of the pieces that decide where a field, a fold or the
    block ends (CR, LF, the other characters str.splitlines breaks at, mbox lines, bad names,
    8-bit bytes), half of them ended as a server ends a ``HEADER.FIELDS`` answer: the fast
    reading gives the row the stdlib's parser gives (a "From " line last of the fields is the
    body's first, as the stdlib has it)."""
    import random

    rng = random.Random(16)
    for _ in range(1500):
        raw = b"".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8)))
        raw += b"\r\n\r\n" if rng.random() < 0.5 else b""
        slow = parse_message(7, raw, size=1234, internaldate=INTERNALDATE, headers_only=True)
        fast = parse_headers(7, raw, size=1234, internaldate=INTERNALDATE)
        assert _facts(fast) == _facts(slow), raw


def test_a_long_subject_is_read_in_the_parser_not_later() -> None:
    """A header-only message's subject is read when its row needs it, on the UI's time,
    unless it is long (a hostile subject may be megabytes): that one is read at once, in the
    parser's thread; both give what parse_message gives."""
    from tui.extract import Extraction
    from tui.imap.message import LONG_SUBJECT, SubjectReading

    for subject, lazy in (("Your code is 482913", True), ("x" * LONG_SUBJECT + " 482913", False)):
        raw = f"From: a@b.io\r\nSubject: Your code is 482913 {subject}\r\n\r\n".encode()
        fast = parse_headers(7, raw, size=1234, internaldate=INTERNALDATE)
        assert isinstance(fast.reading, SubjectReading if lazy else Extraction)
        slow = parse_message(7, raw, size=1234, internaldate=INTERNALDATE, headers_only=True)
        assert _facts(fast) == _facts(slow) and fast.otp == "482913"

"""IMAP without a server: response parsing, message parsing of hostile mail, state, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.imap import ImapAuthError, MailboxState, parse_message
from tui.imap.errors import safe_text
from tui.imap.message import parse_date, parse_internaldate
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

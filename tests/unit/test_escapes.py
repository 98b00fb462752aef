"""Escape sequences in untrusted text go whole: no ``]0;pwned`` or hidden link target left."""

import pytest

from tui.core.sanitize import clean, clean_block
from tui.escapes import strip_escapes
from tui.extract.htmltext import clean_text
from tui.imap.message import clean_header, parse_message

HOSTILE = [
    ("\x1b]0;pwned\x07Hello", "Hello"),
    ("\x1b]8;;https://evil.example/\x1b\\Click\x1b]8;;\x1b\\", "Click"),
    ("\x9d0;title\x9cok", "ok"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1bP1$r0m\x1b\\plain", "plain"),
    ("a\x1b(Bb", "ab"),
    ("\x9b2Jclear", "clear"),
]


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_every_cleaner_drops_whole_sequences(raw, shown):
    assert strip_escapes(raw) == shown
    assert clean_header(raw) == shown
    assert clean(raw) == shown
    assert clean_block(raw) == shown
    assert clean_text(raw) == shown


def test_a_subject_read_over_imap_keeps_no_visible_leftover():
    raw = (
        b"From: =?utf-8?b?G10wO3B3bmVkBw==?= <a@example.test>\r\n"
        b"Subject: =?utf-8?b?G10wO3B3bmVkB1lvdXIgY29kZQ==?=\r\n"
        b"Content-Type: text/plain\r\n\r\nYour code is 482913\r\n"
    )
    msg = parse_message(1, raw)
    assert msg.subject == "Your code"
    assert "pwned" not in msg.sender_name and "]0;" not in msg.sender_name


def test_text_without_escapes_is_returned_as_is():
    text = "Ünïcode [bold]not markup[/bold] 123"
    assert strip_escapes(text) is text

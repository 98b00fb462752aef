"""Reply quoting and forwarding (issue 17): pure functions of tui.core.compose."""

from __future__ import annotations

from datetime import UTC, datetime

from tui.core.compose import forward_body, forward_subject, quote_reply

WHEN = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)


def test_reply_quotes_every_line_below_room_to_write():
    body = quote_reply("Hi,\r\n\r\nYour code is 482913.\n", "a@shop.test", WHEN)
    assert body.startswith("\n\nOn ")
    assert "a@shop.test wrote:\n" in body
    assert body.endswith("> Hi,\n>\n> Your code is 482913.\n")


def test_reply_without_a_body_says_so():
    body = quote_reply(None, "a@shop.test", None)
    assert "(unknown date), a@shop.test wrote:" in body
    assert "> (the original's text is not available" in body


def test_reply_quote_is_capped():
    assert len(quote_reply("x" * 100_000, "a@b.test", WHEN)) < 21_000


def test_forward_subject_and_body():
    assert forward_subject("Your code") == "Fwd: Your code"
    assert forward_subject("Fwd: Your code") == "Fwd: Your code"
    assert forward_subject("") == "Fwd:"
    body = forward_body("Line 1\nLine 2", "a@shop.test", "me@box.test", "Your code", WHEN)
    assert "---------- Forwarded message ----------\nFrom: a@shop.test\n" in body
    assert "Subject: Your code\nTo: me@box.test\n\nLine 1\nLine 2\n" in body


def test_sent_copies_are_private_and_never_leave_their_folder(tmp_path):
    import os
    import stat

    from tui.core.sentcopies import SentCopies

    copies = SentCopies(tmp_path / "sent")
    copies.save("sa-1", "me@box.test", ["a@b.test"], "Hi", "body")
    assert copies.load("sa-1") == {
        "from": "me@box.test",
        "to": ["a@b.test"],
        "subject": "Hi",
        "text": "body",
    }
    assert stat.S_IMODE(os.stat(tmp_path / "sent" / "sa-1.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "sent").st_mode) == 0o700
    for hostile in ("../escape", "a/b", ".hidden", ""):
        copies.save(hostile, "me@box.test", [], "x", "y")
        assert copies.load(hostile) is None
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sa-1.json", "sent"]

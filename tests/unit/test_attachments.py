"""Saving attachments: names from strangers stay in the chosen folder, nothing is overwritten,
and the bytes saved are the attachment's decoded bytes."""

from __future__ import annotations

import os
import stat
from email.message import EmailMessage

import pytest

from tui.core.attachments import (
    MAX_NAME,
    SaveError,
    default_folder,
    safe_filename,
    save_attachment,
)
from tui.extract import analyze_message, attachment_parts


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\evil.exe", "evil.exe"),
        ("/abs/path/x.txt", "x.txt"),
        (".bashrc", "bashrc"),
        ("invoice\u202egpj.exe", "invoice gpj.exe"),  # RLO would show it as "exe.jpg"
        ("a\x1b]0;title\x07b.txt", "a ]0;title b.txt"),
        ('co:n<>"|?*.txt', "co n .txt"),
        ("..", "attachment-3.pdf"),
        ("", "attachment-3.pdf"),
        (None, "attachment-3.pdf"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name, 3, "application/pdf") == expected


def test_long_names_keep_their_extension():
    name = safe_filename("x" * 500 + ".tar", 1)
    assert len(name) == MAX_NAME and name.endswith("x.tar")
    assert safe_filename("", 2, "foo/bar") == "attachment-2"


def test_save_never_overwrites_and_is_private(tmp_path):
    first = save_attachment(tmp_path, "a.txt", b"one")
    second = save_attachment(tmp_path, "a.txt", b"two")
    third = save_attachment(str(tmp_path), "a.txt", b"three")
    assert [p.name for p in (first, second, third)] == ["a.txt", "a (1).txt", "a (2).txt"]
    assert first.read_bytes() == b"one" and third.read_bytes() == b"three"
    assert stat.S_IMODE(os.stat(second).st_mode) == 0o600
    assert save_attachment(tmp_path, "noext", b"x").name == "noext"
    assert save_attachment(tmp_path, "noext", b"y").name == "noext (1)"


def test_save_does_not_follow_a_planted_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "a.txt").symlink_to(outside)
    path = save_attachment(folder, "a.txt", b"new")
    assert path.name == "a (1).txt" and outside.read_bytes() == b"keep"


def test_save_errors_are_clear(tmp_path):
    with pytest.raises(SaveError, match="not a folder"):
        save_attachment(tmp_path / "missing", "a.txt", b"x")
    with pytest.raises(SaveError, match="no folder"):
        save_attachment("  ", "a.txt", b"x")
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere
        with pytest.raises(SaveError, match="cannot write"):
            save_attachment(locked, "a.txt", b"x")


def test_tilde(tmp_path, monkeypatch):
    from tui.core.attachments import tilde

    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert tilde(tmp_path / "me" / "Downloads") == "~/Downloads"
    assert tilde(tmp_path / "me") == "~"
    assert tilde(tmp_path / "meme" / "x") == str(tmp_path / "meme" / "x")


def test_default_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_folder() == tmp_path
    (tmp_path / "Downloads").mkdir()
    assert default_folder() == tmp_path / "Downloads"
    assert default_folder(tmp_path / "x") == tmp_path / "x"


def test_attachment_parts_match_the_listed_attachments():
    msg = EmailMessage()
    msg["From"] = "a@b.io"
    msg["Subject"] = "files"
    msg.set_content("see attached")
    pdf = bytes(range(256)) * 10
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="r.pdf")
    msg.add_attachment("a,b\n1,2\n", subtype="csv", filename="../t.csv")
    raw = msg.as_bytes()
    parts = attachment_parts(raw)
    listed = analyze_message(raw).attachments
    assert [a for a, _ in parts] == listed
    expected = [("r.pdf", pdf), ("../t.csv", b"a,b\n1,2\n")]
    assert [(a.filename, data) for a, data in parts] == expected
    assert attachment_parts(b"\xff\x00 not a message") == []

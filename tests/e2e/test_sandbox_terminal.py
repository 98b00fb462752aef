"""The installed ``mailagents-tui --sandbox`` in a real terminal (tmux): sign in, allocate with
``n``, quit with ``q``, and find the lease released in the sandbox's database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat

import pytest
from terminal import COMMAND, Terminal

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_allocate_and_quit_releases(tmp_path):
    home = tmp_path / "home"
    env = {"MAILAGENTS_HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ["PATH"]}
    term = Terminal([COMMAND, "--sandbox"], env)
    try:
        screen = term.wait_for("Press enter to sign in")
        assert "Sandbox   local" in screen
        term.wait_for("throwaway sandbox wallet")
        term.send("Enter")
        term.wait_for("No active leases")
        term.send("n")
        term.wait_for("Allocate a mailbox")
        term.send("Enter")
        screen = term.wait_for("@sandbox.mailagents.test")
        assert "active" in screen
        term.send("q")
        term.wait_for("EXITED:0", timeout=30)
    finally:
        term.close()
    db = home / "sandbox" / "sandbox.sqlite3"
    rows = sqlite3.connect(db).execute("SELECT status, released_ms FROM leases").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "released" and rows[0][1] is not None
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    ledger = (home / "state" / "ledger.json").read_text()
    assert '"status": "released"' in ledger


def test_sigterm_releases_this_runs_leases(tmp_path):
    import signal

    home = tmp_path / "home"
    env = {"MAILAGENTS_HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ["PATH"]}
    term = Terminal([COMMAND, "--sandbox"], env)
    try:
        term.wait_for("throwaway sandbox wallet")
        term.send("Enter")
        term.wait_for("No active leases")
        term.send("n")
        term.wait_for("Allocate a mailbox")
        term.send("Enter")
        term.wait_for("@sandbox.mailagents.test")
        shell = term.tmux("list-panes", "-t", term.name, "-F", "#{pane_pid}").strip()
        children = children_of(int(shell))
        assert children, "the app's process was not found"
        os.kill(children[0], signal.SIGTERM)
        term.wait_for("EXITED:", timeout=30)
    finally:
        term.close()
    db = home / "sandbox" / "sandbox.sqlite3"
    rows = sqlite3.connect(db).execute("SELECT status FROM leases").fetchall()
    assert rows == [("released",)]


def children_of(pid: int) -> list[int]:
    """Child process ids of ``pid`` (from /proc, no procps needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def test_inbox_shows_smtp_code_copies_it_and_quit_releases(tmp_path):
    import re
    import smtplib
    from email.message import EmailMessage

    home = tmp_path / "home"
    env = {
        "MAILAGENTS_HOME": str(home),
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
        "DISPLAY": "",
        "WAYLAND_DISPLAY": "",
    }
    term = Terminal([COMMAND, "--sandbox"], env, width=120, height=32)
    try:
        screen = term.wait_for("throwaway sandbox wallet")
        found = re.search(r"SMTP 127\.0\.0\.1:(\d+)", screen)
        assert found, screen
        smtp_port = int(found.group(1))
        term.send("Enter")
        term.wait_for("No active leases")
        term.send("n")
        term.wait_for("Allocate a mailbox")
        term.send("Enter")
        screen = term.wait_for("@sandbox.mailagents.test")
        address = re.search(r"(\S+@sandbox\.mailagents\.test)", screen).group(1)
        term.send("Enter")
        term.wait_for("Inbox")
        msg = EmailMessage()
        msg["From"] = "Widgets <auth@widgets.example>"
        msg["To"] = address
        msg["Subject"] = "Widgets sign-in"
        msg.set_content("Your one-time code: 639204\nIt expires in 5 minutes. Ticket 12345678.")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)
        term.wait_for("auth@widgets.example")
        term.wait_for("639204")
        # The sandbox's demo mails arrive too: filter down to ours.
        term.send("/", "w", "i", "d", "g", "e", "t", "s", "Enter")
        term.wait_for(lambda s: "Widgets sign-in" in s and "1 message" in s)
        term.send("c")
        term.wait_for("Copied code 639204")
        term.wait_until(lambda: term.paste_buffer() == "639204")
        term.send("q")
        term.wait_for("EXITED:0", timeout=30)
    finally:
        term.close()
    rows = (
        sqlite3.connect(home / "sandbox" / "sandbox.sqlite3")
        .execute("SELECT status FROM leases")
        .fetchall()
    )
    assert rows == [("released",)]


def test_closing_the_terminal_releases_and_exits(tmp_path):
    home = tmp_path / "home"
    env = {"MAILAGENTS_HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ["PATH"]}
    term = Terminal([COMMAND, "--sandbox"], env)
    try:
        term.wait_for("throwaway sandbox wallet")
        term.send("Enter")
        term.wait_for("No active leases")
        term.send("n")
        term.wait_for("Allocate a mailbox")
        term.send("Enter")
        term.wait_for("@sandbox.mailagents.test")
        shell = int(term.tmux("list-panes", "-t", term.name, "-F", "#{pane_pid}").strip())
        app_pid = children_of(shell)[0]
    finally:
        term.close()  # the terminal goes away: SIGHUP
    import time

    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{app_pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = os.path.exists(f"/proc/{app_pid}")
    if alive:
        os.kill(app_pid, 9)
    assert not alive, "the app kept running after its terminal closed"
    rows = (
        sqlite3.connect(home / "sandbox" / "sandbox.sqlite3")
        .execute("SELECT status FROM leases")
        .fetchall()
    )
    assert rows == [("released",)]

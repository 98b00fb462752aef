"""The installed ``mailagents-tui --sandbox`` in a real terminal (tmux): sign in, allocate with
``n``, read a code that arrived over SMTP, and find the lease released however the app ends
(``q``, SIGTERM, or the terminal closing)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import smtplib
import sqlite3
import stat
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from terminal import COMMAND, Terminal, app_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def start(home: Path, **size: int) -> Terminal:
    """``mailagents-tui --sandbox`` in a fresh terminal, no system clipboard."""
    env = app_env(home)
    return Terminal([COMMAND, "--sandbox"], env, **size)


def sign_in_and_allocate(term: Terminal) -> str:
    """Sign in, allocate with ``n``; return the screen showing the new lease."""
    term.wait_for("throwaway sandbox wallet")
    term.send("Enter")
    term.wait_for("No active leases")
    term.send("n")
    term.wait_for("Allocate a mailbox")
    term.send("Enter")
    return term.wait_for("@sandbox.mailagents.test")


def lease_statuses(home: Path) -> list[str]:
    """Lease statuses in the embedded sandbox's database."""
    db = sqlite3.connect(home / "sandbox" / "sandbox.sqlite3")
    return [row[0] for row in db.execute("SELECT status FROM leases")]


def app_pid(term: Terminal) -> int:
    """The app's process: the child of the pane's shell."""
    shell = int(term.tmux("list-panes", "-t", term.name, "-F", "#{pane_pid}").strip())
    children = children_of(shell)
    assert children, "the app's process was not found"
    return children[0]


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


def test_allocate_and_quit_releases(tmp_path):
    home = tmp_path / "home"
    term = start(home)
    try:
        # the first frame comes before the sandbox runs; the login screen says so, then that
        # it is up
        first = term.wait_for("Press enter to sign in")
        assert "Sandbox   starting sandbox…" in first or "Sandbox   local" in first
        assert "mail in: SMTP 127.0.0.1:" in term.wait_for("Sandbox   local")
        assert "active" in sign_in_and_allocate(term)
        term.send("q")
        term.wait_for("EXITED:0", timeout=30)
    finally:
        term.close()
    assert lease_statuses(home) == ["released"]
    assert stat.S_IMODE(os.stat(home / "sandbox" / "sandbox.sqlite3").st_mode) == 0o600
    assert '"status": "released"' in (home / "state" / "ledger.json").read_text()


def test_sigterm_releases_this_runs_leases(tmp_path):
    home = tmp_path / "home"
    term = start(home)
    try:
        sign_in_and_allocate(term)
        os.kill(app_pid(term), signal.SIGTERM)
        term.wait_for("EXITED:", timeout=30)
    finally:
        term.close()
    assert lease_statuses(home) == ["released"]


def test_inbox_shows_smtp_code_copies_it_and_quit_releases(tmp_path):
    home = tmp_path / "home"
    term = start(home, width=120, height=32)
    try:
        term.wait_for("throwaway sandbox wallet")
        found = re.search(r"SMTP 127\.0\.0\.1:(\d+)", term.wait_for("mail in: SMTP"))
        assert found
        screen = sign_in_and_allocate(term)
        address = re.search(r"(\S+@sandbox\.mailagents\.test)", screen).group(1)
        term.send("Enter")
        term.wait_for("Inbox")
        msg = EmailMessage()
        msg["From"] = "Widgets <auth@widgets.example>"
        msg["To"] = address
        msg["Subject"] = "Widgets sign-in"
        msg.set_content("Your one-time code: 639204\nIt expires in 5 minutes. Ticket 12345678.")
        with smtplib.SMTP("127.0.0.1", int(found.group(1)), timeout=10) as smtp:
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
    assert lease_statuses(home) == ["released"]


def test_closing_the_terminal_releases_and_exits(tmp_path):
    home = tmp_path / "home"
    term = start(home)
    try:
        sign_in_and_allocate(term)
        pid = app_pid(term)
    finally:
        term.close()  # the terminal goes away: SIGHUP
    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = os.path.exists(f"/proc/{pid}")
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, "the app kept running after its terminal closed"
    assert lease_statuses(home) == ["released"]

"""Nothing orphaned (issue 13), in a real terminal: the installed ``mailagents-tui`` allocates
through a slow proxy that holds back the answer, is killed with SIGKILL meanwhile, and the next
start offers the lease the server holds; Release releases it on the sandbox. The leases a run
releases on quit are named on the terminal after it exits.

The sandbox runs as its own process (``mailagents-tui sandbox``), as a real server would.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from faultproxy import Fault, FaultProxy
from terminal import COMMAND, Terminal, app_env
from test_sandbox_terminal import app_pid

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def sandbox_process(tmp_path):
    """``mailagents-tui sandbox`` in the background: (base URL, data dir)."""
    data = tmp_path / "sandbox-data"
    proc = subprocess.Popen(
        [COMMAND, "sandbox", "--data-dir", str(data), "--no-smtp", "--no-imap"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("mailagents sandbox: "):
                url = line.split(": ", 1)[1].strip()
        assert url, "the sandbox did not start"
        yield url, data
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def lease_rows(data: Path) -> list[tuple[str, str]]:
    """(address, status) of every lease in the sandbox's database."""
    db = sqlite3.connect(data / "sandbox.sqlite3")
    try:
        return list(
            db.execute(
                "SELECT m.address, l.status FROM leases l JOIN mailboxes m ON m.id = l.mailbox_id "
                "ORDER BY l.seq"
            )
        )
    finally:
        db.close()


def client(home: Path, api_base: str, key: str) -> Terminal:
    env = app_env(home, MAILAGENTS_PRIVATE_KEY=key)
    return Terminal([COMMAND, "--api-base", api_base], env, width=120, height=32)


def test_killed_during_allocate_then_offered_and_released(sandbox_process, tmp_path):
    from eth_account import Account

    url, data = sandbox_process
    proxy = FaultProxy(url).start()
    proxy.inject("POST", "/v2/mailboxes/leases", Fault.hold())
    key = Account.create().key.hex()
    home = tmp_path / "home"
    try:
        term = client(home, proxy.base_url, key)
        try:
            term.wait_for("Press enter to sign in")
            term.send("Enter")
            term.wait_for("No active leases")
            term.send("n")
            term.wait_for("Allocate a mailbox")
            term.send("Enter")
            assert proxy.held.wait(20), "the allocation never reached the server"
            os.kill(app_pid(term), signal.SIGKILL)
            term.wait_for("EXITED:137")
        finally:
            term.close()
        ((address, status),) = lease_rows(data)
        assert status == "active"  # held on the server; the client never saw the answer

        term = client(home, proxy.base_url, key)
        try:
            screen = term.wait_for("no running mailagents-tui owns")
            assert address in screen
            assert "stopped before the allocation's answer came · no password" in screen
            term.send("y")
            term.wait_for("Released 1 lease(s)")
            term.wait_for("No active leases")
            # A lease of this run: released on quit, and the terminal is told so afterwards.
            term.send("n")
            term.wait_for("Allocate a mailbox")
            term.send("Enter")
            term.wait_for(lambda s: "releases on quit" in s)
            term.send("q")
            after = term.wait_for("EXITED:0", timeout=30)
        finally:
            term.close()
        rows = lease_rows(data)
        assert rows[0] == (address, "released") and len(rows) == 2
        assert rows[1][1] == "released"
        assert f"mailagents-tui: Released on quit 1 lease(s): {rows[1][0]}" in after
    finally:
        proxy.stop()

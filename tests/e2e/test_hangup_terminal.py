"""The terminal goes away while the app is quitting and its release hangs: the app must still
end (a SIGHUP handled on the event loop was ignored while quitting, and a loop blocked in
Textual's shutdown, writing to a terminal that no longer exists, never ran it)."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest
from faultproxy import Fault, FaultProxy
from support import make_services
from terminal import COMMAND, Terminal, app_env
from test_sandbox_terminal import app_pid

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


async def test_sighup_while_quitting_with_a_release_held_ends_the_app(sandbox, wallet, tmp_path):
    home = tmp_path / "home"
    with FaultProxy(sandbox.base_url) as proxy:
        services = make_services(proxy.base_url, home, wallet)  # signed in: opens on leases
        await services.session.ensure()
        await services.aclose()
        config = home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("release_timeout = 3\n")
        env = app_env(
            home, MAILAGENTS_API_BASE=proxy.base_url, MAILAGENTS_PRIVATE_KEY=wallet.key.hex()
        )
        term = Terminal([COMMAND], env, width=110, height=30)
        pid = None
        try:
            term.wait_for("No active leases")
            term.send("n")
            term.wait_for("Allocate a mailbox")
            term.send("Enter")
            term.wait_for("@sandbox.mailagents.test")
            other = make_services(sandbox.base_url, tmp_path / "other", wallet)
            try:
                (lease_id,) = [lease.lease_id for lease in await other.client.list_leases()]
            finally:
                await other.aclose()
            proxy.inject("POST", f"/v2/mailboxes/leases/{lease_id}/release", Fault.hold())
            pid = app_pid(term)
            term.send("q")
            term.wait_until(lambda: proxy.held.is_set(), timeout=20)
        finally:
            term.close()  # the terminal goes away mid-quit: SIGHUP
        deadline = time.monotonic() + 20
        while pid and os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[-1].split()[0] == "Z":
                    break
            time.sleep(0.2)
        alive = bool(pid) and os.path.exists(f"/proc/{pid}")
        if alive:
            with open(f"/proc/{pid}/stat") as stat:
                alive = stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
        if alive:
            os.kill(pid, signal.SIGKILL)
        assert not alive, "the app kept running after its terminal closed while quitting"

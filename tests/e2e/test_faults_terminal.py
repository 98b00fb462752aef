"""The installed ``mailagents-tui`` behind the fault proxy, in a real terminal (tmux): the
inbox keeps checking through transient faults, and a permanent one shows a lasting
"stopped" state that ``r`` resumes."""

from __future__ import annotations

import shutil

import pytest
from faultproxy import Fault, FaultProxy
from support import make_services
from terminal import COMMAND, Terminal, app_env

from tui.sandbox.mail.inbound import build_mime

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def proxy(sandbox):
    with FaultProxy(sandbox.base_url) as proxy:
        yield proxy


def deliver(sandbox, address: str, subject: str) -> None:
    sandbox.deliver(
        address, build_mime(sender="a@acme.test", to=address, subject=subject, text="x")
    )


async def test_the_inbox_rides_out_faults_and_r_resumes_after_a_stop(
    sandbox, proxy, wallet, tmp_path
):
    home = tmp_path / "home"
    services = make_services(proxy.base_url, home, wallet)  # signed in: the app opens on leases
    lease = (await services.leases.allocate("e2e", 1, release_on_exit=False)).lease
    await services.aclose()
    (home / "config" / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text("[poll]\nbackoff_base = 0.2\nbackoff_max = 0.5\n")
    env = app_env(home, MAILAGENTS_API_BASE=proxy.base_url, MAILAGENTS_PRIVATE_KEY=wallet.key.hex())
    term = Terminal([COMMAND], env, width=130, height=32)
    try:
        term.wait_for(lease.address)
        term.send("Enter")
        term.wait_for("checked")
        proxy.inject(
            "GET",
            "/v2/messages",
            Fault.truncate(),
            Fault.status(503),
            Fault.drop(),
            Fault.html(500),
            Fault.status(401, "unauthorized", "expired"),
        )
        term.wait_until(lambda: proxy.pending() == 0, timeout=30)
        deliver(sandbox, lease.address, "after the faults")
        term.wait_for("after the faults", timeout=30)

        proxy.inject("GET", "/v2/messages", Fault.status(404, "not_found", "Mailbox not found"))
        term.wait_for("stopped: mailbox not found · r to retry", timeout=30)
        deliver(sandbox, lease.address, "while it was stopped")
        term.send("r")
        term.wait_for("while it was stopped", timeout=30)
        assert "stopped:" not in term.screen()
    finally:
        term.close()

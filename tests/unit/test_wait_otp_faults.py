"""``wait-otp`` (the real command, in a subprocess) behind the fault proxy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from faultproxy import Fault, FaultProxy

from tui.cli.root import main
from tui.sandbox.mail.inbound import build_mime

FAULTS = [
    Fault.status(503, message="injected outage"),
    Fault.status(503, message="injected outage"),
    Fault.status(503, message="injected outage"),
    Fault.drop(),
    Fault.limited(retry_after=1),
    Fault.html(500),
    Fault.status(401, "unauthorized", "token expired"),
    Fault.truncate(),
    Fault.stall(4),
]
"""The sequence of issue 13, in a row."""


@pytest.fixture
def proxy(sandbox):
    with FaultProxy(sandbox.base_url) as proxy:
        yield proxy


@pytest.fixture
def env(proxy, wallet, tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    # Quick retries keep the test short; the defaults are exercised by the TUI and unit tests.
    (home / "config" / "config.toml").write_text("[poll]\nbackoff_base = 0.2\nbackoff_max = 1\n")
    return {
        "MAILAGENTS_HOME": str(home),
        "MAILAGENTS_API_BASE": proxy.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
        "MAILAGENTS_KEYSTORE_PASSWORD": "",
    }


def new_lease(env) -> dict:
    result = CliRunner().invoke(main, ["lease", "new", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wait_otp(env, lease_id: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "wait-otp", "--lease", lease_id, "--timeout", f"{timeout}"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )


def test_wait_otp_survives_the_whole_fault_sequence(sandbox, proxy, env):
    lease = new_lease(env)
    sandbox.deliver(
        lease["address"],
        build_mime(
            sender="no-reply@acme.test",
            to=lease["address"],
            subject="Your code",
            text="Your verification code is 731904.",
        ),
    )
    proxy.inject("GET", "/v2/messages", *FAULTS)
    result = wait_otp(env, lease["lease_id"], 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "731904\n"
    assert proxy.pending() == 0
    assert proxy.injected() == [f.describe() for f in FAULTS]
    assert ("POST", "/v2/auth/siwe/verify", "forwarded") in proxy.log  # the 401: signed in again


def test_wait_otp_stops_at_once_on_a_permanent_failure(proxy, env):
    lease = new_lease(env)
    proxy.inject("GET", "/v2/messages", Fault.status(404, "not_found", "Mailbox not found"))
    result = wait_otp(env, lease["lease_id"], 60)
    assert result.returncode == 4  # not found (the mailbox is gone)
    assert "Mailbox not found" in result.stderr and "Traceback" not in result.stderr
    assert proxy.hits[("GET", "/v2/messages")] == 1


def test_wait_otp_retries_a_lookup_of_the_lease(sandbox, proxy, env):
    lease = new_lease(env)
    sandbox.deliver(
        lease["address"],
        build_mime(sender="a@b.test", to=lease["address"], subject="c", text="code 558811"),
    )
    path = f"/v2/mailboxes/leases/{lease['lease_id']}"
    proxy.inject("GET", path, Fault.drop(), Fault.status(502), Fault.truncate())
    result = wait_otp(env, lease["lease_id"], 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "558811\n"
    assert proxy.hits[("GET", path)] == 4

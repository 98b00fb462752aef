"""Headless commands against the sandbox on loopback (click's runner, real HTTP)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from support import cli_env, run_cli


@pytest.fixture
def env(sandbox, wallet, tmp_path):
    return cli_env(sandbox.base_url, wallet, tmp_path / "home")


def test_login_json(env, wallet):
    result = run_cli(env, "login", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["address"] == wallet.address
    assert set(data) >= {"tenant_id", "agent_id", "did"}
    assert "access_token" not in result.output
    assert wallet.key.hex()[2:] not in result.output


def test_lease_lifecycle(env):
    new = run_cli(env, "lease", "new", "--purpose", "signup test", "--ttl-hours", "3", "--json")
    assert new.exit_code == 0, new.output
    lease = json.loads(new.stdout)
    assert lease["address"].endswith("@sandbox.mailagents.test")
    assert lease["credentials_stored"] is True
    assert "webmail_password" not in lease

    listed = run_cli(env, "leases", "--json")
    rows = json.loads(listed.stdout)
    assert [r["lease_id"] for r in rows] == [lease["lease_id"]]
    assert rows[0]["purpose"] == "signup test"
    assert rows[0]["lease_status"] == "active"

    human = run_cli(env, "leases")
    assert lease["address"] in human.stdout and "2h 5" in human.stdout

    creds = run_cli(env, "lease", "credentials", lease["lease_id"], "--json")
    secret = json.loads(creds.stdout)
    assert secret["webmail_login"] == lease["address"]
    assert len(secret["webmail_password"]) >= 16

    reset = run_cli(env, "lease", "credentials", lease["lease_id"], "--reset", "--yes", "--json")
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout)["webmail_password"] != secret["webmail_password"]

    released = run_cli(env, "lease", "release", lease["lease_id"])
    assert released.exit_code == 0
    assert "released" in released.stdout
    assert json.loads(run_cli(env, "leases", "--json").stdout) == []
    history = json.loads(run_cli(env, "leases", "--all", "--json").stdout)
    assert [(r["lease_id"], r["lease_status"]) for r in history] == [
        (lease["lease_id"], "released")
    ]


def test_bad_input_is_one_clear_line(env):
    result = run_cli(env, "lease", "new", "--ttl-hours", "9999")
    assert result.exit_code == 2  # a usage error
    assert "ttl hours must be between 1 and 720" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_unknown_lease_is_a_clear_error(env):
    result = run_cli(env, "lease", "release", "00000000-0000-4000-8000-000000000000")
    # An unknown id is not active anywhere: nothing is sent, and the user is told (exit 4).
    assert result.exit_code == 4
    assert "not found" in result.stderr and result.stdout == ""


def test_no_wallet_is_explained(env):
    env = {**env, "MAILAGENTS_PRIVATE_KEY": ""}
    result = run_cli(env, "login")
    assert result.exit_code == 1
    assert "no wallet" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_api(env):
    env = {**env, "MAILAGENTS_API_BASE": "http://127.0.0.1:9"}
    result = run_cli(env, "login")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "cannot reach http://127.0.0.1:9" in result.stderr


def test_bad_private_key_is_refused_without_echo(env):
    env = {**env, "MAILAGENTS_PRIVATE_KEY": "0x1234nothex"}
    result = run_cli(env, "login")
    assert result.exit_code == 1
    assert "64 hex characters" in result.stderr
    assert "1234nothex" not in result.stderr


def test_wallet_new_writes_private_keystore_and_signs_in(env, tmp_path):
    path = tmp_path / "ks.json"
    env = {**env, "MAILAGENTS_PRIVATE_KEY": "", "MAILAGENTS_KEYSTORE_PASSWORD": "correct horse"}
    created = run_cli(env, "wallet", "new", "--out", str(path))
    assert created.exit_code == 0, created.output
    address = created.stdout.strip()
    assert address.startswith("0x") and len(address) == 42
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "correct horse" not in path.read_text()

    again = run_cli(env, "wallet", "new", "--out", str(path))
    assert again.exit_code == 1 and "not overwriting" in again.stderr

    login = run_cli(env, "--keystore", str(path), "login", "--json")
    assert login.exit_code == 0, login.output
    assert json.loads(login.stdout)["address"] == address

    wrong = run_cli(
        {**env, "MAILAGENTS_HOME": str(tmp_path / "h2"), "MAILAGENTS_KEYSTORE_PASSWORD": "nope"},
        "--keystore",
        str(path),
        "login",
    )
    assert wrong.exit_code == 1 and "wrong password" in wrong.stderr


def test_help_lists_every_command(env):
    result = run_cli(env, "--help")
    for name in ("login", "leases", "lease", "wallet", "sandbox", "parse"):
        assert f"  {name}" in result.stdout


def test_send_and_sent(env, sandbox, tmp_path):
    a = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    b = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    body = tmp_path / "body.txt"
    body.write_text("Your login code is 908172.\n")
    result = run_cli(
        env,
        "send",
        "--lease",
        a["lease_id"],
        "--to",
        b["address"],
        "--to",
        "ext@example.org",
        "--subject",
        "Login code",
        "--text-file",
        str(body),
        "--json",
    )
    assert result.exit_code == 0, result.output + result.stderr
    sent = json.loads(result.stdout)
    assert sent["submission_status"] == "accepted"
    assert sorted(sent["accepted"]) == sorted([b["address"], "ext@example.org"])

    got = json.loads(run_cli(env, "messages", "--lease", b["lease_id"], "--json").stdout)
    assert [(m["sender"], m["otp"], m["source"]) for m in got] == [(a["address"], "908172", "api")]
    assert run_cli(env, "wait-otp", "--lease", b["lease_id"], "--timeout", "5").stdout == "908172\n"

    attempts = json.loads(run_cli(env, "sent", "--json").stdout)
    assert attempts[0]["send_attempt_id"] == sent["send_attempt_id"]
    assert attempts[0]["subject"] == "Login code"
    detail = run_cli(env, "sent", sent["send_attempt_id"]).stdout
    assert "status    accepted" in detail and "subject   Login code" in detail
    missing = run_cli(env, "sent", "no-such-attempt")
    assert missing.exit_code == 4


def test_send_refuses_bad_addresses_before_sending(env):
    lease = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    result = run_cli(
        env,
        "send",
        "--lease",
        lease["lease_id"],
        "--to",
        "not an address",
        "--subject",
        "s",
        "--text",
        "t",
    )
    assert result.exit_code == 1
    assert "not an email address: not, an, address" in result.stderr
    assert json.loads(run_cli(env, "sent", "--json").stdout) == []


def test_send_without_stored_credentials_is_explained(env, sandbox, wallet):
    from sandbox_helpers import sign_in

    token = sign_in(sandbox.base_url, wallet)["access_token"]
    import httpx

    resp = httpx.post(
        f"{sandbox.base_url}/v2/mailboxes/leases",
        json={
            "agent_id": sign_in(sandbox.base_url, wallet)["agent_id"],
            "purpose": "x",
            "ttl_hours": 1,
        },
        headers={"authorization": f"Bearer {token}"},
    )
    lease_id = resp.json()["lease_id"]  # allocated elsewhere: not in our ledger
    result = run_cli(
        env, "send", "--lease", lease_id, "--to", "a@b.example", "--subject", "s", "--text", "t"
    )
    assert result.exit_code == 1
    assert "reset its credentials" in result.stderr


def test_wait_otp_times_out_with_exit_3(env):
    lease = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    result = run_cli(env, "wait-otp", "--lease", lease["lease_id"], "--timeout", "0.5")
    assert result.exit_code == 3
    assert "no new code" in result.stderr


def test_python_dash_m_runs_the_same_command():
    import subprocess
    import sys

    from tui import __version__

    result = subprocess.run(
        [sys.executable, "-m", "tui", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"mailagents-tui, version {__version__}"


def test_core_layers_never_load_textual():
    import subprocess
    import sys

    code = (
        "import sys, tui.cli.root, tui.core.services, tui.core.poller, tui.core.compose, "
        "tui.core.waiter, tui.extract, tui.sandbox.http.app, tui.imap; "
        "bad = [m for m in sys.modules "
        "if m == 'textual' or m.startswith(('textual.', 'tui.app'))]; "
        "heavy = [m for m in sys.modules if m.startswith('eth_account')]; "
        "print(bad, heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


def test_released_lease_does_not_claim_the_next_lessees_mail(env, sandbox):
    from tui.sandbox.mail.inbound import build_mime

    first = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    sandbox.deliver(
        first["address"],
        build_mime(sender="a@one.test", to=first["address"], subject="mine", text="code 111111"),
    )
    run_cli(env, "lease", "release", first["lease_id"])
    second = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    assert second["address"] == first["address"]  # the same mailbox, re-leased
    sandbox.deliver(
        second["address"],
        build_mime(
            sender="b@two.test",
            to=second["address"],
            subject="theirs",
            text="Your verification code is 222222",
        ),
    )
    old = json.loads(run_cli(env, "messages", "--lease", first["lease_id"], "--json").stdout)
    assert [m["subject"] for m in old] == ["mine"]
    everything = json.loads(
        run_cli(env, "messages", "--lease", first["lease_id"], "--all", "--json").stdout
    )
    assert {(m["subject"], m["after_lease"]) for m in everything} == {
        ("mine", False),
        ("theirs", True),
    }
    waited = run_cli(env, "wait-otp", "--lease", first["lease_id"], "--timeout", "1")
    assert waited.exit_code == 1
    assert "is released" in waited.stderr
    human = run_cli(env, "messages", "--lease", second["lease_id"]).stdout
    assert "222222" in human and "theirs" in human


def test_paid_calls_are_reported_on_stderr(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=1)
    env = {
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": server.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }
    first = run_cli(env, "lease", "new", "--json")
    assert first.exit_code == 0 and "paid" not in first.stderr
    second = run_cli(env, "lease", "new", "--json")
    assert second.exit_code == 0
    assert "paid 1 call(s) past the free limits (0.001 USDC)" in second.stderr
    assert json.loads(second.stdout)["lease_status"] == "active"


def test_show_fetches_a_message_older_than_the_newest_100(env, sandbox):
    lease = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    raw = b"From: a@shop.test\r\nSubject: Code %d\r\n\r\nYour code is %d\r\n"
    sandbox.deliver(lease["address"], raw % (0, 700000))
    oldest = json.loads(run_cli(env, "messages", "--lease", lease["lease_id"], "--json").stdout)[0]
    for n in range(1, 101):
        sandbox.deliver(lease["address"], raw % (n, 700000 + n))
    listed = json.loads(run_cli(env, "messages", "--lease", lease["lease_id"], "--json").stdout)
    assert len(listed) == 100 and oldest["message_id"] not in {m["message_id"] for m in listed}
    shown = run_cli(env, "show", "--lease", lease["lease_id"], oldest["message_id"], "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["subject"] == "Code 0"
    # Another mailbox's message is not this lease's, even by id.
    other = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    result = run_cli(env, "show", "--lease", other["lease_id"], oldest["message_id"])
    assert result.exit_code != 0 and "no message" in result.stderr


def test_accounts_lists_the_tenants_mailboxes(env):
    lease = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    rows = json.loads(run_cli(env, "accounts", "--json").stdout)
    assert lease["mailbox_id"] in {r["account_id"] for r in rows}
    human = run_cli(env, "accounts").stdout
    assert lease["address"] in human and f"lease {lease['lease_id']}" in human

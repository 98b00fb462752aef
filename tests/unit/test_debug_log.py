"""``--debug`` / ``--log-file``: requests with status, time and request id; never a secret."""

from __future__ import annotations

import json
import logging
import re
import stat

from click.testing import CliRunner

from tui.cli.root import main


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def secrets_of(home, wallet, password: str | None = None) -> list[str]:
    sessions = json.loads((home / "state" / "sessions.json").read_text())
    found = [s["access_token"] for s in sessions.values()]
    found += [wallet.key.hex().removeprefix("0x"), password or ""]
    return [s for s in found if s]


def test_debug_logs_requests_and_no_secret(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=1)
    home = tmp_path / "home"
    env = {
        "MAILAGENTS_HOME": str(home),
        "MAILAGENTS_API_BASE": server.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }
    first = run(env, "--debug", "lease", "new", "--json")
    assert first.exit_code == 0
    lease = json.loads(first.stdout)  # stdout stays the JSON alone
    assert re.search(r"POST /v2/mailboxes/leases -> 201 in \d+ ms \(request [^)]+\)", first.stderr)
    assert re.search(r"POST /v2/auth/siwe/verify -> 200", first.stderr)
    paid = run(env, "--debug", "lease", "new", "--json")  # past the free limit: a proof
    assert "POST /v2/mailboxes/leases -> 402" in paid.stderr
    assert re.search(r"-> 201 in \d+ ms \(request [^)]+, paid with a proof\)", paid.stderr)
    creds = json.loads(run(env, "lease", "credentials", lease["lease_id"], "--json").stdout)
    for secret in secrets_of(home, wallet, creds["webmail_password"]):
        assert secret not in first.stderr and secret not in paid.stderr
    assert "v1=" not in paid.stderr.replace("v1=[redacted]", "")
    assert not logging.getLogger("tui").handlers  # removed when the command ended


def test_log_file_is_private_and_clean(sandbox, wallet, tmp_path):
    home = tmp_path / "home"
    env = {
        "MAILAGENTS_HOME": str(home),
        "MAILAGENTS_API_BASE": sandbox.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }
    log_file = tmp_path / "logs" / "client.log"
    result = run(env, "--log-file", str(log_file), "login", "--json")
    assert result.exit_code == 0 and "POST" not in result.stderr
    text = log_file.read_text()
    assert "GET /v2/meta/runtime -> 200" in text and "/v2/auth/siwe/challenge" in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    for secret in secrets_of(home, wallet):
        assert secret not in text


def test_the_redactor_masks_secret_shapes():
    from tui.core.logs import redact

    text = redact(
        "authorization: Bearer abc.def x-payment-proof t=1795480040,v1=806f51b9aa2440ffee "
        "key 0x" + "ab" * 32 + " jwt eyJhbGciOiJI.eyJzdWIiOiJ4In0.c2ln password=hunter2"
    )
    for secret in ("abc.def", "806f51b9", "ab" * 32, "eyJhbGciOiJI", "hunter2"):
        assert secret not in text

"""Sandbox: data dir persistence, the ``sandbox`` click group and ``sandbox deliver``."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner
from sandbox_helpers import Session

from tui.sandbox.cli import sandbox as sandbox_cli
from tui.sandbox.config import SandboxConfig
from tui.sandbox.runner import SandboxServer

EML = (
    b"From: Robot <robot@service.example>\r\n"
    b"To: someone\r\n"
    b"Subject: =?utf-8?q?Your_c=C3=B3de?=\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Your verification code is 654321.\r\n"
)


def test_data_dir_keeps_state_and_secrets_across_restarts(tmp_path, wallet):
    config = SandboxConfig.for_data_dir(tmp_path / "data")
    secrets_file = tmp_path / "data" / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    with SandboxServer(config) as server:
        s = Session(server.base_url, wallet)
        lease = s.allocate().json()
        s.close()
    again = SandboxConfig.for_data_dir(tmp_path / "data")
    assert (again.jwt_secret, again.hmac_secret, again.internal_token) == (
        config.jwt_secret,
        config.hmac_secret,
        config.internal_token,
    )
    with SandboxServer(again) as server:
        r = httpx.get(
            f"{server.base_url}/v2/mailboxes/leases/{lease['lease_id']}",
            headers={"authorization": f"Bearer {s.token}"},
        )
        assert r.status_code == 200 and r.json()["lease_status"] == "active"


def test_deliver_into_data_dir(tmp_path, wallet):
    eml = tmp_path / "m.eml"
    eml.write_bytes(EML)
    data = tmp_path / "data"
    with SandboxServer(SandboxConfig.for_data_dir(data)) as server:
        s = Session(server.base_url, wallet)
        lease = s.allocate().json()
        result = CliRunner().invoke(
            sandbox_cli, ["deliver", str(eml), "--to", lease["address"], "--data-dir", str(data)]
        )
        assert result.exit_code == 0, result.output
        items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
        assert [(i["subject"], i["otp_code"]) for i in items] == [("Your códe", "654321")]
        # an address without a lease is refused
        result = CliRunner().invoke(
            sandbox_cli,
            [
                "deliver",
                str(eml),
                "--to",
                "nobody@sandbox.mailagents.test",
                "--data-dir",
                str(data),
            ],
        )
        assert result.exit_code == 1 and "no active lease" in result.output
        s.close()


def test_deliver_over_smtp_and_demo(sandbox_factory, session_factory, tmp_path):
    server = sandbox_factory(smtp_port=0)
    s = session_factory(server)
    lease = s.allocate().json()
    eml = tmp_path / "m.eml"
    eml.write_bytes(EML)
    target = f"127.0.0.1:{server.smtp_port}"
    result = CliRunner().invoke(
        sandbox_cli, ["deliver", str(eml), "--to", lease["address"], "--smtp", target]
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        sandbox_cli, ["deliver", "--demo", "--to", lease["address"], "--smtp", target]
    )
    assert result.exit_code == 0, result.output
    items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
    assert len(items) == 4
    assert {"654321", "482913", "771045"} <= {i["otp_code"] for i in items}
    result = CliRunner().invoke(
        sandbox_cli,
        ["deliver", str(eml), "--to", "nobody@sandbox.mailagents.test", "--smtp", target],
    )
    assert result.exit_code == 1 and "refused" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["deliver", "--to", "a@b.c", "--demo"],  # neither --smtp nor --data-dir
        ["deliver", "--to", "a@b.c", "--smtp", "127.0.0.1:1"],  # neither FILE nor --demo
        ["deliver", "--demo", "--smtp", "127.0.0.1:1"],  # no --to
    ],
)
def test_deliver_usage_errors(args):
    result = CliRunner().invoke(sandbox_cli, args)
    assert result.exit_code == 2


def test_foreground_command_prints_url_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tui.sandbox.cli import sandbox; sandbox()",
            "--data-dir",
            str(tmp_path / "d"),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("mailagents sandbox: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        smtp_line = proc.stdout.readline()
        assert "SMTP inbound: 127.0.0.1:" in smtp_line
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
    assert (tmp_path / "d" / "sandbox.sqlite3").exists()
    start = time.monotonic()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
    assert time.monotonic() - start < 2

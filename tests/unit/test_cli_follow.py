"""``messages --follow [--json]``: the installed command streams each mail once, as it arrives,
until interrupted (against the sandbox with its private Dovecot)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import cli_env, read_line, run_cli, send_mail

COMMAND = str(Path(sys.executable).parent / "mailagents-tui")


@pytest.mark.parametrize("imap", [True, False], ids=["imap", "api-only"])
def test_follow_json_streams_each_mail_once_until_interrupted(imap_sandbox, wallet, tmp_path, imap):
    env = cli_env(imap_sandbox.base_url, wallet, tmp_path / "home", home=tmp_path)
    made = run_cli(env, "lease", "new", "--json")
    lease = json.loads(made.stdout)
    send_mail(imap_sandbox.smtp_port, lease["address"], "First", "Your code: 111222\n")
    args = [COMMAND, "messages", "--lease", lease["lease_id"], "--follow", "--json"]
    if not imap:
        args.append("--no-imap")
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        first = json.loads(read_line(proc))
        assert first["subject"] == "First" and first["otp"] == "111222"
        assert first["source"] == ("imap" if imap else "api")
        send_mail(imap_sandbox.smtp_port, lease["address"], "Second", "Your code: 333444\n")
        second = json.loads(read_line(proc))
        assert second["subject"] == "Second" and second["otp"] == "333444"
        send_mail(imap_sandbox.smtp_port, lease["address"], "Third", "Your code: 555666\n")
        third = json.loads(read_line(proc))
        assert third["subject"] == "Third"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == ""  # nothing repeated: each mail once

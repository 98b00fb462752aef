"""``messages --follow [--json]``: the installed command streams each mail once, as it arrives,
until interrupted (against the sandbox with its private Dovecot)."""

from __future__ import annotations

import json
import os
import select
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from tui.cli import main

COMMAND = str(Path(sys.executable).parent / "mailagents-tui")


def send(port: int, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = "Acme <no-reply@acme.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def read_line(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line:
                return line
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError("no line in time")


@pytest.mark.parametrize("imap", [True, False], ids=["imap", "api-only"])
def test_follow_json_streams_each_mail_once_until_interrupted(imap_sandbox, wallet, tmp_path, imap):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": imap_sandbox.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }
    made = CliRunner().invoke(main, ["lease", "new", "--json"], env=env, catch_exceptions=False)
    lease = json.loads(made.stdout)
    send(imap_sandbox.smtp_port, lease["address"], "First", "Your code: 111222\n")
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
        send(imap_sandbox.smtp_port, lease["address"], "Second", "Your code: 333444\n")
        second = json.loads(read_line(proc))
        assert second["subject"] == "Second" and second["otp"] == "333444"
        send(imap_sandbox.smtp_port, lease["address"], "Third", "Your code: 555666\n")
        third = json.loads(read_line(proc))
        assert third["subject"] == "Third"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == ""  # nothing repeated: each mail once

"""Headless commands with IMAP (the sandbox's private Dovecot): bodies, sources, raw, wait-otp."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from click.testing import CliRunner

from tui.cli import main


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def send(port: int, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = "Acme <no-reply@acme.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def test_messages_show_and_wait_otp_read_bodies(imap_sandbox, wallet, tmp_path):
    env = {
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": imap_sandbox.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }
    lease = json.loads(run(env, "lease", "new", "--json").stdout)
    send(
        imap_sandbox.smtp_port,
        lease["address"],
        "Your login code",
        "Hello Bob,\n\nEnter this code within 10 minutes: 551234\n",
    )
    assert run(env, "wait-otp", "--lease", lease["lease_id"], "--timeout", "15").stdout == (
        "551234\n"
    )
    rows = json.loads(run(env, "messages", "--lease", lease["lease_id"], "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["source"] == "imap" and row["otp"] == "551234" and row["otp_source"] == "body"
    assert "Enter this code within 10 minutes: 551234" in row["body_text"]

    shown = json.loads(
        run(env, "show", "--lease", lease["lease_id"], row["message_id"], "--json").stdout
    )
    assert shown["body_text"] == row["body_text"]
    raw = run(env, "show", "--lease", lease["lease_id"], row["message_id"], "--raw")
    assert raw.exit_code == 0 and "Subject: Your login code" in raw.stdout
    human = run(env, "show", "--lease", lease["lease_id"], row["message_id"]).stdout
    assert "Code:     551234" in human and "Source:   imap" in human

    api_only = json.loads(
        run(env, "messages", "--lease", lease["lease_id"], "--no-imap", "--json").stdout
    )
    assert api_only[0]["source"] == "api" and "body_text" not in api_only[0]

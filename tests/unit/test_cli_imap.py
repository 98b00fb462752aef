"""Headless commands with IMAP (the sandbox's private Dovecot): bodies, sources, raw, wait-otp."""

from __future__ import annotations

import json

from support import cli_env, run_cli, send_mail


def test_messages_show_and_wait_otp_read_bodies(imap_sandbox, wallet, tmp_path):
    env = cli_env(imap_sandbox.base_url, wallet, tmp_path / "home")
    lease = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    send_mail(
        imap_sandbox.smtp_port,
        lease["address"],
        "Your login code",
        "Hello Bob,\n\nEnter this code within 10 minutes: 551234\n",
    )
    assert run_cli(env, "wait-otp", "--lease", lease["lease_id"], "--timeout", "15").stdout == (
        "551234\n"
    )
    rows = json.loads(run_cli(env, "messages", "--lease", lease["lease_id"], "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["source"] == "imap" and row["otp"] == "551234" and row["otp_source"] == "body"
    assert "Enter this code within 10 minutes: 551234" in row["body_text"]

    shown = json.loads(
        run_cli(env, "show", "--lease", lease["lease_id"], row["message_id"], "--json").stdout
    )
    assert shown["body_text"] == row["body_text"]
    raw = run_cli(env, "show", "--lease", lease["lease_id"], row["message_id"], "--raw")
    assert raw.exit_code == 0 and "Subject: Your login code" in raw.stdout
    human = run_cli(env, "show", "--lease", lease["lease_id"], row["message_id"]).stdout
    assert "Code:     551234" in human and "Source:   imap" in human

    api_only = json.loads(
        run_cli(env, "messages", "--lease", lease["lease_id"], "--no-imap", "--json").stdout
    )
    assert api_only[0]["source"] == "api" and "body_text" not in api_only[0]

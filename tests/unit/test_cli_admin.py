"""Headless ``mailagents-tui admin`` views and actions against the sandbox on loopback."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from sandbox_helpers import WebhookReceiver

from tui.cli import root as cli
from tui.core.admin import (
    VIEWS,
    AdminTokenError,
    parse_filters,
    read_admin_token_file,
    resolve_admin_token,
)
from tui.sandbox.mail.inbound import build_mime


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(allocate_hourly_limit=0, webhook_backoff_s=0.01)


@pytest.fixture
def env(server, tmp_path):
    return {
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": server.base_url,
        "MAILAGENTS_ADMIN_TOKEN": server.config.admin_token,
    }


def run(env, *args, input=None):
    return CliRunner().invoke(
        cli.main, ["admin", *args], env=env, input=input, catch_exceptions=False
    )


def ok_json(env, *args):
    result = run(env, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- token -----------------------------------------------------------------------------------


def test_token_sources(tmp_path):
    path = tmp_path / "token"
    path.write_text("abc\n")
    os.chmod(path, 0o600)
    assert resolve_admin_token(path, env={"MAILAGENTS_ADMIN_TOKEN": "env"}) == "abc"
    assert resolve_admin_token(None, env={"MAILAGENTS_ADMIN_TOKEN": " env "}) == "env"
    assert resolve_admin_token(None, env={}, prompt=lambda: "typed") == "typed"
    with pytest.raises(AdminTokenError, match="no admin token"):
        resolve_admin_token(None, env={}, prompt=lambda: "")
    os.chmod(path, 0o640)
    with pytest.raises(AdminTokenError, match="chmod 600"):
        read_admin_token_file(path)


def test_token_file_option_and_refusals(server, env, tmp_path):
    path = tmp_path / "token"
    path.write_text(server.config.admin_token)
    os.chmod(path, 0o600)
    no_env = {k: v for k, v in env.items() if k != "MAILAGENTS_ADMIN_TOKEN"}
    result = CliRunner().invoke(
        cli.main, ["admin", "--admin-token-file", str(path), "tenants", "--json"], env=no_env
    )
    assert result.exit_code == 0, result.output
    os.chmod(path, 0o644)
    result = CliRunner().invoke(
        cli.main, ["admin", "--admin-token-file", str(path), "tenants"], env=no_env
    )
    assert result.exit_code != 0 and "chmod 600" in result.output
    result = CliRunner().invoke(cli.main, ["admin", "tenants"], env=no_env)
    assert result.exit_code != 0 and "no admin token" in result.output
    bad = {**env, "MAILAGENTS_ADMIN_TOKEN": "wrong-token"}
    result = CliRunner().invoke(cli.main, ["admin", "tenants"], env=bad)
    assert result.exit_code != 0 and "Invalid admin token" in result.output
    assert "wrong-token" not in result.output
    # There is no way to pass the token as an argument.
    result = CliRunner().invoke(cli.main, ["admin", "--admin-token", "x", "tenants"], env=no_env)
    assert result.exit_code == 2


# -- views -----------------------------------------------------------------------------------


def test_every_view_lists(server, env, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    server.deliver(
        lease["address"],
        build_mime(
            sender="a@b.example", to=lease["address"], subject="code 123456", text="code 123456"
        ),
    )
    for name, spec in VIEWS.items():
        data = ok_json(env, name)
        if spec.loader is None:
            assert list(data) == ["items", "page", "page_size", "total"], name
        text = run(env, name)
        assert text.exit_code == 0, (name, text.output)
        assert spec.columns[0].label in text.stdout
    assert ok_json(env, "metrics")["active_mailbox_leases"] == 1
    assert ok_json(env, "settings") == {
        "overage_charge_usdc": 0.001,
        "agent_allocate_hourly_limit": 0,
    }
    tenants = ok_json(env, "tenants")
    assert tenants["items"][0]["tenant_id"] == s.tenant_id
    assert ok_json(env, "leases", "--filter", "status=active")["total"] == 1


def test_paging_and_filters(server, env, session_factory):
    sessions = [session_factory(server) for _ in range(3)]
    page = ok_json(env, "tenants", "--page", "2", "--page-size", "2")
    assert page["page"] == 2 and page["page_size"] == 2 and page["total"] == 3
    assert len(page["items"]) == 1
    text = run(env, "tenants", "--page-size", "2")
    assert "page 1/2 · 2 of 3" in text.stderr
    suspended = ok_json(env, "tenants", "-f", "status=suspended")
    assert suspended["total"] == 0
    result = run(env, "tenants", "-f", "colour=red")
    assert result.exit_code == 2 and "unknown filter 'colour'" in result.output
    assert run(env, "tenants", "--page-size", "201").exit_code == 2
    assert sessions


def test_parse_filters():
    assert parse_filters(["a=1", "b = x=y"], ("a", "b")) == {"a": "1", "b": "x=y"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_filters(["a"], ("a",))


def test_hostile_values_are_cleaned(server, env, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    raw = build_mime(sender="x@evil.example", to=lease["address"], subject="\x1b]52;c;AAAA\x07hi")
    server.deliver(lease["address"], raw)
    text = run(env, "messages").stdout
    assert "\x1b" not in text and "\x07" not in text


# -- actions ---------------------------------------------------------------------------------


def test_tenant_set_needs_yes_without_a_terminal(server, env, session_factory):
    s = session_factory(server)
    result = run(env, "tenant", "set", s.tenant_id, "--status", "suspended")
    assert result.exit_code == 2 and "--yes" in result.output
    assert s.allocate().status_code == 201
    result = run(env, "tenant", "set", s.tenant_id, "--status", "suspended", "--qps", "7", "--yes")
    assert result.exit_code == 0, result.output
    assert "status=suspended qps=7" in result.stdout
    r = s.allocate()
    assert r.status_code == 403 and r.json()["error"] == "tenant_inactive"
    assert run(env, "tenant", "set", s.tenant_id).exit_code == 2
    result = run(env, "tenant", "set", "nope", "--status", "active", "--yes")
    assert result.exit_code == 4 and "Tenant not found" in result.output  # not found


def test_mailbox_freeze_release(server, env, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    mailbox = lease["mailbox_id"]
    result = run(env, "mailbox", "freeze", mailbox, "--reason", "abuse", "--yes")
    assert result.exit_code == 0 and "status=frozen" in result.stdout
    assert s.allocate().json()["mailbox_id"] != mailbox
    assert ok_json(env, "mailboxes", "-f", "status=frozen")["total"] == 1
    assert run(env, "mailbox", "release", mailbox).exit_code == 2
    assert run(env, "mailbox", "release", mailbox, "--yes").exit_code == 0
    assert ok_json(env, "mailboxes", "-f", "status=frozen")["total"] == 0


def test_message_reparse_and_replays(server, env, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    with WebhookReceiver() as receiver:
        body = {"event_types": ["otp.extracted"], "target_url": receiver.url, "secret": "x" * 20}
        hook = s.post("/v2/webhooks", json=body).json()
        raw = build_mime(sender="a@b.example", to=lease["address"], subject="s", text="code 654321")
        found = server.deliver(lease["address"], raw)
        server.wait_webhooks_idle()
        reparse = ok_json(env, "message", "reparse", found["message_id"])
        assert reparse["status"] == "accepted" and reparse["otp_extracted"] is True
        replay = run(env, "message", "replay", found["message_id"])
        assert replay.exit_code == 0 and "queued=1" in replay.stdout
        assert ok_json(env, "webhook", "replay", hook["webhook_id"])["queued"] == 1
        server.wait_webhooks_idle()
        assert len(receiver.requests) == 3
    rotated = run(env, "webhook", "rotate", hook["webhook_id"], "--yes")
    assert rotated.exit_code == 0 and "shown once" in rotated.stdout
    secret = rotated.stdout.strip().rsplit(" ", 1)[-1]
    assert server.store.webhook(None, hook["webhook_id"]).secret == secret


def test_invoice_issue_policies_and_settings(server, env, session_factory):
    s = session_factory(server)
    server.store.charge(s.tenant_id, 1000)
    invoice = ok_json(env, "invoices")["items"][0]
    assert run(env, "invoice", "issue", invoice["invoice_id"], "--yes").exit_code == 0
    assert ok_json(env, "invoices")["items"][0]["status"] == "issued"
    assert run(env, "risk-policy", "set", "domain_denylist", "evil.test", "--yes").exit_code == 0
    policies = ok_json(env, "risk-policies")["items"]
    assert policies[0]["policy_id"] == "domain_denylist:evil.test"
    assert run(env, "risk-policy", "remove", "domain_denylist", "evil.test", "--yes").exit_code == 0
    assert ok_json(env, "risk-policies")["total"] == 0
    result = run(env, "settings", "set", "--allocate-hourly-limit", "1", "--overage-usdc", "0.5")
    assert result.exit_code == 2  # no terminal, no --yes
    changed = ok_json(env, "settings", "set", "--allocate-hourly-limit", "1", "--yes")
    assert changed["agent_allocate_hourly_limit"] == 1
    assert s.allocate().status_code == 201
    assert s.allocate().status_code == 402
    audit = [row["action"] for row in ok_json(env, "audit")["items"]]
    assert {"invoice.issue", "risk.policy_update", "settings.update"} <= set(audit)


def test_confirmation_on_a_terminal(server, env, session_factory, monkeypatch):
    s = session_factory(server)
    import tui.cli.admin as admin_cmd

    monkeypatch.setattr(admin_cmd, "interactive", lambda: True)
    result = run(env, "tenant", "set", s.tenant_id, "--status", "archived", input="n\n")
    assert result.exit_code == 1 and "cancelled" in result.output
    result = run(env, "tenant", "set", s.tenant_id, "--status", "archived", input="y\n")
    assert result.exit_code == 0, result.output
    assert s.allocate().json()["message"] == "Tenant is archived"


def test_token_prompt_on_a_terminal(server, env, monkeypatch):
    import tui.cli.admin as admin_cmd

    monkeypatch.setattr(admin_cmd, "interactive", lambda: True)
    no_env = {k: v for k, v in env.items() if k != "MAILAGENTS_ADMIN_TOKEN"}
    token = server.config.admin_token
    result = CliRunner().invoke(cli.main, ["admin", "jobs"], env=no_env, input=token + "\n")
    assert result.exit_code == 0, result.output
    assert token not in result.output

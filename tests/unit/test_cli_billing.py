"""Headless webhooks, usage and invoices commands against the sandbox on loopback."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import WebhookReceiver, webhook_signature
from support import cli_env, run_cli

from tui.cli import root as cli
from tui.core.billing import (
    BillingInputError,
    current_period,
    recent_periods,
    shift_period,
    validate_period,
    validate_target_url,
)

LAZY = {
    "webhooks": ("tui.cli.billing:webhooks", "List webhooks and their delivery log."),
    "webhook": ("tui.cli.billing:webhook", "Create webhooks, rotate their secrets."),
    "usage": ("tui.cli.billing:usage", "A month's usage and the price of a paid call."),
    "invoices": ("tui.cli.billing:invoices", "List invoices (show one with `show ID`)."),
}

RAW = (
    b"From: Robot <robot@service.example>\r\n"
    b"To: someone\r\n"
    b"Subject: Your code\r\n"
    b"Message-ID: <cli-billing-1@service.example>\r\n"
    b"\r\n"
    b"Your verification code is 482913.\r\n"
)


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The commands as ``tui.cli`` registers them (harmless once it does)."""
    for name, spec in LAZY.items():
        monkeypatch.setitem(cli.LAZY_COMMANDS, name, spec)


@pytest.fixture
def env(sandbox, wallet, tmp_path):
    return cli_env(sandbox.base_url, wallet, tmp_path / "home")


def ok_json(env, *args):
    result = run_cli(env, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_clean_error(result, text, code=1):
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr
    assert result.stderr.startswith("mailagents-tui: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help_lists_the_commands(env):
    result = run_cli(env, "--help")
    for name in LAZY:
        assert name in result.stdout
    new_help = run_cli(env, "webhook", "new", "--help").stdout
    assert "mail.received only for mail" in " ".join(new_help.split())


def test_new_list_rotate_and_delivery_on_mail(env, sandbox):
    with WebhookReceiver() as receiver:
        created = ok_json(env, "webhook", "new", "--url", receiver.url)
        secret = created["secret"]
        assert len(secret) == 32 and int(secret, 16) >= 0
        assert created["event_types"] == ["mail.received", "otp.extracted"]
        assert created["target_url"] == receiver.url
        assert created["status"] == "active" and created["last_status_code"] is None

        listed = ok_json(env, "webhooks")
        assert [h["webhook_id"] for h in listed] == [created["webhook_id"]]
        assert "secret" not in listed[0]
        human = run_cli(env, "webhooks").stdout
        assert created["webhook_id"] in human and "last never" in human

        lease = ok_json(env, "lease", "new")
        sandbox.deliver(lease["address"], RAW)
        assert sandbox.wait_webhooks_idle(10)
        assert len(receiver.requests) == 1
        req = receiver.requests[0]
        ts = req.headers["x-agent-mail-timestamp"]
        # The printed secret is the one the service signs with.
        assert req.headers["x-agent-mail-signature"] == (
            f"t={ts},v1={webhook_signature(secret, ts, req.body)}"
        )

        deliveries = ok_json(env, "webhooks", "--deliveries")
        assert len(deliveries) == 1
        d = deliveries[0]
        assert d["webhook_id"] == created["webhook_id"]
        assert d["delivery_id"] == req.headers["x-agent-mail-delivery-id"]
        assert (d["status_code"], d["attempts"], d["ok"], d["error_message"]) == (
            200,
            1,
            True,
            None,
        )
        assert ok_json(env, "webhooks", "--deliveries", created["webhook_id"]) == deliveries
        shown = run_cli(env, "webhook", "delivery", d["delivery_id"]).stdout
        assert f"delivery  {d['delivery_id']}" in shown and "outcome   ok (HTTP 200" in shown
        human = run_cli(env, "webhooks", "--deliveries").stdout
        assert " 200  1 attempt " in human and "ok" in human
        hook = ok_json(env, "webhooks")[0]
        assert hook["last_status_code"] == 200 and hook["last_delivery_at"]

        # Rotation asks first; a "no" changes nothing.
        refused = run_cli(env, "webhook", "rotate", created["webhook_id"], input="n\n")
        assert refused.exit_code == 1 and "Rotate this webhook's secret?" in refused.stderr
        rotated = ok_json(env, "webhook", "rotate", created["webhook_id"], "--yes")
        assert rotated["webhook_id"] == created["webhook_id"]
        assert len(rotated["secret"]) >= 16 and rotated["secret"] != secret
        human = run_cli(env, "webhook", "rotate", created["webhook_id"], "--yes").stdout
        assert "shown once" in human

        sandbox.deliver(lease["address"], RAW.replace(b"cli-billing-1", b"cli-billing-2"))
        assert sandbox.wait_webhooks_idle(10)
        req = receiver.requests[-1]
        ts = req.headers["x-agent-mail-timestamp"]
        assert req.headers["x-agent-mail-signature"] != (
            f"t={ts},v1={webhook_signature(secret, ts, req.body)}"
        )


def test_given_secret_and_one_event(env):
    created = ok_json(
        env,
        "webhook",
        "new",
        "--url",
        "https://hooks.example/in",
        "--event",
        "otp.extracted",
        "--secret",
        "a-long-enough-secret",
    )
    assert created["event_types"] == ["otp.extracted"]
    assert "secret" not in created
    human = run_cli(env, "webhook", "new", "--url", "http://h.example/x").stdout
    assert "shown once" in human
    assert len(ok_json(env, "webhooks")) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "ftp://h.example/x"], "must start with http:// or https://"),
        (["--url", "not a url"], "spaces or control characters"),
        (["--url", "https:///nohost"], "has no host"),
        (["--url", "https://h.example", "--secret", "short"], "at least 16 characters"),
    ],
)
def test_webhook_input_is_checked_before_calling(env, args, message):
    # The key is never loaded and the API never called: an unreachable base proves it.
    env = {**env, "MAILAGENTS_API_BASE": "http://127.0.0.1:9"}
    one_clean_error(run_cli(env, "webhook", "new", *args), message, 2)


def test_unknown_webhook_is_one_clear_line(env):
    result = run_cli(env, "webhook", "rotate", "00000000-0000-4000-8000-000000000000", "--yes")
    one_clean_error(result, "Webhook not found", 4)


def test_usage_counts_the_calls_and_shows_the_price(env):
    empty = ok_json(env, "usage")
    assert empty["period"] == current_period()
    assert empty["usage"] == {
        "api_calls": 0,
        "active_mailboxes": 0,
        "message_parses": 0,
        "billable_units": 0,
    }
    assert empty["overage_charge_usdc"] == 0.001
    ok_json(env, "lease", "new")
    ok_json(env, "lease", "new")
    ok_json(env, "webhook", "new", "--url", "https://hooks.example/a")
    run_cli(env, "webhooks")  # reads record no usage
    after = ok_json(env, "usage", "--period", current_period())
    assert after["usage"]["api_calls"] == 3
    assert after["usage"]["billable_units"] == 3
    assert after["usage"]["active_mailboxes"] == 2
    human = run_cli(env, "usage").stdout
    assert "api calls         3" in human and "0.001 USDC per call" in human
    old = ok_json(env, "usage", "--period", "2020-01")
    assert old["usage"]["api_calls"] == 0


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-01", "2026/01", ""])
def test_bad_period_is_refused(env, period):
    env = {**env, "MAILAGENTS_API_BASE": "http://127.0.0.1:9"}
    one_clean_error(run_cli(env, "usage", "--period", period), "period must look like YYYY-MM", 2)
    one_clean_error(
        run_cli(env, "invoices", "--period", period), "period must look like YYYY-MM", 2
    )


def test_invoices_list_and_show(env):
    rows = ok_json(env, "invoices")
    assert len(rows) == 1  # created at signup for this month
    invoice = rows[0]
    assert invoice["period"] == current_period()
    assert invoice["status"] == "draft" and invoice["amount_usdc"] == 0
    assert invoice["period_start"] == current_period() + "-01"
    assert ok_json(env, "invoices", "--period", current_period()) == rows
    assert ok_json(env, "invoices", "--period", "2020-01") == []
    assert "No invoices for 2020-01." in run_cli(env, "invoices", "--period", "2020-01").stdout

    detail = ok_json(env, "invoices", "show", invoice["invoice_id"])
    assert detail["invoice_id"] == invoice["invoice_id"]
    assert detail["period_start"] == invoice["period_start"]
    assert detail["statement_hash"] is None
    human = run_cli(env, "invoices", "show", invoice["invoice_id"]).stdout
    assert "status      draft" in human and "statement   -" in human
    missing = run_cli(env, "invoices", "show", "00000000-0000-4000-8000-000000000000")
    one_clean_error(missing, "Invoice not found", 4)


def test_paid_allocation_adds_to_the_invoice(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=1)
    env = {
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": server.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
        "MAILAGENTS_KEYSTORE_PASSWORD": "",
    }
    ok_json(env, "lease", "new")
    ok_json(env, "lease", "new")  # past the free limit: paid through a proof
    assert ok_json(env, "invoices")[0]["amount_usdc"] == 0.001
    assert ok_json(env, "usage")["usage"]["api_calls"] == 2


def test_period_helpers():
    assert shift_period("2026-01", -1) == "2025-12"
    assert shift_period("2025-12", 1) == "2026-01"
    assert shift_period("2026-05", -17) == "2024-12"
    assert recent_periods("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert validate_period(" 2026-02 ") == "2026-02"
    with pytest.raises(BillingInputError):
        validate_period("0000-01")
    assert validate_target_url(" https://h.example:8443/p?q=1 ") == "https://h.example:8443/p?q=1"
    with pytest.raises(BillingInputError, match="not valid"):
        validate_target_url("http://h.example:99999/")

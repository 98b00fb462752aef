"""The webhooks and usage screens driven with ``App.run_test()`` against a private sandbox."""

from __future__ import annotations

import asyncio
import calendar

import pytest
from sandbox_helpers import WebhookReceiver, webhook_signature
from support import (
    Posted,
    make_services,
    make_settings,
    refuse_system_clipboard,
    text_of,
    wallet_from,
)
from textual.widgets import Checkbox, DataTable, Input, Sparkline

from tui.app import make_app
from tui.app.dialogs.confirm import ConfirmDialog
from tui.app.dialogs.detail import DetailLoaded
from tui.app.dialogs.invoice import InvoiceDialog, InvoiceLoaded
from tui.app.dialogs.webhook_new import WebhookNewDialog
from tui.app.dialogs.webhook_secret import WebhookSecretDialog
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.usage import InvoicesLoaded, UsageLoaded, UsageScreen
from tui.app.screens.webhooks import DeliveriesLoaded, WebhooksLoaded, WebhooksScreen
from tui.core.billing import current_period, shift_period
from tui.core.wallets import WalletSource

SIZE = (120, 40)


def rows(app, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def mail(n: int) -> bytes:
    return (
        b"From: Robot <robot@service.example>\r\n"
        b"Subject: Welcome aboard\r\n"
        b"Message-ID: <tui-hook-%d@service.example>\r\n"
        b"\r\n"
        b"Nothing to verify here.\r\n" % n
    )


@pytest.fixture(autouse=True)
def no_system_clipboard(monkeypatch):
    refuse_system_clipboard(monkeypatch)


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(allocate_hourly_limit=2, webhook_backoff_s=0.01, webhook_timeout_s=2)


async def signed_in_app(server, wallet, tmp_path, leases: int = 0):
    """Sign in (and allocate) beforehand so the app opens on the lease list."""
    services = make_services(server.base_url, tmp_path, wallet)
    await services.session.sign_in()
    allocated = [
        (await services.leases.allocate("hooks", 1, release_on_exit=False)).lease
        for _ in range(leases)
    ]
    await services.aclose()
    app = make_app(
        make_settings(server.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    return app, allocated


def check_signed(request, secret: str) -> bool:
    ts = request.headers["x-agent-mail-timestamp"]
    expected = f"t={ts},v1={webhook_signature(secret, ts, request.body)}"
    return request.headers["x-agent-mail-signature"] == expected


async def test_create_rotate_and_failing_delivery_log(server, wallet, tmp_path):
    app, (lease,) = await signed_in_app(server, wallet, tmp_path, leases=1)
    with WebhookReceiver(statuses=[500], reply=b"receiver says \x1b[31mno") as receiver:
        posted = Posted()
        async with app.run_test(size=SIZE, message_hook=posted) as pilot:
            await posted.screen(pilot, LeaseListScreen)
            await pilot.press("w")  # opened in the app's context: its messages are seen
            screen = await posted.screen(pilot, WebhooksScreen)
            assert (
                await posted.next(pilot, WebhooksLoaded, receiver=WebhooksScreen)
            ).webhooks == []
            assert "No webhooks" in text_of(app, "#webhooks-empty")

            # Create: the dialog checks its input in place before anything is sent.
            await pilot.press("n")
            await posted.screen(pilot, WebhookNewDialog)
            dialog = app.screen
            secret = dialog.query_one("#webhook-secret", Input).value
            assert len(secret) == 32
            dialog.query_one("#webhook-url", Input).value = "ftp://hooks.example/x"
            await pilot.press("enter")
            assert "http:// or https://" in text_of(app, "#webhook-error")
            dialog.query_one("#webhook-url", Input).value = receiver.url
            for box in dialog.query(Checkbox):
                box.value = False
            await pilot.press("enter")
            assert "at least one event" in text_of(app, "#webhook-error")
            for box in dialog.query(Checkbox):
                box.value = True
            await pilot.press("enter")

            # The generated secret is shown once, with a copy key.
            await posted.screen(pilot, WebhookSecretDialog)
            assert secret in text_of(app, "#webhook-secret-body")
            await pilot.press("c")
            await posted.notified(pilot, "OSC 52")
            await pilot.press("escape")
            assert await posted.screen(pilot, WebhooksScreen) is screen
            (hook,) = (
                await posted.next(
                    pilot, WebhooksLoaded, lambda m: m.webhooks, receiver=WebhooksScreen
                )
            ).webhooks
            await posted.next(
                pilot,
                DeliveriesLoaded,
                lambda m: m.webhook_id == hook.webhook_id,
                receiver=WebhooksScreen,
            )
            assert screen.webhooks == [hook]
            assert hook.event_types == ["mail.received", "otp.extracted"]
            assert rows(app, "#webhooks-table") == [
                [receiver.url, "mail.received, otp.extracted", "active", "never", "-"]
            ]
            assert "none yet" in text_of(app, "#deliveries-title")

            # Mail arrives; the receiver fails every attempt; the log says so.
            server.deliver(lease.address, mail(1))
            assert await asyncio.to_thread(server.wait_webhooks_idle, 10)
            assert len(receiver.requests) == 3
            assert all(check_signed(r, secret) for r in receiver.requests)
            await pilot.press("r")
            await posted.next(
                pilot, DeliveriesLoaded, lambda m: len(m.deliveries) == 1, receiver=WebhooksScreen
            )
            (row,) = rows(app, "#deliveries-table")
            assert row[1:4] == ["500", "3", "failed"]
            assert "Webhook returned HTTP 500" in row[4]
            assert "receiver says no" in row[4] and "\x1b" not in row[4]
            assert rows(app, "#webhooks-table")[0][4] == "500"
            assert "1 · 1 failed" in text_of(app, "#deliveries-title")

            # Enter on the delivery shows it in full (fetched by id); escape closes it.
            from tui.app.dialogs.delivery import DeliveryDialog

            screen.log_table.focus()
            await pilot.press("enter")
            await posted.screen(pilot, DeliveryDialog)
            detail = app.screen
            await posted.next(pilot, DetailLoaded, receiver=DeliveryDialog)
            assert detail.loaded
            body = text_of(app, "#detail-body")
            assert "failed" in body and "500" in body and "receiver says no" in body
            assert "\x1b" not in body
            await pilot.press("escape")
            assert await posted.screen(pilot, WebhooksScreen) is screen
            screen.hooks_table.focus()

            # Rotate: "no" changes nothing; "yes" shows the new secret once.
            await pilot.press("R")
            await posted.screen(pilot, ConfirmDialog)
            await pilot.press("n")
            assert await posted.screen(pilot, WebhooksScreen) is screen
            await pilot.press("R")
            await posted.screen(pilot, ConfirmDialog)
            await pilot.press("y")
            await posted.screen(pilot, WebhookSecretDialog)
            new_secret = app.screen.secret
            assert new_secret != secret and len(new_secret) >= 16
            assert new_secret in text_of(app, "#webhook-secret-body")
            await pilot.press("escape")
            assert await posted.screen(pilot, WebhooksScreen) is screen

            server.deliver(lease.address, mail(2))
            assert await asyncio.to_thread(server.wait_webhooks_idle, 10)
            latest = receiver.requests[-1]
            assert check_signed(latest, new_secret) and not check_signed(latest, secret)
            await pilot.press("r")
            await posted.next(
                pilot, DeliveriesLoaded, lambda m: len(m.deliveries) == 2, receiver=WebhooksScreen
            )
            assert len(screen.deliveries) == 2


async def test_usage_figures_period_navigation_and_invoice(server, wallet, tmp_path):
    app, leases = await signed_in_app(server, wallet, tmp_path, leases=2)
    this_month = current_period()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        # The third allocation is past the free limit (2 an hour): the app's client pays.
        await app.services.leases.allocate("paid", 1, release_on_exit=False)
        assert app.services.client.paid_calls == 1
        tenant = app.services.session.session.tenant_id
        with server.store._lock:
            server.store._conn.execute(
                "UPDATE invoices SET status='issued', statement_hash='stmt_0badc0de' "
                "WHERE tenant_id=? AND period=?",
                (tenant, this_month),
            )

        await pilot.press("U")
        screen = await posted.screen(pilot, UsageScreen)
        assert (
            await posted.next(pilot, UsageLoaded, receiver=UsageScreen)
        ).summary.period == this_month
        assert (await posted.next(pilot, InvoicesLoaded, receiver=UsageScreen)).invoices
        figures = text_of(app, "#usage-figures")
        assert "API calls                3" in figures
        assert "Active mailboxes         3" in figures
        assert "Message parses           0" in figures
        assert "Billable units           3" in figures
        payments = text_of(app, "#usage-payments")
        assert "0.001 USDC per call past a free limit" in payments
        assert "1 paid call · 0.001 USDC" in payments
        assert list(screen.query_one(Sparkline).data) == [0, 0, 0, 0, 0, 3]
        assert "monthly totals" in text_of(app, "#usage-spark-title")
        assert this_month in text_of(app, "#usage-period")
        year, month = map(int, this_month.split("-"))
        last_day = calendar.monthrange(year, month)[1]
        assert rows(app, "#invoices-table") == [
            [this_month, "0.001000", "issued", f"{this_month}-01", f"{this_month}-{last_day}", "-"]
        ]

        # Reading usage records no usage: a refresh shows the same count.
        await pilot.press("r")
        assert (await posted.next(pilot, UsageLoaded, receiver=UsageScreen)).summary.api_calls == 3
        assert "usage of" in text_of(app, "#status-bar")
        assert screen.summary.api_calls == 3

        previous = shift_period(this_month, -1)
        await pilot.press("h")
        assert previous in text_of(app, "#usage-period")
        await posted.next(
            pilot, UsageLoaded, lambda m: m.summary.period == previous, receiver=UsageScreen
        )
        assert screen.summary.period == previous
        assert "API calls                0" in text_of(app, "#usage-figures")
        assert list(screen.query_one(Sparkline).data) == [0] * 6
        await pilot.press("left_square_bracket")
        before = shift_period(this_month, -2)
        await posted.next(
            pilot, UsageLoaded, lambda m: m.summary.period == before, receiver=UsageScreen
        )
        assert screen.period == before
        await pilot.press("right_square_bracket", "l")
        await posted.next(
            pilot, UsageLoaded, lambda m: m.summary.period == this_month, receiver=UsageScreen
        )
        assert screen.period == this_month
        assert screen.summary.api_calls == 3
        await pilot.press("l")  # never past the current month
        assert screen.period == this_month
        assert any("future" in str(n.message) for n in app._notifications)

        await pilot.press("enter")
        await posted.screen(pilot, InvoiceDialog)
        await posted.next(pilot, InvoiceLoaded, receiver=InvoiceDialog)
        assert app.screen.loaded
        body = text_of(app, "#invoice-body")
        assert "stmt_0badc0de" in body
        assert f"Period      {this_month}" in body
        assert "0.001000 USDC" in body and "issued" in body
        await pilot.press("escape")
        assert await posted.screen(pilot, UsageScreen) is screen
        await pilot.press("escape")
        await posted.screen(pilot, LeaseListScreen)
    assert len(leases) == 2


async def test_create_past_a_free_limit_is_paid_automatically(sandbox_factory, wallet, tmp_path):
    from tui.app.dialogs.webhook_new import NewWebhook

    server = sandbox_factory(tenant_qps=1)  # any usage in the last second makes the next paid
    app, _ = await signed_in_app(server, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await pilot.press("w")
        screen = await posted.screen(pilot, WebhooksScreen)
        assert (await posted.next(pilot, WebhooksLoaded, receiver=WebhooksScreen)).webhooks == []
        assert "No webhooks" in text_of(app, "#webhooks-empty")
        await app.services.leases.allocate("qps", 1, release_on_exit=False)
        screen.create(NewWebhook("https://hooks.example/in", ["otp.extracted"], "s" * 16, False))
        await posted.next(
            pilot, WebhooksLoaded, lambda m: len(m.webhooks) == 1, receiver=WebhooksScreen
        )
        assert len(screen.webhooks) == 1
        assert app.services.client.paid_calls == 1
        assert rows(app, "#webhooks-table")[0][:2] == ["https://hooks.example/in", "otp.extracted"]
        assert not isinstance(app.screen, WebhookSecretDialog)  # a typed secret is not re-shown

"""The operator console (``mailagents-tui admin``) driven with ``App.run_test()`` at 80x24."""

from __future__ import annotations

import pytest
from sandbox_helpers import WebhookReceiver
from support import refuse_system_clipboard, until
from textual.widgets import DataTable, Input, Log, Sparkline

from tui.api.admin import AdminClient
from tui.app.admin.action_dialog import ActionDialog
from tui.app.admin.console import TAB_VIEWS, AdminConsole, make_console
from tui.app.admin.json_dialog import JsonDialog
from tui.app.dialogs.confirm import ConfirmDialog
from tui.app.dialogs.webhook_secret import WebhookSecretDialog
from tui.core.admin import VIEWS
from tui.sandbox.mail.inbound import build_mime

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def no_system_clipboard(monkeypatch):
    refuse_system_clipboard(monkeypatch)


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(allocate_hourly_limit=0, webhook_backoff_s=0.01, webhook_timeout_s=2)


@pytest.fixture
def world(server, session_factory):
    """One tenant with a lease, a message, a webhook delivery, a send, an invoice, a policy."""
    s = session_factory(server)
    lease = s.allocate().json()
    with WebhookReceiver() as receiver:
        body = {"event_types": ["otp.extracted"], "target_url": receiver.url, "secret": "x" * 20}
        hook = s.post("/v2/webhooks", json=body).json()
        raw = build_mime(
            sender="Robot <robot@service.example>",
            to=lease["address"],
            subject="Your code \x1b[31m482913",
            text="Your code is 482913.",
        )
        found = server.deliver(lease["address"], raw)
        server.wait_webhooks_idle()
    s.send(lease["mailbox_id"], lease["webmail_password"], ["someone@example.com"])
    server.store.charge(s.tenant_id, 1500)
    admin = server.service.admin
    admin.state.set_policy("domain_denylist", "evil.test", "add")
    admin.state.risk(s.tenant_id, "high", "mailbox.frozen", "seeded")
    admin.state.audit("tenant.update", "tenant", s.tenant_id, tenant_id=s.tenant_id)
    admin.state.job("message.reparse", {"message_id": found["message_id"]})
    return {"session": s, "lease": lease, "hook": hook, "message": found}


def console(server) -> AdminConsole:
    return make_console(AdminClient(server.base_url, server.config.admin_token))


async def open_tab(app: AdminConsole, pilot, view: str):
    app.show(view)
    table = app.table(view)
    await until(pilot, lambda: table.loaded and not table.error)
    return table


def cells(app: AdminConsole, view: str) -> list[list[str]]:
    table = app.table(view).query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_every_tab_shows_its_rows(server, world):
    s = world["session"]
    expected = {
        "tenants": s.tenant_id,
        "mailboxes": world["lease"]["address"],
        "leases": world["lease"]["lease_id"],
        "messages": world["message"]["message_id"],
        "sends": "someone@example.com",
        "webhooks": world["hook"]["webhook_id"],
        "deliveries": world["hook"]["webhook_id"],
        "invoices": s.tenant_id,
        "risk-events": "mailbox.frozen",
        "risk-policies": "evil.test",
        "audit": "tenant.update",
        "jobs": "message.reparse",
        "settings": "agent_allocate_hourly_limit",
    }
    assert set(expected) == set(TAB_VIEWS)
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        for view in TAB_VIEWS:
            table = await open_tab(app, pilot, view)
            assert table.rows, view
            text = " ".join(" ".join(row) for row in cells(app, view))
            detail = " ".join(str(v) for v in table.rows[0].values())
            assert expected[view] in text + detail, view
        # Hostile text never reaches the screen as an escape sequence.
        app.show("messages")
        await pilot.pause()
        assert all("\x1b" not in c for row in cells(app, "messages") for c in row)


async def test_overview_metrics_chart_and_live_feed(server, world, monkeypatch):
    monkeypatch.setattr("tui.app.admin.overview.REFRESH_SECONDS", 0.2)
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        overview = app.query_one("Overview")
        await until(pilot, lambda: overview.refreshes >= 1)
        assert overview.metrics["active_mailbox_leases"] == 1
        assert overview.metrics["inbound_messages_24h"] == 1
        assert sum(app.query_one(Sparkline).data) == 1
        feed = app.query_one(Log)
        assert any("tenant.update" in line for line in feed.lines)
        assert any("RISK" in line for line in feed.lines)
        before = overview.refreshes
        server.service.admin.state.audit("invoice.issue", "invoice", "inv-live")
        # Nothing is pressed: the timer (0.2 s here) refreshes on its own.
        await until(pilot, lambda: overview.refreshes > before + 1)
        assert any("inv-live" in line for line in feed.lines)
        # While another tab is shown the timer stops asking.
        app.show("jobs")
        await until(pilot, lambda: not overview.active)
        # A refresh already on its way when the tab was left may still land (slow under load):
        # wait for it, and for its answer to be handled, before counting.
        await until(pilot, lambda: not any(w.group == "overview" for w in app.workers))
        await pilot.pause(0.3)
        paused = overview.refreshes
        await pilot.pause(0.6)
        assert overview.refreshes == paused


async def test_tab_keys_and_jump(server, world):
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("greater_than_sign")
        assert app.query_one("TabbedContent").active == "tab-tenants"
        await pilot.press("less_than_sign")
        assert app.query_one("TabbedContent").active == "tab-overview"
        await pilot.press("colon")
        await pilot.press(*"aud", "enter")
        assert app.query_one("TabbedContent").active == "tab-audit"


async def test_suspend_tenant_from_the_console(server, world):
    s = world["session"]
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_tab(app, pilot, "tenants")
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmDialog)
        assert s.tenant_id in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: table.rows and table.rows[0]["status"] == "suspended")
    r = s.allocate()
    assert r.status_code == 403 and r.json()["error"] == "tenant_inactive"


async def test_quotas_dialog_validates_and_applies(server, world):
    s = world["session"]
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_tab(app, pilot, "tenants")
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#in-qps", Input).value = "abc"
        dialog.confirm()
        assert isinstance(app.screen, ActionDialog)  # refused: not a number
        # A qps high enough that the fixture's own burst of calls in this second never trips it
        # (the qps cap's effect is tested in test_sandbox_admin); the mailbox limit acts below.
        dialog.query_one("#in-qps", Input).value = "50"
        dialog.query_one("#in-mailbox_limit", Input).value = "1"
        dialog.confirm()
        await until(pilot, lambda: table.rows and table.rows[0]["mailbox_limit"] == 1)
        assert table.rows[0]["qps"] == 50
    r = s.allocate()
    assert r.status_code == 409 and r.json()["error"] == "mailbox_limit_reached"


async def test_freeze_and_release_mailbox(server, world):
    lease = world["lease"]
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_tab(app, pilot, "mailboxes")
        index = next(i for i, r in enumerate(table.rows) if r["address"] == lease["address"])
        table.table.move_cursor(row=index)
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.confirm()
        assert "reason is required" in str(dialog.query_one("#action-error").content)
        dialog.query_one("#in-reason", Input).value = "abuse report"
        dialog.confirm()

        def status() -> str:
            row = next((r for r in table.rows if r["address"] == lease["address"]), None)
            return row["status"] if row else ""

        await until(pilot, lambda: status() == "frozen")
        assert world["session"].allocate().json()["mailbox_id"] != lease["mailbox_id"]
        index = next(i for i, r in enumerate(table.rows) if r["address"] == lease["address"])
        table.table.move_cursor(row=index)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: status() == "available")


async def test_message_reparse_and_replay(server, world):
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_tab(app, pilot, "messages")
        await pilot.press("p")  # not destructive: runs at once
        await until(pilot, lambda: any(j["type"] == "message.reparse" for j in jobs(server)))
        await pilot.press("w")
        await until(pilot, lambda: any(j["type"] == "message.replay_webhook" for j in jobs(server)))
        assert table.rows


def jobs(server):
    return server.service.admin.state.jobs(1, 50, lambda ms: ms).items


async def test_rotate_secret_shows_it_once(server, world):
    hook = world["hook"]
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, "webhooks")
        await pilot.press("r")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, WebhookSecretDialog))
        secret = app.screen.secret
        assert server.store.webhook(None, hook["webhook_id"]).secret == secret
        await pilot.press("escape")
        # Webhook replay asks for an optional window.
        await pilot.press("w")
        assert isinstance(app.screen, ActionDialog)
        app.screen.confirm()
        await until(pilot, lambda: any(j["type"] == "webhook.replay" for j in jobs(server)))


async def test_delivery_replay_and_invoice_issue(server, world):
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, "deliveries")
        await pilot.press("w")
        app.screen.confirm() if isinstance(app.screen, ActionDialog) else None
        await until(pilot, lambda: any(j["type"] == "webhook.replay" for j in jobs(server)))
        table = await open_tab(app, pilot, "invoices")
        await pilot.press("i")
        await pilot.press("y")
        await until(pilot, lambda: table.rows[0]["status"] == "issued")


async def test_policies_add_remove_and_settings(server, world):
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_tab(app, pilot, "risk-policies")
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#in-policy_type", Input).value = "tenant_watch"
        dialog.query_one("#in-value", Input).value = world["session"].tenant_id
        dialog.query_one("#in-action", Input).value = "add"
        dialog.confirm()
        await until(pilot, lambda: len(table.rows) == 2)
        index = next(i for i, r in enumerate(table.rows) if r["policy_type"] == "tenant_watch")
        table.table.move_cursor(row=index)
        await pilot.press("x")
        await pilot.press("y")
        await until(pilot, lambda: len(table.rows) == 1)
        settings = await open_tab(app, pilot, "settings")
        await pilot.press("e")
        dialog = app.screen
        dialog.query_one("#in-allocate_hourly_limit", Input).value = "1"
        dialog.confirm()

        def limit() -> object:
            return {r["setting"]: r["value"] for r in settings.rows}.get(
                "agent_allocate_hourly_limit"
            )

        await until(pilot, lambda: limit() == 1)
    assert world["session"].allocate().status_code == 402


async def test_paging_filter_sort_json_and_copy(server, world):
    state = server.service.admin.state
    base = state.audit_logs(1, 1, None, None, None, None, lambda ms: ms).total
    for n in range(120):
        state.audit("demo.event", "thing", f"thing-{n:03d}")
    app = console(server)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_tab(app, pilot, "audit")
        assert table.page.total == base + 120 and table.page.pages == 3
        assert table.rows[0]["resource_id"] == "thing-119"
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: table.page.page == 2 and not table.workers)
        assert table.rows[0]["resource_id"] == "thing-069"
        await pilot.press("right_curly_bracket")
        await until(pilot, lambda: table.page.page == 3 and not table.workers)
        await pilot.press("left_curly_bracket")
        await until(pilot, lambda: table.page.page == 1 and not table.workers)
        # Filter: a known key goes to the server, other words match the page.
        table.apply_filter("action=tenant.update")
        await until(pilot, lambda: table.page.total == 1 and not table.workers)
        assert table.rows[0]["action"] == "tenant.update"
        table.apply_filter("thing-11")
        await until(pilot, lambda: table.page.total == base + 120 and not table.workers)
        assert {r["resource_id"] for r in table.rows} == {f"thing-11{n}" for n in range(10)}
        await pilot.press("slash")
        assert table.query_one(Input).has_focus
        await pilot.press("escape")
        assert table.text_filter == ""
        # Sort the page by the first column, then reverse.
        await pilot.press("s")
        first = [r["timestamp"] for r in table.rows]
        assert first == sorted(first)
        await pilot.press("S")
        assert [r["timestamp"] for r in table.rows] == sorted(first, reverse=True)
        await pilot.press("v")
        assert isinstance(app.screen, JsonDialog)
        assert '"log_id"' in app.screen.text
        await pilot.press("escape")
        await pilot.press("c")
        await pilot.pause()
        assert table.selected_id() is not None


async def test_errors_show_in_the_status_line(server, world):
    app = make_console(AdminClient(server.base_url, "wrong-token"))
    async with app.run_test(size=SIZE) as pilot:
        app.show("tenants")
        table = app.table("tenants")
        await until(pilot, lambda: bool(table.error))
        assert "Invalid admin token" in table.error


def test_every_view_has_a_spec_used_once():
    assert set(TAB_VIEWS) | {"metrics"} == set(VIEWS)

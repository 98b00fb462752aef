"""The operator console (``mailagents-tui admin``) driven with ``App.run_test()`` at 80x24."""

from __future__ import annotations

import pytest
from sandbox_helpers import WebhookReceiver
from support import Posted, refuse_system_clipboard, until
from textual.widgets import DataTable, Input, Log, Sparkline, TabbedContent

from tui.api.admin import AdminClient
from tui.app.admin.action_dialog import ActionDialog
from tui.app.admin.console import TAB_VIEWS, AdminConsole, make_console
from tui.app.admin.json_dialog import JsonDialog
from tui.app.admin.overview import OverviewLoaded
from tui.app.admin.resource_table import ActionDone, PageLoaded
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


async def open_tab(app: AdminConsole, pilot, posted: Posted, view: str):
    app.show(view)
    loaded = await posted.next(pilot, PageLoaded, lambda m: m.view == view)
    assert loaded.page is not None, loaded.error
    table = app.table(view)
    assert table.loaded and not table.error
    return table


async def acted(pilot, posted: Posted, name: str) -> ActionDone:
    """The action ``name`` finished, and succeeded."""
    done = await posted.next(pilot, ActionDone, lambda m: m.action.name == name)
    assert done.result is not None, done.error
    return done


async def reloaded(pilot, posted: Posted, view: str, where) -> PageLoaded:
    """The next page of ``view`` whose rows satisfy ``where`` (an action reloads its page)."""
    return await posted.next(
        pilot, PageLoaded, lambda m: m.view == view and m.page is not None and where(m.page.items)
    )


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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        for view in TAB_VIEWS:
            table = await open_tab(app, pilot, posted, view)
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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        overview = app.query_one("Overview")
        await posted.next(pilot, OverviewLoaded, lambda m: m.snapshot is not None)
        assert overview.refreshes >= 1
        assert overview.metrics["active_mailbox_leases"] == 1
        assert overview.metrics["inbound_messages_24h"] == 1
        assert sum(app.query_one(Sparkline).data) == 1
        feed = app.query_one(Log)
        assert any("tenant.update" in line for line in feed.lines)
        assert any("RISK" in line for line in feed.lines)
        server.service.admin.state.audit("invoice.issue", "invoice", "inv-live")
        # Nothing is pressed: the timer (0.2 s here) refreshes on its own.
        await posted.next(
            pilot,
            OverviewLoaded,
            lambda m: m.snapshot is not None and "inv-live" in str(m.snapshot.events),
        )
        assert any("inv-live" in line for line in feed.lines)
        # While another tab is shown the timer stops asking.
        app.show("jobs")
        await posted.next(
            pilot,
            TabbedContent.TabActivated,
            lambda m: m.pane.id == "tab-jobs",
            receiver=AdminConsole,
        )
        assert not overview.active
        # A refresh already on its way when the tab was left may still land (slow under load):
        # wait for it, and for its answer to be handled, before counting.
        await until(pilot, lambda: not any(w.group == "overview" for w in app.workers))
        await pilot.pause(0.3)
        paused = overview.refreshes
        await pilot.pause(0.6)
        assert overview.refreshes == paused


async def test_tab_keys_and_jump(server, world):
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        table = await open_tab(app, pilot, posted, "tenants")
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmDialog)
        assert s.tenant_id in app.screen.question
        await pilot.press("y")
        await acted(pilot, posted, "tenant.suspend")
        await reloaded(pilot, posted, "tenants", lambda rows: rows[0]["status"] == "suspended")
        assert table.rows[0]["status"] == "suspended"
    r = s.allocate()
    assert r.status_code == 403 and r.json()["error"] == "tenant_inactive"


async def test_quotas_dialog_validates_and_applies(server, world):
    s = world["session"]
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        table = await open_tab(app, pilot, posted, "tenants")
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
        await acted(pilot, posted, "tenant.quotas")
        await reloaded(pilot, posted, "tenants", lambda rows: rows[0]["mailbox_limit"] == 1)
        assert table.rows[0]["mailbox_limit"] == 1
        assert table.rows[0]["qps"] == 50
    r = s.allocate()
    assert r.status_code == 409 and r.json()["error"] == "mailbox_limit_reached"


async def test_freeze_and_release_mailbox(server, world):
    lease = world["lease"]
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        table = await open_tab(app, pilot, posted, "mailboxes")
        index = next(i for i, r in enumerate(table.rows) if r["address"] == lease["address"])
        table.table.move_cursor(row=index)
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.confirm()
        assert "reason is required" in str(dialog.query_one("#action-error").content)
        dialog.query_one("#in-reason", Input).value = "abuse report"
        dialog.confirm()

        def status(rows) -> str:
            row = next((r for r in rows if r["address"] == lease["address"]), None)
            return row["status"] if row else ""

        await acted(pilot, posted, "mailbox.freeze")
        await reloaded(pilot, posted, "mailboxes", lambda rows: status(rows) == "frozen")
        assert status(table.rows) == "frozen"
        assert world["session"].allocate().json()["mailbox_id"] != lease["mailbox_id"]
        index = next(i for i, r in enumerate(table.rows) if r["address"] == lease["address"])
        table.table.move_cursor(row=index)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await acted(pilot, posted, "mailbox.release")
        await reloaded(pilot, posted, "mailboxes", lambda rows: status(rows) == "available")
        assert status(table.rows) == "available"


async def test_message_reparse_and_replay(server, world):
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        table = await open_tab(app, pilot, posted, "messages")
        await pilot.press("p")  # not destructive: runs at once
        await acted(pilot, posted, "message.reparse")
        assert any(j["type"] == "message.reparse" for j in jobs(server))
        await pilot.press("w")
        await acted(pilot, posted, "message.replay")
        assert any(j["type"] == "message.replay_webhook" for j in jobs(server))
        assert table.rows


def jobs(server):
    return server.service.admin.state.jobs(1, 50, lambda ms: ms).items


async def test_rotate_secret_shows_it_once(server, world):
    hook = world["hook"]
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await open_tab(app, pilot, posted, "webhooks")
        await pilot.press("r")
        await pilot.press("y")
        await posted.screen(pilot, WebhookSecretDialog)
        secret = app.screen.secret
        assert server.store.webhook(None, hook["webhook_id"]).secret == secret
        await pilot.press("escape")
        # Webhook replay asks for an optional window.
        await pilot.press("w")
        assert isinstance(app.screen, ActionDialog)
        app.screen.confirm()
        await acted(pilot, posted, "webhook.replay")
        assert any(j["type"] == "webhook.replay" for j in jobs(server))


async def test_delivery_replay_and_invoice_issue(server, world):
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await open_tab(app, pilot, posted, "deliveries")
        await pilot.press("w")
        app.screen.confirm() if isinstance(app.screen, ActionDialog) else None
        await acted(pilot, posted, "delivery.replay")
        assert any(j["type"] == "webhook.replay" for j in jobs(server))
        table = await open_tab(app, pilot, posted, "invoices")
        await pilot.press("i")
        await pilot.press("y")
        await acted(pilot, posted, "invoice.issue")
        await reloaded(pilot, posted, "invoices", lambda rows: rows[0]["status"] == "issued")
        assert table.rows[0]["status"] == "issued"


async def test_policies_add_remove_and_settings(server, world):
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        table = await open_tab(app, pilot, posted, "risk-policies")
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#in-policy_type", Input).value = "tenant_watch"
        dialog.query_one("#in-value", Input).value = world["session"].tenant_id
        dialog.query_one("#in-action", Input).value = "add"
        dialog.confirm()
        await acted(pilot, posted, "policy.add")
        await reloaded(pilot, posted, "risk-policies", lambda rows: len(rows) == 2)
        assert len(table.rows) == 2
        index = next(i for i, r in enumerate(table.rows) if r["policy_type"] == "tenant_watch")
        table.table.move_cursor(row=index)
        await pilot.press("x")
        await pilot.press("y")
        await acted(pilot, posted, "policy.remove")
        await reloaded(pilot, posted, "risk-policies", lambda rows: len(rows) == 1)
        assert len(table.rows) == 1
        settings = await open_tab(app, pilot, posted, "settings")
        await pilot.press("e")
        dialog = app.screen
        dialog.query_one("#in-allocate_hourly_limit", Input).value = "1"
        dialog.confirm()

        def limit(rows) -> object:
            return {r["setting"]: r["value"] for r in rows}.get("agent_allocate_hourly_limit")

        await acted(pilot, posted, "settings.set")
        await reloaded(pilot, posted, "settings", lambda rows: limit(rows) == 1)
        assert limit(settings.rows) == 1
    assert world["session"].allocate().status_code == 402


async def test_paging_filter_sort_json_and_copy(server, world):
    state = server.service.admin.state
    base = state.audit_logs(1, 1, None, None, None, None, lambda ms: ms).total
    for n in range(120):
        state.audit("demo.event", "thing", f"thing-{n:03d}")
    app = console(server)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        table = await open_tab(app, pilot, posted, "audit")
        assert table.page.total == base + 120 and table.page.pages == 3
        assert table.rows[0]["resource_id"] == "thing-119"
        await pilot.press("right_square_bracket")
        await posted.next(pilot, PageLoaded, lambda m: m.page and m.page.page == 2)
        assert table.rows[0]["resource_id"] == "thing-069"
        await pilot.press("right_curly_bracket")
        await posted.next(pilot, PageLoaded, lambda m: m.page and m.page.page == 3)
        assert table.page.page == 3
        await pilot.press("left_curly_bracket")
        await posted.next(pilot, PageLoaded, lambda m: m.page and m.page.page == 1)
        assert table.page.page == 1
        # Filter: a known key goes to the server, other words match the page.
        table.apply_filter("action=tenant.update")
        await posted.next(pilot, PageLoaded, lambda m: m.page and m.page.total == 1)
        assert table.rows[0]["action"] == "tenant.update"
        table.apply_filter("thing-11")
        await posted.next(pilot, PageLoaded, lambda m: m.page and m.page.total == base + 120)
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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        app.show("tenants")
        table = app.table("tenants")
        loaded = await posted.next(pilot, PageLoaded, lambda m: m.view == "tenants")
        assert loaded.page is None and "Invalid admin token" in loaded.error
        assert "Invalid admin token" in table.error


def test_every_view_has_a_spec_used_once():
    assert set(TAB_VIEWS) | {"metrics"} == set(VIEWS)

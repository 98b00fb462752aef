"""Issue 16, feedback: every key that starts network work says so in the same frame, and the
saying ends with the work (its result, its failure, or its cancellation).

The server's answer is held by the fault proxy, so what the screen shows right after the key is
what a user sees while a slow server thinks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from faultproxy import Fault, FaultProxy
from support import make_services, make_settings, refuse_system_clipboard, text_of, until
from support import wallet_from as wallet_of
from textual.widgets import Input, Static

from tui.app import make_app
from tui.app.dialogs.credentials import CredentialsDialog
from tui.app.screens.feed import LiveFeedScreen
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.sent import SentScreen
from tui.app.screens.usage import UsageScreen
from tui.app.screens.webhooks import WebhooksScreen
from tui.core.billing import current_period, shift_period
from tui.core.wallets import WalletSource

SIZE = (120, 40)


@dataclass(frozen=True)
class Case:
    """One key that starts network work."""

    open_keys: tuple[str, ...]
    """Keys on the lease list that open the screen (none: the lease list itself)."""
    screen: type
    """The screen the key is pressed on."""
    ready: str
    """What the status line says once the screen has loaded (and again after the answer)."""
    keys: tuple[str, ...]
    """The key, and any dialog keys that confirm it (the last one starts the work)."""
    method: str
    """The request whose answer is held."""
    path: str
    """Its path (``{lease}``: the lease's id)."""
    label: str
    """What the status line says while the answer is held."""
    after: str | None = None
    """What it says once the answer is in (None: :attr:`ready`)."""
    fill: tuple[tuple[str, str], ...] = ()
    """Inputs of the dialog filled in before the last key (selector, value)."""
    status: str = "#status-bar"
    """The status line."""


CASES = {
    "leases r": Case(
        (), LeaseListScreen, "updated", ("r",), "GET", "/v2/mailboxes/leases", "refreshing…"
    ),
    "leases n": Case(
        (),
        LeaseListScreen,
        "updated",
        ("n", "enter"),
        "POST",
        "/v2/mailboxes/leases",
        "allocating…",
    ),
    "leases d": Case(
        (),
        LeaseListScreen,
        "updated",
        ("d", "y"),
        "POST",
        "/v2/mailboxes/leases/{lease}/release",
        "releasing…",
    ),
    "credentials R": Case(
        ("p",),
        CredentialsDialog,
        "",
        ("R", "y"),
        "POST",
        "/v2/mailboxes/accounts/{account}/credentials/reset",
        "resetting…",
        after="New password stored.",
        status="#creds-status",
    ),
    "sent r": Case(
        ("s",), SentScreen, "Nothing sent yet", ("r",), "GET", "/v2/send-attempts", "refreshing…"
    ),
    "webhooks r": Case(
        ("w",), WebhooksScreen, "updated", ("r",), "GET", "/v2/webhooks", "refreshing…"
    ),
    "webhooks n": Case(
        ("w",),
        WebhooksScreen,
        "updated",
        ("n", "enter"),
        "POST",
        "/v2/webhooks",
        "creating webhook…",
        fill=(("#webhook-url", "https://hooks.example/feedback"),),
    ),
    "webhooks R": Case(
        ("w",),
        WebhooksScreen,
        "updated",
        ("R", "y"),
        "POST",
        "/v2/webhooks/{webhook}/rotate-secret",
        "rotating secret…",
        after="secret rotated",
    ),
    "usage r": Case(
        ("U",), UsageScreen, "usage of", ("r",), "GET", "/v2/usage/summary", "refreshing…"
    ),
    "usage [": Case(
        ("U",),
        UsageScreen,
        "usage of",
        ("left_square_bracket",),
        "GET",
        "/v2/usage/summary",
        f"loading {shift_period(current_period(), -1)}…",
    ),
    "feed u": Case(
        ("A",), LiveFeedScreen, "code(s) and link(s)", ("u",), "GET", "/v2/messages", "checking…"
    ),
}


@pytest.fixture(autouse=True)
def no_system_clipboard(monkeypatch):
    refuse_system_clipboard(monkeypatch)


@pytest.fixture
def proxy(sandbox):
    with FaultProxy(sandbox.base_url) as proxy:
        yield proxy


async def app_with_a_lease(proxy, wallet, tmp_path):
    """Signed in beforehand with one lease and one webhook, so the app opens on the lease
    list; the ids the held paths name."""
    services = make_services(proxy.base_url, tmp_path, wallet)
    await services.session.sign_in()
    lease = (await services.leases.allocate("feedback", 1, release_on_exit=False)).lease
    hook = await services.client.create_webhook(
        ["mail.received"], "https://hooks.example/first", "s" * 32
    )
    await services.aclose()
    app = make_app(
        make_settings(proxy.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_of(wallet)),
    )
    ids = {
        "lease": lease.lease_id,
        "account": lease.account_id or lease.mailbox_id,
        "webhook": hook.webhook_id,
    }
    return app, ids


def status_of(screen, case: Case) -> str:
    """The plain text of the case's status line on ``screen`` (not necessarily on top)."""
    return str(screen.query_one(case.status, Static).content)


async def open_case(app, pilot, case: Case) -> None:
    await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
    await until(pilot, lambda: "updated" in text_of(app, "#status-bar"))
    for key in case.open_keys:
        await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, case.screen))
    await until(pilot, lambda: case.ready in status_of(app.screen, case))


@pytest.mark.parametrize("name", list(CASES))
async def test_the_key_says_the_work_started_in_the_same_frame_until_the_answer(
    name, proxy, wallet, tmp_path
):
    case = CASES[name]
    app, ids = await app_with_a_lease(proxy, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, case)
        screen = app.screen
        assert case.label not in status_of(screen, case)
        proxy.inject(case.method, case.path.format(**ids), Fault.hold())
        for key in case.keys[:-1]:
            await pilot.press(key)
        for selector, value in case.fill:
            app.screen.query_one(selector, Input).value = value
        await pilot.press(case.keys[-1])
        # The frame right after the key: the answer is not back, the line says it is coming.
        assert app.screen is screen
        assert case.label in status_of(screen, case)
        await until(pilot, proxy.held.is_set)
        assert case.label in status_of(screen, case)  # still, while the server thinks
        proxy.let_go()
        after = case.ready if case.after is None else case.after
        await until(
            pilot,
            lambda: case.label not in (line := status_of(screen, case)) and after in line,
        )


async def test_a_failed_answer_replaces_the_label(proxy, wallet, tmp_path):
    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, CASES["sent r"])
        proxy.inject("GET", "/v2/send-attempts", Fault.status(404, "not_found", "No such list"))
        await pilot.press("r")
        await until(pilot, lambda: "No such list" in text_of(app, "#status-bar"))
        assert "refreshing…" not in text_of(app, "#status-bar")


async def test_a_cancelled_worker_leaves_no_label_behind(proxy, wallet, tmp_path):
    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, CASES["sent r"])
        proxy.inject("GET", "/v2/send-attempts", Fault.hold())
        await pilot.press("r")
        await until(pilot, proxy.held.is_set)
        screen = app.screen
        screen.workers.cancel_group(screen, "sent-load")  # as leaving or a newer load would
        await until(pilot, lambda: "refreshing…" not in text_of(app, "#status-bar"))
        # A second press while one is under way cancels the first: the newer one's label stays.
        proxy.let_go()
        proxy.inject("GET", "/v2/send-attempts", Fault.stall(1.0), Fault.stall(1.0))
        await pilot.press("r")
        await pilot.press("r")
        await until(pilot, lambda: proxy.pending() == 0)
        await pilot.pause(0.3)
        assert "refreshing…" in text_of(app, "#status-bar")
        await until(pilot, lambda: "Nothing sent yet" in text_of(app, "#status-bar"))


# -- the operator console: the shared resource table ------------------------------------------


def rt_status(table) -> str:
    return str(table.query_one(".rt-status", Static).content)


@pytest.mark.parametrize(
    ("key", "method", "path", "label"),
    [
        ("f5", "GET", "/v2/admin/messages", "loading…"),
        ("p", "POST", "/v2/admin/messages/{message}/reparse", "Reparse message…"),
    ],
)
async def test_the_console_says_the_work_started_in_the_same_frame(
    key, method, path, label, sandbox, proxy, session_factory
):

    from tui.api.admin import AdminClient
    from tui.app.admin.console import make_console
    from tui.sandbox.mail.inbound import build_mime

    s = session_factory(sandbox)
    lease = s.allocate().json()
    raw = build_mime(sender="robot@service.example", to=lease["address"], subject="hi", text="x")
    found = sandbox.deliver(lease["address"], raw)
    app = make_console(AdminClient(proxy.base_url, sandbox.config.admin_token))
    async with app.run_test(size=(80, 24)) as pilot:
        app.show("messages")
        table = app.table("messages")
        await until(pilot, lambda: table.loaded and not table.error and table.rows)
        proxy.inject(method, path.format(message=found["message_id"]), Fault.hold())
        await pilot.press(key)
        assert label in rt_status(table)
        await until(pilot, proxy.held.is_set)
        assert label in rt_status(table)
        proxy.let_go()
        await until(pilot, lambda: label not in rt_status(table) and table.loaded)


# -- the inbox: u (and r) when checking has stopped --------------------------------------------


@pytest.mark.parametrize("key", ["u", "r"])
async def test_resuming_a_stopped_inbox_says_checking_in_the_same_frame(
    key, proxy, wallet, tmp_path
):
    from tui.app.screens.inbox import InboxScreen
    from tui.core.poller import PollSettings

    fast = PollSettings(fast=0.1, normal=0.2, idle=0.5, backoff_base=0.1, backoff_max=0.3)
    services = make_services(proxy.base_url, tmp_path, wallet)
    await services.leases.allocate("stopped", 1, release_on_exit=False)
    await services.aclose()
    app = make_app(
        make_settings(proxy.base_url, tmp_path, poll=fast),
        wallet_source=WalletSource.of(wallet_of(wallet)),
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
        await until(pilot, lambda: len(app.screen.views) == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen))
        proxy.inject("GET", "/v2/messages", Fault.status(404, "not_found", "Mailbox not found"))
        await until(pilot, lambda: "stopped" in text_of(app, "#status-bar"))
        proxy.inject("GET", "/v2/messages", Fault.hold())
        await pilot.press(key)
        assert text_of(app, "#status-bar").startswith("checking…")
        await until(pilot, proxy.held.is_set)
        assert text_of(app, "#status-bar").startswith("checking…")
        proxy.let_go()
        await until(pilot, lambda: text_of(app, "#status-bar").startswith("checked"))


async def test_compose_says_sending_in_the_same_frame_until_sent(proxy, wallet, tmp_path):
    from textual.widgets import TextArea

    from tui.app.screens.compose import ComposeScreen

    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, CASES["leases r"])
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        compose = app.screen
        compose.query_one("#compose-to", Input).value = "someone@example.org"
        compose.query_one("#compose-subject", Input).value = "hello"
        compose.query_one("#compose-body", TextArea).text = "hello there"
        proxy.inject("POST", "/v2/messages/send", Fault.hold())
        await pilot.press("ctrl+s")
        assert "Sending…" in str(compose.query_one("#compose-status", Static).content)
        await until(pilot, proxy.held.is_set)
        assert app.screen is compose
        assert compose.query_one("#compose-to", Input).disabled
        proxy.let_go()
        await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))


async def test_a_cancelled_send_gives_the_form_back(proxy, wallet, tmp_path):
    from textual.widgets import TextArea

    from tui.app.screens.compose import ComposeScreen

    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, CASES["leases r"])
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        compose = app.screen
        compose.query_one("#compose-to", Input).value = "someone@example.org"
        compose.query_one("#compose-subject", Input).value = "hello"
        compose.query_one("#compose-body", TextArea).text = "hello there"
        proxy.inject("POST", "/v2/messages/send", Fault.hold())
        await pilot.press("ctrl+s")
        await until(pilot, proxy.held.is_set)
        compose.workers.cancel_group(compose, "compose-send")
        status = compose.query_one("#compose-status", Static)
        await until(pilot, lambda: "Sending…" not in str(status.content))
        assert "Not sent" in str(status.content)
        assert not compose.query_one("#compose-to", Input).disabled


async def test_a_cancelled_console_fetch_leaves_no_loading(sandbox, proxy, session_factory):
    from tui.api.admin import AdminClient
    from tui.app.admin.console import make_console

    session_factory(sandbox).allocate()
    app = make_console(AdminClient(proxy.base_url, sandbox.config.admin_token))
    async with app.run_test(size=(80, 24)) as pilot:
        app.show("messages")
        table = app.table("messages")
        await until(pilot, lambda: table.loaded and not table.error)
        proxy.inject("GET", "/v2/admin/messages", Fault.hold())
        await pilot.press("f5")
        await until(pilot, proxy.held.is_set)
        assert "loading…" in rt_status(table)
        table.workers.cancel_group(table, "rt-load")
        await until(pilot, lambda: "loading…" not in rt_status(table))
        # A newer fetch's label stays while the older one is cancelled by it.
        proxy.let_go()
        proxy.inject("GET", "/v2/admin/messages", Fault.stall(1.0), Fault.stall(1.0))
        await pilot.press("f5")
        await pilot.press("f5")
        await until(pilot, lambda: proxy.pending() == 0)
        await pilot.pause(0.3)
        assert "loading…" in rt_status(table)
        await until(pilot, lambda: "loading…" not in rt_status(table))


@pytest.mark.parametrize(
    ("key", "method", "path", "widget", "label"),
    [
        ("r", "GET", "/v2/meta/runtime", "#login-runtime", "loading…"),
        ("enter", "POST", "/v2/auth/siwe/challenge", "#login-hint", "Signing in…"),
    ],
)
async def test_the_login_keys_say_the_work_started_in_the_same_frame(
    key, method, path, widget, label, proxy, wallet, tmp_path
):
    from tui.app.screens.login import LoginScreen

    app = make_app(
        make_settings(proxy.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_of(wallet)),
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await until(pilot, lambda: "mailboxes @" in text_of(app, "#login-runtime"))
        proxy.inject(method, path, Fault.hold())
        await pilot.press(key)
        assert label in text_of(app, widget)
        await until(pilot, proxy.held.is_set)
        assert label in text_of(app, widget)
        proxy.let_go()
        if key == "enter":
            await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
        else:
            await until(pilot, lambda: "mailboxes @" in text_of(app, widget))

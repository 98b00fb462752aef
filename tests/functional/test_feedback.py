"""Issue 16, feedback: every key that starts network work says so in the same frame, and the
saying ends with the work (its result, its failure, or its cancellation).

The server's answer is held by the fault proxy, so what the screen shows right after the key is
what a user sees while a slow server thinks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from faultproxy import Fault, FaultProxy
from support import Posted, make_services, make_settings, refuse_system_clipboard, text_of, until
from support import wallet_from as wallet_of
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from tui.app import make_app
from tui.app.admin.resource_table import ActionDone, PageLoaded
from tui.app.dialogs.credentials import CredentialsDialog
from tui.app.messages import LeasesLoaded, RuntimeLoaded
from tui.app.screens.feed import FeedUpdated, LiveFeedScreen
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.sent import AttemptsLoaded, SentScreen
from tui.app.screens.usage import UsageLoaded, UsageScreen
from tui.app.screens.webhooks import SecretRotated, WebhooksLoaded, WebhooksScreen
from tui.core.billing import current_period, shift_period
from tui.core.wallets import WalletSource

SIZE = (120, 40)

Wait = tuple[type, Callable[[Any], bool] | None]
"""A message kind, and what it must say (None: the next one)."""


def worker_ended(group: str, state: WorkerState = WorkerState.SUCCESS) -> Wait:
    """A worker of ``group`` reached ``state`` (work that posts no message of its own)."""
    return Worker.StateChanged, lambda m: m.worker.group == group and m.state == state


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
    loaded: type | None = None
    """The message after which the opened screen shows :attr:`ready` (None: none to wait)."""
    done: Wait = (LeasesLoaded, None)
    """The message after which the line shows :attr:`after`: the held answer's."""


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
        done=(LeasesLoaded, lambda m: len(m.views) == 2),
    ),
    "leases d": Case(
        (),
        LeaseListScreen,
        "updated",
        ("d", "y"),
        "POST",
        "/v2/mailboxes/leases/{lease}/release",
        "releasing…",
        done=(LeasesLoaded, lambda m: m.views == []),
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
        done=worker_ended("creds-reset"),
    ),
    "sent r": Case(
        ("s",),
        SentScreen,
        "Nothing sent yet",
        ("r",),
        "GET",
        "/v2/send-attempts",
        "refreshing…",
        loaded=AttemptsLoaded,
        done=(AttemptsLoaded, None),
    ),
    "webhooks r": Case(
        ("w",),
        WebhooksScreen,
        "updated",
        ("r",),
        "GET",
        "/v2/webhooks",
        "refreshing…",
        loaded=WebhooksLoaded,
        done=(WebhooksLoaded, None),
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
        loaded=WebhooksLoaded,
        done=(WebhooksLoaded, lambda m: len(m.webhooks) == 2),
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
        loaded=WebhooksLoaded,
        done=(SecretRotated, None),
    ),
    "usage r": Case(
        ("U",),
        UsageScreen,
        "usage of",
        ("r",),
        "GET",
        "/v2/usage/summary",
        "refreshing…",
        loaded=UsageLoaded,
        done=(UsageLoaded, None),
    ),
    "usage [": Case(
        ("U",),
        UsageScreen,
        "usage of",
        ("left_square_bracket",),
        "GET",
        "/v2/usage/summary",
        f"loading {shift_period(current_period(), -1)}…",
        loaded=UsageLoaded,
        done=(UsageLoaded, lambda m: m.summary.period == shift_period(current_period(), -1)),
    ),
    "feed u": Case(
        ("A",),
        LiveFeedScreen,
        "code(s) and link(s)",
        ("u",),
        "GET",
        "/v2/messages",
        "checking…",
        loaded=FeedUpdated,
        done=(FeedUpdated, None),
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


async def open_case(app, pilot, posted: Posted, case: Case) -> None:
    await posted.screen(pilot, LeaseListScreen)
    await posted.next(pilot, LeasesLoaded, receiver=LeaseListScreen)
    assert "updated" in text_of(app, "#status-bar")
    for key in case.open_keys:
        await pilot.press(key)
    if case.open_keys:
        await posted.screen(pilot, case.screen)
    if case.loaded is not None:
        await posted.next(pilot, case.loaded, receiver=case.screen)
    assert case.ready in status_of(app.screen, case)


@pytest.mark.parametrize("name", list(CASES))
async def test_the_key_says_the_work_started_in_the_same_frame_until_the_answer(
    name, proxy, wallet, tmp_path
):
    case = CASES[name]
    app, ids = await app_with_a_lease(proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await open_case(app, pilot, posted, case)
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
        await posted.next(pilot, *case.done, receiver=case.screen)
        line = status_of(screen, case)
        assert case.label not in line and after in line


async def test_a_failed_answer_replaces_the_label(proxy, wallet, tmp_path):
    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await open_case(app, pilot, posted, CASES["sent r"])
        proxy.inject("GET", "/v2/send-attempts", Fault.status(404, "not_found", "No such list"))
        await pilot.press("r")
        await posted.next(pilot, *worker_ended("sent-load", WorkerState.ERROR))
        assert "No such list" in text_of(app, "#status-bar")
        assert "refreshing…" not in text_of(app, "#status-bar")


async def test_a_cancelled_worker_leaves_no_label_behind(proxy, wallet, tmp_path):
    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await open_case(app, pilot, posted, CASES["sent r"])
        proxy.inject("GET", "/v2/send-attempts", Fault.hold())
        await pilot.press("r")
        await until(pilot, proxy.held.is_set)
        screen = app.screen
        screen.workers.cancel_group(screen, "sent-load")  # as leaving or a newer load would
        await posted.next(pilot, *worker_ended("sent-load", WorkerState.CANCELLED))
        assert "refreshing…" not in text_of(app, "#status-bar")
        # A second press while one is under way cancels the first: the newer one's label stays.
        proxy.let_go()
        proxy.inject("GET", "/v2/send-attempts", Fault.stall(1.0), Fault.stall(1.0))
        await pilot.press("r")
        await pilot.press("r")
        await until(pilot, lambda: proxy.pending() == 0)
        await pilot.pause(0.3)
        assert "refreshing…" in text_of(app, "#status-bar")
        await posted.next(pilot, AttemptsLoaded, receiver=SentScreen)
        assert "Nothing sent yet" in text_of(app, "#status-bar")


# -- the operator console: the shared resource table ------------------------------------------


def rt_status(table) -> str:
    return str(table.query_one(".rt-status", Static).content)


@pytest.mark.parametrize(
    ("key", "method", "path", "label", "done"),
    [
        ("f5", "GET", "/v2/admin/messages", "loading…", PageLoaded),
        ("p", "POST", "/v2/admin/messages/{message}/reparse", "Reparse message…", ActionDone),
    ],
)
async def test_the_console_says_the_work_started_in_the_same_frame(
    key, method, path, label, done, sandbox, proxy, session_factory
):

    from tui.api.admin import AdminClient
    from tui.app.admin.console import make_console
    from tui.sandbox.mail.inbound import build_mime

    s = session_factory(sandbox)
    lease = s.allocate().json()
    raw = build_mime(sender="robot@service.example", to=lease["address"], subject="hi", text="x")
    found = sandbox.deliver(lease["address"], raw)
    app = make_console(AdminClient(proxy.base_url, sandbox.config.admin_token))
    posted = Posted()
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        app.show("messages")
        table = app.table("messages")
        loaded = await posted.next(pilot, PageLoaded, lambda m: m.view == "messages")
        assert loaded.page is not None and loaded.page.items, loaded.error
        proxy.inject(method, path.format(message=found["message_id"]), Fault.hold())
        await pilot.press(key)
        assert label in rt_status(table)
        await until(pilot, proxy.held.is_set)
        assert label in rt_status(table)
        proxy.let_go()
        assert (await posted.next(pilot, done)).error == ""
        assert label not in rt_status(table) and table.loaded


# -- the inbox: u (and r) when checking has stopped --------------------------------------------


@pytest.mark.parametrize("key", ["u", "r"])
async def test_resuming_a_stopped_inbox_says_checking_in_the_same_frame(
    key, proxy, wallet, tmp_path
):
    from tui.app.screens.inbox import InboxScreen
    from tui.app.screens.inbox.sources import InboxUpdated
    from tui.core.poller import PollSettings

    fast = PollSettings(fast=0.1, normal=0.2, idle=0.5, backoff_base=0.1, backoff_max=0.3)
    services = make_services(proxy.base_url, tmp_path, wallet)
    await services.leases.allocate("stopped", 1, release_on_exit=False)
    await services.aclose()
    app = make_app(
        make_settings(proxy.base_url, tmp_path, poll=fast),
        wallet_source=WalletSource.of(wallet_of(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        proxy.inject("GET", "/v2/messages", Fault.status(404, "not_found", "Mailbox not found"))
        await posted.next(
            pilot, InboxUpdated, lambda m: m.update.status.state == "stopped", receiver=InboxScreen
        )
        assert "stopped" in text_of(app, "#status-bar")
        proxy.inject("GET", "/v2/messages", Fault.hold())
        await pilot.press(key)
        assert text_of(app, "#status-bar").startswith("checking…")
        await until(pilot, proxy.held.is_set)
        assert text_of(app, "#status-bar").startswith("checking…")
        proxy.let_go()
        await posted.next(
            pilot, InboxUpdated, lambda m: m.update.status.state == "ok", receiver=InboxScreen
        )
        assert text_of(app, "#status-bar").startswith("checked")


async def send_held(app, pilot, posted, proxy):
    """From the lease list, write a mail and press ctrl+s with the send's answer held."""
    from textual.widgets import TextArea

    from tui.app.screens.compose import ComposeScreen

    await open_case(app, pilot, posted, CASES["leases r"])
    await pilot.press("m")
    compose = await posted.screen(pilot, ComposeScreen)
    compose.query_one("#compose-to", Input).value = "someone@example.org"
    compose.query_one("#compose-subject", Input).value = "hello"
    compose.query_one("#compose-body", TextArea).text = "hello there"
    proxy.inject("POST", "/v2/messages/send", Fault.hold())
    await pilot.press("ctrl+s")
    return compose


async def test_compose_says_sending_in_the_same_frame_until_sent(proxy, wallet, tmp_path):
    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        compose = await send_held(app, pilot, posted, proxy)
        assert "Sending…" in str(compose.query_one("#compose-status", Static).content)
        await until(pilot, proxy.held.is_set)
        assert app.screen is compose
        assert compose.query_one("#compose-to", Input).disabled
        proxy.let_go()
        await posted.screen(pilot, LeaseListScreen)


async def test_a_cancelled_send_gives_the_form_back(proxy, wallet, tmp_path):
    app, _ids = await app_with_a_lease(proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        compose = await send_held(app, pilot, posted, proxy)
        await until(pilot, proxy.held.is_set)
        compose.workers.cancel_group(compose, "compose-send")
        status = compose.query_one("#compose-status", Static)
        await posted.next(pilot, *worker_ended("compose-send", WorkerState.CANCELLED))
        assert "Sending…" not in str(status.content)
        assert "Not sent" in str(status.content)
        assert not compose.query_one("#compose-to", Input).disabled


async def test_a_cancelled_console_fetch_leaves_no_loading(sandbox, proxy, session_factory):
    from tui.api.admin import AdminClient
    from tui.app.admin.console import make_console

    session_factory(sandbox).allocate()
    app = make_console(AdminClient(proxy.base_url, sandbox.config.admin_token))
    posted = Posted()
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        app.show("messages")
        table = app.table("messages")
        loaded = await posted.next(pilot, PageLoaded, lambda m: m.view == "messages")
        assert loaded.page is not None, loaded.error
        proxy.inject("GET", "/v2/admin/messages", Fault.hold())
        await pilot.press("f5")
        await until(pilot, proxy.held.is_set)
        assert "loading…" in rt_status(table)
        table.workers.cancel_group(table, "rt-load")
        await posted.next(pilot, *worker_ended("rt-load", WorkerState.CANCELLED))
        assert "loading…" not in rt_status(table)
        # A newer fetch's label stays while the older one is cancelled by it.
        proxy.let_go()
        proxy.inject("GET", "/v2/admin/messages", Fault.stall(1.0), Fault.stall(1.0))
        await pilot.press("f5")
        await pilot.press("f5")
        await until(pilot, lambda: proxy.pending() == 0)
        await pilot.pause(0.3)
        assert "loading…" in rt_status(table)
        assert (await posted.next(pilot, PageLoaded)).page is not None
        assert "loading…" not in rt_status(table)


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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LoginScreen)
        assert (await posted.next(pilot, RuntimeLoaded, receiver=LoginScreen)).runtime is not None
        assert "mailboxes @" in text_of(app, "#login-runtime")
        proxy.inject(method, path, Fault.hold())
        await pilot.press(key)
        assert label in text_of(app, widget)
        await until(pilot, proxy.held.is_set)
        assert label in text_of(app, widget)
        proxy.let_go()
        if key == "enter":
            await posted.screen(pilot, LeaseListScreen)
        else:
            assert (
                await posted.next(pilot, RuntimeLoaded, receiver=LoginScreen)
            ).runtime is not None
            assert "mailboxes @" in text_of(app, widget)

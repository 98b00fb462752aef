"""``o`` then ``y`` in the inbox says what really happened: opened, or why not (issue 13)."""

from __future__ import annotations

import webbrowser

import pytest
from support import Posted, make_services, make_settings, until, wallet_from
from textual.notifications import Notify

from tui.app import make_app
from tui.app.dialogs.open_link import OpenLinkDialog
from tui.app.messages import LeasesLoaded, RuntimeLoaded
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.leases import LeaseListScreen
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource

FAST = PollSettings(fast=0.1, normal=0.2, idle=0.5)
LINK = "https://acme.test/verify?token=abc123"
OUTCOMES = ("Opened", "Not opened")


class FakeBrowser:
    """A ``webbrowser`` controller that records what it was asked to open."""

    def __init__(self, name: str, answer: bool) -> None:
        self.name = name
        self.answer = answer
        self.opened: list[str] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        return self.answer


def no_browser() -> None:
    raise webbrowser.Error("could not locate runnable browser")


@pytest.mark.parametrize(
    ("browser", "expected", "opens"),
    [
        (None, "Not opened: no web browser is available here", False),
        (FakeBrowser("xdg-open", False), "Not opened: the browser did not start", True),
        (FakeBrowser("/usr/bin/lynx", True), "Not opened: the only browser here is", False),
        (FakeBrowser("xdg-open", True), "Opened the link at acme.test in the web browser", True),
    ],
)
async def test_open_reports_what_happened(
    sandbox, wallet, tmp_path, monkeypatch, browser, expected, opens
):
    monkeypatch.setattr(webbrowser, "get", (lambda using=None: browser) if browser else no_browser)
    services = make_services(sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    raw = (
        f"From: no-reply@acme.test\r\nTo: {lease.address}\r\nSubject: Confirm\r\n\r\n"
        f"Confirm your account: {LINK}\r\n"
    ).encode()
    sandbox.deliver(lease.address, raw)
    app = make_app(
        make_settings(sandbox.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=(120, 34), message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: any(v.lease.lease_id == lease.lease_id for v in m.views)
        )
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        await until(pilot, lambda: inbox.selected_item() is not None)
        await pilot.press("o")
        await posted.screen(pilot, OpenLinkDialog)
        await pilot.press("y")
        toasts = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await posted.next(pilot, Notify, lambda m: m.notification.message.startswith(OUTCOMES))
        shown = [t for t in toasts() if t.startswith(("Opened", "Not opened"))]
        assert len(shown) == 1 and shown[0].startswith(expected), shown
        if not expected.startswith("Opened"):
            assert "Press y to copy the link" in shown[0]
    if browser is not None:
        assert browser.opened == ([LINK] if opens else [])


async def test_webmail_without_a_browser_says_so(sandbox_factory, wallet, tmp_path, monkeypatch):

    from tui.app.dialogs.credentials import CredentialsDialog

    monkeypatch.setattr(webbrowser, "get", no_browser)
    sandbox = sandbox_factory(webmail_url="https://webmail.example.test/login")
    app = make_app(
        make_settings(sandbox.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=(120, 34), message_hook=posted) as pilot:
        await posted.next(pilot, RuntimeLoaded, lambda m: m.runtime is not None)
        await pilot.press("enter")
        await posted.screen(pilot, LeaseListScreen)
        screen = app.screen
        await app.services.leases.allocate("web", 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await pilot.press("p")
        await posted.screen(pilot, CredentialsDialog)
        await pilot.press("o")
        await posted.screen(pilot, OpenLinkDialog)
        await pilot.press("y")
        toasts = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await posted.next(pilot, Notify, lambda m: "opened" in m.notification.message.lower())
        shown = [t for t in toasts() if "opened" in t.lower()]
        assert shown == [
            "Not opened: no web browser is available here (SSH or a headless machine?). "
            "Go to https://webmail.example.test/login yourself."
        ]

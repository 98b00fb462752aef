"""Compose: drafts saved as you type and restored, validation in place, confirmed discard."""

from __future__ import annotations

import pytest
from support import Posted, make_services, make_settings, until, wallet_from
from textual.widgets import Input, Static, TextArea

from tui.app import make_app
from tui.app.dialogs.confirm import ConfirmDialog
from tui.app.messages import LeasesLoaded
from tui.app.screens.compose import ComposeScreen
from tui.app.screens.leases import LeaseListScreen
from tui.core.compose import DraftStore
from tui.core.wallets import WalletSource

SIZE = (110, 34)


def status(app) -> str:
    return str(app.screen.query_one("#compose-status", Static).content)


@pytest.fixture
async def leased(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    return lease


def new_app(sandbox, wallet, tmp_path):
    return make_app(
        make_settings(sandbox.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )


async def open_compose(posted, pilot):
    await posted.screen(pilot, LeaseListScreen)
    await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
    await pilot.press("m")
    return await posted.screen(pilot, ComposeScreen)


async def test_draft_is_saved_as_you_type_and_restored(sandbox, wallet, tmp_path, leased):
    app = new_app(sandbox, wallet, tmp_path)
    store = DraftStore(tmp_path / "state" / "drafts")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await open_compose(posted, pilot)
        assert leased.address in str(screen.query_one("#compose-header", Static).content)
        screen.query_one("#compose-to", Input).value = "bob@example.org, not-an-address"
        screen.query_one("#compose-subject", Input).value = "Hello"
        screen.query_one("#compose-body", TextArea).text = "Line one\nLine two"
        await until(pilot, lambda: store.load(leased.lease_id) is not None)
        await until(pilot, lambda: store.load(leased.lease_id).body == "Line one\nLine two")
        check = str(screen.query_one("#compose-to-check", Static).content)
        assert "not an address: not-an-address" in check
        await pilot.press("ctrl+s")
        assert "not an email address: not-an-address" in status(app)
        assert isinstance(app.screen, ComposeScreen)
    # The app is gone (think: crash). The draft survives and comes back.
    draft = store.load(leased.lease_id)
    assert draft.to == "bob@example.org, not-an-address" and draft.subject == "Hello"
    app2 = new_app(sandbox, wallet, tmp_path)
    posted = Posted()
    async with app2.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await open_compose(posted, pilot)
        assert screen.query_one("#compose-subject", Input).value == "Hello"
        assert screen.query_one("#compose-body", TextArea).text == "Line one\nLine two"
        assert "Draft restored" in status(app2)


async def test_escape_asks_before_discarding(sandbox, wallet, tmp_path, leased):
    app = new_app(sandbox, wallet, tmp_path)
    store = DraftStore(tmp_path / "state" / "drafts")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await open_compose(posted, pilot)
        screen.query_one("#compose-subject", Input).value = "keep me"
        screen.query_one("#compose-body", TextArea).focus()  # escape must work from the body too
        await pilot.press("escape")
        await posted.screen(pilot, ConfirmDialog)
        await pilot.press("n")  # keep
        await posted.screen(pilot, LeaseListScreen)
        assert store.load(leased.lease_id).subject == "keep me"

        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        assert app.screen.query_one("#compose-subject", Input).value == "keep me"
        await pilot.press("escape")
        await posted.screen(pilot, ConfirmDialog)
        await pilot.press("y")  # discard
        await posted.screen(pilot, LeaseListScreen)
        assert store.load(leased.lease_id) is None


async def test_empty_fields_are_explained(sandbox, wallet, tmp_path, leased):
    app = new_app(sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await open_compose(posted, pilot)
        await pilot.press("ctrl+s")
        assert "add at least one recipient" in status(app)
        screen.query_one("#compose-to", Input).value = "a@b.example"
        await pilot.press("ctrl+s")
        assert "subject is empty" in status(app)
        screen.query_one("#compose-subject", Input).value = "s"
        await pilot.press("ctrl+s")
        assert "message is empty" in status(app)


async def test_a_sent_mail_draft_never_comes_back(sandbox, wallet, tmp_path, leased):
    """A save still waiting for typing to stop (or firing late, under load) after the send
    succeeded must not write the sent mail's draft again: it would be restored, and sent twice."""
    app = new_app(sandbox, wallet, tmp_path)
    store = DraftStore(tmp_path / "state" / "drafts")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await open_compose(posted, pilot)
        screen.query_one("#compose-to", Input).value = leased.address
        screen.query_one("#compose-subject", Input).value = "Sent once"
        screen.query_one("#compose-body", TextArea).text = "Only once."
        await pilot.press("ctrl+s")  # typing's save is still waiting (0.4 s)
        await posted.notified(pilot, "Sent to")
        await posted.screen(pilot, LeaseListScreen)
        assert store.load(leased.lease_id) is None
        screen.save_now()  # the late timer
        screen.schedule_save()  # a late keystroke's event
        await pilot.pause(0.6)
        assert store.load(leased.lease_id) is None


async def test_the_app_gives_sighup_back_when_it_ends(sandbox, wallet, tmp_path):
    """The app's SIGHUP handler (release, then end the process) must not outlive the app in a
    process that goes on, like this test run."""
    import signal

    before = signal.getsignal(signal.SIGHUP)
    app = new_app(sandbox, wallet, tmp_path)
    async with app.run_test(size=SIZE):
        assert signal.getsignal(signal.SIGHUP) != before
    assert signal.getsignal(signal.SIGHUP) == before

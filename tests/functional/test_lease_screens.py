"""The login and lease-list screens driven with ``App.run_test()`` against the sandbox."""

from __future__ import annotations

import pytest
from support import Posted, make_settings, text_of, until, wallet_from
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from tui.app import make_app
from tui.app.dialogs.allocate import AllocateDialog
from tui.app.dialogs.confirm import ConfirmDialog
from tui.app.dialogs.credentials import CredentialsDialog
from tui.app.dialogs.help import HelpDialog
from tui.app.messages import LeaseReleased, LeasesLoaded, RuntimeLoaded
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.login import LoginScreen
from tui.core.wallets import WalletSource

SIZE = (110, 32)


def table_rows(app) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def tui_app(sandbox, wallet, tmp_path):
    def make(**overrides):
        return make_app(
            make_settings(sandbox.base_url, tmp_path, **overrides),
            wallet_source=WalletSource.of(wallet_from(wallet)),
            run_id="test-run",
        )

    return make


@pytest.fixture(autouse=True)
def no_system_clipboard(monkeypatch):
    import pyperclip

    def refuse(text):
        raise pyperclip.PyperclipException("no clipboard here")

    monkeypatch.setattr(pyperclip, "copy", refuse)


async def runtime_shown(app, pilot, posted: Posted) -> None:
    """The login screen shows the service's runtime."""
    loaded = await posted.next(pilot, RuntimeLoaded, receiver=LoginScreen)
    assert loaded.runtime is not None, loaded.error
    assert "Base Sepolia" in text_of(app, "#login-runtime")


async def signed_in_or_failed(pilot, posted: Posted) -> None:
    """The sign-in worker finished (a failure is shown in place: no message of its own)."""
    await posted.next(
        pilot,
        Worker.StateChanged,
        lambda m: m.worker.name == "sign_in" and m.state == WorkerState.SUCCESS,
    )


async def sign_in(app, pilot, posted: Posted) -> LeaseListScreen:
    await posted.screen(pilot, LoginScreen)
    await runtime_shown(app, pilot, posted)
    await pilot.press("enter")
    await posted.screen(pilot, LeaseListScreen)
    return app.screen


async def test_login_shows_runtime_and_signs_in(tui_app, wallet):
    app = tui_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await runtime_shown(app, pilot, posted)
        assert "mailboxes @sandbox.mailagents.test" in text_of(app, "#login-runtime")
        assert wallet.address in text_of(app, "#login-wallet")
        await pilot.press("enter")
        screen = await posted.screen(pilot, LeaseListScreen)
        assert (await posted.next(pilot, LeasesLoaded, receiver=LeaseListScreen)).views == []
        assert "No active leases" in text_of(app, "#leases-empty")
        assert wallet.address in text_of(app, "#leases-header")
        assert screen.views == []


async def test_saved_session_goes_straight_to_leases(tui_app):
    first = tui_app()
    posted = Posted()
    async with first.run_test(size=SIZE, message_hook=posted) as pilot:
        await sign_in(first, pilot, posted)
    second = tui_app()
    posted = Posted()
    async with second.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)


async def test_sign_in_error_is_shown_in_place(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(siwe_domain="phish.example")
    app = make_app(
        make_settings(server.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await runtime_shown(app, pilot, posted)
        await pilot.press("enter")
        await signed_in_or_failed(pilot, posted)
        assert "refusing to sign" in text_of(app, "#login-error")
        assert isinstance(app.screen, LoginScreen)


async def test_allocate_credentials_release_and_quit(tui_app, sandbox, wallet):
    app = tui_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await sign_in(app, pilot, posted)
        await pilot.press("n")
        await posted.screen(pilot, AllocateDialog)
        dialog = app.screen
        dialog.query_one("#purpose").value = "[bold]x[/bold] [@click=app.quit]y"
        dialog.query_one("#ttl").value = "0"
        await pilot.press("enter")
        assert "between 1 and 720" in text_of(app, "#allocate-error")
        dialog.query_one("#ttl").value = "2"
        await pilot.press("enter")
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        assert app.screen is screen
        rows = table_rows(app)
        lease = screen.views[0].lease
        # Hostile purpose text is shown literally, never as markup or an action.
        assert rows[0][1] == "[bold]x[/bold] [@click=app.quit]y"
        assert rows[0][0] == lease.address
        assert rows[0][2] == "releases on quit"  # active, allocated by this run
        assert rows[0][3].startswith("1h 5")

        await pilot.press("c")
        await posted.notified(pilot, "OSC 52")

        await pilot.press("p")
        await posted.screen(pilot, CredentialsDialog)
        entry = app.services.ledger.get(lease.lease_id)
        assert entry.webmail_password not in text_of(app, "#creds-body")
        await pilot.press("v")
        assert entry.webmail_password in text_of(app, "#creds-body")
        await pilot.press("escape")

        await pilot.press("question_mark")
        await posted.screen(pilot, HelpDialog)
        shown = {(key, label) for keys, label, _ in app.screen.rows for key in keys.split()}
        assert {("n", "New"), ("d", "Release"), ("p", "Creds"), ("q", "Quit")} <= shown
        await pilot.press("escape")

        # A second lease, released by hand with d + confirm.
        await pilot.press("n")
        await posted.screen(pilot, AllocateDialog)
        await pilot.press("enter")
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 2, receiver=LeaseListScreen
        )
        assert app.screen is screen
        await pilot.press("G", "d")
        await posted.screen(pilot, ConfirmDialog)
        await pilot.press("y")
        assert (await posted.next(pilot, LeaseReleased, receiver=LeaseListScreen)).result.released
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        assert len(screen.views) == 1
        assert len(app.services.leases.run_leases()) == 1

        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, timeout=15)
    assert [r.released for r in app.release_results] == [True]
    services = make_app(make_settings(sandbox.base_url, app.services.settings.home)).services
    assert services.ledger.get(lease.lease_id).status == "released"


async def test_filter_and_vim_keys(tui_app):
    app = tui_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await sign_in(app, pilot, posted)
        for purpose in ("alpha", "beta", "gamma"):
            await app.services.leases.allocate(purpose, 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 3, receiver=LeaseListScreen
        )
        table = screen.query_one(DataTable)
        await pilot.press("G")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("slash")
        await pilot.press("b", "e", "t")
        assert [row[1] for row in table_rows(app)] == ["beta"]
        await pilot.press("escape")
        assert len(table_rows(app)) == 3
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, timeout=15)
    assert sorted(r.released for r in app.release_results) == [True, True, True]


async def test_keystore_password_prompt(sandbox, tmp_path):
    from tui.auth.wallet import Wallet

    path = tmp_path / "ks.json"
    wallet = Wallet.generate()
    wallet.write_keystore(path, "s3cret pass")
    settings = make_settings(sandbox.base_url, tmp_path, keystore=path)
    app = make_app(settings)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LoginScreen)
        box = app.screen.query_one("#login-password")
        assert box.display and box.has_focus
        assert wallet.address in text_of(app, "#login-wallet")  # read without the password
        box.value = "wrong"
        await pilot.press("enter")
        await signed_in_or_failed(pilot, posted)
        assert "wrong password" in text_of(app, "#login-error")
        assert "wrong" not in text_of(app, "#login-error").replace("wrong password", "")
        box.value = "s3cret pass"
        await pilot.press("enter")
        await posted.screen(pilot, LeaseListScreen)


async def test_user_keymap_rebinds_allocate(tui_app):
    app = tui_app(keymap={"leases.new": "a"})
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await sign_in(app, pilot, posted)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, AllocateDialog)
        await pilot.press("a")
        await posted.screen(pilot, AllocateDialog)


async def test_paid_allocation_is_automatic_and_counted(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=1)
    app = make_app(
        make_settings(server.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await sign_in(app, pilot, posted)
        for expected in (1, 2):
            await pilot.press("n")
            await posted.screen(pilot, AllocateDialog)
            await pilot.press("enter")
            await posted.next(
                pilot,
                LeasesLoaded,
                lambda m, n=expected: len(m.views) == n,
                receiver=LeaseListScreen,
            )
        assert len(screen.views) == 2
        assert "paid calls 1 x 0.001 = 0.001 USDC" in text_of(app, "#status-bar")
        assert app.services.client.paid_calls == 1


async def test_periodic_refresh_pauses_while_covered(tui_app):
    app = tui_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = await sign_in(app, pilot, posted)
        calls = []
        screen.refresh_leases = lambda: calls.append(1)
        screen.refresh_if_shown()
        assert calls == [1]
        await app.push_screen(HelpDialog(screen))
        await pilot.pause()
        screen.refresh_if_shown()  # the screen right below is not "shown"
        assert calls == [1]

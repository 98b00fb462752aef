"""Issue 17, reading like a mail client: reply quotes the body read over IMAP, headers and
source (H), .eml saved 0600 without overwriting, webmail opened after showing its host, the
access token copied only after a confirmation."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from support import Posted, make_services, make_settings, send_mail, text_of, until, wallet_from
from test_inbox_imap import FAST, enter_inbox
from textual.widgets import TextArea

from tui.app import make_app
from tui.app.dialogs.confirm import ConfirmDialog
from tui.app.dialogs.credentials import CredentialsDialog
from tui.app.dialogs.message_source import MessageSourceDialog
from tui.app.dialogs.open_link import OpenLinkDialog
from tui.app.messages import LeasesLoaded, RuntimeLoaded
from tui.app.screens.compose import ComposeScreen
from tui.app.screens.leases import LeaseListScreen
from tui.app.widgets.message_list import MessageList
from tui.core.wallets import WalletSource

SIZE = (80, 24)


async def test_source_eml_and_quoted_reply_over_imap(imap_sandbox, wallet, tmp_path):
    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("src", 1, release_on_exit=False)).lease
    await services.aclose()
    downloads = tmp_path / "dl"
    app = make_app(
        make_settings(imap_sandbox.base_url, tmp_path, poll=FAST, download_dir=downloads),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await until(pilot, lambda: inbox.model.imap_live, timeout=15)
        wait = (inbox.lease.started_at - datetime.now(UTC)).total_seconds() + 1.05
        await pilot.pause(max(0.0, wait))
        send_mail(imap_sandbox.smtp_port, lease.address, "Hello there", "Line one\n\nLine two\n")
        table = inbox.query_one("#inbox-list", MessageList)
        await until(pilot, lambda: table.row_count == 1, timeout=10)
        await until(pilot, lambda: bool(inbox.selected_item().body_text), timeout=10)

        await pilot.press("r")
        await posted.screen(pilot, ComposeScreen)
        body = app.screen.query_one("#compose-body", TextArea).text
        assert "> Line one\n>\n> Line two" in body
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is inbox or isinstance(app.screen, ConfirmDialog))
        if app.screen is not inbox:
            await pilot.press("y")
            assert await posted.screen(pilot, type(inbox)) is inbox

        await pilot.press("H")
        await posted.screen(pilot, MessageSourceDialog)
        dialog = app.screen
        assert "Subject: Hello there" in text_of(app, "#source-body")
        assert "Line one" not in text_of(app, "#source-body")  # headers first
        await pilot.press("h")
        assert "Line one" in text_of(app, "#source-body")
        await pilot.press("e")
        first = dialog.saved
        assert first is not None and first.name == "Hello there.eml"
        assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
        assert b"Subject: Hello there" in first.read_bytes()
        await pilot.press("e")  # never over the first file
        assert dialog.saved != first and dialog.saved.name == "Hello there (1).eml"


async def test_webmail_and_token_ask_first(sandbox_factory, wallet, tmp_path, monkeypatch):
    import pyperclip

    sandbox = sandbox_factory(webmail_url="https://webmail.example.test/login")

    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    opened: list[str] = []
    app = make_app(
        make_settings(sandbox.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    monkeypatch.setattr("tui.core.links.open_in_browser", opened.append)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.next(pilot, RuntimeLoaded, lambda m: m.runtime is not None)
        await pilot.press("enter")
        await posted.screen(pilot, LeaseListScreen)
        screen = app.screen
        await app.services.leases.allocate("web", 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)

        await pilot.press("T")
        await posted.screen(pilot, ConfirmDialog)
        assert copied == []  # nothing before the answer
        await pilot.press("escape")
        assert await posted.screen(pilot, type(screen)) is screen
        assert copied == []
        await pilot.press("T")
        await posted.screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: bool(copied))
        assert copied == [app.services.session.session.access_token]

        await pilot.press("p")
        await posted.screen(pilot, CredentialsDialog)
        url = app.screen.entry.webmail_url
        assert url == "https://webmail.example.test/login"
        await pilot.press("o")
        await posted.screen(pilot, OpenLinkDialog)
        assert opened == []  # the host is shown first
        await pilot.press("y")
        await until(pilot, lambda: bool(opened))
        assert opened == [url]


async def test_sent_to_an_outside_address_stays_accepted(sandbox, wallet, tmp_path):
    from textual.widgets import DataTable

    from tui.app.screens.sent import SentScreen

    services = make_services(sandbox.base_url, tmp_path, wallet)
    alice = (await services.leases.allocate("alice", 1, release_on_exit=False)).lease
    bob = (await services.leases.allocate("bob", 1, release_on_exit=False)).lease
    password = services.ledger.get(alice.lease_id).webmail_password
    client = services.client
    await client.send_message(alice.mailbox_id, password, ["someone@example.com"], "Out", text="x")
    await client.send_message(alice.mailbox_id, password, [bob.address], "In", text="y")
    await services.aclose()
    app = make_app(
        make_settings(sandbox.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 2)
        await pilot.press("s")
        await posted.screen(pilot, SentScreen)
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2)

        def statuses() -> dict[str, str]:
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            return {row[3]: row[1] for row in rows}

        await until(pilot, lambda: statuses().get("In") == "delivered")
        assert statuses()["Out"] == "accepted"  # nobody here can read it: no more is known


async def test_sent_mail_shows_the_text_this_app_sent(sandbox, wallet, tmp_path):
    from textual.widgets import DataTable, Input

    from tui.app.dialogs.send_attempt import SendAttemptDialog
    from tui.app.screens.sent import SentScreen

    services = make_services(sandbox.base_url, tmp_path, wallet)
    await services.leases.allocate("alice", 1, release_on_exit=False)
    await services.aclose()
    app = make_app(
        make_settings(sandbox.base_url, tmp_path),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        compose = app.screen
        compose.query_one("#compose-to", Input).value = "someone@example.com"
        compose.query_one("#compose-subject", Input).value = "Report"
        compose.query_one("#compose-body", TextArea).text = "The whole text\nof the report."
        await pilot.press("ctrl+s")
        await posted.screen(pilot, LeaseListScreen)
        copies = list((tmp_path / "state" / "sent").glob("*.json"))
        assert len(copies) == 1 and stat.S_IMODE(os.stat(copies[0]).st_mode) == 0o600
        await pilot.press("s")
        await posted.screen(pilot, SentScreen)
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await posted.screen(pilot, SendAttemptDialog)
        dialog = app.screen
        await until(pilot, lambda: dialog.loaded)
        body = text_of(app, "#detail-body")
        assert "The whole text\nof the report." in body and "this app's copy" in body

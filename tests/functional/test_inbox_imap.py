"""The inbox reads full messages over IMAP (a private Dovecot): our code from the body, the
body itself, IDLE push without polling the API, and API-only with the reason when IMAP fails."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from support import make_services, make_settings, text_of, until, wallet_from

from tui.app import make_app
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.leases import LeaseListScreen
from tui.app.widgets.message_list import MessageList
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource

SIZE = (130, 36)
FAST = PollSettings(fast=0.2, normal=0.5, idle=1.0)


def smtp_send(port: int, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = "Acme <no-reply@acme.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


async def enter_inbox(app, pilot) -> InboxScreen:
    """From the lease list (one lease), open its inbox."""
    await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
    await until(pilot, lambda: len(app.screen.views) == 1)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, InboxScreen))
    return app.screen


async def new_app(server, wallet, tmp_path):
    app = make_app(
        make_settings(server.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    return app


async def test_imap_body_code_and_idle_push_without_api_polls(imap_sandbox, wallet, tmp_path):
    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    app = await new_app(imap_sandbox, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await enter_inbox(app, pilot)
        await until(pilot, lambda: inbox.imap_live, timeout=15)
        assert "IMAP live" in text_of(app, "#status-bar")
        calls_before = inbox.poller.status.calls
        # A subject that fools the service-style parser ("Your code" -> YOUR), body with the code.
        smtp_send(
            imap_sandbox.smtp_port,
            lease.address,
            "Your verification code",
            "Hello,\n\nYour verification code is 482913.\n\nThanks, Acme\n",
        )
        table = inbox.query_one("#inbox-list", MessageList)
        await until(pilot, lambda: table.row_count == 1, timeout=10)
        await until(pilot, lambda: inbox.selected_item().code_source == "body", timeout=5)
        item = inbox.selected_item()
        assert item.code == "482913"
        assert table.row_count == 1  # one row per mail, whichever source saw it first
        assert "Your verification code is 482913." in text_of(app, "#detail-body")
        assert "from the body" in text_of(app, "#detail-code")
        # Pushed by IDLE: no GET /v2/messages between the delivery and the display.
        assert inbox.poller.status.calls == calls_before


async def test_wrong_password_falls_back_to_the_api_with_the_reason(imap_sandbox, wallet, tmp_path):
    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    ledger = tmp_path / "state" / "ledger.json"
    data = json.loads(ledger.read_text())
    data["leases"][0]["webmail_password"] = "wrong-password-123"
    ledger.write_text(json.dumps(data))
    app = await new_app(imap_sandbox, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await enter_inbox(app, pilot)
        await until(pilot, lambda: "auth failed" in inbox.imap_status, timeout=15)
        status = text_of(app, "#status-bar")
        assert "IMAP auth failed" in status and "wrong-password-123" not in status
        smtp_send(imap_sandbox.smtp_port, lease.address, "Code", "Your code is 771045.")
        table = inbox.query_one("#inbox-list", MessageList)
        await until(pilot, lambda: table.row_count == 1, timeout=10)  # the API still works
        assert inbox.selected_item().code == "771045"


async def test_hostile_bodies_over_imap_render_literally(imap_sandbox, wallet, tmp_path):
    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    hostile = (
        "[bold red]FAKE[/] [@click=app.quit]click[/]\n"
        "\x1b]8;;https://evil.example\x1b\\hidden link\x1b]8;;\x1b\\\n"
        "\x1b]52;c;cHduZWQ=\x07\x1b]0;title\x07\x1b[2J\x1b[31mred\n"
        "Your verification code is 605813.\n"
    )
    app = await new_app(imap_sandbox, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await enter_inbox(app, pilot)
        await until(pilot, lambda: inbox.imap_live, timeout=15)
        smtp_send(imap_sandbox.smtp_port, lease.address, "Hello", hostile)
        await until(pilot, lambda: "605813" in text_of(app, "#detail-body"), timeout=10)
        body = text_of(app, "#detail-body")
        assert "[bold red]FAKE[/] [@click=app.quit]click[/]" in body
        # No escape byte reaches the terminal: OSC 8/52/0, CSI and BEL are inert text at most.
        assert "hidden link" in body
        assert not any(ch in body for ch in "\x1b\x07\x9b\x9d")
        assert app.is_running


async def test_no_stored_credentials_then_reset_starts_imap(imap_sandbox, wallet, tmp_path):
    from tui.app.dialogs.confirm import ConfirmDialog
    from tui.app.dialogs.credentials import CredentialsDialog

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    await services.leases.allocate("signup", 1, release_on_exit=False)
    await services.aclose()
    (tmp_path / "state" / "ledger.json").unlink()  # allocated "elsewhere"
    app = await new_app(imap_sandbox, wallet, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await enter_inbox(app, pilot)
        await until(pilot, lambda: "no stored credentials" in inbox.imap_status)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, CredentialsDialog))
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, CredentialsDialog))
        await until(pilot, lambda: "New password stored" in text_of(app, "#creds-status"))
        await pilot.press("escape")
        await until(pilot, lambda: inbox.imap_live, timeout=15)

"""API-only mail whose server guess is a year: the inbox shows it as doubtful (issue 14).

The sandbox runs with ``parser="reference"``: it guesses codes with the reference service's
simpler rules, which take the year of a copyright footer for the code of an HTML-only mail.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from support import Posted, make_services, make_settings, text_of, wallet_from

from tui.app import make_app
from tui.app.messages import LeasesLoaded
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.inbox.sources import InboxUpdated
from tui.app.screens.leases import LeaseListScreen
from tui.app.widgets.message_list import MessageList
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource

FAST = PollSettings(fast=0.1, normal=0.2, idle=0.5)
SHOPIFY_HTML = (
    "<html><body><table><tr><td><p>Hi,</p><p>Use this code to sign in to your store:</p>"
    '<p style="font-size:28px;letter-spacing:4px"><b>7Q4K9Z</b></p>'
    "<p>It expires in 10 minutes.</p></td></tr>"
    "<tr><td>© 2026 Shopify Inc., 151 O'Connor Street, Ottawa</td></tr></table></body></html>"
)


@pytest.fixture(autouse=True)
def no_system_clipboard(monkeypatch):
    import pyperclip

    def refuse(text):
        raise pyperclip.PyperclipException("no clipboard here")

    monkeypatch.setattr(pyperclip, "copy", refuse)


def send_html(port: int, to: str) -> None:
    msg = EmailMessage()
    msg["From"] = "Shopify <mailer@shopify.com>"
    msg["To"] = to
    msg["Subject"] = "Your Shopify login code"
    msg.set_content(SHOPIFY_HTML, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


async def test_year_guess_of_html_only_mail_is_doubtful_and_not_copied_silently(
    sandbox_factory, wallet, tmp_path
):
    server = sandbox_factory(smtp_port=0, parser="reference")
    services = make_services(server.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    send_html(server.smtp_port, lease.address)

    app = make_app(
        make_settings(server.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    posted = Posted()
    async with app.run_test(size=(120, 34), message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        table = inbox.query_one("#inbox-list", MessageList)
        await posted.next(
            pilot, InboxUpdated, lambda m: len(m.update.messages) == 1, receiver=InboxScreen
        )
        assert table.row_count == 1
        item = inbox.selected_item()
        assert item.message.otp_code == "2026"  # the server's guess
        assert item.code is None and item.server_guess == "2026"
        assert "year" in item.guess_doubt
        row = [str(c) for c in table.get_row_at(0)]
        assert row[2] == "2026?"
        detail = text_of(app, "#detail-code")
        assert "2026?" in detail and "looks like a year" in detail

        await pilot.press("c")
        assert copied == []
        assert any(
            "Doubtful code 2026" in str(n.message) and "press c again" in str(n.message)
            for n in app._notifications
        )
        await pilot.press("c")
        assert copied == ["2026"]

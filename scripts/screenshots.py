"""Regenerate the SVG screenshots in screenshots/ (every screen, against a local sandbox).

Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR] [--admin]

``--admin`` regenerates only the operator console's tabs (``admin-*.svg``, on a ``--demo``
sandbox).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tui.app import make_app
from tui.app.dialogs.allocate import AllocateDialog
from tui.app.dialogs.credentials import CredentialsDialog
from tui.app.dialogs.help import HelpDialog
from tui.app.screens.compose import ComposeScreen
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.login import LoginScreen
from tui.app.screens.sent import SentScreen
from tui.app.screens.usage import UsageScreen
from tui.app.screens.webhooks import WebhooksScreen
from tui.auth.wallet import Wallet
from tui.core.settings import Settings
from tui.core.wallets import WalletSource
from tui.sandbox.config import SandboxConfig
from tui.sandbox.runner import SandboxServer

SIZES = (((120, 36), ""), ((80, 24), "-80x24"))
"""The user screens are shot at 120x36 (the README's) and at 80x24 (``name-80x24.svg``)."""
# A fixed, public test key (never holds funds) so screenshots are stable.
DEMO_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


async def until(pilot, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("screen did not reach the expected state")
        await pilot.pause(0.05)


def receipt(to: str) -> bytes:
    """A mail with two attachments, for the save dialog."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Acme Billing <billing@acme.example>"
    msg["To"] = to
    msg["Subject"] = "Your Acme receipt"
    msg.set_content("Thanks for your payment. Your receipt and usage report are attached.")
    msg.add_attachment(
        b"%PDF-1.4 demo" * 900,
        maintype="application",
        subtype="pdf",
        filename="receipt-2026-11.pdf",
    )
    msg.add_attachment("day,calls\n2026-11-24,118\n", subtype="csv", filename="usage.csv")
    return msg.as_bytes()


async def shoot(
    out: Path, server: SandboxServer, home: Path, size: tuple[int, int], suffix: str
) -> list[Path]:
    settings = Settings(home=home).with_overrides(
        api_base=server.base_url, download_dir=Path("~/Downloads")
    )
    wallet = Wallet.from_private_key(DEMO_KEY)
    app = make_app(
        settings,
        wallet_source=WalletSource.of(wallet, "keystore ~/.config/mailagents-tui/keystore.json"),
        sandbox=server,
    )
    saved: list[Path] = []

    def save(name: str) -> None:
        path = out / f"{name}{suffix}.svg"
        app.save_screenshot(str(path))
        saved.append(path)

    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await until(
            pilot, lambda: "Base Sepolia" in str(app.screen.query_one("#login-runtime").content)
        )
        await pilot.pause(0.3)
        save("login")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
        screen = app.screen
        for purpose, ttl in (
            ("signup: github.com", 2),
            ("newsletter test", 24),
            ("password reset", 1),
        ):
            await app.services.leases.allocate(purpose, ttl, release_on_exit=True)
        screen.refresh_leases()
        await until(pilot, lambda: len(screen.views) == 3)
        await pilot.pause(0.3)
        save("leases")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, AllocateDialog))
        await pilot.pause(0.2)
        save("allocate")
        await pilot.press("escape")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, CredentialsDialog))
        await pilot.pause(0.2)
        save("credentials")
        await pilot.press("escape")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))
        await pilot.pause(0.2)
        save("help")
        await pilot.press("escape")
        # Inbox: deliver the demo mails to the first lease and open it.
        from tui.sandbox.mail.inbound import demo_messages

        lease = screen.views[0].lease
        for raw in demo_messages(lease.address):
            server.deliver(lease.address, raw)
        await pilot.press("g", "enter")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen))
        inbox = app.screen
        await until(pilot, lambda: len(inbox.model.items) == 3)
        if server.imap_port is not None:  # with Dovecot: bodies and codes read over IMAP
            await until(pilot, lambda: inbox.model.imap_live, timeout=15)
            await until(
                pilot,
                lambda: all(i.code_source in ("body", "") for i in inbox.model.items),
                timeout=15,
            )
        await pilot.press("G")
        await pilot.pause(0.3)
        save("inbox")
        if server.imap_port is not None:  # an attachment to save (IMAP reads attachments)
            from tui.app.dialogs.save_attachment import SaveAttachmentDialog

            server.deliver(lease.address, receipt(lease.address))
            await until(pilot, lambda: len(inbox.model.items) == 4, timeout=15)

            def receipt_read() -> bool:  # over IMAP, attachments and all (not only listed)
                newest = inbox.model.get(inbox.model.order[0])
                imap = newest.extra.get("imap") if newest is not None else None
                return imap is not None and bool(imap.attachments)

            await until(pilot, receipt_read, timeout=15)
            await pilot.press("g")
            await until(pilot, lambda: "receipt" in str(inbox.query_one("#detail-body").content))
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SaveAttachmentDialog))
            await pilot.pause(0.3)
            save("save-attachment")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is inbox)
            await pilot.press("G")
            await pilot.pause(0.2)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        app.screen.query_one("#compose-body").text = "Thanks, the code worked.\n\n-- agent"
        await pilot.pause(0.3)
        save("compose")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SentScreen))
        await until(pilot, lambda: app.screen.query_one("#sent-table").row_count == 1)
        await pilot.pause(0.3)
        save("sent")
        await pilot.press("escape")
        # Webhooks: one receiver that is down, so the log shows a retried failure.
        await app.services.client.create_webhook(
            ["mail.received", "otp.extracted"], "http://127.0.0.1:9/hooks/mail", "s" * 24
        )
        server.deliver(lease.address, demo_messages(lease.address)[0])
        server.wait_webhooks_idle(10)
        await until(pilot, lambda: isinstance(app.screen, LeaseListScreen))
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
        await pilot.pause(1.0)
        save("webhooks")
        from tui.app.dialogs.webhook_new import WebhookNewDialog

        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, WebhookNewDialog))
        await pilot.pause(0.3)
        save("webhook-new")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
        await pilot.press("escape")
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, UsageScreen))
        await pilot.pause(1.0)
        save("usage")
        await pilot.press("escape")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, timeout=20)
    return saved


ADMIN_SIZE = (100, 30)


async def shoot_admin(out: Path, server: SandboxServer) -> list[Path]:
    """One screenshot per console tab (and the Overview at 80x24) on seeded demo data."""
    from tui.api.admin import AdminClient
    from tui.app.admin.console import TAB_VIEWS, make_console
    from tui.core.admin import VIEWS

    saved: list[Path] = []
    for size, suffix in ((ADMIN_SIZE, ""), ((80, 24), "-80x24")):
        app = make_console(AdminClient(server.base_url, server.config.admin_token))
        async with app.run_test(size=size) as pilot:
            overview = app.query_one("Overview")
            await until(pilot, lambda overview=overview: overview.refreshes >= 1)
            await pilot.pause(0.3)
            path = out / f"admin-overview{suffix}.svg"
            app.save_screenshot(str(path))
            saved.append(path)
            if suffix:
                continue
            for view in TAB_VIEWS:
                app.show(view)
                table = app.table(view)
                await until(pilot, lambda table=table: table.loaded and not table.workers)
                await pilot.pause(0.2)
                path = out / f"admin-{VIEWS[view].name}.svg"
                app.save_screenshot(str(path))
                saved.append(path)
    return saved


def main_admin(out: Path) -> None:
    from tui.sandbox.demo import seed_operator_demo
    from tui.sandbox.state.store import Store

    store = Store(":memory:")
    seed_operator_demo(store, "sandbox.mailagents.test")
    with SandboxServer(SandboxConfig(port=0), store=store) as server:
        for path in asyncio.run(shoot_admin(out, server)):
            print(path)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0] if args else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    if "--admin" in sys.argv:
        main_admin(out)
        return
    main_admin(out)
    for size, suffix in SIZES:
        with (
            tempfile.TemporaryDirectory() as tmp,
            SandboxServer(
                SandboxConfig(
                    port=0, smtp_port=0, imap_port=0, webhook_backoff_s=0.01, webhook_timeout_s=1.0
                )
            ) as server,
        ):
            for path in asyncio.run(shoot(out, server, Path(tmp), size, suffix)):
                print(path)


if __name__ == "__main__":
    main()

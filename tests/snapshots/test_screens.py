"""Snapshots (pytest-textual-snapshot) of the screens and dialogs at 80x24 and 120x36.

Deterministic: a frozen clock (every module that reads the time), fixed data fed to screens
whose network workers are replaced, a fixed public test key, an API base nobody listens on.
Update with ``pytest tests/snapshots --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

import time as real_time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui.api.models import Lease, Message
from tui.app import make_app
from tui.app.messages import LeasesLoaded
from tui.app.screens.inbox import InboxScreen, InboxUpdated
from tui.app.screens.leases import LeaseListScreen
from tui.auth.wallet import Wallet
from tui.core.leases import LeaseView
from tui.core.poller import PollStatus, PollUpdate
from tui.core.settings import Settings
from tui.core.wallets import WalletSource

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
DEMO_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


class FrozenDatetime(datetime):
    """``datetime`` whose ``now()`` is :data:`NOW`."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return NOW.astimezone(tz) if tz is not None else NOW.replace(tzinfo=None)


class FrozenTime:
    """The ``time`` module, with ``time()`` at :data:`NOW`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(real_time, name)

    @staticmethod
    def time() -> float:
        return NOW.timestamp()


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    real_time.tzset()
    for module in (
        "tui.core.timefmt",
        "tui.api.models",
        "tui.app.screens.leases",
        "tui.app.widgets.row_table",
        "tui.app.screens.inbox",
        "tui.app.widgets.inbox_list",
        "tui.app.widgets.inbox_status",
        "tui.app.screens.webhooks",
        "tui.app.screens.feed",
        "tui.core.billing",
    ):
        monkeypatch.setattr(f"{module}.datetime", FrozenDatetime)
    monkeypatch.setattr("tui.app.widgets.inbox_status.time", FrozenTime())
    # The progress dialog's spinner draws from the time since it mounted: hold it still.
    monkeypatch.setattr("textual.widgets._loading_indicator.time", lambda: NOW.timestamp())
    yield
    real_time.tzset()


def lease(n: int, purpose: str, hours: int) -> Lease:
    return Lease(
        lease_id=f"lease-{n}",
        mailbox_id=f"mb-{n}",
        address=f"2c75365c23-{n}@sandbox.mailagents.test",
        lease_status="active",
        purpose=purpose,
        started_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(hours=hours),
    )


LEASES = [lease(1, "signup: github.com", 2), lease(2, "newsletter test", 24), lease(3, "reset", 1)]


def message(i: int, sender: str, subject: str, code: str | None, link: str | None) -> Message:
    return Message(
        message_id=f"m{i}",
        sender=sender,
        subject=subject,
        received_at=NOW - timedelta(seconds=40 * i + 20),
        otp_code=code,
        verification_link=link,
        parsed_status="parsed",
    )


MESSAGES = [
    message(0, "security@shop.example", "Sign-in code: 771045", "771045", None),
    message(
        1,
        "accounts@forumly.example",
        "Confirm your email address for the Forumly community",
        None,
        "https://forumly.example/confirm?t=abc",
    ),
    message(2, "no-reply@acme.example", "Your Acme verification code", "482913", None),
]


class OfflineLeases(LeaseListScreen):
    def refresh_leases(self) -> None:  # type: ignore[override]
        self.post_message(LeasesLoaded([LeaseView(item, None) for item in LEASES]))


class OfflineInbox(InboxScreen):
    def start_poller(self) -> None:
        self.post_message(InboxUpdated(PollUpdate(MESSAGES, MESSAGES, PollStatus(state="ok"))))

    def run_imap(self) -> None:  # type: ignore[override]
        self.set_imap_status("IMAP off: the test server has no IMAP (example.test is offline)")


def new_app(tmp_path: Path) -> Any:
    settings = Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9")
    wallet = Wallet.from_private_key(DEMO_KEY)
    return make_app(settings, wallet_source=WalletSource.of(wallet, "keystore ~/keystore.json"))


def on_top(make_screen):
    """``run_before``: push a screen (or dialog) made by ``make_screen(app)``, let it settle."""

    async def run(pilot) -> None:
        app = pilot.app
        await pilot.pause()
        await app.push_screen(make_screen(app))
        await pilot.pause(0.3)
        await pilot.wait_for_scheduled_animations()

    return run


@pytest.mark.parametrize("size", SIZES)
def test_leases(snap_compare, tmp_path, size):
    assert snap_compare(
        new_app(tmp_path), terminal_size=size, run_before=on_top(lambda app: OfflineLeases())
    )


@pytest.mark.parametrize("size", SIZES)
def test_inbox(snap_compare, tmp_path, size):
    assert snap_compare(
        new_app(tmp_path),
        terminal_size=size,
        run_before=on_top(lambda app: OfflineInbox(LeaseView(LEASES[0], None))),
    )


@pytest.mark.parametrize("size", SIZES)
def test_help_on_leases(snap_compare, tmp_path, size):
    async def run(pilot) -> None:
        await on_top(lambda app: OfflineLeases())(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=run)


def dialog_cases() -> list[Any]:
    from tui.app.dialogs.allocate import AllocateDialog
    from tui.app.dialogs.confirm import ConfirmDialog
    from tui.app.dialogs.credentials import CredentialsDialog
    from tui.app.dialogs.message_source import MessageSourceDialog
    from tui.app.dialogs.webhook_new import WebhookNewDialog
    from tui.app.screens.compose import ComposeScreen
    from tui.core.compose import quote_reply, reply_subject

    class FixedSecret(WebhookNewDialog):
        def on_mount(self) -> None:
            self.generated["webhook-secret"] = "s" * 32
            self.query_one("#webhook-secret").value = self.generated["webhook-secret"]
            super().on_mount()

    raw = (
        b"Return-Path: <no-reply@acme.example>\r\nFrom: Acme <no-reply@acme.example>\r\n"
        b"To: 2c75365c23-1@sandbox.mailagents.test\r\nSubject: Your Acme verification code\r\n"
        b"Date: Sun, 06 Dec 2026 11:59:00 +0000\r\nMessage-ID: <1@acme.example>\r\n\r\n"
        b"Hi,\r\n\r\nYour verification code is 482913.\r\n"
    )
    reply = MESSAGES[2]
    return [
        ("allocate", lambda app: AllocateDialog()),
        ("confirm", lambda app: ConfirmDialog("Release 2c75365c23-1@sandbox.mailagents.test?")),
        ("credentials", lambda app: CredentialsDialog(LEASES[0])),
        ("webhook-new", lambda app: FixedSecret()),
        (
            "source",
            lambda app: MessageSourceDialog(reply.subject, raw, Path("/tmp")),
        ),
        (
            "compose-reply",
            lambda app: ComposeScreen(
                LEASES[0],
                reply_to=reply,
                prefill=(
                    reply.sender,
                    reply_subject(reply.subject),
                    quote_reply("Hi,\n\nYour verification code is 482913.", reply.sender, NOW),
                ),
            ),
        ),
    ]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", [name for name, _make in dialog_cases()])
def test_dialogs(snap_compare, tmp_path, size, case):
    make = dict(dialog_cases())[case]
    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=on_top(make))


def screen_cases() -> list[Any]:
    """Screens whose network is replaced by fixed data."""
    from tui.api.models import SendAttempt, Webhook, WebhookDelivery
    from tui.app.screens.feed import FeedUpdated, LiveFeedScreen
    from tui.app.screens.sent import AttemptsLoaded, SentScreen
    from tui.app.screens.webhooks import DeliveriesLoaded, WebhooksLoaded, WebhooksScreen
    from tui.core.feed import FeedEntry
    from tui.core.inbox import build_item

    attempts = [
        SendAttempt(
            send_attempt_id="sa-1",
            mailbox_id="mb-1",
            to=["2c75365c23-2@sandbox.mailagents.test"],
            subject="Re: Your Acme verification code",
            submission_status="accepted",
            accepted=["2c75365c23-2@sandbox.mailagents.test"],
            rejected=[],
            error=None,
            created_at=NOW - timedelta(minutes=3),
        ),
        SendAttempt(
            send_attempt_id="sa-2",
            mailbox_id="mb-1",
            to=["someone@example.com"],
            subject="Hello",
            submission_status="failed",
            accepted=[],
            rejected=["someone@example.com"],
            error="Invalid login: 535 5.7.8 Error: authentication failed",
            created_at=NOW - timedelta(minutes=9),
        ),
    ]
    hook = Webhook(
        webhook_id="wh-1",
        event_types=["mail.received", "otp.extracted"],
        target_url="https://hooks.example.test/mail",
        status="active",
        last_delivery_at=NOW - timedelta(minutes=2),
        last_status_code=502,
    )
    delivery = WebhookDelivery(
        delivery_id="d-1",
        webhook_id="wh-1",
        status_code=502,
        attempts=3,
        ok=False,
        error_message="Webhook request failed: connection refused",
        response_excerpt=None,
        delivered_at=NOW - timedelta(minutes=2),
    )

    class OfflineSent(SentScreen):
        def load(self) -> None:  # type: ignore[override]
            self.post_message(AttemptsLoaded(attempts, {"sa-1"}))

    class OfflineWebhooks(WebhooksScreen):
        def load(self) -> None:  # type: ignore[override]
            self.post_message(WebhooksLoaded([hook]))

        def load_deliveries(self, webhook_id: str) -> None:  # type: ignore[override]
            self.post_message(DeliveriesLoaded(webhook_id, [delivery]))

    entries = [
        FeedEntry(LEASES[i % 3], build_item(m, LEASES[i % 3].started_at))
        for i, m in enumerate(MESSAGES)
    ]

    class OfflineFeed(LiveFeedScreen):
        def follow(self, feed: Any) -> None:  # type: ignore[override]
            self.post_message(FeedUpdated(entries, []))

    return [
        ("sent", lambda app: OfflineSent()),
        ("webhooks", lambda app: OfflineWebhooks()),
        ("feed", lambda app: OfflineFeed([LeaseView(item, None) for item in LEASES])),
    ]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", [name for name, _make in screen_cases()])
def test_list_screens(snap_compare, tmp_path, size, case):
    make = dict(screen_cases())[case]
    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=on_top(make))


def more_dialog_cases() -> list[Any]:
    from tui.app.dialogs.error import ErrorDialog
    from tui.app.dialogs.open_link import OpenLinkDialog
    from tui.app.dialogs.progress import ProgressDialog
    from tui.app.dialogs.webhook_secret import WebhookSecretDialog
    from tui.core.links import inspect_link

    return [
        (
            "open-link",
            lambda app: OpenLinkDialog(inspect_link("https://forumly.example/confirm?t=abc")),
        ),
        ("error", lambda app: ErrorDialog("Unexpected error: ValueError", "Traceback…\nline")),
        ("progress", lambda app: ProgressDialog("Releasing 2 lease(s) allocated by this run…")),
        (
            "webhook-secret",
            lambda app: WebhookSecretDialog(
                "s" * 32, "Webhook created: its secret", "https://hooks.example.test/mail"
            ),
        ),
    ]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", [name for name, _make in more_dialog_cases()])
def test_more_dialogs(snap_compare, tmp_path, size, case):
    make = dict(more_dialog_cases())[case]
    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=on_top(make))


@pytest.mark.parametrize("size", SIZES)
def test_login(snap_compare, tmp_path, size):
    """Offline: the runtime cannot be fetched (nobody listens on the API base)."""
    from tui.app.screens.login import LoginScreen

    async def run(pilot) -> None:
        app = pilot.app
        for _ in range(100):
            screen = app.screen
            if isinstance(screen, LoginScreen) and "loading" not in str(
                screen.query_one("#login-runtime").content
            ):
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=run)


def last_cases() -> list[Any]:
    """The usage screen and the remaining dialogs, network replaced."""
    from email.message import EmailMessage

    from tui.api.models import Invoice, Runtime, SendAttempt, UsageSummary
    from tui.app.dialogs.invoice import InvoiceDialog, InvoiceLoaded
    from tui.app.dialogs.leftovers import LeftoversDialog
    from tui.app.dialogs.save_attachment import SaveAttachmentDialog
    from tui.app.dialogs.send_attempt import SendAttemptDialog
    from tui.app.screens.usage import InvoicesLoaded, UsageLoaded, UsageScreen
    from tui.core.leases import Leftover
    from tui.extract import attachment_parts

    invoice = Invoice(
        invoice_id="inv-1",
        period="2026-12",
        amount_usdc=0.002,
        status="draft",
        period_start="2026-12-01",
        period_end="2026-12-31",
    )
    runtime = Runtime(
        siwe_mode="strict",
        payment_mode="hmac",
        chain_id=84532,
        chain_name="Base Sepolia",
        mailbox_domain="sandbox.mailagents.test",
        overage_charge_usdc=0.001,
        allocate_hourly_limit=None,
        webmail_url=None,
    )
    summary = UsageSummary(
        period="2026-12", api_calls=6, active_mailboxes=3, message_parses=1, billable_units=6
    )

    class OfflineUsage(UsageScreen):
        def load_usage(self, period: str) -> None:  # type: ignore[override]
            monthly = {"2026-10": 2, "2026-11": 4, "2026-12": 6}
            self.post_message(UsageLoaded(summary, runtime, monthly))

        def load_invoices(self) -> None:  # type: ignore[override]
            self.post_message(InvoicesLoaded([invoice]))

    class OfflineInvoice(InvoiceDialog):
        def load(self) -> None:  # type: ignore[override]
            self.post_message(InvoiceLoaded(invoice))

    attempt = SendAttempt(
        send_attempt_id="sa-1",
        mailbox_id="mb-1",
        to=["someone@example.com"],
        subject="Report",
        submission_status="accepted",
        accepted=["someone@example.com"],
        rejected=[],
        error=None,
        created_at=NOW - timedelta(minutes=3),
    )

    class OfflineAttempt(SendAttemptDialog):
        async def fetch(self) -> Any:
            return attempt

    mail = EmailMessage()
    mail["From"] = "billing@acme.example"
    mail["Subject"] = "Your receipt"
    mail.set_content("Attached.")
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="r.pdf")
    parts = attachment_parts(mail.as_bytes())
    leftover = Leftover(LEASES[1], None, "allocated by a run that ended without releasing it")
    return [
        ("usage", lambda app: OfflineUsage("2026-12")),
        ("invoice", lambda app: OfflineInvoice(invoice)),
        ("send-attempt", lambda app: OfflineAttempt(attempt)),
        ("save-attachment", lambda app: SaveAttachmentDialog(parts, Path("/downloads"))),
        ("leftovers", lambda app: LeftoversDialog([leftover])),
    ]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", [name for name, _make in last_cases()])
def test_last_cases(snap_compare, tmp_path, size, case):
    make = dict(last_cases())[case]
    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=on_top(make))

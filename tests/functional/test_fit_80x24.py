"""Issue 17: every screen and dialog usable at 80x24 (footers, dialogs, login, inbox, help)."""

from __future__ import annotations

import pytest
from support import Posted, make_settings, text_of, until, wallet_from

from tui.app import make_app
from tui.app.dialogs.help import HelpDialog
from tui.app.dialogs.webhook_new import WebhookNewDialog
from tui.app.messages import LeasesLoaded, RuntimeLoaded
from tui.app.screens.compose import ComposeScreen
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.login import LoginScreen
from tui.app.screens.sent import SentScreen
from tui.app.screens.usage import UsageScreen
from tui.app.screens.webhooks import WebhooksScreen
from tui.core.wallets import WalletSource

SMALL = (80, 24)


def screen_lines(app) -> list[str]:
    """The terminal as text, one string per row (what a user at 80x24 sees)."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def footer(app) -> str:
    return screen_lines(app)[-1]


@pytest.fixture
def small_app(sandbox, wallet, tmp_path):
    def make():
        return make_app(
            make_settings(sandbox.base_url, tmp_path),
            wallet_source=WalletSource.of(wallet_from(wallet)),
            run_id="fit-run",
        )

    return make


async def signed_in(posted, pilot) -> LeaseListScreen:
    await posted.screen(pilot, LoginScreen)
    await posted.next(pilot, RuntimeLoaded, lambda m: m.runtime is not None)
    await pilot.press("enter")
    return await posted.screen(pilot, LeaseListScreen)


async def test_login_fits_without_wrapping_under_labels(small_app):
    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        await posted.screen(pilot, LoginScreen)
        await posted.next(pilot, RuntimeLoaded, lambda m: m.runtime is not None)
        await pilot.pause(0.2)
        lines = screen_lines(app)
        box = app.screen.query_one("#login-box")
        assert box.max_scroll_y == 0  # no scrollbar: everything fits
        # Each value wraps in its own column: no line of the box starts under a label
        # with value text (the old layout put "hmac" and "paid call" at the box's edge).
        body = [line for line in lines if line.lstrip().startswith("│")]
        labels = ("API", "Sandbox", "Runtime", "Wallet")
        for line in body:
            inner = line.strip().strip("│").strip()
            if inner and not inner.startswith(labels):
                start = line.index(inner)
                assert start >= line.index("│") + 13 or inner.startswith(
                    ("mailagents", "▔", "▁", "Sign in", "Press enter")
                ), line
        assert "? Help" in footer(app) and "q Quit" in footer(app)


async def test_every_screen_keeps_help_and_quit_in_its_footer(small_app):
    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        await app.services.leases.allocate(
            "signup: a-long-purpose.example", 1, release_on_exit=True
        )
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await pilot.pause(0.1)
        for key in ("? Help", "q Quit", "n New", "d Release", "w Hooks", "U Usage", "/ Filter"):
            assert key in footer(app), (key, footer(app))

        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        await pilot.pause(0.2)
        for key in ("? Help", "q Quit", "esc Back", "c Code", "r Reply", "v Pane", "/ Filter"):
            assert key in footer(app), (key, footer(app))
        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        await pilot.pause(0.1)
        for key in ("^s Send", "esc Close", "f1 Help"):  # ? and q type into the fields
            assert key in footer(app), (key, footer(app))
        await pilot.press("f1")
        await posted.screen(pilot, HelpDialog)
        await pilot.press("escape")
        await pilot.press("escape")
        await posted.screen(pilot, InboxScreen)
        await pilot.press("escape")
        assert await posted.screen(pilot, type(screen)) is screen

        for key, kind in (("s", SentScreen), ("w", WebhooksScreen), ("U", UsageScreen)):
            await pilot.press(key)
            await posted.screen(pilot, kind)
            await pilot.pause(0.2)
            assert "? Help" in footer(app) and "q Quit" in footer(app), footer(app)
            await pilot.press("escape")
            assert await posted.screen(pilot, type(screen)) is screen


async def test_new_webhook_dialog_buttons_reachable_at_80x24(small_app):
    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        await signed_in(posted, pilot)
        await pilot.press("w")
        await posted.screen(pilot, WebhooksScreen)
        await pilot.press("n")
        await posted.screen(pilot, WebhookNewDialog)
        await pilot.pause(0.2)
        text = "\n".join(screen_lines(app))
        assert "Create" in text and "Cancel" in text
        assert "enter in a field creates" in text
        for button in app.screen.query("Button#ok, Button#cancel"):
            region = button.region
            assert region.bottom <= SMALL[1] and region.height == 3, region


async def test_inbox_subject_keeps_thirty_columns_and_pane_cycles(small_app, sandbox):
    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        await app.services.leases.allocate("pane", 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        address = screen.views[0].lease.address
        sandbox.deliver(
            address,
            f"From: a@shop.test\r\nTo: {address}\r\nSubject: Your sign-in code is 123456"
            " for the shop\r\n\r\nCode 123456\r\n".encode(),
        )
        inbox.poller.wake()
        await until(pilot, lambda: len(inbox.model.order) >= 1)
        await pilot.pause(0.2)
        listing = inbox.query_one("#inbox-list")
        widths = listing._widths(listing.size.width)
        assert widths[-1] >= 30, widths
        assert inbox.pane == "below"  # narrow: under the list, the list gets the full width
        assert listing.size.width >= 78
        await pilot.press("v")
        await pilot.pause(0.1)
        assert inbox.pane == "off" and not inbox.query_one("#inbox-detail").region.height
        assert "Subject" in screen_lines(app)[1]
        await pilot.press("enter")  # opening a message shows the pane again
        assert inbox.pane == "below"
        await pilot.press("v", "v")
        assert inbox.pane == "right"


async def test_help_lists_the_screens_keys_first_without_unlabeled_ones(small_app):
    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        await pilot.press("question_mark")
        await posted.screen(pilot, HelpDialog)
        dialog = app.screen
        titles = [title for title, _rows in dialog.sections]
        assert titles[0] == "This screen" and titles[1] == "Everywhere"
        first = dialog.sections[0][1]
        assert first[0][:2] == ("n", "New")
        assert all(label for _key, label, _tip in dialog.rows)
        assert not any(key == "super+c" for key, _label, _tip in dialog.rows)
        # The first screenful (80x24) shows the screen's own keys, not generic scrolling.
        visible = "\n".join(screen_lines(app))
        assert "Allocate a mailbox" in visible and "Scroll Left" not in visible
        await pilot.press("escape")
        commands = [command.title for command in app.get_system_commands(screen)]
        assert len(commands) == len(set(commands)), commands
        assert commands.count("Quit") == 1


async def test_a_batch_of_codes_is_one_toast_and_times_share_one_clock(small_app, sandbox):
    from datetime import timedelta

    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, notifications=True, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        await app.services.leases.allocate("batch", 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        assert "releases on quit" in text_of(app, "#status-bar")
        assert "releases on quit" in str(screen.query_one("DataTable").get_row_at(0)[2])
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        await until(pilot, lambda: inbox.poller.status.calls > 0)
        address = screen.views[0].lease.address
        for n in range(6):
            sandbox.deliver(
                address,
                f"From: n{n}@shop.test\r\nTo: {address}\r\nSubject: Code {n}\r\n\r\n"
                f"Your verification code is 48291{n}.\r\n".encode(),
            )
        inbox.poller.wake()
        await until(pilot, lambda: len(inbox.model.order) >= 6)
        await pilot.pause(0.2)
        messages = [str(n.message) for n in app._notifications]
        assert sum("6 new codes" in m for m in messages) == 1, messages
        assert not any(m.startswith("New code") for m in messages), messages
        from textual.widgets._toast import Toast, ToastRack

        rack = inbox.get_child_by_type(ToastRack)
        await until(pilot, lambda: bool(rack.query(Toast)))
        await pilot.pause(0.1)
        bar = inbox.query_one("#status-bar").region
        for toast in rack.query(Toast):
            assert toast.region.bottom <= bar.y, (toast.region, bar)  # the status bar shows

        newest = inbox.model.item(inbox.model.order[0]).message
        inbox.query_one("#inbox-list").clock = newest.received_at + timedelta(seconds=30)
        await pilot.pause(0.1)
        from test_inbox_screen import rows

        whens = [row[0] for row in rows(app)]
        assert whens[0] == "30s ago" and all(w.endswith("s ago") for w in whens), whens

        await pilot.press("question_mark")
        await posted.screen(pilot, HelpDialog)
        notes = [str(note) for note in app.screen.notes]
        assert notes and notes[0].startswith("IMAP")  # the IMAP state, whole


async def test_reply_quotes_and_forward_prefills_and_compose_says_no_cc(small_app, sandbox):
    from textual.widgets import Input, TextArea

    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        await app.services.leases.allocate("reply", 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        address = screen.views[0].lease.address
        sandbox.deliver(
            address,
            f"From: a@shop.test\r\nTo: {address}\r\nSubject: Hello\r\n\r\nHi there\r\n".encode(),
        )
        inbox.poller.wake()
        await until(pilot, lambda: len(inbox.model.order) >= 1)
        await pilot.press("r")
        await posted.screen(pilot, ComposeScreen)
        compose = app.screen
        body = compose.query_one("#compose-body", TextArea)
        assert "a@shop.test wrote:" in body.text and "\n> " in body.text
        assert body.cursor_location == (0, 0)  # the reply is written above the quote
        assert compose.query_one("#compose-subject", Input).value == "Re: Hello"
        assert "send API has neither" in text_of(app, "#compose-cc-note")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is inbox or not isinstance(app.screen, ComposeScreen))
        if app.screen is not inbox:  # asked whether to discard the draft
            await pilot.press("y")
            assert await posted.screen(pilot, type(inbox)) is inbox
        await pilot.press("f")
        await posted.screen(pilot, ComposeScreen)
        compose = app.screen
        assert compose.query_one("#compose-subject", Input).value == "Fwd: Hello"
        assert compose.query_one("#compose-to", Input).value == ""
        assert "Forwarded message" in compose.query_one("#compose-body", TextArea).text


async def test_keys_typed_while_signing_in_run_on_the_lease_list(small_app):
    import asyncio

    from tui.app.dialogs.allocate import AllocateDialog

    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        await posted.screen(pilot, LoginScreen)
        await posted.next(pilot, RuntimeLoaded, lambda m: m.runtime is not None)
        session = app.services.session
        gate = asyncio.Event()
        original = session.sign_in

        async def slow_sign_in(password=None):  # a slow network: signing in takes a while
            await gate.wait()
            return await original(password)

        session.sign_in = slow_sign_in
        await pilot.press("enter", "n")
        assert isinstance(app.screen, LoginScreen)
        assert app.type_ahead == [("n", "n")]  # kept, not dropped
        gate.set()
        await posted.screen(pilot, AllocateDialog)
        assert app.type_ahead == []


async def test_live_feed_follows_every_lease_one_request_at_a_time(sandbox, wallet, tmp_path):
    from tui.app.screens.feed import LiveFeedScreen
    from tui.core.poller import PollSettings

    quick = PollSettings(fast=0.2, waiting=0.3, normal=0.3, idle=0.5)
    app = make_app(
        make_settings(sandbox.base_url, tmp_path, poll=quick),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        for purpose in ("agent one", "agent two"):
            await app.services.leases.allocate(purpose, 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 2)
        await pilot.press("A")
        await posted.screen(pilot, LiveFeedScreen)
        feed_screen = app.screen
        for n, view in enumerate(screen.views):
            address = view.lease.address
            sandbox.deliver(
                address,
                f"From: login@site{n}.test\r\nTo: {address}\r\nSubject: Sign in\r\n\r\n"
                f"Your verification code is 70420{n}.\r\n".encode(),
            )
        await until(pilot, lambda: len(feed_screen.entries) == 2)
        codes = {entry.item.code for entry in feed_screen.entries}
        assert codes == {"704200", "704201"}
        assert {e.lease.address for e in feed_screen.entries} == {
            v.lease.address for v in screen.views
        }
        feed = feed_screen.feed
        calls = [p.status.calls for p in feed.pollers]
        assert sum(calls) == feed.calls and max(calls) - min(calls) <= 1  # in turn, one at a time
        assert "? Help" in footer(app) and "c Code" in footer(app)
        await pilot.press("escape")
        assert await posted.screen(pilot, type(screen)) is screen


async def test_a_long_imap_reason_is_short_in_the_status_bar_and_whole_in_help(small_app):
    app = small_app()
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        screen = await signed_in(posted, pilot)
        await app.services.leases.allocate("reason", 1, release_on_exit=True)
        screen.refresh_leases()
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        await until(pilot, lambda: inbox.poller.status.calls > 0)
        reason = "IMAP off: cannot connect to imap.example.test:993 (example.test is not served)"
        inbox.set_imap_status(reason)
        assert "(? all)" in text_of(app, "#status-bar")
        await pilot.press("question_mark")
        await posted.screen(pilot, HelpDialog)
        assert reason in [str(note) for note in app.screen.notes]
        visible = "\n".join(screen_lines(app))  # wrapped in the panel, all of it on screen
        assert "(example.test is not" in visible and "served)" in visible


async def test_a_dialog_taller_than_the_terminal_scrolls_to_its_buttons(tmp_path):
    from datetime import UTC, datetime, timedelta

    from tui.api.models import Lease
    from tui.app.dialogs.leftovers import LeftoversDialog
    from tui.core.leases import Leftover
    from tui.core.settings import Settings

    now = datetime.now(UTC)
    leftovers = [
        Leftover(
            Lease(
                lease_id=f"l{n}",
                mailbox_id=f"m{n}",
                address=f"agent-{n}@sandbox.mailagents.test",
                lease_status="active",
                purpose="left over",
                started_at=now,
                expires_at=now + timedelta(hours=1),
            ),
            None,
            "no run of this client knows it",
        )
        for n in range(15)
    ]
    app = make_app(Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9"))
    posted = Posted()
    async with app.run_test(size=SMALL, message_hook=posted) as pilot:
        await posted.screen(pilot, LoginScreen)
        await app.push_screen(LeftoversDialog(leftovers))
        await pilot.pause(0.2)
        box = app.screen.query_one(".dialog")
        assert box.max_scroll_y > 0  # taller than 24 lines: it scrolls
        box.scroll_end(animate=False)
        await pilot.pause(0.1)
        button = app.screen.query("Button").last()
        assert button.region.y >= 0 and button.region.bottom <= SMALL[1], button.region

"""The inbox screen with its running poller: real SMTP delivery to the sandbox, then the screen."""

from __future__ import annotations

import contextlib
import smtplib
from email.message import EmailMessage

import pytest
from support import Posted, make_services, make_settings, text_of, until, wallet_from
from textual.widgets import Input

from tui.app import make_app
from tui.app.dialogs.open_link import OpenLinkDialog
from tui.app.messages import LeasesLoaded
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.inbox.sources import InboxUpdated
from tui.app.screens.leases import LeaseListScreen
from tui.app.widgets.message_list import MessageList
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource

FAST = PollSettings(fast=0.1, normal=0.2, idle=0.5)
SIZE = (120, 34)


def rows(app) -> list[list[str]]:
    table = app.screen.query_one("#inbox-list", MessageList)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def smtp_send(port: int, to: str, subject: str, body: str, sender="Acme <no-reply@acme.test>"):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


@pytest.fixture
def smtp_sandbox(sandbox_factory):
    return sandbox_factory(smtp_port=0)


@pytest.fixture(autouse=True)
def no_system_clipboard(monkeypatch):
    import pyperclip

    def refuse(text):
        raise pyperclip.PyperclipException("no clipboard here")

    monkeypatch.setattr(pyperclip, "copy", refuse)


async def open_inbox(app, pilot, posted: Posted):
    await posted.screen(pilot, LeaseListScreen)
    await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen)
    await pilot.press("enter")
    return await posted.screen(pilot, InboxScreen)


async def polled(pilot, posted: Posted, where, receiver: type = InboxScreen) -> InboxUpdated:
    """The inbox's next poll snapshot that satisfies ``where``."""
    return await posted.next(pilot, InboxUpdated, where, receiver=receiver)


def listing(count: int):
    """A snapshot listing ``count`` messages."""
    return lambda m: len(m.update.messages) == count


async def test_smtp_mail_appears_live_with_code_and_link(
    smtp_sandbox, wallet, tmp_path, monkeypatch
):
    services = make_services(smtp_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    app = make_app(
        make_settings(smtp_sandbox.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # the OSC 52 path, observed
    opened: list[str] = []
    monkeypatch.setattr("tui.core.links.open_in_browser", lambda url: opened.append(url))
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await open_inbox(app, pilot, posted)
        await polled(pilot, posted, lambda m: m.update.status.calls > 0)
        assert rows(app) == []
        assert "Waiting for mail" in text_of(app, "#detail-meta")

        smtp_send(
            smtp_sandbox.smtp_port,
            lease.address,
            "Your Acme verification code",
            "Hello!\n\nYour verification code is 482913.\n"
            "Or confirm here: https://acme.test/verify?token=abc123\n\n(c) 2025 Acme",
        )
        await polled(pilot, posted, listing(1))
        assert len(rows(app)) == 1
        row = rows(app)[0]
        assert row[1] == "no-reply@acme.test" and row[2] == "482913"
        assert "482913" in text_of(app, "#detail-code")
        assert "acme.test" in text_of(app, "#detail-link")
        assert any("New code 482913" in str(n.message) for n in app._notifications)

        await pilot.press("c")
        assert copied[-1] == "482913"
        await pilot.press("y")
        assert copied[-1] == "https://acme.test/verify?token=abc123"
        await pilot.press("o")
        await posted.screen(pilot, OpenLinkDialog)
        assert app.screen.info.host == "acme.test"
        await pilot.press("y")
        await posted.notified(pilot, "Opened the link at acme.test")
        assert opened == ["https://acme.test/verify?token=abc123"]

        # The selection stays on the same message when newer mail arrives.
        smtp_send(smtp_sandbox.smtp_port, lease.address, "Newsletter", "Nothing to see.")
        await polled(pilot, posted, listing(2))
        assert len(rows(app)) == 2
        assert inbox.selected_item().message.subject == "Your Acme verification code"
        assert rows(app)[0][3] == "Newsletter"


HOSTILE_SUBJECTS = [
    "[bold red]FAKE[/bold red] code [@click=app.quit]clickme[/]",
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ and \x1b]0;pwned\x07 title",
    "\x1b]52;c;cHduZWQ=\x07clip \x1b[2J\x1b[31mred",
    "huge " + "A" * 5000,
]


async def test_hostile_subjects_render_literally(smtp_sandbox, wallet, tmp_path):
    services = make_services(smtp_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    for subject in HOSTILE_SUBJECTS:
        raw = (
            f"From: x@evil.example\r\nTo: {lease.address}\r\nSubject: {subject}\r\n\r\nbody\r\n"
        ).encode("utf-8", "surrogateescape")
        smtp_sandbox.deliver(lease.address, raw)
    await services.aclose()
    app = make_app(
        make_settings(smtp_sandbox.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await open_inbox(app, pilot, posted)
        await polled(pilot, posted, listing(len(HOSTILE_SUBJECTS)))
        assert len(rows(app)) == len(HOSTILE_SUBJECTS)
        shown = [r[3] for r in rows(app)]
        assert any("[bold red]FAKE[/bold red] code [@click=app.quit]clickme[/]" in s for s in shown)
        for text in shown:
            assert "\x1b" not in text and "\x07" not in text
            assert len(text) <= 200
        for i in range(len(HOSTILE_SUBJECTS)):
            inbox.query_one("#inbox-list", MessageList).move_cursor(row=i)
            await pilot.pause(0.05)
            meta = text_of(app, "#detail-meta")
            assert "\x1b" not in meta
        assert app.is_running  # [@click=app.quit] did not run


async def test_only_mail_since_the_lease_unless_asked(smtp_sandbox, wallet, tmp_path):
    services = make_services(smtp_sandbox.base_url, tmp_path, wallet)
    first = (await services.leases.allocate("one", 1, release_on_exit=False)).lease
    smtp_sandbox.deliver(
        first.address,
        f"From: a@old.test\r\nTo: {first.address}\r\nSubject: old mail\r\n\r\nx\r\n".encode(),
    )
    await services.leases.release(first.lease_id)
    second = (await services.leases.allocate("two", 1, release_on_exit=False)).lease
    assert second.mailbox_id == first.mailbox_id
    await services.aclose()
    app = make_app(
        make_settings(smtp_sandbox.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await open_inbox(app, pilot, posted)
        await polled(pilot, posted, lambda m: m.update.status.calls > 0)
        assert rows(app) == []
        await pilot.press("a")
        await polled(pilot, posted, listing(1))
        assert len(rows(app)) == 1
        assert rows(app)[0][2:] == ["older", "old mail"]  # marked in the code column
        assert "before this lease" in text_of(app, "#detail-meta")
        await pilot.press("a")
        assert rows(app) == []


def big_inbox(count: int):
    """``count`` messages with codes, newest first, and a lease begun before all of them."""
    from datetime import UTC, datetime, timedelta

    from tui.api.models import Lease, Message

    now = datetime.now(UTC)

    def message(i: int) -> Message:
        return Message(
            message_id=f"m{i}",
            sender=f"svc{i}@site.test",
            subject=f"Your code is {100000 + i}",
            received_at=now - timedelta(seconds=i),
            otp_code=str(100000 + i),
            verification_link=None,
            parsed_status="parsed",
        )

    lease = Lease(
        lease_id="l",
        mailbox_id="mb",
        address="a@b.test",
        lease_status="active",
        started_at=now - timedelta(days=1),
        expires_at=now + timedelta(hours=1),
    )
    return [message(i) for i in range(count)], lease


class Offline(InboxScreen):
    def start_poller(self) -> None:  # fed by hand: no network in these tests
        pass


async def test_ten_thousand_messages_browse_filter_and_keep_selection(tmp_path, monkeypatch):
    import gc

    from tui.api.models import Message
    from tui.app.screens.inbox import InboxUpdated
    from tui.core.leases import LeaseView
    from tui.core.poller import PollStatus, PollUpdate
    from tui.core.settings import Settings

    msgs, lease = big_inbox(10_000)
    now = msgs[0].received_at

    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))  # the test's heap stays
    app = make_app(Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9"))
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = Offline(LeaseView(lease, None))
        assert frozen == [True]  # opening: what is alive stays out of the collector's reach
        frozen.clear()
        # pushed from the app's own task, so that the message hook sees the screen's messages
        app.call_later(app.push_screen, screen)
        await posted.screen(pilot, Offline)
        screen.post_message(InboxUpdated(PollUpdate(msgs, msgs, PollStatus(state="ok"))))
        table = screen.query_one("#inbox-list", MessageList)
        await polled(pilot, posted, listing(10_000), Offline)
        assert table.row_count == 10_000
        # issue 16: a big load moves the heap out of the collector's reach, once
        assert frozen == [True]
        await pilot.press("G")
        assert table.cursor_key == "m9999"
        # The detail follows once the cursor rests (DETAIL_DELAY): wait for it.
        await until(pilot, lambda: "svc9999@site.test" in text_of(app, "#detail-meta"))
        await pilot.press("k", "k")
        assert table.cursor_key == "m9997"
        # New mail on top keeps the selection on the same message.
        newer = [
            Message(
                message_id="new",
                sender="x@y.test",
                subject="hi",
                received_at=now,
                otp_code=None,
                verification_link=None,
                parsed_status="failed",
            ),
            *msgs,
        ]
        screen.post_message(InboxUpdated(PollUpdate(newer, newer[:1], PollStatus(state="ok"))))
        await polled(pilot, posted, listing(10_001), Offline)
        assert table.row_count == 10_001
        assert table.cursor_key == "m9997"
        await pilot.press("slash", "1", "0", "9", "9", "9", "9")
        await posted.next(pilot, Input.Changed, lambda m: m.value == "109999", receiver=Offline)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[1]) == "svc9999@site.test"


async def test_a_key_never_waits_behind_the_warm_up_of_a_big_inbox(tmp_path):
    """Issue 15: while a big inbox builds its items in the background, a key goes from the
    App to its action with no slice of that work in between (on a busy CPU, 100 items between
    every two steps of a key made j/k 2-2.5x slower); the work still finishes afterwards."""
    import asyncio

    from textual import events
    from textual.worker import Worker, WorkerState

    from tui.app.screens.inbox import InboxUpdated
    from tui.core.leases import LeaseView
    from tui.core.poller import PollStatus, PollUpdate
    from tui.core.settings import Settings

    msgs, lease = big_inbox(10_000)
    app = make_app(Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9"))
    screen = Offline(LeaseView(lease, None))
    posted = Posted()
    built_at: list[tuple[object, object, int]] = []  # (message, receiver, items built)

    def hook(message: object) -> None:
        posted(message)
        built_at.append((*posted.log[-1], screen.model.built))

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        app.call_later(app.push_screen, screen)
        await posted.screen(pilot, Offline)
        screen.post_message(InboxUpdated(PollUpdate(msgs, msgs, PollStatus(state="ok"))))
        while screen.model.built < 500:  # one turn of the loop at a time: warming is under way
            await asyncio.sleep(0)
        table = screen.query_one("#inbox-list", MessageList)
        first = table.cursor_key
        await pilot.press("j")
        assert table.cursor_key != first
        key = next(i for i, (m, to, _) in enumerate(built_at) if isinstance(m, events.Key))
        moved = next(
            i
            for i, (m, to, _) in enumerate(built_at)
            if isinstance(m, MessageList.Highlighted) and isinstance(to, Offline) and i > key
        )
        assert built_at[key][1] is app  # the key's first stop
        before, after = built_at[key][2], built_at[moved][2]
        assert before < 10_000 and after == before, (before, after)
        await posted.next(
            pilot,
            Worker.StateChanged,
            lambda m: m.worker.group == "inbox-warm" and m.state == WorkerState.SUCCESS,
        )
        assert screen.model.built == 10_000


async def test_moving_the_cursor_repaints_two_rows_and_the_detail_settles(
    smtp_sandbox, wallet, tmp_path, monkeypatch
):
    """Work per key stays small in a big inbox: j/k repaint the two rows concerned (not the
    whole list), and showing a message lays the screen out once, not in a loop."""
    from textual.screen import Screen

    services = make_services(smtp_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    for n in range(12):  # with and without a link, so the detail pane changes shape
        body = f"Confirm: https://acme.test/verify?t={n}" if n % 2 else f"Plain note {n}."
        smtp_send(smtp_sandbox.smtp_port, lease.address, f"Mail {n}", body)
    app = make_app(
        make_settings(smtp_sandbox.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await open_inbox(app, pilot, posted)
        table = inbox.query_one("#inbox-list", MessageList)
        await polled(pilot, posted, listing(12))
        assert table.row_count == 12
        await pilot.pause(0.3)
        painted: list[int] = []
        real_line = MessageList.render_line

        def count_line(self, y):
            painted.append(y)
            return real_line(self, y)

        monkeypatch.setattr(MessageList, "render_line", count_line)
        for key in ("j", "k", "j"):
            painted.clear()
            await pilot.press(key)
            await pilot.pause()
            assert 1 <= len(painted) <= 2, painted  # the old and the new cursor row
        layouts: list[float] = []
        real_layout = Screen._refresh_layout

        def count_layout(self, *args, **kwargs):
            layouts.append(1)
            return real_layout(self, *args, **kwargs)

        monkeypatch.setattr(Screen, "_refresh_layout", count_layout)
        for key in ("j", "j", "k"):
            await pilot.press(key)
            await pilot.pause(0.4)  # the detail follows the cursor, then all is quiet
            layouts.clear()
            await pilot.pause(0.5)
            assert layouts == [], f"{len(layouts)} layouts of an idle inbox"


async def test_u_says_checking_in_the_same_frame_until_the_check_reports(
    smtp_sandbox, wallet, tmp_path, monkeypatch
):
    """Issue 16: a key that starts network work shows that it started at once."""
    services = make_services(smtp_sandbox.base_url, tmp_path, wallet)
    await services.leases.allocate("one", 1, release_on_exit=False)
    await services.aclose()
    app = make_app(
        make_settings(smtp_sandbox.base_url, tmp_path),  # the default pace: seconds apart
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await open_inbox(app, pilot, posted)
        await polled(pilot, posted, lambda m: m.update.status.state == "ok")
        assert "checked" in text_of(app, "#status-bar")
        woken: list[bool] = []
        real_wake = inbox.poller.wake
        monkeypatch.setattr(inbox.poller, "wake", lambda: woken.append(True))  # a slow server
        await pilot.press("u")
        assert woken == [True]
        assert text_of(app, "#status-bar").startswith("checking…")
        earlier = {id(message) for message, _ in posted.log}  # (the log keeps them alive)
        real_wake()  # the check comes back: the line says when it was
        await polled(
            pilot, posted, lambda m: id(m) not in earlier and m.update.status.state == "ok"
        )
        assert text_of(app, "#status-bar").startswith("checked")


def imap_report(count: int, raw_of, *, headers_only: bool):
    """An IMAP reader's live report of ``count`` mails (UIDs newest first) that arrived two
    hours ago, one a second, each read from ``raw_of(uid)``: by its header fields or whole."""
    from datetime import UTC, datetime, timedelta

    from tui.imap.message import parse_headers, parse_message
    from tui.imap.reader import ImapStatus, ImapUpdate

    at = datetime.now(UTC) - timedelta(hours=2)

    def read(uid: int):
        stamp = (at + timedelta(seconds=uid)).strftime("%d-%b-%Y %H:%M:%S +0000")
        if headers_only:
            return parse_headers(uid, raw_of(uid), size=900, internaldate=stamp)
        return parse_message(uid, raw_of(uid), internaldate=stamp)

    mails = [read(uid) for uid in range(count, 0, -1)]
    return ImapUpdate(status=ImapStatus(state="live", mode="idle"), new=[], messages=mails)


@contextlib.asynccontextmanager
async def offline_inbox(tmp_path):
    """An inbox screen fed by hand (no network), on a lease begun a day ago."""
    from tui.core.leases import LeaseView
    from tui.core.settings import Settings

    _msgs, lease = big_inbox(0)
    app = make_app(Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9"))
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        screen = Offline(LeaseView(lease, None))
        app.call_later(app.push_screen, screen)
        await posted.screen(pilot, Offline)
        yield pilot, posted, screen


async def test_a_big_imap_list_is_merged_into_rows_off_the_ui_thread(monkeypatch, tmp_path):
    """Issue 16: a big mailbox's first sync (here 3,000 mails read by their headers) is merged
    into rows in a thread, the UI's loop free meanwhile; the rows are those of merging at once."""
    import threading

    from tui.app.screens.inbox.sources import MERGE_IN_THREAD, ImapUpdated
    from tui.core.inbox_model import InboxModel

    count = MERGE_IN_THREAD + 1000
    update = imap_report(
        count, lambda uid: f"From: s{uid % 9}@x.io\r\nSubject: Digest {uid}\r\n\r\n".encode(),
        headers_only=True,
    )  # fmt: skip
    merged_in: list[threading.Thread] = []
    real = InboxModel.merge_for

    def recording(self, update):
        merged_in.append(threading.current_thread())
        return real(self, update)

    monkeypatch.setattr(InboxModel, "merge_for", recording)
    async with offline_inbox(tmp_path) as (pilot, _posted, screen):
        screen.post_message(ImapUpdated(update))
        table = screen.query_one("#inbox-list", MessageList)
        await until(pilot, lambda: table.row_count == count)
        assert merged_in and threading.main_thread() not in merged_in
        at_once = InboxModel(screen.lease.started_at)
        at_once.apply_imap(update)
        assert screen.model.order == at_once.order
        assert table.cursor_key == f"imap:{count}"  # the newest on top


async def test_the_detail_asked_for_before_its_parts_exist_shows_once_they_do(tmp_path):
    """A CI run once saw the inbox's on_mount reach the detail pane before its parts were
    composed (NoMatches, the app ended): what is asked for then is shown when they are."""
    from textual.app import App

    from tui.app.widgets.message_detail import MessageDetail

    detail = MessageDetail()
    detail.show(None, "agent@mail.test")  # not even mounted: remembered, no error

    class Holder(App[None]):
        def compose(self):
            yield detail

    async with Holder().run_test() as pilot:
        await pilot.pause()
        assert "agent@mail.test" in str(detail.query_one("#detail-meta").render())


async def test_a_filter_typed_while_a_big_inbox_warms_finds_the_codes_read_later(tmp_path):
    """A row's code is known once its item is built (the warm-up, paused while keys arrive):
    a code typed into the filter before then (here one only a body holds) matches once the
    warm-up has built every row."""
    from tui.app.screens.inbox.sources import ImapUpdated

    count = 1500

    def mail(uid: int) -> bytes:
        return f"From: s@x.io\r\nSubject: In {uid}\r\n\r\nYour code: {300000 + uid}.\r\n".encode()

    update = imap_report(count, mail, headers_only=False)
    async with offline_inbox(tmp_path) as (pilot, posted, screen):
        wanted = str(300000 + 700)  # a row in the middle: neither shown nor warmed first
        await pilot.press("slash", *wanted)
        await posted.next(pilot, Input.Changed, lambda m: m.value == wanted, receiver=Offline)
        table = screen.query_one("#inbox-list", MessageList)
        screen.post_message(ImapUpdated(update))  # the mailbox listed under the filter
        await until(pilot, lambda: len(screen.model.order) == count)
        assert table.row_count == 0  # its item not built yet: its code not known
        await until(pilot, lambda: screen.model.built == count, timeout=30)
        await until(pilot, lambda: table.row_count == 1)
        assert table.cursor_key == "imap:700"

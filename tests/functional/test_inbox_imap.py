"""The inbox reads full messages over IMAP (a private Dovecot): our code from the body, the
body itself, IDLE push without polling the API, and API-only with the reason when IMAP fails."""

from __future__ import annotations

import json
import os
import smtplib
from email.message import EmailMessage

from support import Posted, make_services, make_settings, send_mail, text_of, until, wallet_from
from textual.worker import Worker, WorkerState

from tui.app import make_app
from tui.app.messages import LeasesLoaded
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.inbox.sources import ImapUpdated, InboxUpdated
from tui.app.screens.leases import LeaseListScreen
from tui.app.widgets.message_list import MessageList
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource

SIZE = (130, 36)
FAST = PollSettings(fast=0.2, normal=0.5, idle=1.0)


async def enter_inbox(app, pilot, posted: Posted) -> InboxScreen:
    """From the lease list (one lease), open its inbox."""
    await posted.screen(pilot, LeaseListScreen)
    await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen)
    await pilot.press("enter")
    return await posted.screen(pilot, InboxScreen)


async def imap_report(pilot, posted: Posted, where, timeout: float = 15) -> ImapUpdated:
    """The IMAP reader's next report to the inbox that satisfies ``where``."""
    return await posted.next(pilot, ImapUpdated, where, receiver=InboxScreen, timeout=timeout)


def live_with(count: int):
    """A report of a live connection that has read ``count`` messages."""
    return lambda m: m.update.status.live and len(m.update.messages) == count


def live(m: ImapUpdated) -> bool:
    return m.update.status.live


async def polled(pilot, posted: Posted, where) -> InboxUpdated:
    """The API poller's next snapshot to the inbox that satisfies ``where``."""
    return await posted.next(pilot, InboxUpdated, where, receiver=InboxScreen)


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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live)
        assert "IMAP live" in text_of(app, "#status-bar")
        # Past the second the lease began (IMAP's whole seconds would leave a mail stamped in
        # it in doubt, which the API settles: see the test on that second below).
        from datetime import UTC, datetime

        wait = (inbox.lease.started_at - datetime.now(UTC)).total_seconds() + 1.05
        await pilot.pause(max(0.0, wait))
        calls_before = inbox.poller.status.calls
        # A subject that fools the service-style parser ("Your code" -> YOUR), body with the code.
        send_mail(
            imap_sandbox.smtp_port,
            lease.address,
            "Your verification code",
            "Hello,\n\nYour verification code is 482913.\n\nThanks, Acme\n",
        )
        table = inbox.query_one("#inbox-list", MessageList)
        await imap_report(pilot, posted, live_with(1), timeout=10)
        item = inbox.selected_item()
        assert item.code_source == "body"
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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, lambda m: "auth failed" in m.update.status.text)
        assert "auth failed" in inbox.model.imap_status
        status = text_of(app, "#status-bar")
        assert "IMAP auth failed" in status and "wrong-password-123" not in status
        send_mail(imap_sandbox.smtp_port, lease.address, "Code", "Your code is 771045.")
        table = inbox.query_one("#inbox-list", MessageList)
        await polled(pilot, posted, lambda m: len(m.update.messages) == 1)  # the API still works
        assert table.row_count == 1
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
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live)
        send_mail(imap_sandbox.smtp_port, lease.address, "Hello", hostile)
        await until(pilot, lambda: "605813" in text_of(app, "#detail-body"), timeout=10)
        body = text_of(app, "#detail-body")
        assert "[bold red]FAKE[/] [@click=app.quit]click[/]" in body
        # No escape byte reaches the terminal: OSC 8/52/0, CSI and BEL are inert text at most.
        assert "hidden link" in body
        assert not any(ch in body for ch in "\x1b\x07\x9b\x9d")
        # Whole sequences go: no hidden link target, clipboard payload or title left as text.
        assert "evil.example" not in body and "cHduZWQ" not in body and "title" not in body
        assert "]8;;" not in body and "[2J" not in body and "[31m" not in body
        assert app.is_running


async def test_no_stored_credentials_then_reset_starts_imap(imap_sandbox, wallet, tmp_path):
    from tui.app.dialogs.confirm import ConfirmDialog
    from tui.app.dialogs.credentials import CredentialsDialog
    from tui.app.dialogs.leftovers import LeftoversDialog

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    await services.leases.allocate("signup", 1, release_on_exit=False)
    await services.aclose()
    (tmp_path / "state" / "ledger.json").unlink()  # allocated "elsewhere"
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        # A lease no run of this client knows is offered at start: keep (adopt) it.
        await posted.screen(pilot, LeftoversDialog)
        await pilot.press("n")
        inbox = await enter_inbox(app, pilot, posted)
        # The IMAP worker gives up at once (no message of its own: it ends, saying why).
        await posted.next(
            pilot,
            Worker.StateChanged,
            lambda m: m.worker.group == "inbox-imap" and m.state == WorkerState.SUCCESS,
        )
        assert "no stored credentials" in inbox.model.imap_status
        await pilot.press("p")
        await posted.screen(pilot, CredentialsDialog)
        await pilot.press("R")
        await posted.screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await posted.screen(pilot, CredentialsDialog)
        await posted.next(
            pilot,
            Worker.StateChanged,
            lambda m: m.worker.group == "creds-reset" and m.state == WorkerState.SUCCESS,
        )
        assert "New password stored" in text_of(app, "#creds-status")
        await pilot.press("escape")
        await imap_report(pilot, posted, live)
        assert inbox.model.imap_live


async def test_one_row_per_mail_whatever_the_headers(imap_sandbox, wallet, tmp_path):
    """Mail stored through the sandbox's store (as its internal inbound endpoint does) with
    headers that the API and IMAP see differently still gives one row per mail, each with
    the body read over IMAP."""
    from datetime import UTC, datetime, timedelta

    from tui.sandbox.mail.inbound import deliver

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    to = lease.address
    old = datetime.now(UTC) - timedelta(minutes=10)
    mails = [
        b"From: news@acme.test\r\nTo: %s\r\nSubject: News 0\r\n\r\nhello 0\r\n",
        # Folded and doubled white space in the subject.
        b"From: a@acme.test\r\nTo: %s\r\nSubject: Your   code\r\n  is here\r\n\r\nbody 1\r\n",
        # An encoded word (non-ASCII subject).
        b"From: b@acme.test\r\nTo: %s\r\nSubject: "
        b"=?utf-8?b?0JrQvtC0INC/0L7QtNGC0LLQtdGA0LbQtNC10L3QuNGP?=\r\n\r\nbody 2\r\n",
        # No subject at all: the API says "(no subject)".
        b"From: c@acme.test\r\nTo: %s\r\n\r\nbody 3\r\n",
        # Upper-case sender address with a display name.
        b"From: Shop <Security@SHOP.test>\r\nTo: %s\r\nSubject: Alert\r\n\r\nbody 4\r\n",
        # No From: the API's sender is the envelope sender, IMAP sees none.
        b"To: %s\r\nSubject: Bounce\r\n\r\nbody 5\r\n",
    ]
    for raw in mails:
        deliver(
            imap_sandbox.store, to, raw.replace(b"%s", to.encode()), envelope_from="env@bounce.test"
        )
    # A Date header ten minutes old (a sender's clock, or mail held in a queue).
    dated = (
        b"From: d@acme.test\r\nTo: %s\r\nSubject: Late\r\nDate: "
        + old.strftime("%a, %d %b %Y %H:%M:%S +0000").encode()
        + b"\r\n\r\nbody 6\r\n"
    )
    deliver(imap_sandbox.store, to, dated.replace(b"%s", to.encode()))
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live_with(7))
        await polled(pilot, posted, lambda m: m.update.status.calls >= 1)
        await pilot.pause(0.3)
        table = inbox.query_one("#inbox-list", MessageList)
        assert table.row_count == 7, [
            (i.message.sender, i.message.subject) for i in inbox.model.items
        ]
        assert all(item.body_text for item in inbox.model.items)
        assert not any(key.startswith("imap:") for key in inbox.model.order)


def send_with_attachments(port: int, to: str, files: list[tuple[str, bytes]]) -> None:
    msg = EmailMessage()
    msg["From"] = "Reports <reports@acme.test>"
    msg["To"] = to
    msg["Subject"] = "Your files"
    msg.set_content("Two files attached.")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(msg)


async def test_s_saves_the_chosen_attachment_after_asking(imap_sandbox, wallet, tmp_path):
    from textual.widgets import Input, OptionList

    from tui.app.dialogs.save_attachment import SaveAttachmentDialog

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    payload = bytes(range(256)) * 40
    send_with_attachments(
        imap_sandbox.smtp_port, lease.address, [("notes.txt", b"hello"), ("../../x.sh", payload)]
    )
    downloads = tmp_path / "dl"
    downloads.mkdir()
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await until(pilot, lambda: "Attachments" in text_of(app, "#detail-body"), timeout=15)
        assert "x.sh" in text_of(app, "#detail-body")
        # Asked first: escape writes nothing.
        await pilot.press("s")
        await posted.screen(pilot, SaveAttachmentDialog)
        await pilot.press("escape")
        assert await posted.screen(pilot, InboxScreen) is inbox
        await pilot.press("s")
        await posted.screen(pilot, SaveAttachmentDialog)
        dialog = app.screen
        assert dialog.query_one(OptionList).option_count == 2
        await pilot.press("down", "enter")  # the second one; enter moves to the folder
        folder = dialog.query_one("#save-folder", Input)
        assert folder.has_focus
        folder.value = str(downloads)
        await pilot.pause()
        assert str(downloads / "x.sh") in text_of(app, "#save-target")
        await pilot.press("enter")
        assert await posted.screen(pilot, InboxScreen) is inbox
        saved = downloads / "x.sh"  # the sender's "../../" is gone: it stays in the folder
        assert saved.read_bytes() == payload
        assert sorted(p.name for p in downloads.iterdir()) == ["x.sh"]
        assert not (tmp_path / "x.sh").exists()
        # The next save offers the same folder, and never overwrites.
        await pilot.press("s")
        await posted.screen(pilot, SaveAttachmentDialog)
        assert app.screen.query_one("#save-folder", Input).value == str(downloads)
        await pilot.press("down", "enter", "enter")
        assert await posted.screen(pilot, InboxScreen) is inbox
        assert (downloads / "x (1).sh").read_bytes() == payload


async def test_s_fetches_the_whole_of_a_message_read_partly(imap_sandbox, wallet, tmp_path):
    from tui.app.dialogs.save_attachment import SaveAttachmentDialog

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    big = os.urandom(5 * 1024 * 1024 + 4096)  # over the 5 MB read at first
    send_with_attachments(imap_sandbox.smtp_port, lease.address, [("big.bin", big)])
    downloads = tmp_path / "dl"
    downloads.mkdir()
    app = make_app(
        make_settings(imap_sandbox.base_url, tmp_path, poll=FAST, download_dir=downloads),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await until(pilot, lambda: "Only the first" in text_of(app, "#detail-body"), timeout=20)
        await pilot.press("s")
        await posted.screen(pilot, SaveAttachmentDialog, timeout=20)
        await pilot.press("enter")
        assert await posted.screen(pilot, InboxScreen) is inbox
        assert (downloads / "big.bin").read_bytes() == big


async def test_a_reopened_inbox_fetches_only_new_mail_and_release_forgets_it(
    imap_sandbox, wallet, tmp_path, monkeypatch
):
    from tui.imap.sync import MailboxSync

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    send_mail(imap_sandbox.smtp_port, lease.address, "One", "Your code is 110011.")
    send_mail(imap_sandbox.smtp_port, lease.address, "Two", "Your code is 220022.")
    fetched: list[int] = []
    real = MailboxSync._fetch_bodies

    async def spy(self, client, batch):
        fetched.extend(uid for uid, _size in batch)
        return await real(self, client, batch)

    monkeypatch.setattr(MailboxSync, "_fetch_bodies", spy)
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live_with(2))
        cache = app.services.mail_cache
        await until(pilot, lambda: cache.count(lease.lease_id) == 2)
    assert sorted(fetched) == [1, 2]
    fetched.clear()
    send_mail(imap_sandbox.smtp_port, lease.address, "Three", "Your code is 330033.")
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live_with(3))
        codes = {item.code for item in inbox.model.items if item.code_source == "body"}
        assert codes == {"110011", "220022", "330033"}
        assert fetched == [3]  # the first two came from the cache
    await services.leases.release(lease.lease_id)
    await services.aclose()
    assert cache.count(lease.lease_id) == 0


async def test_mail_from_the_second_the_lease_began_is_not_taken_for_its_own(
    imap_sandbox, wallet, tmp_path
):
    """IMAP stamps whole seconds: a mail stamped in the second the lease began may be the
    previous lessee's (a code that must not look like this lease's)."""
    import pytest

    from tui.sandbox.mail.inbound import build_mime, deliver

    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    allocated = await services.leases.allocate("signup", 1, release_on_exit=False)
    lease = await services.client.get_lease(allocated.lease.lease_id)
    await services.aclose()
    started_ms = int(lease.started_at.timestamp() * 1000)
    if started_ms % 1000 == 0:
        pytest.skip("the lease began on a whole second: nothing is in doubt")
    raw = build_mime(
        sender="no-reply@acme.test", to=lease.address, subject="Your code", text="Code: 918273."
    )
    # Arrived in the same second, just before the lease began (the last lessee's mail).
    deliver(imap_sandbox.store, lease.address, raw, received_ms=started_ms - started_ms % 1000)
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live_with(1))
        await polled(pilot, posted, lambda m: m.update.status.calls >= 1)
        await pilot.pause(0.3)
        table = inbox.query_one("#inbox-list", MessageList)
        assert table.row_count == 0
        await pilot.press("a")  # older mail shown on request, marked as such
        await polled(pilot, posted, lambda m: len(m.update.messages) == 1)  # asked from the start
        assert table.row_count == 1
        assert inbox.selected_item().foreign
        assert str(table.get_row_at(0)[2]) == "older"  # in the code column


async def test_a_big_mailbox_is_listed_whole_and_older_mail_fetched_when_shown(
    imap_sandbox, wallet, tmp_path, monkeypatch
):
    """Over IMAP the inbox lists every message (the API gives only its newest 100): the
    newest are read whole, the older by their headers, and one is fetched when shown."""
    import tui.app.screens.inbox.sources as inbox_module  # where the IMAP worker reads it

    monkeypatch.setattr(inbox_module, "FIRST_BODIES", 3)  # as if 3 were 200
    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    allocated = await services.leases.allocate("signup", 1, release_on_exit=False)
    lease = await services.client.get_lease(allocated.lease.lease_id)
    await services.aclose()
    # Past the lease's first second (a mail stamped in it waits for the API to place it).
    import asyncio
    from datetime import UTC, datetime

    await asyncio.sleep(max(0.0, (lease.started_at - datetime.now(UTC)).total_seconds() + 1.05))
    for n in range(8):
        send_mail(imap_sandbox.smtp_port, lease.address, f"Note {n}", f"Your code is 70000{n}.")
    from dataclasses import replace

    app = make_app(  # the API lists 3 at most here, as it lists 100 at most for real
        make_settings(imap_sandbox.base_url, tmp_path, poll=replace(FAST, page_limit=3)),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live_with(8))
        await polled(pilot, posted, lambda m: m.update.status.calls >= 1)
        table = inbox.query_one("#inbox-list", MessageList)
        assert table.row_count == 8
        assert sum(m.headers_only for m in inbox.model.imap.values()) == 5
        await pilot.press("G")  # the oldest: only its headers so far
        await until(pilot, lambda: inbox.selected_item().message.subject == "Note 0")
        await until(pilot, lambda: "Your code is 700000." in text_of(app, "#detail-body"))
        assert inbox.selected_item().code == "700000"
        assert "IMAP live" in text_of(app, "#status-bar")
        assert table.row_count == 8


async def test_a_big_message_read_lazily_is_fetched_when_shown(imap_sandbox, wallet, tmp_path):
    """Issue 16: the sync reads the start of a 1.5 MB mail; showing it fetches the rest."""
    services = make_services(imap_sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("signup", 1, release_on_exit=False)).lease
    await services.aclose()
    body = "Your code is 515151.\n" + "A long report line.\n" * 80_000 + "THE LAST LINE\n"
    send_mail(imap_sandbox.smtp_port, lease.address, "Big report", body)
    app = await new_app(imap_sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        await imap_report(pilot, posted, live_with(1), timeout=20)
        await until(pilot, lambda: not next(iter(inbox.model.imap.values())).lazy, timeout=30)
        (whole,) = inbox.model.imap.values()
        assert not whole.partial and whole.otp == "515151"
        assert len(whole.raw) == whole.size and whole.raw.rstrip().endswith(b"THE LAST LINE")
        assert "Your code is 515151." in text_of(app, "#detail-body")

"""Sending end to end: compose screen -> the other lease's inbox; failures keep the draft."""

from __future__ import annotations

import json

from support import Posted, make_services, make_settings, text_of, wallet_from
from textual.widgets import DataTable, Input, Static, TextArea
from textual.worker import Worker, WorkerState

from tui.app import make_app
from tui.app.dialogs.detail import DetailLoaded
from tui.app.messages import LeasesLoaded
from tui.app.screens.compose import ComposeScreen
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.inbox.sources import InboxUpdated
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.sent import AttemptsLoaded, SentScreen
from tui.core.compose import DraftStore
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource

FAST = PollSettings(fast=0.1, normal=0.2, idle=0.5)
SIZE = (120, 34)


def new_app(sandbox, wallet, tmp_path):
    return make_app(
        make_settings(sandbox.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )


def select_lease(app, lease_id: str) -> None:
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(lease_id))


async def test_compose_sends_to_another_lease_inbox(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    alice = (await services.leases.allocate("alice", 1, release_on_exit=False)).lease
    bob = (await services.leases.allocate("bob", 1, release_on_exit=False)).lease
    await services.aclose()
    app = new_app(sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 2, receiver=LeaseListScreen
        )
        select_lease(app, alice.lease_id)
        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        compose = app.screen
        compose.query_one("#compose-to", Input).value = f"Bob <{bob.address}>"
        compose.query_one("#compose-subject", Input).value = "Your verification code"
        compose.query_one("#compose-body", TextArea).text = "Your verification code is 605813."
        status = compose.query_one("#compose-status", Static)
        await pilot.press("ctrl+s")
        try:
            await posted.screen(pilot, LeaseListScreen)
        except AssertionError:
            raise AssertionError(str(status.content)) from None
        assert any(f"Sent to {bob.address}" in str(n.message) for n in app._notifications)
        assert DraftStore(tmp_path / "state" / "drafts").load(alice.lease_id) is None

        select_lease(app, bob.lease_id)
        await pilot.press("enter")
        await posted.screen(pilot, InboxScreen)
        inbox = app.screen
        await posted.next(
            pilot, InboxUpdated, lambda m: len(m.update.messages) == 1, receiver=InboxScreen
        )
        assert len(inbox.model.items) == 1
        item = inbox.model.items[0]
        assert item.message.sender == alice.address
        assert item.code == "605813"

        # Reply fills To and the Re: subject.
        await pilot.press("r")
        await posted.screen(pilot, ComposeScreen)
        assert app.screen.query_one("#compose-to", Input).value == alice.address
        assert app.screen.query_one("#compose-subject", Input).value == (
            "Re: Your verification code"
        )
        await pilot.press("escape")
        await posted.screen(pilot, InboxScreen)

        await pilot.press("escape")
        await pilot.press("s")
        await posted.screen(pilot, SentScreen)
        table = app.screen.query_one(DataTable)
        assert len((await posted.next(pilot, AttemptsLoaded, receiver=SentScreen)).attempts) == 1
        # Bob is a lease this tenant reads: the mail was seen there, so "delivered".
        loaded = await posted.next(
            pilot, AttemptsLoaded, lambda m: bool(m.delivered), receiver=SentScreen
        )
        assert loaded.delivered == {loaded.attempts[0].send_attempt_id}
        assert table.row_count == 1
        assert str(table.get_row_at(0)[1]) == "delivered"
        row = [str(c) for c in table.get_row_at(0)]
        assert bob.address in row[2]

        # Enter shows the attempt in full (fetched by id), escape closes it.
        from tui.app.dialogs.send_attempt import SendAttemptDialog

        await pilot.press("enter")
        await posted.screen(pilot, SendAttemptDialog)
        dialog = app.screen
        await posted.next(pilot, DetailLoaded)
        assert dialog.loaded
        body = text_of(app, "#detail-body")
        assert "Accepted" in body and bob.address in body and "Envelope" in body
        await pilot.press("escape")
        await posted.screen(pilot, SentScreen)


async def test_failed_send_keeps_the_draft_and_says_why(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("a", 1, release_on_exit=False)).lease
    await services.aclose()
    # Someone rotated the password elsewhere: the ledger's copy is now wrong.
    ledger_path = tmp_path / "state" / "ledger.json"
    data = json.loads(ledger_path.read_text())
    data["leases"][0]["webmail_password"] = "stale-password"
    ledger_path.write_text(json.dumps(data))

    app = new_app(sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        compose = app.screen
        compose.query_one("#compose-to", Input).value = "someone@example.org"
        compose.query_one("#compose-subject", Input).value = "hello"
        compose.query_one("#compose-body", TextArea).text = "precious words"
        await pilot.press("ctrl+s")
        status = compose.query_one("#compose-status", Static)
        await posted.next(
            pilot,
            Worker.StateChanged,
            lambda m: m.worker.group == "compose-send" and m.state == WorkerState.SUCCESS,
        )
        assert "Not sent" in str(status.content)
        assert "authentication failed" in str(status.content)
        assert "draft is kept" in str(status.content)
        assert isinstance(app.screen, ComposeScreen)
        assert not compose.query_one("#compose-body", TextArea).disabled
    draft = DraftStore(tmp_path / "state" / "drafts").load(lease.lease_id)
    assert draft.body == "precious words" and "authentication failed" in draft.last_error

    app2 = new_app(sandbox, wallet, tmp_path)
    posted = Posted()
    async with app2.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        assert app2.screen.query_one("#compose-body", TextArea).text == "precious words"
        status = str(app2.screen.query_one("#compose-status", Static).content)
        assert "Draft restored" in status and "authentication failed" in status


async def test_lease_allocated_elsewhere_offers_a_reset_then_sends(sandbox, wallet, tmp_path):
    from tui.app.dialogs.confirm import ConfirmDialog
    from tui.app.dialogs.leftovers import LeftoversDialog

    services = make_services(sandbox.base_url, tmp_path, wallet)
    lease = (await services.leases.allocate("a", 1, release_on_exit=False)).lease
    await services.aclose()
    (tmp_path / "state" / "ledger.json").unlink()  # as if another machine allocated it

    app = new_app(sandbox, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        # A lease no run of this client knows is offered at start: keep (adopt) it.
        await posted.screen(pilot, LeftoversDialog)
        await pilot.press("n")
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(
            pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen
        )
        await pilot.press("m")
        await posted.screen(pilot, ComposeScreen)
        compose = app.screen
        compose.query_one("#compose-to", Input).value = "someone@example.org"
        compose.query_one("#compose-subject", Input).value = "hello"
        compose.query_one("#compose-body", TextArea).text = "words"
        await pilot.press("ctrl+s")
        await posted.screen(pilot, ConfirmDialog)
        assert "allocated elsewhere" in app.screen.question
        await pilot.press("y")
        await posted.screen(pilot, LeaseListScreen)
        entry = app.services.ledger.get(lease.lease_id)
        assert entry is not None and entry.webmail_password
    attempts = await make_services(sandbox.base_url, tmp_path, wallet).client.list_send_attempts()
    assert [a.subject for a in attempts] == ["hello"]

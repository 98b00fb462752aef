"""The inbox behind the fault proxy: it keeps polling through transient faults, and a
permanent one leaves a lasting "stopped" state that ``r`` and ``u`` really resume."""

from __future__ import annotations

import pytest
from faultproxy import Fault, FaultProxy
from support import Posted, make_services, make_settings, text_of, until, wallet_from

from tui.app import make_app
from tui.app.messages import LeasesLoaded
from tui.app.screens.inbox import InboxScreen
from tui.app.screens.inbox.sources import InboxUpdated
from tui.app.screens.leases import LeaseListScreen
from tui.app.widgets.message_list import MessageList
from tui.core.poller import PollSettings
from tui.core.wallets import WalletSource
from tui.sandbox.mail.inbound import build_mime

FAST = PollSettings(fast=0.1, normal=0.2, idle=0.5, backoff_base=0.1, backoff_max=0.3)
SIZE = (120, 34)


def subjects(app) -> list[str]:
    table = app.screen.query_one("#inbox-list", MessageList)
    return [str(table.get_row_at(i)[3]) for i in range(table.row_count)]


@pytest.fixture
def proxy(sandbox):
    with FaultProxy(sandbox.base_url) as proxy:
        yield proxy


async def open_inbox(sandbox, proxy, wallet, tmp_path):
    services = make_services(proxy.base_url, tmp_path, wallet)  # signs in, saves the session
    lease = (await services.leases.allocate("faults", 1, release_on_exit=False)).lease
    await services.aclose()
    app = make_app(
        make_settings(proxy.base_url, tmp_path, poll=FAST),
        wallet_source=WalletSource.of(wallet_from(wallet)),
    )
    return app, lease


def deliver(sandbox, lease, subject: str) -> None:
    raw = build_mime(sender="a@acme.test", to=lease.address, subject=subject, text="hello")
    sandbox.deliver(lease.address, raw)


async def polled(pilot, posted: Posted, where, timeout: float = 10.0) -> InboxUpdated:
    """The inbox's next poll snapshot that satisfies ``where``."""
    return await posted.next(pilot, InboxUpdated, where, receiver=InboxScreen, timeout=timeout)


def subjects_in(update: InboxUpdated) -> list[str]:
    return [m.subject for m in update.update.messages]


async def enter_inbox(app, pilot, posted: Posted) -> InboxScreen:
    await posted.screen(pilot, LeaseListScreen)
    await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1, receiver=LeaseListScreen)
    await pilot.press("enter")
    inbox = await posted.screen(pilot, InboxScreen)
    await polled(pilot, posted, lambda m: m.update.status.calls > 0)
    return inbox


async def test_transient_faults_never_stop_the_inbox(sandbox, proxy, wallet, tmp_path):
    app, lease = await open_inbox(sandbox, proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        faults = [
            Fault.truncate(),  # a 200 whose JSON is cut short
            Fault.html(200),  # HTML where JSON was expected
            Fault.status(503),
            Fault.drop(),
            Fault.limited(retry_after=0.2),
            Fault.html(500),
            Fault.status(401, "unauthorized", "expired"),  # one new sign-in, then on
            Fault.truncate(),
        ]
        proxy.inject("GET", "/v2/messages", *faults)
        await until(pilot, lambda: proxy.pending() == 0, timeout=30)
        deliver(sandbox, lease, "after the storm")
        await polled(pilot, posted, lambda m: subjects_in(m) == ["after the storm"], timeout=30)
        assert subjects(app) == ["after the storm"]
        assert inbox.poller.status.state == "ok"
        assert "stopped" not in text_of(app, "#status-bar")
        assert "calls/min" in text_of(app, "#status-bar")
        assert proxy.injected() == [f.describe() for f in faults]


async def test_a_permanent_fault_shows_stopped_and_r_resumes(sandbox, proxy, wallet, tmp_path):
    app, lease = await open_inbox(sandbox, proxy, wallet, tmp_path)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        inbox = await enter_inbox(app, pilot, posted)
        proxy.inject("GET", "/v2/messages", Fault.status(404, "not_found", "Mailbox not found"))
        await polled(pilot, posted, lambda m: m.update.status.state == "stopped")
        assert "stopped: mailbox not found" in text_of(app, "#status-bar")
        assert "r to retry" in text_of(app, "#status-bar")
        calls = proxy.hits[("GET", "/v2/messages")]
        deliver(sandbox, lease, "while stopped")
        await pilot.pause(0.5)  # stopped means stopped: no more requests
        assert proxy.hits[("GET", "/v2/messages")] == calls
        assert "stopped: mailbox not found" in text_of(app, "#status-bar")

        await pilot.press("r")
        await polled(pilot, posted, lambda m: subjects_in(m) == ["while stopped"])
        assert subjects(app) == ["while stopped"]
        assert "stopped" not in text_of(app, "#status-bar")

        proxy.inject("GET", "/v2/messages", Fault.status(403, "forbidden", "Not yours"))
        await polled(pilot, posted, lambda m: m.update.status.state == "stopped")
        assert "stopped: forbidden" in text_of(app, "#status-bar")
        deliver(sandbox, lease, "second")
        await pilot.press("u")
        await polled(pilot, posted, lambda m: sorted(subjects_in(m)) == ["second", "while stopped"])
        assert subjects(app) == ["second", "while stopped"]
        assert inbox.poller.status.state == "ok"

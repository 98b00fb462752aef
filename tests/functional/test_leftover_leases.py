"""Leases an earlier run left behind, offered at start (issue 13): the dialog acts on both
answers, after signing in as after a saved session, and a damaged ledger is reported."""

from __future__ import annotations

import json

import pytest
from support import Posted, make_services, make_settings, until, wallet_from
from textual.screen import ModalScreen

from tui.app import make_app
from tui.app.messages import LeasesLoaded, RuntimeLoaded
from tui.app.screens.leases import LeaseListScreen
from tui.app.screens.login import LoginScreen
from tui.core.wallets import WalletSource

# The dialog is found as "a modal" and read through its body, so that these tests also run
# (and fail) on the code before issue 13, whose dialog was a ConfirmDialog.
LeftoversDialog = ModalScreen

SIZE = (110, 32)


async def crashed_run(sandbox, wallet, home, purpose="left behind"):
    """A TUI run allocated a lease (released on quit) and died before releasing it."""
    services = make_services(sandbox.base_url, home, wallet, run_id="run-crashed")
    try:
        allocated = await services.leases.allocate(purpose, 1, release_on_exit=True)
    finally:
        await services.aclose()
    data = json.loads(services.ledger.path.read_text())
    for item in data["leases"]:
        item["pid"] = 999_999_999
    services.ledger.path.write_text(json.dumps(data))
    return services, allocated.lease


def start_app(sandbox, wallet, home, run_id):
    return make_app(
        make_settings(sandbox.base_url, home),
        wallet_source=WalletSource.of(wallet_from(wallet)),
        run_id=run_id,
    )


def notes(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


@pytest.mark.parametrize("saved_session", [False, True])
async def test_release_really_releases_and_says_what(sandbox, wallet, tmp_path, saved_session):
    services, lease = await crashed_run(sandbox, wallet, tmp_path)
    if not saved_session:
        services.session.path.unlink()  # sign in through the login screen
    app = start_app(sandbox, wallet, tmp_path, "run-next")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        if not saved_session:
            await posted.screen(pilot, LoginScreen)
            await posted.next(pilot, RuntimeLoaded)
            await pilot.press("enter")
        await posted.screen(pilot, LeftoversDialog)
        body = str(app.screen.query_one(".dialog-body").content)
        assert lease.address in body and "could not release" in body
        await pilot.press("y")
        await posted.notified(pilot, "Released 1 lease(s)")
        assert lease.address in notes(app)
        await posted.screen(pilot, LeaseListScreen)
    check = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        assert not (await check.client.get_lease(lease.lease_id)).is_active
        assert check.ledger.get(lease.lease_id).status == "released"
    finally:
        await check.aclose()


async def test_keep_is_remembered_and_not_asked_again(sandbox, wallet, tmp_path):
    services, lease = await crashed_run(sandbox, wallet, tmp_path)
    services.session.path.unlink()
    app = start_app(sandbox, wallet, tmp_path, "run-next")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LoginScreen)
        await posted.next(pilot, RuntimeLoaded)
        await pilot.press("enter")
        await posted.screen(pilot, LeftoversDialog)
        await pilot.press("n")
        await posted.notified(pilot, "not be offered again")
    assert services.ledger.get(lease.lease_id).release_on_exit is False

    again = start_app(sandbox, wallet, tmp_path, "run-third")
    posted = Posted()
    async with again.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.screen(pilot, LeaseListScreen)
        await posted.next(pilot, LeasesLoaded, lambda m: len(m.views) == 1)
        await until(
            pilot,
            lambda: (
                not any(w.group in ("leftovers", "orphans") and w.is_running for w in again.workers)
            ),
        )
        await pilot.pause(0.2)
        assert not isinstance(again.screen, LeftoversDialog)
    check = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        assert (await check.client.get_lease(lease.lease_id)).is_active
    finally:
        await check.aclose()


async def test_later_asks_again_at_the_next_start(sandbox, wallet, tmp_path):
    await crashed_run(sandbox, wallet, tmp_path)
    for run in ("run-2", "run-3"):
        app = start_app(sandbox, wallet, tmp_path, run)
        posted = Posted()
        async with app.run_test(size=SIZE, message_hook=posted) as pilot:
            await posted.screen(pilot, LeftoversDialog)
            await pilot.press("escape")
            await posted.screen(pilot, LeaseListScreen)


async def test_damaged_ledger_is_reported_and_its_leases_offered(sandbox, wallet, tmp_path):
    services, lease = await crashed_run(sandbox, wallet, tmp_path)
    raw = services.ledger.path.read_bytes()
    services.ledger.path.write_bytes(raw[: len(raw) // 2])
    app = start_app(sandbox, wallet, tmp_path, "run-next")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await posted.notified(pilot, "ledger was damaged")
        assert "ledger.json.damaged-" in notes(app)
        await posted.screen(pilot, LeftoversDialog)
        body = str(app.screen.query_one(".dialog-body").content)
        assert lease.address in body and "no run of this client knows" in body
        await pilot.press("y")
        await posted.notified(pilot, "Released 1 lease(s)")
    moved = list(services.ledger.path.parent.glob("ledger.json.damaged-*"))
    assert [p.read_bytes() for p in moved] == [raw[: len(raw) // 2]]


def test_quit_report_names_released_and_failed_leases():
    from tui.app.app import release_report
    from tui.core.leases import ReleaseResult

    lines = release_report(
        [
            ReleaseResult("l-1", True, "released", "a@x.test"),
            ReleaseResult("l-2", False, "timed out", "b@x.test\x1b[31m"),
        ],
        "Released on quit",
    )
    assert lines[0] == "Released on quit 1 lease(s): a@x.test (l-1)"
    assert lines[1].startswith("Could not release 1 lease(s): b@x.test")
    assert "timed out" in lines[1] and "\x1b" not in lines[1]

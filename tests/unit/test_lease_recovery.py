"""Nothing orphaned, nothing lost (issue 13): the allocation intent, the start-up reconciliation
with the server's leases, and a damaged ledger moved aside, against the sandbox on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import httpx
import pytest
from support import held_services, kill_during_allocate, make_services, make_settings, wallet_from

from tui.api.client import MailagentsClient
from tui.api.errors import ConflictError, NetworkError
from tui.core.leases import INTERRUPTED, UNKNOWN, UNRELEASED
from tui.core.ledger import Ledger, LedgerEntry, LedgerError
from tui.core.services import Services
from tui.core.wallets import WalletSource


async def test_intent_is_on_disk_before_the_allocation_is_answered(sandbox, wallet, tmp_path):
    on_disk = await kill_during_allocate(sandbox.base_url, tmp_path, wallet)
    (intent,) = json.loads(on_disk)["leases"]
    assert intent["status"] == "pending"
    assert intent["purpose"] == "signup at widgets"
    assert intent["release_on_exit"] is True and intent["pid"] == os.getpid()
    path = tmp_path / "state" / "ledger.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not path.is_symlink()


async def test_killed_while_the_answer_is_in_flight_is_offered_and_released(
    sandbox, wallet, tmp_path
):
    await kill_during_allocate(sandbox.base_url, tmp_path, wallet)
    again = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-next")
    try:
        server = await again.client.list_leases()
        assert len(server) == 1  # active on the server, its answer lost
        found = await again.leases.reconcile()
        assert [(x.lease.lease_id, x.reason) for x in found.leftovers] == [
            (server[0].lease_id, INTERRUPTED)
        ]
        assert "stopped before" in found.leftovers[0].why()
        results = await again.leases.release_leftovers(found.leftovers, timeout=10)
        assert [(r.released, r.address) for r in results] == [(True, server[0].address)]
        assert await again.client.list_leases() == []
        assert again.ledger.intents() == []
        assert (await again.leases.reconcile()).leftovers == []
    finally:
        await again.aclose()


async def test_interrupted_allocation_kept_is_remembered(sandbox, wallet, tmp_path):
    await kill_during_allocate(sandbox.base_url, tmp_path, wallet)
    again = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-next")
    try:
        found = await again.leases.reconcile()
        await again.leases.keep_leftovers(found.leftovers)
        lease = found.leftovers[0].lease
        entry = again.ledger.get(lease.lease_id)
        assert entry is not None and entry.purpose == "signup at widgets"
        assert entry.release_on_exit is False and not entry.has_password
        assert again.ledger.intents() == []
        assert (await again.leases.reconcile()).leftovers == []
        assert (await again.client.get_lease(lease.lease_id)).is_active
    finally:
        await again.aclose()


async def test_definite_refusal_clears_the_intent(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=0)
    services = make_services(server.base_url, tmp_path, wallet, payment="never")
    try:
        for _ in range(5):
            await services.leases.allocate("fill", 1, release_on_exit=False)
        with pytest.raises(ConflictError):
            await services.leases.allocate("one too many", 1, release_on_exit=False)
        assert services.ledger.intents() == []
        assert len(services.ledger.entries()) == 5
    finally:
        await services.aclose()


async def test_unreleased_and_unknown_leases_are_offered(sandbox, wallet, tmp_path):
    first = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-a")
    elsewhere = make_services(sandbox.base_url, tmp_path / "elsewhere", wallet)
    try:
        mine = await first.leases.allocate("mine", 1, release_on_exit=True)
        await first.leases.allocate("kept by the cli", 1, release_on_exit=False)
        other = await elsewhere.leases.allocate("other machine", 1, release_on_exit=False)
    finally:
        await first.aclose()
        await elsewhere.aclose()
    data = json.loads(first.ledger.path.read_text())
    for item in data["leases"]:
        item["pid"] = 999_999_999  # that run died
    first.ledger.path.write_text(json.dumps(data))

    second = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-b")
    try:
        found = await second.leases.reconcile()
        reasons = {x.lease.lease_id: x.reason for x in found.leftovers}
        assert reasons == {mine.lease.lease_id: UNRELEASED, other.lease.lease_id: UNKNOWN}
        await second.leases.keep_leftovers(found.leftovers)
        assert (await second.leases.reconcile()).leftovers == []
        assert second.ledger.get(other.lease.lease_id).adopted
        assert not second.ledger.get(mine.lease.lease_id).release_on_exit
    finally:
        await second.aclose()


async def test_a_live_runs_intent_is_left_alone(sandbox, wallet, tmp_path):
    services, transport = held_services(sandbox.base_url, tmp_path, wallet, "run-live")
    task = asyncio.ensure_future(services.leases.allocate("in flight", 1, release_on_exit=True))
    other = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-other")
    try:
        await asyncio.wait_for(transport.held.wait(), 10)
        # Pretend the intent belongs to another live process (this test's parent).
        data = json.loads(services.ledger.path.read_text())
        data["leases"][0]["pid"] = os.getppid()
        data["leases"][0]["pid_start"] = None
        services.ledger.path.write_text(json.dumps(data))
        found = await other.leases.reconcile()
        assert [x.reason for x in found.leftovers] == [UNKNOWN]  # offered, not settled
        assert len(other.ledger.intents()) == 1  # the live run's intent is kept
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await services.aclose()
        await other.aclose()


def ledger_with_two_leases(tmp_path) -> tuple[Ledger, bytes]:
    ledger = Ledger(tmp_path / "state" / "ledger.json")
    for n in (1, 2):
        ledger._put(
            LedgerEntry(
                api_base="http://x",
                tenant_id="t",
                lease_id=f"lease-{n}",
                mailbox_id=f"m{n}",
                account_id=f"m{n}",
                address=f"a{n}@x.test",
                webmail_password=f"secret-{n}",
            )
        )
    return ledger, ledger.path.read_bytes()


@pytest.mark.parametrize(
    ("damage", "reason", "salvaged"),
    [
        (lambda raw: raw[: raw.index(b"lease-2")], "truncated or not JSON", 1),
        (lambda raw: b"\x00\xff garbage", "truncated or not JSON", 0),
        (lambda raw: b'["not", "a", "ledger"]', "wrong shape", 0),
        (lambda raw: raw.replace(b'"a2@x.test"', b"42"), "wrong shape", 1),
    ],
)
def test_damaged_ledger_is_moved_aside_and_reported(tmp_path, damage, reason, salvaged):
    ledger, raw = ledger_with_two_leases(tmp_path)
    broken = damage(raw)
    ledger.path.write_bytes(broken)
    fresh = Ledger(ledger.path)
    (report,) = fresh.check()
    assert report.reason == reason and report.salvaged == salvaged
    assert report.moved_to.name.startswith("ledger.json.damaged-")
    assert report.moved_to.read_bytes() == broken  # kept as it was, never overwritten
    assert stat.S_IMODE(os.stat(report.moved_to).st_mode) == 0o600
    assert reason in report.message() and report.moved_to.name in report.message()
    kept = fresh.entries()
    assert [e.lease_id for e in kept] == ["lease-1"][:salvaged]
    if salvaged:
        assert kept[0].webmail_password == "secret-1"
    json.loads(ledger.path.read_text())  # a whole ledger again
    assert fresh.check() == []  # reported once


def test_damaged_ledger_is_not_overwritten_by_the_next_write(tmp_path):
    ledger, raw = ledger_with_two_leases(tmp_path)
    ledger.path.write_bytes(raw[:-40])
    ledger.keep("lease-1")  # a write path reads first
    (report,) = ledger.take_damage()
    assert report.moved_to.read_bytes() == raw[:-40]
    assert [e.lease_id for e in ledger.entries()] == ["lease-1"]


def test_symlinked_ledger_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text('{"version": 1, "leases": []}')
    ledger = Ledger(tmp_path / "state" / "ledger.json")
    ledger.path.parent.mkdir(parents=True)
    ledger.path.symlink_to(target)
    (report,) = ledger.check()
    assert report.reason == "a symbolic link"
    assert report.moved_to.is_symlink() and not ledger.path.is_symlink()
    assert target.read_text() == '{"version": 1, "leases": []}'


class LoseAllocateAnswer(httpx.AsyncBaseTransport):
    """Forwards every request; the allocation's answer is lost (a read timeout)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/v2/mailboxes/leases":
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_lost_answer_in_a_live_run_is_found_and_released_on_quit(sandbox, wallet, tmp_path):
    client = MailagentsClient(sandbox.base_url, transport=LoseAllocateAnswer())
    services = Services.create(
        make_settings(sandbox.base_url, tmp_path), client, WalletSource.of(wallet_from(wallet)), "r"
    )
    try:
        with pytest.raises(NetworkError):
            await services.leases.allocate("lost answer", 1, release_on_exit=True)
        (view,) = await services.leases.list_active()
        assert view.release_on_exit and view.entry.run_id == "r"  # this run's, ·quit
        assert services.ledger.intents() == []
        results = await services.leases.release_run_leases(10)
        assert [(r.released, r.address) for r in results] == [(True, view.lease.address)]
        assert await services.client.list_leases() == []
    finally:
        await services.aclose()


async def test_lost_answer_is_released_on_quit_without_a_refresh(sandbox, wallet, tmp_path):
    client = MailagentsClient(sandbox.base_url, transport=LoseAllocateAnswer())
    services = Services.create(
        make_settings(sandbox.base_url, tmp_path), client, WalletSource.of(wallet_from(wallet)), "r"
    )
    try:
        with pytest.raises(NetworkError):
            await services.leases.allocate("lost answer", 1, release_on_exit=True)
        results = await services.leases.release_run_leases(10)
        assert [r.released for r in results] == [True]
        assert await services.client.list_leases() == []
    finally:
        await services.aclose()


def test_damaged_ledger_that_cannot_be_moved_is_left_alone(tmp_path, monkeypatch):
    import errno

    ledger, raw = ledger_with_two_leases(tmp_path)
    ledger.path.write_bytes(raw[:-40])

    def read_only(src, dst):  # a read-only file system (cannot be set up as root here)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("tui.core.ledger.os.rename", read_only)
    with pytest.raises(LedgerError, match="could not be moved aside"):
        ledger.entries()
    assert ledger.path.read_bytes() == raw[:-40]

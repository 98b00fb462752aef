"""The poll loop body: incremental, de-duplicated, adaptive, backing off, one request at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from support import make_services

from tui.api.client import MailagentsClient
from tui.api.errors import NetworkError
from tui.core.poller import MailboxPoller, PollSettings
from tui.sandbox.mail.inbound import build_mime


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_incremental_since_and_dedup(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        lease = (await services.leases.allocate("p", 1, release_on_exit=False)).lease
        detail = await services.client.get_lease(lease.lease_id)
        poller = MailboxPoller(services.client, lease.mailbox_id, lease_started=detail.started_at)
        first = await poller.poll_once()
        assert first.messages == [] and first.new == []
        for i in range(2):
            raw = build_mime(sender="a@b.test", to=lease.address, subject=f"code {i}", text="x")
            sandbox.deliver(lease.address, raw)
        second = await poller.poll_once()
        assert [m.subject for m in second.new] == ["code 1", "code 0"]
        assert poller.since == second.messages[0].raw_received_at
        third = await poller.poll_once()  # since is inclusive: the newest comes back, deduped
        assert third.new == [] and len(third.messages) == 2
        sandbox.deliver(
            lease.address, build_mime(sender="a@b.test", to=lease.address, subject="n", text="y")
        )
        fourth = await poller.poll_once()
        assert [m.subject for m in fourth.new] == ["n"]
        assert [m.subject for m in fourth.messages] == ["n", "code 1", "code 0"]
        assert poller.status.calls == 4 and poller.status.state == "ok"
    finally:
        await services.aclose()


def fake_client(handler) -> MailagentsClient:
    return MailagentsClient("http://sandbox.test", transport=httpx.MockTransport(handler))


def test_adaptive_delays():
    clock = Clock(1_000_000.0)
    started = datetime.fromtimestamp(clock.now, UTC)
    settings = PollSettings()
    poller = MailboxPoller(
        fake_client(lambda r: httpx.Response(200)),
        "m",
        lease_started=started,
        settings=settings,
        clock=clock,
    )
    # A fresh lease waiting for its first mail: the waiting pace.
    assert poller.next_delay() == settings.waiting
    # Still nothing after the waiting window: idle.
    clock.now += settings.waiting_window + 1
    assert poller.next_delay() == settings.idle
    # The user acts: fast for a while, then idle again.
    poller.touch()
    assert poller.next_delay() == settings.fast
    clock.now += settings.acted_window + 1
    assert poller.next_delay() == settings.idle
    assert 60 / settings.idle <= 3  # the idle budget: at most 3 calls a minute


async def test_mail_keeps_normal_pace_then_idles():
    clock = Clock(2_000_000.0)
    stamp = datetime.fromtimestamp(clock.now, UTC).isoformat().replace("+00:00", "Z")
    body = {"items": [{"message_id": "m1", "sender": "a@b", "subject": "s", "received_at": stamp}]}
    client = fake_client(lambda r: httpx.Response(200, json=body))
    settings = PollSettings()
    started = datetime.fromtimestamp(clock.now - 3600, UTC)
    poller = MailboxPoller(client, "m", lease_started=started, settings=settings, clock=clock)
    await poller.poll_once()
    assert poller.next_delay() == settings.normal
    clock.now += settings.idle_after
    assert poller.next_delay() == settings.idle
    await client.aclose()


async def test_backoff_with_jitter_then_recovery():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] <= 4:
            raise httpx.ConnectError("down")
        return httpx.Response(200, json={"items": []})

    client = fake_client(handler)
    updates = []
    settings = PollSettings(fast=0.01, normal=0.01, idle=0.01, backoff_base=0.01, backoff_max=0.04)
    poller = MailboxPoller(client, "m", settings=settings, rng=lambda: 1.0)
    delays = []

    def on_update(update):
        updates.append(update.status)
        delays.append(poller.next_delay())

    task = asyncio.ensure_future(poller.run(on_update))
    while len(updates) < 5:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    states = [u.state for u in updates[:5]]
    assert states == ["backing_off"] * 4 + ["ok"]
    assert [u.failures for u in updates[:5]] == [1, 2, 3, 4, 0]
    assert delays[:4] == [0.01, 0.02, 0.04, 0.04]  # doubling, capped
    assert "cannot reach" in updates[0].error
    assert poller.status.state == "stopped"
    await client.aclose()


def test_jitter_spreads_retries():
    poller = MailboxPoller(fake_client(lambda r: httpx.Response(200)), "m", rng=lambda: 0.0)
    poller._failed(NetworkError("x"))
    low = poller.next_delay()
    poller.rng = lambda: 1.0
    assert low == PollSettings().backoff_base * 0.5
    assert poller.next_delay() == PollSettings().backoff_base


async def test_retry_after_is_honoured():
    client = fake_client(
        lambda r: httpx.Response(
            429, headers={"retry-after": "7"}, json={"error": "rate_limited", "message": "slow"}
        )
    )
    poller = MailboxPoller(client, "m")
    task = asyncio.ensure_future(poller.run(lambda u: None))
    while poller.status.failures == 0:
        await asyncio.sleep(0.01)
    task.cancel()
    assert poller.status.state in ("limited", "stopped")
    assert poller.next_delay() == 7.0
    await client.aclose()


async def test_never_two_requests_in_flight():
    in_flight = {"now": 0, "max": 0}

    async def slow(request):
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.05)
        in_flight["now"] -= 1
        return httpx.Response(200, json={"items": []})

    client = MailagentsClient("http://sandbox.test", transport=httpx.MockTransport(slow))
    poller = MailboxPoller(client, "m")
    await asyncio.gather(*(poller.poll_once() for _ in range(5)))
    assert in_flight["max"] == 1
    assert poller.status.calls == 5
    await client.aclose()


async def test_wake_polls_now_without_a_second_request():
    seen = []

    def handler(request):
        seen.append(request.url.params.get("since"))
        return httpx.Response(200, json={"items": []})

    client = fake_client(handler)
    settings = PollSettings(fast=30, normal=30, idle=30)
    poller = MailboxPoller(client, "m", settings=settings)
    task = asyncio.ensure_future(poller.run(lambda u: None))
    while len(seen) < 1:
        await asyncio.sleep(0.01)
    poller.wake()
    while len(seen) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(seen) == 2
    await client.aclose()


def test_since_parameter_is_sent(tmp_path):
    got = {}

    def handler(request):
        got.update(dict(request.url.params))
        return httpx.Response(200, json={"items": []})

    client = fake_client(handler)
    start = datetime(2026, 11, 24, 0, 27, 20, 873000, tzinfo=UTC)
    poller = MailboxPoller(client, "mbx", since="2026-11-24T00:27:20.873Z", lease_started=start)
    asyncio.run(poller.poll_once())
    assert got == {"mailbox_id": "mbx", "since": "2026-11-24T00:27:20.873Z", "limit": "100"}


async def test_new_settings_move_the_pending_poll_without_an_extra_request():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(200, json={"items": []})

    client = fake_client(handler)
    poller = MailboxPoller(client, "m", settings=PollSettings(fast=0.05, normal=0.05, idle=0.05))
    task = asyncio.ensure_future(poller.run(lambda u: None))
    while len(calls) < 2:
        await asyncio.sleep(0.01)
    slow = PollSettings(fast=60, normal=60, idle=60)
    poller.use_settings(slow)  # e.g. IMAP went live
    settled = len(calls)
    await asyncio.sleep(0.4)
    assert len(calls) == settled  # the short wait was lengthened, not spent
    assert poller.status.next_check - poller.clock() > 50
    poller.use_settings(PollSettings(fast=0.05, normal=0.05, idle=0.05))
    while len(calls) < settled + 2:
        await asyncio.sleep(0.01)
    task.cancel()
    await client.aclose()


async def test_paging_with_a_small_page_loses_and_duplicates_nothing(sandbox, wallet, tmp_path):
    """limit <= 100, newest first, inclusive since: incremental polls see every message once,
    ties on one millisecond included, as long as a page is not outrun between two polls."""
    from tui.sandbox.mail import inbound as mail

    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        lease = (await services.leases.allocate("p", 1, release_on_exit=False)).lease
        poller = MailboxPoller(
            services.client, lease.mailbox_id, settings=PollSettings(page_limit=5)
        )
        seen: list[str] = []
        delivered: list[str] = []
        base = sandbox.store.now_ms()
        for burst, size in enumerate([1, 5, 3, 5, 2, 4]):
            stamp = base + burst * 10  # every mail of a burst shares one millisecond
            for i in range(size):
                subject = f"b{burst}-{i}"
                raw = build_mime(sender="a@b.test", to=lease.address, subject=subject, text="x")
                mail.deliver(sandbox.store, lease.address, raw, received_ms=stamp)
                delivered.append(subject)
            update = await poller.poll_once()
            seen += [m.subject for m in update.new]
        assert sorted(seen) == sorted(delivered)
        assert len(seen) == len(set(seen)) == 20

        # Outrunning a page between two polls is detected (the API cannot page back).
        for i in range(7):
            raw = build_mime(sender="a@b.test", to=lease.address, subject=f"big{i}", text="x")
            mail.deliver(sandbox.store, lease.address, raw, received_ms=base + 1000 + i)
        await poller.poll_once()
        assert poller.status.truncated
    finally:
        await services.aclose()


async def test_calls_of_the_last_minute():
    clock = Clock(3_000_000.0)
    client = fake_client(lambda r: httpx.Response(200, json={"items": []}))
    poller = MailboxPoller(client, "m", clock=clock)
    for _ in range(3):
        await poller.poll_once()
        clock.now += 25
    assert poller.calls_last_minute() == 2  # the first one is 75 s old
    clock.now += 60
    assert poller.calls_last_minute() == 0 and poller.status.calls == 3
    await client.aclose()

"""The poll schedule's call budget (issue 16), counted at the sandbox over a simulated ten
minutes: the poller runs its real loop against the real sandbox (through a counting proxy),
with an injected clock whose pauses take no real time."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest
from faultproxy import FaultProxy
from support import make_services

from tui.core.poller import MailboxPoller, PollSettings, imap_live_settings
from tui.core.settings import Settings
from tui.core.waiter import wait_delay
from tui.sandbox.mail.inbound import build_mime

TEN_MINUTES = 600.0
TWO_MINUTES = 120.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Enough(Exception):
    pass


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(tenant_qps=0)  # back-to-back simulated polls are no burst


@pytest.fixture
def proxy(server):
    with FaultProxy(server.base_url) as proxy:
        yield proxy


async def simulate(
    server,
    proxy,
    wallet,
    tmp_path,
    settings: PollSettings,
    *,
    mail_at: float | None = None,
    imap_live: bool = False,
) -> tuple[list[float], float | None]:
    """Run the poller for ten simulated minutes; (times of its GET /v2/messages, seconds
    from a delivery at ``mail_at`` to the poll that listed it)."""
    services = make_services(proxy.base_url, tmp_path, wallet)
    try:
        lease = (await services.leases.allocate("budget", 1, release_on_exit=False)).lease
        detail = await services.client.get_lease(lease.lease_id)
        start = detail.started_at.timestamp()
        clock = Clock(start)
        polls: list[float] = []
        seen: dict[str, float] = {}

        async def pause(seconds: float) -> None:
            before = clock.now - start
            clock.now += seconds
            if mail_at is not None and before < mail_at <= clock.now - start:
                raw = build_mime(sender="a@b.test", to=lease.address, subject="code", text="1")
                server.deliver(lease.address, raw)

        def on_update(update) -> None:
            t = clock.now - start
            for message in update.new:
                seen.setdefault(message.message_id, t)
            if imap_live and len(polls) == 1:
                poller.use_settings(imap_live_settings(settings))  # IMAP went live
            if t >= TEN_MINUTES:
                raise Enough

        poller = MailboxPoller(
            services.client,
            detail.mailbox_id,
            lease_started=detail.started_at,
            settings=settings,
            clock=clock,
            pause=pause,
        )
        before = proxy.hits[("GET", "/v2/messages")]
        original = poller.poll_once

        async def counted():
            polls.append(clock.now - start)
            return await original()

        poller.poll_once = counted
        with pytest.raises(Enough):
            await poller.run(on_update)
        assert proxy.hits[("GET", "/v2/messages")] - before == len(polls)  # at the sandbox
        polls = [t for t in polls if t < TEN_MINUTES]
        latency = None
        if mail_at is not None:
            assert len(seen) == 1
            latency = next(iter(seen.values())) - mail_at
        return polls, latency
    finally:
        await services.aclose()


async def test_a_waiting_lease_stays_within_the_call_budget(server, proxy, wallet, tmp_path):
    polls, _ = await simulate(server, proxy, wallet, tmp_path, PollSettings())
    first_two = [t for t in polls if t < TWO_MINUTES]
    assert len(polls) <= 60, len(polls)
    assert len(first_two) <= 30, len(first_two)
    # A mail arriving any time in the first two minutes is listed by the next poll: <= 5 s.
    window = polls[: len(first_two) + 1]  # the first two minutes and the poll after them
    gaps = [b - a for a, b in pairwise(window)]
    assert max(gaps) <= 5.0


@pytest.mark.parametrize("mail_at", [7.5, 61.0, 119.0])
async def test_mail_in_the_first_two_minutes_is_seen_within_5_s(
    server, proxy, wallet, tmp_path, mail_at
):
    _polls, latency = await simulate(
        server, proxy, wallet, tmp_path, PollSettings(), mail_at=mail_at
    )
    assert latency is not None and 0 <= latency <= 5.0


async def test_with_imap_live_the_api_only_confirms(server, proxy, wallet, tmp_path):
    polls, _ = await simulate(server, proxy, wallet, tmp_path, PollSettings(), imap_live=True)
    assert len(polls) <= 10, polls


async def test_poll_settings_still_override(server, proxy, wallet, tmp_path):
    mine = PollSettings(waiting=3.0, idle=60.0)
    polls, _ = await simulate(server, proxy, wallet, tmp_path, mine)
    assert len([t for t in polls if t < TWO_MINUTES]) == 40
    assert len(polls) == 40 + 8


def test_poll_settings_from_the_config_file(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text("[poll]\nwaiting = 2\nconfirm = 300\n")
    poll = Settings.load({"MAILAGENTS_HOME": str(tmp_path)}).poll
    assert (poll.waiting, poll.confirm) == (2.0, 300.0)
    assert imap_live_settings(poll).idle == 300.0


def test_wait_otp_polls_at_the_waiting_pace_then_the_pollers():
    from tui.api.client import MailagentsClient

    settings = PollSettings()
    poller = MailboxPoller(MailagentsClient("http://sandbox.test"), "m", settings=settings)
    assert wait_delay(poller, 0.0) == settings.waiting
    assert wait_delay(poller, settings.waiting_window - 1) == settings.waiting
    assert wait_delay(poller, settings.waiting_window) == settings.idle
    poller.status = replace(poller.status, failures=1)
    assert wait_delay(poller, 0.0) <= settings.backoff_base  # a failure backs off instead

"""Helpers shared by client, CLI and TUI tests: services wired to a sandbox on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tui.api.client import MailagentsClient
from tui.auth.wallet import Wallet
from tui.core.services import Services
from tui.core.settings import Settings
from tui.core.wallets import WalletSource


def wallet_from(account: Any) -> Wallet:
    """A project Wallet from an eth-account LocalAccount."""
    return Wallet(bytes(account.key), account.address)


def make_settings(base_url: str, home: Path, **overrides: Any) -> Settings:
    """Settings pointing at ``base_url`` with every file under ``home``."""
    return Settings(home=home).with_overrides(api_base=base_url, **overrides)


def make_services(
    base_url: str, home: Path, account: Any, run_id: str | None = None, **overrides: Any
) -> Services:
    """Services for ``account`` against ``base_url``."""
    return Services.create(
        make_settings(base_url, home, **overrides),
        wallet_source=WalletSource.of(wallet_from(account)),
        run_id=run_id,
    )


async def until(pilot: Any, condition: Any, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test on timeout)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def text_of(app: Any, selector: str) -> str:
    """The plain text of a Static on the current screen."""
    from textual.widgets import Static

    return str(app.screen.query_one(selector, Static).content)


# -- a run killed while its allocation's answer is on the way (issue 13) ------------------------

ALLOCATE = "/v2/mailboxes/leases"


class HoldAllocateAnswer(httpx.AsyncBaseTransport):
    """Forwards every request; the allocation's answer reaches the server and stops there."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.held = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == ALLOCATE:
            await response.aread()
            self.held.set()
            await asyncio.Event().wait()  # the answer never arrives
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def held_services(base_url, home, account, run_id):
    transport = HoldAllocateAnswer()
    client = MailagentsClient(base_url, transport=transport)
    services = Services.create(
        make_settings(base_url, home), client, WalletSource.of(wallet_from(account)), run_id
    )
    return services, transport


async def kill_during_allocate(base_url, home, account, purpose="signup at widgets"):
    """Allocate, and "kill -9" the run while the answer is held: the ledger stays as it was
    on disk at that moment (nothing the dying run would do afterwards is kept)."""
    services, transport = held_services(base_url, home, account, "run-killed")
    task = asyncio.ensure_future(services.leases.allocate(purpose, 2, release_on_exit=True))
    await asyncio.wait_for(transport.held.wait(), 10)
    on_disk = services.ledger.path.read_bytes()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await services.aclose()
    services.ledger.path.write_bytes(on_disk)
    return on_disk

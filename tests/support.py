"""Helpers shared by client, CLI and TUI tests: services wired to a sandbox on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

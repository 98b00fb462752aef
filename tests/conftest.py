"""Shared fixtures: a running sandbox on loopback and throwaway wallets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tui.sandbox.config import SandboxConfig
from tui.sandbox.runner import SandboxServer


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with config overrides: ``sandbox_factory(allocate_hourly_limit=0)``.

    Each gets a ``:memory:`` database and free loopback ports; all are stopped at teardown.
    A ``store=`` keyword passes a prepared ``Store`` (e.g. one with a fake clock).
    """
    servers: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        store = overrides.pop("store", None)
        config = SandboxConfig(**{"db_path": ":memory:", "port": 0, **overrides})
        server = SandboxServer(config, store=store).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox (HTTP only, default limits, ``:memory:``) shared by the whole session.

    Tests stay independent by signing in with a fresh wallet each (a wallet is a tenant).
    Use ``sandbox_factory`` for a private one or other settings.
    """
    server = SandboxServer(SandboxConfig(db_path=":memory:", port=0)).start()
    yield server
    server.stop()


@pytest.fixture
def wallet() -> Any:
    """A fresh random eth-account ``LocalAccount``."""
    from eth_account import Account

    return Account.create()


@pytest.fixture
def session_factory() -> Iterator[Callable[..., Any]]:
    """Sign in to a sandbox: ``session_factory(server, account=None) -> Session``."""
    from eth_account import Account

    from tui.sandbox.testing import Session

    sessions: list[Session] = []

    def make(server: SandboxServer, account: Any = None) -> Session:
        session = Session(server.base_url, account or Account.create())
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()

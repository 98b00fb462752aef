"""Shared fixtures: a running sandbox on loopback and throwaway wallets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tui.limits import eth_account_class
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
    return eth_account_class().create()


@pytest.fixture
def session_factory() -> Iterator[Callable[..., Any]]:
    """Sign in to a sandbox: ``session_factory(server, account=None) -> Session``."""
    from sandbox_helpers import Session

    sessions: list[Session] = []

    def make(server: SandboxServer, account: Any = None) -> Session:
        session = Session(server.base_url, account or eth_account_class().create())
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


def _require_dovecot() -> None:
    from tui.sandbox.mail.dovecot import find_dovecot

    if find_dovecot() is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd): no IMAP tests")


@pytest.fixture(scope="module")
def imap_sandbox() -> Iterator[SandboxServer]:
    """A sandbox with SMTP inbound and its private Dovecot IMAP, shared by a test module.

    Skips when Dovecot is not installed or could not start. Tests stay independent by
    allocating leases with fresh wallets (``sandbox_helpers.Session``).
    """
    _require_dovecot()
    config = SandboxConfig(
        db_path=":memory:", port=0, smtp_port=0, imap_port=0, allocate_hourly_limit=0
    )
    server = SandboxServer(config).start()
    if server.imap_port is None:
        server.stop()
        pytest.skip(f"the sandbox could not start Dovecot: {server.imap_note}")
    yield server
    server.stop()


@pytest.fixture
def imap_sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Like ``sandbox_factory`` with SMTP and IMAP on (skips without Dovecot); stops them all."""
    _require_dovecot()
    servers: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        store = overrides.pop("store", None)
        config = SandboxConfig(
            **{
                "db_path": ":memory:",
                "port": 0,
                "smtp_port": 0,
                "imap_port": 0,
                "allocate_hourly_limit": 0,
                **overrides,
            }
        )
        server = SandboxServer(config, store=store).start()
        servers.append(server)
        if server.imap_port is None:
            pytest.skip(f"the sandbox could not start Dovecot: {server.imap_note}")
        return server

    yield make
    for server in servers:
        server.stop()

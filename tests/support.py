"""Helpers shared by client, CLI and TUI tests: services wired to a sandbox on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import smtplib
import subprocess
import time
from email.message import EmailMessage
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


class Posted:
    """Every message the app dispatches, so a test waits on the one it expects (issue 15).

    Pass it to ``app.run_test(message_hook=posted)``. ``await posted.next(pilot, Kind)`` returns
    the first ``Kind`` message (matching ``where``, dispatched to a ``receiver`` instance if
    given) after the one this call's key last returned, once its handler has run; it fails the
    test on timeout naming what it waited for. ``await posted.screen(pilot, Screen)`` waits
    until a ``Screen`` becomes the active screen (its ``ScreenResume``). Exact where ``until()``
    polls: a message that came and went between two polls is still seen.
    """

    def __init__(self) -> None:
        self.log: list[tuple[Any, Any]] = []
        self._cursor: dict[tuple[type, type | None], int] = {}
        self._returned: set[int] = set()  # ids of messages returned (a bubbling message is
        # dispatched again to each parent: one wait takes it once)
        self._arrived: asyncio.Event | None = None
        self.receiver: Any = None
        """Whom the message ``next`` returned last was dispatched to."""

    def __call__(self, message: Any) -> None:
        from textual._context import active_message_pump

        try:
            receiver = active_message_pump.get()
        except LookupError:
            receiver = None
        self.log.append((message, receiver))
        if self._arrived is not None:
            self._arrived.set()

    def _find(self, kind: type, receiver: type | None, where: Any) -> Any:
        key = (kind, receiver)
        for index in range(self._cursor.get(key, 0), len(self.log)):
            message, target = self.log[index]
            if not isinstance(message, kind) or id(message) in self._returned:
                continue
            if receiver is not None and not isinstance(target, receiver):
                continue
            if where is None or where(message):
                self._cursor[key] = index + 1
                self._returned.add(id(message))
                return message, target
        return None

    async def next(
        self,
        pilot: Any,
        kind: type,
        where: Any = None,
        *,
        receiver: type | None = None,
        timeout: float = 10.0,
    ) -> Any:
        """The next ``kind`` message (see the class), after its handler has run."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := self._find(kind, receiver, where)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                to = f" to {receiver.__name__}" if receiver else ""
                raise AssertionError(f"no {kind.__name__}{to} within {timeout:g} s")
            self._arrived = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        await pilot.pause()
        self.receiver = found[1]
        return found[0]

    async def screen(self, pilot: Any, screen: type, *, timeout: float = 10.0) -> Any:
        """Wait until a ``screen`` instance is resumed (made active); returns the screen."""
        from textual.events import ScreenResume

        await self.next(pilot, ScreenResume, receiver=screen, timeout=timeout)
        return self.receiver

    async def notified(self, pilot: Any, text: str, *, timeout: float = 10.0) -> str:
        """Wait for a notification (toast) whose text contains ``text``; returns its text."""
        from textual.notifications import Notify

        note = await self.next(
            pilot, Notify, lambda m: text in str(m.notification.message), timeout=timeout
        )
        return str(note.notification.message)


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


# -- the CLI against a sandbox: environment, runs, mail in, lines out --------------------------


def cli_env(
    base_url: str, account: Any, data_home: Path, home: Path | None = None
) -> dict[str, str]:
    """The environment of a CLI run as ``account`` against ``base_url``, files under
    ``data_home``. With ``home`` (a child process): ``PATH`` and ``HOME`` as well."""
    env = {
        "MAILAGENTS_HOME": str(data_home),
        "MAILAGENTS_API_BASE": base_url,
        "MAILAGENTS_PRIVATE_KEY": account.key.hex(),
        "MAILAGENTS_KEYSTORE_PASSWORD": "",
    }
    if home is not None:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **env}
    return env


def run_cli(env: dict[str, str], *args: str, input: str | None = None) -> Any:
    """``mailagents-tui ARGS`` in process (click's runner); the result."""
    from click.testing import CliRunner

    from tui.cli.root import main

    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def send_mail(
    port: int, to: str, subject: str, body: str, sender: str = "Acme <no-reply@acme.test>"
) -> None:
    """One plain-text mail into the sandbox's SMTP port."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def read_line(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    """The next line the child writes on stdout (fails if it exits or stays silent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            line = proc.stdout.readline()
            if line:
                return line
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError("no line in time")


def refuse_system_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyperclip has no backend: copies go by OSC 52, as on a headless machine."""
    import pyperclip

    def refuse(text: str) -> None:
        raise pyperclip.PyperclipException("no clipboard here")

    monkeypatch.setattr(pyperclip, "copy", refuse)

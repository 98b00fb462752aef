"""An async, read-only IMAP reader for one lease's INBOX (aioimaplib, one connection).

It logs in with the lease's webmail credentials, SELECTs INBOX and fetches new messages by
UID (``BODY.PEEK[]``: nothing is marked read; it never stores flags, copies, moves or
deletes). It remembers UIDVALIDITY and the last UID in a :class:`MailboxState` the caller may
persist; a UIDVALIDITY change starts over. Messages over ``size_limit`` (RFC822.SIZE, asked
first) are fetched partially (``BODY.PEEK[]<0.N>``) with a notice. It waits for new mail
with IDLE when the server offers it (re-IDLEs before the 29-minute limit), else polls with
NOOP, and :meth:`ImapReader.run` reconnects with exponential backoff and jitter.

Typical use in a worker beside the API poller::

    reader = ImapReader(settings, login, password, state=saved_state)
    await reader.run(on_update)  # until cancelled; reports ImapUpdate(status, new, ...)

or for one-shot reads (CLI)::

    async with ImapReader(settings, login, password) as reader:
        messages = await reader.fetch_new()
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Literal

from aioimaplib import aioimaplib

from tui.imap.connection import (
    CLOSE_TIMEOUT_S,
    IDLE_RENEW_S,
    POLL_INTERVAL_S,
    ImapConnection,
    _first,
)
from tui.imap.errors import ImapAuthError, ImapClosedError, ImapConfigError, ImapError
from tui.imap.message import ImapMessage
from tui.imap.protocol import SelectInfo, bye_text, signals_new_mail
from tui.imap.settings import ImapSettings
from tui.imap.state import ImapStatus, ImapUpdate, MailboxState, StatusState
from tui.imap.sync import (
    BATCH_BYTES,
    BATCH_COUNT,
    DEFAULT_SIZE_LIMIT,
    HEADER_BATCH,
    LAZY_BODY_BYTES,
    LAZY_PREFIX_BYTES,
    SIZE_BATCH,
    MailboxSync,
)

__all__ = [  # what this module has always offered (the parts live in the modules above)
    "BATCH_BYTES",
    "BATCH_COUNT",
    "CLOSE_TIMEOUT_S",
    "DEFAULT_SIZE_LIMIT",
    "HEADER_BATCH",
    "IDLE_RENEW_S",
    "LAZY_BODY_BYTES",
    "LAZY_PREFIX_BYTES",
    "POLL_INTERVAL_S",
    "SIZE_BATCH",
    "ImapReader",
    "ImapStatus",
    "ImapUpdate",
    "MailboxState",
    "StatusState",
]


class ImapReader(ImapConnection):
    """Reads one mailbox's INBOX over one IMAP connection; never changes anything there."""

    def __init__(
        self,
        settings: ImapSettings,
        login: str,
        password: str,
        *,
        state: MailboxState | None = None,
        known: Iterable[ImapMessage] = (),
        size_limit: int = DEFAULT_SIZE_LIMIT,
        use_idle: bool = True,
        idle_renew: float = IDLE_RENEW_S,
        poll_interval: float = POLL_INTERVAL_S,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        lazy_size: int = LAZY_BODY_BYTES,
        max_initial: int = 200,
        headers_for_older: bool = False,
        keep: int = 1000,
        ssl_context: ssl.SSLContext | None = None,
        rng: Callable[[], float] = random.random,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(
            settings,
            login,
            password,
            use_idle=use_idle,
            idle_renew=idle_renew,
            poll_interval=poll_interval,
            ssl_context=ssl_context,
        )
        self.sync = MailboxSync(
            self,
            state=state,
            known=known,
            size_limit=size_limit,
            lazy_size=lazy_size,
            max_initial=max_initial,
            headers_for_older=headers_for_older,
            keep=keep,
            after_batch=after_batch,
        )
        """What was read, and how more is read (see :class:`MailboxSync` for the options)."""
        self.backoff_base = backoff_base
        """First reconnect delay (before jitter)."""
        self.backoff_max = backoff_max
        """Longest reconnect delay."""
        self.rng = rng
        """Jitter source."""
        self.status = ImapStatus()
        """The last reported status."""

    @property
    def state(self) -> MailboxState:
        """UIDVALIDITY and last UID (updated as messages are fetched)."""
        return self.sync.state

    @state.setter
    def state(self, state: MailboxState) -> None:
        self.sync.state = state

    @property
    def messages(self) -> list[ImapMessage]:
        """Every message fetched so far (up to ``keep``), newest first."""
        return self.sync.messages

    def restore(self, state: MailboxState, known: Iterable[ImapMessage]) -> None:
        """Start from what an earlier reader read (the mail cache), before connecting: only
        newer mail is fetched then."""
        self.sync.restore(state, known)

    def _selected(self, info: SelectInfo) -> None:
        self.sync.selected(info)

    async def fetch_new(self) -> list[ImapMessage]:
        """Fetch messages with a UID above ``state.last_uid``, oldest first (see
        :meth:`MailboxSync.fetch_new`)."""
        return await self.sync.fetch_new()

    async def fetch_raw(self, uid: int, *, limit: int | None = None) -> bytes | None:
        """The bytes of one message (all of it unless ``limit``), or None if it is gone."""
        return await self.sync.fetch_raw(uid, limit=limit)

    # -- waiting ------------------------------------------------------------------------------

    async def wait_for_change(self, timeout: float | None = None) -> bool:
        """IDLE (or wait and NOOP) until the server signals a change, :meth:`wake` is called,
        or ``timeout`` passes; True when new mail may be there (fetch then)."""
        self.require()
        if self.idle_supported:
            return await self._idle(self.idle_renew if timeout is None else timeout)
        return await self._poll(self.poll_interval if timeout is None else timeout)

    async def _idle(self, timeout: float) -> bool:
        client = self.require()
        assert self._lost is not None and self._wake is not None
        queue = client.protocol.idle_queue
        while not queue.empty():  # pushes of an earlier IDLE: the fetch since covered them
            queue.get_nowait()
        if self._wake.is_set():
            self._wake.clear()
            return True
        self._idle_task = await self.command("IDLE", client.idle_start(timeout=timeout + 60.0))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changed = False
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                getter = asyncio.ensure_future(queue.get())
                lost = asyncio.ensure_future(self._lost.wait())
                woken = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait(
                        {getter, lost, woken},
                        timeout=remaining,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    for task in (getter, lost, woken):
                        if not task.done():
                            task.cancel()
                if getter.done() and not getter.cancelled():
                    lines = getter.result()
                    if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                        break
                    bye = bye_text(lines)
                    if bye is not None:
                        raise ImapClosedError(self.safe(f"{self.where()} ended the session: {bye}"))
                    if signals_new_mail(lines):
                        changed = True
                        break
                if self._lost.is_set():
                    raise ImapClosedError(f"{self.where()} closed the connection")
                if self._wake.is_set():
                    self._wake.clear()
                    changed = True
                    break
        except BaseException:
            await self._end_idle()
            raise
        if not await self._end_idle():
            raise ImapClosedError(f"{self.where()} did not end IDLE")
        return changed

    async def _poll(self, timeout: float) -> bool:
        self.require()
        assert self._lost is not None and self._wake is not None
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(self._lost.wait(), self._wake.wait()), timeout)
        self._wake.clear()
        if self._lost.is_set():
            raise ImapClosedError(f"{self.where()} closed the connection")
        return True  # fetch_new's NOOP asks the server; its UID FETCH finds what is new

    # -- the loop -----------------------------------------------------------------------------

    def _backoff(self, failures: int) -> float:
        raw = min(self.backoff_max, self.backoff_base * 2 ** max(0, failures - 1))
        return raw * (0.5 + 0.5 * self.rng())

    def _update(
        self, on_update: Callable[[ImapUpdate], None], status: ImapStatus, new: list[ImapMessage]
    ) -> None:
        self.status = status
        reset, self.sync.reset = self.sync.reset, False
        on_update(
            ImapUpdate(
                status=status,
                new=list(new),
                messages=self.messages,
                state=replace(self.state),
                reset=reset,
            )
        )

    async def run(self, on_update: Callable[[ImapUpdate], None]) -> None:
        """Connect, fetch, then IDLE (or poll) and fetch again, until cancelled.

        Reports ``connecting``, ``live (IDLE)``/``live (polling)`` with new messages, and
        ``offline: … retrying in Ns`` between reconnects (exponential backoff with jitter).
        Returns after reporting ``auth failed: …`` (wrong password, released lease: a new
        reader with new credentials is needed) or ``error: …`` (unusable settings). The
        connection is closed (LOGOUT) when it returns or is cancelled.
        """
        failures = 0
        try:
            while True:
                try:
                    self._update(on_update, ImapStatus("connecting", failures=failures), [])
                    await self.connect()
                    new = await self.fetch_new()
                    failures = 0
                    mode: Literal["idle", "polling"] = "idle" if self.idle_supported else "polling"
                    live = ImapStatus("live", mode=mode)
                    self._update(on_update, live, new)
                    while True:
                        if await self.wait_for_change():
                            new = await self.fetch_new()
                            if new or self.sync.reset:
                                self._update(on_update, live, new)
                except ImapAuthError as exc:
                    await self._drop()
                    status = ImapStatus("auth_failed", error=exc.reason, kind=exc.kind)
                    self._update(on_update, status, [])
                    return
                except ImapConfigError as exc:
                    await self._drop()
                    self._update(
                        on_update, ImapStatus("error", error=exc.reason, kind=exc.kind), []
                    )
                    return
                except ImapError as exc:
                    await self._drop()
                    failures += 1
                    delay = self._backoff(failures)
                    status = ImapStatus(
                        "offline",
                        error=exc.reason,
                        kind=exc.kind,
                        retry_in=delay,
                        failures=failures,
                    )
                    self._update(on_update, status, [])
                    if self._wake is None:
                        self._wake = asyncio.Event()
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                    self._wake.clear()
        finally:
            with contextlib.suppress(Exception):
                await self.close()
            self.status = replace(self.status, state="closed", mode=None, retry_in=None)

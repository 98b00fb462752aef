"""One IMAP connection to a lease's INBOX (aioimaplib, through :mod:`tui.imap.client`): connect
with TLS, STARTTLS or plain (loopback only), log in, SELECT INBOX, run commands with failures
mapped to safe :class:`tui.imap.errors.ImapError` s, end IDLE, close. No fetching here
(:mod:`tui.imap.sync`) and no waiting loop (:mod:`tui.imap.reader`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, Self, TypeVar

from aioimaplib import aioimaplib

from tui.imap.client import Client
from tui.imap.errors import (
    ImapAuthError,
    ImapClosedError,
    ImapConfigError,
    ImapError,
    ImapProtocolError,
    ImapTLSError,
    ImapUnreachableError,
    safe_text,
)
from tui.imap.protocol import SelectInfo, parse_select
from tui.imap.settings import ImapSettings

T = TypeVar("T")

IDLE_RENEW_S = 25 * 60.0
"""Re-issue IDLE after this long (servers may drop an IDLE after 30 minutes; RFC 2177)."""
POLL_INTERVAL_S = 15.0
"""NOOP interval when the server has no IDLE."""
CLOSE_TIMEOUT_S = 3.0
"""How long :meth:`ImapConnection.close` waits for LOGOUT."""


class _HideCredentials(logging.Filter):
    """Drop aioimaplib's debug lines that echo a LOGIN/AUTHENTICATE command.

    aioimaplib masks the password in "Sending" lines, but only in its raw form: a password with
    a quote or backslash is logged escaped, hence unmasked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted is not worth the risk
            return False
        upper = text.upper()
        return " LOGIN " not in upper and " AUTHENTICATE " not in upper


logging.getLogger("aioimaplib.aioimaplib").addFilter(_HideCredentials())


async def _first(*aws: Awaitable[Any]) -> None:
    """Wait until the first of ``aws`` completes; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class ImapConnection:
    """One connection to one mailbox's INBOX; subclasses read it (:class:`ImapReader`)."""

    def __init__(
        self,
        settings: ImapSettings,
        login: str,
        password: str,
        *,
        use_idle: bool = True,
        idle_renew: float = IDLE_RENEW_S,
        poll_interval: float = POLL_INTERVAL_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if settings.security == "plain":
            # ImapSettings refuses it already; keep the rule even for a hand-built object.
            from tui.imap.settings import is_loopback

            if not is_loopback(settings.host):
                raise ImapConfigError(f"plain IMAP to non-loopback host {settings.host} refused")
        self.settings = settings
        """Host, port, security, timeout."""
        self.login = login
        """The IMAP login (the lease's ``webmail_login``: its address)."""
        self._password = password
        self.use_idle = use_idle
        """Use IDLE when offered (False forces NOOP polling)."""
        self.idle_renew = idle_renew
        """Seconds before an IDLE is renewed."""
        self.poll_interval = poll_interval
        """Seconds between NOOP polls without IDLE."""
        self.ssl_context = ssl_context
        """TLS context (default: the system's trust store, host name checked)."""
        self._client: aioimaplib.IMAP4 | None = None
        self._lost: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._idle_task: asyncio.Future[Any] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.describe()}, login={self.login!r})"

    # -- helpers ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while logged in with INBOX selected."""
        return (
            self._client is not None
            and self._lost is not None
            and not self._lost.is_set()
            and self._client.get_state() == aioimaplib.SELECTED
        )

    @property
    def idle_supported(self) -> bool:
        """True when connected to a server that offers IDLE (and ``use_idle``)."""
        return self.use_idle and self._client is not None and self._client.has_capability("IDLE")

    def wake(self) -> None:
        """Make a waiting :meth:`wait_for_change` (or a backoff sleep) return now."""
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()

    def safe(self, text: str) -> str:
        """``text`` without the password (for errors)."""
        return safe_text(text, [self._password])

    def where(self) -> str:
        """The server, as errors name it."""
        return self.settings.describe()

    def require(self) -> aioimaplib.IMAP4:
        """The client, while connected; else :class:`ImapClosedError`."""
        if self._client is None or self._lost is None:
            raise ImapClosedError("not connected")
        if self._lost.is_set():
            raise ImapClosedError(f"{self.where()} closed the connection")
        return self._client

    async def command(self, what: str, coro: Awaitable[T]) -> T:
        """Run one command, mapping failures to safe errors and a lost connection to closed."""
        lost = self._lost
        task = asyncio.ensure_future(coro)
        waiter = asyncio.ensure_future(lost.wait()) if lost is not None else None
        try:
            waits: set[asyncio.Future[Any]] = {task} | ({waiter} if waiter else set())
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if waiter is not None:
                waiter.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if task.cancelled():
            raise ImapClosedError(f"{self.where()} closed the connection during {what}")
        try:
            return task.result()
        except ImapError:
            raise
        except TimeoutError as exc:
            raise ImapUnreachableError(
                f"{self.where()} did not answer {what} within {self.settings.timeout:.0f}s"
            ) from exc
        except aioimaplib.CommandTimeout as exc:
            raise ImapUnreachableError(
                f"{self.where()} did not answer {what} within {self.settings.timeout:.0f}s"
            ) from exc
        except ssl.SSLError as exc:
            raise ImapTLSError(f"TLS error with {self.where()} during {what}") from exc
        except (ConnectionError, OSError) as exc:
            raise ImapClosedError(f"{self.where()} closed the connection during {what}") from exc
        except aioimaplib.AioImapException as exc:
            detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
            raise ImapProtocolError(self.safe(f"{what} failed: {detail}".rstrip(": "))) from exc

    async def command_ok(self, what: str, coro: Awaitable[Any], name: str) -> Any:
        """:meth:`command`'s answer when it is OK; else :class:`ImapProtocolError`
        (``<name> refused: <the server's reason>``)."""
        response = await self.command(what, coro)
        if response.result != "OK":
            text = self.answer_text(response.lines)
            raise ImapProtocolError(self.safe(f"{name} refused: {text or response.result}"))
        return response

    @staticmethod
    def answer_text(lines: list[Any]) -> str:
        """The last text line of an answer (its reason)."""
        for line in reversed(lines):
            if isinstance(line, bytes) and line.strip():
                return line.decode("utf-8", "replace")
        return ""

    # -- connection ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect (TLS/STARTTLS/plain), log in, SELECT INBOX. Raises an :class:`ImapError`."""
        await self.close()
        s = self.settings
        lost = asyncio.Event()
        self._lost = lost
        if self._wake is None:
            self._wake = asyncio.Event()

        def on_lost(exc: Exception | None) -> None:
            lost.set()

        context = await self._tls_context() if s.security == "tls" else None
        client = Client(
            host=s.host, port=s.port, timeout=s.timeout, conn_lost_cb=on_lost, ssl_context=context
        )
        self._client = client
        try:
            await self._hello(client)
            if s.security == "starttls":
                await self._starttls(client)
            await self._login(client)
            await self._select(client)
        except BaseException:
            await self._drop()
            raise

    async def _tls_context(self) -> ssl.SSLContext:
        """The TLS context given, else the default one, made in a thread (loading the system's
        certificates takes ~45 ms of CPU: a stall of the UI on every connect)."""
        if self.ssl_context is None:
            self.ssl_context = await asyncio.to_thread(ssl.create_default_context)
        return self.ssl_context

    async def _hello(self, client: aioimaplib.IMAP4) -> None:
        where = self.where()
        try:
            await client.wait_hello_from_server()
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or "not trusted"
            raise ImapTLSError(f"TLS certificate of {where} refused: {reason}") from exc
        except ssl.SSLError as exc:
            reason = exc.reason or type(exc).__name__
            raise ImapTLSError(f"TLS handshake with {where} failed: {reason}") from exc
        except socket.gaierror as exc:
            raise ImapUnreachableError(f"cannot resolve {self.settings.host}") from exc
        except ConnectionRefusedError as exc:
            raise ImapUnreachableError(f"{where}: connection refused") from exc
        except TimeoutError as exc:
            raise ImapUnreachableError(
                f"{where}: no answer within {self.settings.timeout:.0f}s"
            ) from exc
        except OSError as exc:
            raise ImapUnreachableError(f"{where}: {exc.strerror or type(exc).__name__}") from exc
        except aioimaplib.AioImapException as exc:
            raise ImapProtocolError(f"{where} did not greet as an IMAP server") from exc
        if client.get_state() not in (aioimaplib.NONAUTH, aioimaplib.AUTH):
            raise ImapProtocolError(f"{where} did not greet as an IMAP server")

    async def _starttls(self, client: aioimaplib.IMAP4) -> None:
        where = self.where()
        if not client.has_capability("STARTTLS"):
            raise ImapTLSError(f"{where} does not offer STARTTLS")
        proto = client.protocol
        command = aioimaplib.Command("STARTTLS", proto.new_tag(), loop=proto.loop)
        response = await self.command(
            "STARTTLS", asyncio.wait_for(proto.execute(command), self.settings.timeout)
        )
        if response.result != "OK":
            raise ImapTLSError(f"{where} refused STARTTLS")
        context = await self._tls_context()
        loop = asyncio.get_running_loop()
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(proto.transport, proto, context, server_hostname=self.settings.host),
                self.settings.timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or "not trusted"
            raise ImapTLSError(f"TLS certificate of {where} refused: {reason}") from exc
        except (ssl.SSLError, OSError, TimeoutError) as exc:
            raise ImapTLSError(f"STARTTLS handshake with {where} failed") from exc
        if transport is None:
            raise ImapTLSError(f"STARTTLS handshake with {where} failed")
        proto.transport = transport
        await self.command(
            "CAPABILITY", asyncio.wait_for(proto.capability(), self.settings.timeout)
        )

    async def _login(self, client: aioimaplib.IMAP4) -> None:
        if client.get_state() == aioimaplib.AUTH:  # PREAUTH greeting
            return
        try:
            response = await self.command(
                "LOGIN", client.login(aioimaplib.quoted(self.login), self._password)
            )
        except ValueError as exc:  # CR, LF or NUL in the login or password
            raise ImapAuthError("the login or password has characters IMAP cannot send") from exc
        if response.result == "OK":
            return
        text = self.answer_text(response.lines)
        upper = text.upper()
        if response.result == "NO" and not any(
            code in upper for code in ("[UNAVAILABLE]", "[SERVERBUG]", "[INUSE]", "[LIMIT]")
        ):
            detail = text.split("]", 1)[1].strip() if text.startswith("[") else text
            raise ImapAuthError(
                self.safe(f"login refused for {self.login}: {detail or 'no reason given'}")
            )
        raise ImapProtocolError(self.safe(f"LOGIN failed: {text or response.result}"))

    async def _select(self, client: aioimaplib.IMAP4) -> None:
        response = await self.command("SELECT", client.select("INBOX"))
        if response.result != "OK":
            text = self.answer_text(response.lines)
            raise ImapProtocolError(self.safe(f"cannot open INBOX: {text or response.result}"))
        self._selected(parse_select(response.lines))

    def _selected(self, info: SelectInfo) -> None:
        """INBOX is selected (``info``: what SELECT said); a reader checks UIDVALIDITY here."""

    async def close(self) -> None:
        """End the session (DONE, LOGOUT) and close the connection; safe to call any time."""
        client = self._client
        if client is None:
            return
        lost = self._lost
        try:
            if lost is not None and not lost.is_set():
                await self._end_idle()
                if client.get_state() in (aioimaplib.NONAUTH, aioimaplib.AUTH, aioimaplib.SELECTED):
                    with contextlib.suppress(Exception):
                        await _first(
                            asyncio.wait_for(client.logout(), CLOSE_TIMEOUT_S), lost.wait()
                        )
        finally:
            await self._drop()

    async def _drop(self) -> None:
        """Close the socket without a goodbye (after an error)."""
        client, self._client = self._client, None
        idle, self._idle_task = self._idle_task, None
        if idle is not None and not idle.done():
            idle.cancel()
        if client is None:
            return
        with contextlib.suppress(Exception):
            for task in list(client.tasks) + list(client.protocol.tasks):
                task.cancel()
            waiter = getattr(client, "_idle_waiter", None)
            if waiter is not None:
                waiter.cancel()
            transport = client.protocol.transport
            if transport is not None:
                transport.close()
            connecting = getattr(client, "_client_task", None)
            if connecting is not None and not connecting.done():
                connecting.cancel()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _end_idle(self) -> bool:
        """Send DONE and wait for IDLE's tagged answer; False if it did not come."""
        client, idle = self._client, self._idle_task
        self._idle_task = None
        if client is None or idle is None or idle.done():
            return True
        if self._lost is not None and not self._lost.is_set() and client.has_pending_idle():
            with contextlib.suppress(Exception):
                client.idle_done()
        lost = self._lost.wait() if self._lost is not None else asyncio.sleep(0)
        with contextlib.suppress(Exception):
            await _first(asyncio.wait_for(asyncio.shield(idle), self.settings.timeout), lost)
        if not idle.done():
            idle.cancel()
            return False
        with contextlib.suppress(BaseException):
            idle.result()
        return True

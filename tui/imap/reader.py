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
import logging
import random
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal, TypeVar

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
from tui.imap.message import HEADER_FIELDS, ImapMessage, parse_headers, parse_message
from tui.imap.protocol import (
    bye_text,
    parse_fetch,
    parse_search,
    parse_select,
    signals_new_mail,
    uid_set,
)
from tui.imap.settings import ImapSettings

log = logging.getLogger("tui.imap")

T = TypeVar("T")

DEFAULT_SIZE_LIMIT = 5 * 1024 * 1024
"""Messages larger than this (RFC822.SIZE) are fetched partially."""
LAZY_BODY_BYTES = 1024 * 1024
"""Messages larger than this are read lazily: their first ``LAZY_PREFIX_BYTES`` while the
mailbox syncs, the rest when shown (``ImapMessage.lazy``): a newsletter of megabytes neither
stalls the sync nor stays in memory."""
LAZY_PREFIX_BYTES = 64 * 1024
"""What a sync reads of a big message (its headers and the start of its body)."""
IDLE_RENEW_S = 25 * 60.0
"""Re-issue IDLE after this long (servers may drop an IDLE after 30 minutes; RFC 2177)."""
POLL_INTERVAL_S = 15.0
"""NOOP interval when the server has no IDLE."""
BATCH_BYTES = 8 * 1024 * 1024
"""Most bytes asked for in one ``UID FETCH`` of bodies."""
BATCH_COUNT = 50
"""Most messages asked for in one ``UID FETCH`` of bodies."""
SIZE_BATCH = 200
"""UIDs whose sizes one UID FETCH asks for (more are listed with UID SEARCH first)."""
HEADER_BATCH = 1000
"""Older messages whose header fields one UID FETCH asks for (first sync of a big mailbox);
the next batch is on the wire while one is parsed (in a thread). The response handling costs
the same per line whatever the batch (:mod:`tui.imap.client`); a batch bounds how long the
event loop handles one response chunk and how much waits in memory."""
CLOSE_TIMEOUT_S = 3.0
"""How long :meth:`ImapReader.close` waits for LOGOUT."""


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


@dataclass
class MailboxState:
    """Where a reader stopped in one mailbox; persist it with :meth:`to_dict`."""

    uidvalidity: int | None = None
    """The mailbox's UIDVALIDITY when ``last_uid`` was read."""
    last_uid: int = 0
    """Highest UID already fetched (0: nothing yet)."""
    uidnext: int | None = None
    """UIDNEXT at the last SELECT (informational)."""

    def to_dict(self) -> dict[str, int | None]:
        """A JSON-ready dict."""
        return {"uidvalidity": self.uidvalidity, "last_uid": self.last_uid, "uidnext": self.uidnext}

    @classmethod
    def from_dict(cls, data: Any) -> MailboxState:
        """The inverse of :meth:`to_dict`; anything malformed gives a fresh state."""
        if not isinstance(data, dict):
            return cls()

        def number(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(number("uidvalidity"), max(0, number("last_uid") or 0), number("uidnext"))


StatusState = Literal["connecting", "live", "offline", "auth_failed", "error", "closed"]


@dataclass(frozen=True)
class ImapStatus:
    """What the status bar shows about the IMAP source (see :attr:`text`)."""

    state: StatusState = "connecting"
    """``connecting``, ``live``, ``offline`` (retrying), ``auth_failed``, ``error``, ``closed``."""
    mode: Literal["idle", "polling"] | None = None
    """While live: ``idle`` (push) or ``polling`` (NOOP)."""
    error: str | None = None
    """The last failure's safe one-line reason."""
    kind: str | None = None
    """The failure's kind (``auth``, ``unreachable``, ``tls``, ``protocol``, ``closed``...)."""
    retry_in: float | None = None
    """Seconds until the next attempt, while offline."""
    failures: int = 0
    """Consecutive failed attempts."""

    @property
    def live(self) -> bool:
        """True while connected and watching INBOX."""
        return self.state == "live"

    @property
    def text(self) -> str:
        """``connecting``, ``live (IDLE)``, ``live (polling)``, ``auth failed: …``,
        ``offline: … retrying in Ns``, ``error: …`` or ``closed``."""
        if self.state == "live":
            return "live (IDLE)" if self.mode == "idle" else "live (polling)"
        if self.state == "auth_failed":
            return f"auth failed: {self.error or 'login refused'}"
        if self.state == "offline":
            retry = f"; retrying in {self.retry_in:.0f}s" if self.retry_in is not None else ""
            return f"offline: {self.error or 'disconnected'}{retry}"
        if self.state == "error":
            return f"error: {self.error or 'unknown'}"
        return self.state


@dataclass(frozen=True)
class ImapUpdate:
    """One report of :meth:`ImapReader.run` (safe to coalesce: ``messages`` is the whole list)."""

    status: ImapStatus
    """The connection state."""
    new: list[ImapMessage] = field(default_factory=list)
    """Messages fetched since the previous update, oldest first."""
    messages: list[ImapMessage] = field(default_factory=list)
    """Every message fetched in this run (up to ``keep``), newest first."""
    state: MailboxState = field(default_factory=MailboxState)
    """A copy of the reader's state, to persist."""
    reset: bool = False
    """UIDVALIDITY changed: drop IMAP messages reported before this update."""

    def __repr__(self) -> str:
        # Short: a worker given an update describes itself with its repr (Textual's @work),
        # and the repr of 10,000 messages with their bytes took the UI half a second.
        return (
            f"ImapUpdate(status={self.status!r}, new={len(self.new)} messages, "
            f"messages={len(self.messages)}, state={self.state!r}, reset={self.reset})"
        )


def _parse_headers(lines: list[Any], asked: set[int]) -> list[ImapMessage]:
    """:func:`parse_headers` of each message of a header-fields FETCH response that was asked
    for (not an unsolicited FETCH), in UID order (run in a thread)."""
    out = [
        parse_headers(uid, item.literal, size=item.size or 0, internaldate=item.internaldate)
        for item in parse_fetch(lines)
        if (uid := item.uid) in asked and item.literal is not None
    ]
    return sorted(out, key=lambda m: m.uid)


async def _first(*aws: Awaitable[Any]) -> None:
    """Wait until the first of ``aws`` completes; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class ImapReader:
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
        self.state = state or MailboxState()
        """UIDVALIDITY and last UID (updated as messages are fetched)."""
        self.size_limit = max(1024, int(size_limit))
        """Bytes fetched at most per message (larger ones are partial)."""
        self.lazy_size = max(1024, int(lazy_size))
        """Messages larger than this are read lazily (``LAZY_PREFIX_BYTES`` of them)."""
        self.use_idle = use_idle
        """Use IDLE when offered (False forces NOOP polling)."""
        self.idle_renew = idle_renew
        """Seconds before an IDLE is renewed."""
        self.poll_interval = poll_interval
        """Seconds between NOOP polls without IDLE."""
        self.backoff_base = backoff_base
        """First reconnect delay (before jitter)."""
        self.backoff_max = backoff_max
        """Longest reconnect delay."""
        self.max_initial = max_initial
        """On the first sync of a mailbox, fetch at most this many (the newest) messages."""
        self.headers_for_older = headers_for_older
        """On that first sync, fetch only the headers of the older ones (so a big mailbox is
        listed whole; :attr:`ImapMessage.headers_only`), instead of leaving them out."""
        self.keep = keep
        """How many messages :attr:`messages` keeps."""
        self.ssl_context = ssl_context
        """TLS context (default: the system's trust store, host name checked)."""
        self.rng = rng
        """Jitter source."""
        self.status = ImapStatus()
        """The last reported status."""
        self._client: aioimaplib.IMAP4 | None = None
        self._lost: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._idle_task: asyncio.Future[Any] | None = None
        self._messages: dict[int, ImapMessage] = {m.uid: m for m in known}
        """Messages read (by this reader, or earlier ones: ``known``, which goes with
        ``state``), by UID."""
        self._reset = False

    def restore(self, state: MailboxState, known: Iterable[ImapMessage]) -> None:
        """Start from what an earlier reader read (the mail cache), before connecting: only
        newer mail is fetched then."""
        self.state = state
        self._messages = {m.uid: m for m in known}

    def __repr__(self) -> str:
        return f"ImapReader({self.settings.describe()}, login={self.login!r})"

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

    @property
    def messages(self) -> list[ImapMessage]:
        """Every message fetched so far (up to :attr:`keep`), newest first."""
        return [self._messages[uid] for uid in sorted(self._messages, reverse=True)]

    def wake(self) -> None:
        """Make a waiting :meth:`wait_for_change` (or a backoff sleep) return now."""
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()

    def _safe(self, text: str) -> str:
        return safe_text(text, [self._password])

    def _where(self) -> str:
        return self.settings.describe()

    def _require(self) -> aioimaplib.IMAP4:
        if self._client is None or self._lost is None:
            raise ImapClosedError("not connected")
        if self._lost.is_set():
            raise ImapClosedError(f"{self._where()} closed the connection")
        return self._client

    async def _cmd(self, what: str, coro: Awaitable[T]) -> T:
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
            raise ImapClosedError(f"{self._where()} closed the connection during {what}")
        try:
            return task.result()
        except ImapError:
            raise
        except TimeoutError as exc:
            raise ImapUnreachableError(
                f"{self._where()} did not answer {what} within {self.settings.timeout:.0f}s"
            ) from exc
        except aioimaplib.CommandTimeout as exc:
            raise ImapUnreachableError(
                f"{self._where()} did not answer {what} within {self.settings.timeout:.0f}s"
            ) from exc
        except ssl.SSLError as exc:
            raise ImapTLSError(f"TLS error with {self._where()} during {what}") from exc
        except (ConnectionError, OSError) as exc:
            raise ImapClosedError(f"{self._where()} closed the connection during {what}") from exc
        except aioimaplib.AioImapException as exc:
            detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
            raise ImapProtocolError(self._safe(f"{what} failed: {detail}".rstrip(": "))) from exc

    @staticmethod
    def _text(lines: list[Any]) -> str:
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

        context = None
        if s.security == "tls":
            context = self.ssl_context or ssl.create_default_context()
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

    async def _hello(self, client: aioimaplib.IMAP4) -> None:
        where = self._where()
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
        where = self._where()
        if not client.has_capability("STARTTLS"):
            raise ImapTLSError(f"{where} does not offer STARTTLS")
        proto = client.protocol
        command = aioimaplib.Command("STARTTLS", proto.new_tag(), loop=proto.loop)
        response = await self._cmd(
            "STARTTLS", asyncio.wait_for(proto.execute(command), self.settings.timeout)
        )
        if response.result != "OK":
            raise ImapTLSError(f"{where} refused STARTTLS")
        context = self.ssl_context or ssl.create_default_context()
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
        await self._cmd("CAPABILITY", asyncio.wait_for(proto.capability(), self.settings.timeout))

    async def _login(self, client: aioimaplib.IMAP4) -> None:
        if client.get_state() == aioimaplib.AUTH:  # PREAUTH greeting
            return
        try:
            response = await self._cmd(
                "LOGIN", client.login(aioimaplib.quoted(self.login), self._password)
            )
        except ValueError as exc:  # CR, LF or NUL in the login or password
            raise ImapAuthError("the login or password has characters IMAP cannot send") from exc
        if response.result == "OK":
            return
        text = self._text(response.lines)
        upper = text.upper()
        if response.result == "NO" and not any(
            code in upper for code in ("[UNAVAILABLE]", "[SERVERBUG]", "[INUSE]", "[LIMIT]")
        ):
            detail = text.split("]", 1)[1].strip() if text.startswith("[") else text
            raise ImapAuthError(
                self._safe(f"login refused for {self.login}: {detail or 'no reason given'}")
            )
        raise ImapProtocolError(self._safe(f"LOGIN failed: {text or response.result}"))

    async def _select(self, client: aioimaplib.IMAP4) -> None:
        response = await self._cmd("SELECT", client.select("INBOX"))
        if response.result != "OK":
            text = self._text(response.lines)
            raise ImapProtocolError(self._safe(f"cannot open INBOX: {text or response.result}"))
        info = parse_select(response.lines)
        state = self.state
        if info.uidvalidity is not None and state.uidvalidity != info.uidvalidity:
            if state.uidvalidity is not None or state.last_uid:
                self._reset = True
                self._messages.clear()
            state.last_uid = 0
        state.uidvalidity = info.uidvalidity
        state.uidnext = info.uidnext

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

    async def __aenter__(self) -> ImapReader:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- fetching -----------------------------------------------------------------------------

    async def fetch_new(self) -> list[ImapMessage]:
        """Fetch messages with a UID above ``state.last_uid``, oldest first.

        A NOOP first lets the server notice mail that arrived since the last command (Dovecot
        only rescans a mailbox at such sync points, not for a bare UID FETCH).
        """
        client = self._require()
        noop = await self._cmd("NOOP", client.noop())
        bye = bye_text(noop.lines)
        if bye is not None:
            raise ImapClosedError(self._safe(f"{self._where()} ended the session: {bye}"))
        start = self.state.last_uid + 1
        first = self.state.last_uid == 0
        expected = (self.state.uidnext or start) - start
        if first or expected > SIZE_BATCH:
            # Many UIDs: list them in one line, then ask sizes by chunks (aioimaplib rescans a
            # whole FETCH response on every line: one line per message was quadratic).
            uids = [u for u in await self._search_uids(client, start) if u >= start]
            if not uids:
                return []
            highest = uids[-1]
            older_uids: list[int] = []
            if first and len(uids) > self.max_initial:
                older_uids = uids[: -self.max_initial] if self.headers_for_older else []
                uids = uids[-self.max_initial :]
            found = await self._sizes(client, uids)
        else:
            found = await self._sizes(client, None, start=start)
            if not found:
                return []
            highest = found[-1][0]
            older_uids = []
        fetched = await self._fetch_older(client, older_uids)
        for batch in self._batches(found):
            fetched.extend(await self._fetch_bodies(client, batch))
            self.state.last_uid = max(self.state.last_uid, batch[-1][0])
        self.state.last_uid = max(self.state.last_uid, highest)
        fetched.sort(key=lambda m: m.uid)
        for message in fetched:
            self._messages[message.uid] = message
        while len(self._messages) > self.keep:
            del self._messages[min(self._messages)]
        return fetched

    def _batches(self, found: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        batches: list[list[tuple[int, int]]] = []
        current: list[tuple[int, int]] = []
        total = 0
        for uid, size in found:
            if size > min(self.size_limit, self.lazy_size):
                if current:
                    batches.append(current)
                    current, total = [], 0
                batches.append([(uid, size)])
                continue
            if current and (total + size > BATCH_BYTES or len(current) >= BATCH_COUNT):
                batches.append(current)
                current, total = [], 0
            current.append((uid, size))
            total += size
        if current:
            batches.append(current)
        return batches

    async def _fetch_bodies(
        self, client: aioimaplib.IMAP4, batch: list[tuple[int, int]]
    ) -> list[ImapMessage]:
        sizes = dict(batch)
        one = batch[0][1] if len(batch) == 1 else 0
        lazy = one > self.lazy_size
        limit = min(LAZY_PREFIX_BYTES, self.size_limit) if lazy else self.size_limit
        partial = lazy or one > self.size_limit
        body = f"BODY.PEEK[]<0.{limit}>" if partial else "BODY.PEEK[]"
        response = await self._cmd(
            "FETCH",
            client.uid("fetch", uid_set(list(sizes)), f"(UID RFC822.SIZE INTERNALDATE {body})"),
        )
        if response.result != "OK":
            text = self._text(response.lines)
            raise ImapProtocolError(self._safe(f"UID FETCH refused: {text or response.result}"))

        def parse_all() -> list[ImapMessage]:
            # Off the event loop (the UI's): the extractor reads every part of every message.
            out: list[ImapMessage] = []
            for item in parse_fetch(response.lines):
                uid = item.uid
                if uid is None or uid not in sizes or item.literal is None:
                    continue  # an unsolicited FETCH (flags), or a message expunged meanwhile
                size = item.size if item.size is not None else sizes[uid]
                cut = partial and len(item.literal) < size
                out.append(
                    parse_message(
                        uid,
                        item.literal,
                        size=size,
                        partial=cut,
                        internaldate=item.internaldate,
                        lazy=lazy and cut,
                    )
                )
            return sorted(out, key=lambda m: m.uid)

        return await asyncio.to_thread(parse_all)

    async def _search_uids(self, client: aioimaplib.IMAP4, start: int) -> list[int]:
        """``UID SEARCH UID start:*``: the UIDs from ``start`` on (one response line)."""
        response = await self._cmd("SEARCH", client.uid_search("UID", f"{start}:*", charset=None))
        if response.result != "OK":
            text = self._text(response.lines)
            raise ImapProtocolError(self._safe(f"UID SEARCH refused: {text or response.result}"))
        return parse_search(response.lines)

    async def _sizes(
        self, client: aioimaplib.IMAP4, uids: list[int] | None, *, start: int = 1
    ) -> list[tuple[int, int]]:
        """(uid, RFC822.SIZE) of ``uids`` (by chunks), or of ``start:*`` when None."""
        sets = (
            [f"{start}:*"]
            if uids is None
            else [uid_set(uids[i : i + SIZE_BATCH]) for i in range(0, len(uids), SIZE_BATCH)]
        )
        low = start if uids is None else 1
        found: set[tuple[int, int]] = set()
        for uids_text in sets:
            response = await self._cmd("FETCH", client.uid("fetch", uids_text, "(UID RFC822.SIZE)"))
            if response.result != "OK":
                text = self._text(response.lines)
                raise ImapProtocolError(self._safe(f"UID FETCH refused: {text or response.result}"))
            found.update(
                (item.uid, item.size or 0)
                for item in parse_fetch(response.lines)
                if item.uid is not None and item.uid >= low
            )
        return sorted(found)

    async def _fetch_older(self, client: aioimaplib.IMAP4, uids: list[int]) -> list[ImapMessage]:
        """The header fields of older messages, ``HEADER_BATCH`` per UID FETCH, each batch
        parsed in a thread while the next one is fetched."""
        fetched: list[ImapMessage] = []
        parsing: asyncio.Future[list[ImapMessage]] | None = None
        try:
            for start_at in range(0, len(uids), HEADER_BATCH):
                batch = uids[start_at : start_at + HEADER_BATCH]
                lines = await self._fetch_headers(client, batch)
                if parsing is not None:
                    fetched.extend(await parsing)
                parse = asyncio.to_thread(_parse_headers, lines, set(batch))
                parsing = asyncio.ensure_future(parse)
            if parsing is not None:
                fetched.extend(await parsing)
        finally:
            if parsing is not None and not parsing.done():
                parsing.cancel()
        return fetched

    async def _fetch_headers(self, client: aioimaplib.IMAP4, uids: list[int]) -> list[Any]:
        """The response lines of one UID FETCH of older messages' header fields."""
        fields = " ".join(HEADER_FIELDS)
        response = await self._cmd(
            "FETCH",
            client.uid(
                "fetch",
                uid_set(uids),
                f"(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS ({fields})])",
            ),
        )
        if response.result != "OK":
            text = self._text(response.lines)
            raise ImapProtocolError(self._safe(f"UID FETCH refused: {text or response.result}"))
        return list(response.lines)

    async def fetch_raw(self, uid: int, *, limit: int | None = None) -> bytes | None:
        """The bytes of one message (all of it unless ``limit``), or None if it is gone."""
        client = self._require()
        body = f"BODY.PEEK[]<0.{int(limit)}>" if limit else "BODY.PEEK[]"
        response = await self._cmd("FETCH", client.uid("fetch", str(int(uid)), f"(UID {body})"))
        if response.result != "OK":
            text = self._text(response.lines)
            raise ImapProtocolError(self._safe(f"UID FETCH refused: {text or response.result}"))
        for item in parse_fetch(response.lines):
            if item.uid == uid and item.literal is not None:
                return item.literal
        return None

    # -- waiting ------------------------------------------------------------------------------

    async def wait_for_change(self, timeout: float | None = None) -> bool:
        """IDLE (or wait and NOOP) until the server signals a change, :meth:`wake` is called,
        or ``timeout`` passes; True when new mail may be there (fetch then)."""
        self._require()
        if self.idle_supported:
            return await self._idle(self.idle_renew if timeout is None else timeout)
        return await self._poll(self.poll_interval if timeout is None else timeout)

    async def _idle(self, timeout: float) -> bool:
        client = self._require()
        assert self._lost is not None and self._wake is not None
        queue = client.protocol.idle_queue
        while not queue.empty():  # pushes of an earlier IDLE: the fetch since covered them
            queue.get_nowait()
        if self._wake.is_set():
            self._wake.clear()
            return True
        self._idle_task = await self._cmd("IDLE", client.idle_start(timeout=timeout + 60.0))
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
                        raise ImapClosedError(
                            self._safe(f"{self._where()} ended the session: {bye}")
                        )
                    if signals_new_mail(lines):
                        changed = True
                        break
                if self._lost.is_set():
                    raise ImapClosedError(f"{self._where()} closed the connection")
                if self._wake.is_set():
                    self._wake.clear()
                    changed = True
                    break
        except BaseException:
            await self._end_idle()
            raise
        if not await self._end_idle():
            raise ImapClosedError(f"{self._where()} did not end IDLE")
        return changed

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

    async def _poll(self, timeout: float) -> bool:
        self._require()
        assert self._lost is not None and self._wake is not None
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(self._lost.wait(), self._wake.wait()), timeout)
        self._wake.clear()
        if self._lost.is_set():
            raise ImapClosedError(f"{self._where()} closed the connection")
        return True  # fetch_new's NOOP asks the server; its UID FETCH finds what is new

    # -- the loop -----------------------------------------------------------------------------

    def _backoff(self, failures: int) -> float:
        raw = min(self.backoff_max, self.backoff_base * 2 ** max(0, failures - 1))
        return raw * (0.5 + 0.5 * self.rng())

    def _update(
        self, on_update: Callable[[ImapUpdate], None], status: ImapStatus, new: list[ImapMessage]
    ) -> None:
        self.status = status
        reset, self._reset = self._reset, False
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
                            if new or self._reset:
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

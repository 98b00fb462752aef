"""SMTP inbound for the sandbox (aiosmtpd): mail for leased addresses only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading

from aiosmtpd.smtp import SMTP, Envelope, Session

from tui.sandbox.mail import inbound as mail
from tui.sandbox.state.admin import admin_state
from tui.sandbox.state.store import Store

log = logging.getLogger("tui.sandbox.smtp")

MAX_MESSAGE = 10 * 1024 * 1024
MAX_RECIPIENTS = 100
RECEIVE_BUFFER = 64 * 1024
"""Most distinct recipients one SMTP transaction may name (452 past that)."""


class InboundHandler:
    """aiosmtpd handler: RCPT only for addresses under an active lease; DATA stores the mail.

    Nothing blocking runs on the event loop (its own, see :class:`SmtpThread`): lease
    look-ups and storing (SQLite, Maildir, webhooks queue) run in worker threads (the store is
    thread-safe: one connection opened with ``check_same_thread=False`` behind one lock), and
    parsing runs in a child process (it holds the GIL), so ``/healthz`` and the API stay
    responsive while a 10 MB mail or a 100-recipient mail is processed. A transaction names at
    most :data:`MAX_RECIPIENTS` distinct recipients; a repeated one is accepted once.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        """Where messages go."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept a recipient only when its mailbox has an active, unexpired lease."""
        key = address.strip().lower()
        if any(rcpt.strip().lower() == key for rcpt in envelope.rcpt_tos):
            return "250 OK (duplicate recipient, one copy)"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 Too many recipients (at most {MAX_RECIPIENTS} per message)"
        reply = await asyncio.to_thread(self._check_rcpt, envelope.mail_from or "", address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    def _check_rcpt(self, sender: str, address: str) -> str:
        """The RCPT reply for ``address`` (blocking: runs in a worker thread)."""
        mailbox = self.store.mailbox_by_address(address)
        if mailbox is None or mailbox.lease_id is None:
            return "550 5.1.1 Mailbox unavailable: no active lease for this address"
        if refusal := self._denied(sender.rpartition("@")[2], mailbox.tenant_id, address):
            return refusal
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store one message row per accepted recipient, off the event loop."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        rcpts = list(envelope.rcpt_tos)
        return await asyncio.to_thread(self._deliver, envelope.mail_from or None, rcpts, raw)

    def _deliver(self, mail_from: str | None, rcpts: list[str], raw: bytes) -> str:
        """Parse ``raw`` once and store it for each recipient (blocking: a worker thread)."""
        parsed = mail.parse_isolated(self.store, raw, mail_from)  # in a child process
        first = self.store.mailbox_by_address(rcpts[0]) if rcpts else None
        tenant_id = first.tenant_id if first else None
        if refusal := self._denied(parsed.headers.sender_domain, tenant_id, ", ".join(rcpts)):
            return refusal
        stored = mail.deliver_all(self.store, rcpts, raw, envelope_from=mail_from, parsed=parsed)
        for rcpt in rcpts:
            if rcpt not in stored:
                log.info("sandbox smtp: lease of %s ended before DATA", rcpt)
        if not stored:
            return "550 5.1.1 No recipient has an active lease any more"
        return "250 Message accepted for delivery"

    def _denied(self, domain: str, tenant_id: str | None, rcpt: str) -> str | None:
        """The SMTP refusal when a ``domain_denylist`` policy names the sender's domain.

        Each refusal is recorded as a risk event of the recipient's tenant.
        """
        state = admin_state(self.store)
        hit = state.denied_domain(domain)
        if hit is None:
            return None
        detail = f"sender domain {domain.lower()} (denylist {hit}) refused for {rcpt}"
        state.risk(tenant_id, "medium", "domain_denylist.hit", detail)
        return "550 5.7.1 Sender domain is denied by policy"


async def start_smtp(store: Store, sock: socket.socket) -> asyncio.AbstractServer:
    """Serve SMTP on an already bound socket, in the running event loop."""
    handler = InboundHandler(store)
    loop = asyncio.get_running_loop()
    # aiosmtpd reads DATA line by line on the event loop and does not yield while whole lines
    # are buffered: a small receive buffer (inherited by accepted sockets) keeps each
    # uninterrupted stretch short (~64 KiB of lines) while a 10 MB mail streams in.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname="sandbox.mailagents.test",
            ident="mailagents-sandbox ESMTP",
            data_size_limit=MAX_MESSAGE,
            enable_SMTPUTF8=True,
            decode_data=False,
        )

    return await loop.create_server(factory, sock=sock)


class SmtpThread:
    """The SMTP server on its own event loop, in its own thread.

    aiosmtpd reads DATA line by line in Python on its loop and, at the end of a message, walks
    every line again: for a 10 MB mail that is a long stretch without a pause. On the HTTP
    API's loop it would delay every request; on this loop it only shares the GIL, which the
    interpreter hands over every few milliseconds.
    """

    def __init__(self, store: Store, sock: socket.socket) -> None:
        self.store = store
        """Where messages go."""
        self.sock = sock
        """The bound SMTP socket (owned by the caller)."""
        self.error: BaseException | None = None
        """Why the server could not start, if it could not."""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._run, name="mailagents-sandbox-smtp", daemon=True
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; return once connections are accepted (raises if it cannot)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the SMTP server did not start in time")
        if self.error is not None:
            raise RuntimeError(f"the SMTP server failed to start: {self.error!r}")

    def stop(self, timeout: float = 3.0) -> None:
        """Stop serving and wait for the thread (deliveries in progress finish first)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start()
            self.error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await start_smtp(self.store, self.sock)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

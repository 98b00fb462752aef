"""Run the sandbox: in a background thread (tests, ``mailagents-tui --sandbox``) or the foreground.

``SandboxServer`` binds its sockets itself before starting uvicorn, so ``port=0`` gives a free
port that is known before the first request (and the SIWE ``URI`` line can carry it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

import uvicorn

from tui.jsontypes import JsonObject
from tui.sandbox.config import SandboxConfig
from tui.sandbox.http.app import SandboxService, create_app
from tui.sandbox.mail import inbound as mail
from tui.sandbox.mail.maildir import Maildirs
from tui.sandbox.sockets import bind_tcp
from tui.sandbox.state.messages import MessageListener
from tui.sandbox.state.sends import OutboxEntry
from tui.sandbox.state.store import Store

if TYPE_CHECKING:
    from tui.sandbox.mail.dovecot import DovecotServer

START_TIMEOUT_S = 10.0

log = logging.getLogger("tui.sandbox")

# Keep uvicorn's and aiosmtpd's records away from Python's stderr "last resort" handler when
# nothing configured logging (the TUI process); they still propagate to configured handlers.
for _name in ("uvicorn.error", "mail.log"):
    if not logging.getLogger(_name).handlers:
        logging.getLogger(_name).addHandler(logging.NullHandler())


def _bind(host: str, port: int) -> socket.socket:
    return bind_tcp(host, port)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (the ``fast`` extra), else asyncio's.

    ``MAILAGENTS_SANDBOX_UVLOOP=0`` keeps asyncio's loop.
    """
    if os.environ.get("MAILAGENTS_SANDBOX_UVLOOP", "1") == "0":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _Server(uvicorn.Server):
    """uvicorn's server with a main loop that wakes at once when asked to stop."""

    wake: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Fast path when idle: uvicorn's own shutdown always sleeps 0.1 s to let connections
        # drain, which adds up over hundreds of short-lived test servers.
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()

    def request_exit(self) -> None:
        """Thread-safe: make the main loop notice ``should_exit`` now."""
        self.should_exit = True
        loop, wake = self.loop, self.wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(wake.set)


class SandboxServer:
    """The sandbox HTTP API (and SMTP when ``config.smtp_port`` is set) in a background thread.

    Every inbound message is also written to a Maildir per address (:attr:`maildirs`); with
    ``config.imap_port`` set and Dovecot installed, a private Dovecot serves them over IMAP on
    loopback (:attr:`imap_port`, :attr:`imap_note`).

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, config: SandboxConfig | None = None, store: Store | None = None) -> None:
        self.config = config or SandboxConfig()
        """The configuration (``port`` / ``smtp_port`` stay as given; see the properties)."""
        self.store = store or Store(self.config.db_path)
        """The sandbox state (created from ``config.db_path`` unless given)."""
        self._own_store = store is None
        self.store.parser = self.config.parser
        self.app = create_app(self.config, self.store)
        """The Starlette app."""
        self.service: SandboxService = self.app.state.sandbox
        """The request handlers (config, store, bound port)."""
        self.port: int | None = None
        """The bound HTTP port, once started."""
        self.smtp_port: int | None = None
        """The bound SMTP port, once started (None when SMTP is off)."""
        self.imap_port: int | None = None
        """The IMAP port of the private Dovecot, once started (None when IMAP is off)."""
        self.imap_note: str = "IMAP off"
        """One line about IMAP for humans: ``IMAP on 127.0.0.1:N`` or why it is off."""
        self.maildirs: Maildirs | None = None
        """The per-address Maildirs inbound mail is written to, once started."""
        self.dovecot: DovecotServer | None = None
        """The :class:`tui.sandbox.mail.dovecot.DovecotServer`, while IMAP is on."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._smtp_ready = threading.Event()
        self._temp_mail_dir: str | None = None
        self._temp_cleanup: weakref.finalize[[str, bool], SandboxServer] | None = None
        self._mail_listener: MessageListener | None = None

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>`` of the running API."""
        if self.port is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://{_url_host(self.config.host)}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, http_sock: socket.socket | None = None) -> SandboxServer:
        """Bind, start serving in a thread, and return once connections are accepted.

        ``http_sock``: a listening socket bound already (``config.port`` is then unused).
        """
        if self._thread is not None:
            raise RuntimeError("the sandbox is already started")
        if http_sock is None:
            http_sock = _bind(self.config.host, self.config.port)
        smtp_sock = None
        try:
            if self.config.smtp_port is not None:
                smtp_sock = _bind(self.config.host, self.config.smtp_port)
        except OSError:
            http_sock.close()
            raise
        self.port = http_sock.getsockname()[1]
        self.service.port = self.port
        self.smtp_port = smtp_sock.getsockname()[1] if smtp_sock else None
        try:
            self._start_mail()
        except BaseException:
            http_sock.close()
            if smtp_sock is not None:
                smtp_sock.close()
            self._stop_mail()
            raise
        uv_config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=5,
            server_header=False,
        )
        self._server = _Server(uv_config)
        self._thread = threading.Thread(
            target=self._run, args=(http_sock, smtp_sock), name="mailagents-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self._server.started and (smtp_sock is None or self._smtp_ready.is_set())):
            if self._error is not None or not self._thread.is_alive():
                self._thread.join(1)
                self._stop_mail()
                raise RuntimeError(f"the sandbox failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox did not start in time")
            time.sleep(0.005)
        return self

    def _mail_paths(self) -> tuple[Path, Path | None]:
        """The Maildir root and Dovecot's state folder (None: temporary)."""
        cfg = self.config
        db_dir = None
        if cfg.db_path != ":memory:" and not cfg.db_path.startswith("file:"):
            db_dir = Path(cfg.db_path).resolve().parent
        if cfg.mail_dir:
            root = Path(cfg.mail_dir)
        elif db_dir is not None:
            root = db_dir / "maildir"
        else:
            root = self._new_temp_mail_dir()
        return root, (db_dir / "imap" if db_dir is not None else None)

    def _new_temp_mail_dir(self) -> Path:
        """A fresh temporary Maildir root, removed by :meth:`stop` (or at interpreter exit)."""
        self._remove_temp_mail_dir()
        self._temp_mail_dir = tempfile.mkdtemp(prefix="mailagents-maildir-")
        self._temp_cleanup = weakref.finalize(self, shutil.rmtree, self._temp_mail_dir, True)
        return Path(self._temp_mail_dir) / "maildir"

    def _remove_temp_mail_dir(self) -> None:
        cleanup, self._temp_cleanup = self._temp_cleanup, None
        if cleanup is not None:
            cleanup()
        self._temp_mail_dir = None

    def _start_mail(self) -> None:
        """Maildir delivery for every inbound message, then Dovecot when IMAP is asked for."""
        root, state_root = self._mail_paths()
        replay = False
        if self.config.imap_port is not None:
            root, replay = self._start_dovecot(root, state_root)
        self.maildirs = Maildirs.open(root)
        if replay:
            for row in self.store.inbound_messages():
                with contextlib.suppress(ValueError, OSError):
                    self.maildirs.deliver(
                        row.address, bytes(row.raw), received_s=row.received_ms / 1000
                    )
        self._mail_listener = self.maildirs.listener(self.store)
        self.store.add_message_listener(self._mail_listener)

    def _start_dovecot(self, root: Path, state_root: Path | None) -> tuple[Path, bool]:
        """Start Dovecot over ``root``; return the Maildir root used and whether to refill it."""
        from tui.sandbox.mail.dovecot import (
            DovecotError,
            DovecotServer,
            Identity,
            find_dovecot,
            unreachable_folder,
        )

        if find_dovecot() is None:
            self.imap_note = "IMAP off: Dovecot is not installed (Debian package dovecot-imapd)"
            log.warning("sandbox: %s", self.imap_note)
            return root, False
        replay = False
        try:
            identity = Identity.detect()
            blocked = unreachable_folder(root, identity)
            if blocked is not None:
                # As root, Dovecot reads mail as the dovecot user, who cannot get past
                # ``blocked`` (e.g. /root): serve a temporary replica rebuilt from the database.
                log.info("sandbox: %s is closed to Dovecot; Maildirs in a temporary dir", blocked)
                root, replay = self._new_temp_mail_dir(), True
            dovecot = DovecotServer(
                maildir_root=root,
                state_root=state_root,
                users=self.store.active_credentials,
                host=self.config.host,
                port=self.config.imap_port or 0,
                identity=identity,
            )
            if self._temp_mail_dir is not None:
                dovecot.cleanup_paths.append(Path(self._temp_mail_dir))
            port = dovecot.start()
        except (DovecotError, OSError) as exc:
            self.imap_note = f"IMAP off: {exc}"
            log.warning("sandbox: %s", self.imap_note)
            return root, replay
        self.dovecot = dovecot
        self.imap_port = port
        self.store.add_lease_listener(dovecot.sync)
        self.service.imap = {"host": dovecot.host, "port": port, "security": "plain"}
        self.imap_note = f"IMAP on {dovecot.host}:{port} (plaintext, loopback only)"
        return root, replay

    def _stop_mail(self) -> None:
        dovecot, self.dovecot = self.dovecot, None
        if dovecot is not None:
            self.store.remove_lease_listener(dovecot.sync)
            self.service.imap = None
            try:
                dovecot.stop()
            except Exception:  # stopping must go on (store, temp dirs)
                log.exception("sandbox: stopping dovecot failed")
        if self._mail_listener is not None:
            self.store.remove_message_listener(self._mail_listener)
            self._mail_listener = None
        self._remove_temp_mail_dir()

    def _run(self, http_sock: socket.socket, smtp_sock: socket.socket | None) -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._serve(http_sock, smtp_sock))
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            http_sock.close()
            if smtp_sock is not None:
                smtp_sock.close()

    async def _serve(self, http_sock: socket.socket, smtp_sock: socket.socket | None) -> None:
        assert self._server is not None
        smtp = None
        if smtp_sock is not None:
            from tui.sandbox.mail.smtp import SmtpThread

            smtp = SmtpThread(self.store, smtp_sock)  # its own loop: never delays this one
            await asyncio.to_thread(smtp.start)
            self._smtp_ready.set()
        try:
            await self._server.serve(sockets=[http_sock])
        finally:
            if smtp is not None:
                await asyncio.to_thread(smtp.stop)

    def deliver(self, address: str, raw: bytes, *, require_active_lease: bool = True) -> JsonObject:
        """Store raw RFC 5322 bytes for ``address`` in-process (as SMTP would)."""
        return mail.deliver(self.store, address, raw, require_active_lease=require_active_lease)

    def wait_webhooks_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no webhook delivery is queued or running; False on timeout.

        Deliveries are queued synchronously when a message is stored, so after an SMTP
        ``sendmail`` (or an HTTP call) returns, this waits for exactly the work it caused.
        """
        return self.service.webhooks.wait_idle(timeout)

    def outbox(self, tenant_id: str | None = None) -> list[OutboxEntry]:
        """Messages sent to recipients the sandbox kept (``recipient``, ``sender``, ``raw``...)."""
        return self.store.outbox(tenant_id)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the thread (forcing the exit after ``timeout``)."""
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(2.0)
            self._thread = None
        self._stop_mail()
        self.service.close()
        if self._own_store:
            with contextlib.suppress(Exception):
                self.store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    config: SandboxConfig, on_ready: Callable[[SandboxServer], None] | None = None
) -> None:
    """Run the sandbox in the foreground until Ctrl-C or SIGTERM, then stop it cleanly."""
    server = SandboxServer(config).start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        if on_ready is not None:
            on_ready(server)
        while not stop.is_set() and server.running:
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

"""Run the sandbox: in a background thread (tests, ``mailagents-tui --sandbox``) or the foreground.

``SandboxServer`` binds its sockets itself before starting uvicorn, so ``port=0`` gives a free
port that is known before the first request (and the SIWE ``URI`` line can carry it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from tui.sandbox import mail
from tui.sandbox.app import SandboxService, create_app
from tui.sandbox.config import SandboxConfig
from tui.sandbox.store import Store

START_TIMEOUT_S = 10.0

# Keep uvicorn's and aiosmtpd's records away from Python's stderr "last resort" handler when
# nothing configured logging (the TUI process); they still propagate to configured handlers.
for _name in ("uvicorn.error", "mail.log"):
    if not logging.getLogger(_name).handlers:
        logging.getLogger(_name).addHandler(logging.NullHandler())


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # is TCP, and without it every keep-alive response waits ~40 ms (Nagle + delayed ACK).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


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

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, config: SandboxConfig | None = None, store: Store | None = None) -> None:
        self.config = config or SandboxConfig()
        """The configuration (``port`` / ``smtp_port`` stay as given; see the properties)."""
        self.store = store or Store(self.config.db_path)
        """The sandbox state (created from ``config.db_path`` unless given)."""
        self._own_store = store is None
        self.app = create_app(self.config, self.store)
        """The Starlette app."""
        self.service: SandboxService = self.app.state.sandbox
        """The request handlers (config, store, bound port)."""
        self.port: int | None = None
        """The bound HTTP port, once started."""
        self.smtp_port: int | None = None
        """The bound SMTP port, once started (None when SMTP is off)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._smtp_ready = threading.Event()

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

    def start(self) -> SandboxServer:
        """Bind, start serving in a thread, and return once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already started")
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
                raise RuntimeError(f"the sandbox failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox did not start in time")
            time.sleep(0.005)
        return self

    def _run(self, http_sock: socket.socket, smtp_sock: socket.socket | None) -> None:
        try:
            asyncio.run(self._serve(http_sock, smtp_sock))
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            http_sock.close()
            if smtp_sock is not None:
                smtp_sock.close()

    async def _serve(self, http_sock: socket.socket, smtp_sock: socket.socket | None) -> None:
        assert self._server is not None
        smtp_server = None
        if smtp_sock is not None:
            from tui.sandbox.smtp import start_smtp

            smtp_server = await start_smtp(self.store, smtp_sock)
            self._smtp_ready.set()
        try:
            await self._server.serve(sockets=[http_sock])
        finally:
            if smtp_server is not None:
                smtp_server.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(smtp_server.wait_closed(), 1.0)

    def deliver(
        self, address: str, raw: bytes, *, require_active_lease: bool = True
    ) -> dict[str, Any]:
        """Store raw RFC 5322 bytes for ``address`` in-process (as SMTP would)."""
        return mail.deliver(self.store, address, raw, require_active_lease=require_active_lease)

    def wait_webhooks_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no webhook delivery is queued or running; False on timeout.

        Deliveries are queued synchronously when a message is stored, so after an SMTP
        ``sendmail`` (or an HTTP call) returns, this waits for exactly the work it caused.
        """
        return self.service.webhooks.wait_idle(timeout)

    def outbox(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
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

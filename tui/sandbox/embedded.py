"""The sandbox of ``mailagents-tui --sandbox``: its address now, the service after the first frame.

Building the sandbox (the HTTP stack's imports, SQLite, the parser child, Dovecot) takes longer
than Textual's first frame, so the TUI must not wait for it. :class:`DeferredSandbox` binds the
HTTP port at once (the API base is known and connections queue in the listen backlog), and
:meth:`DeferredSandbox.start` builds and runs the server later, in a thread. A request sent in
between waits in the backlog and is answered once the server runs; if the start fails, the
port is closed and the request fails with a connection error.

Light on purpose (no server imports until ``start``): this module is on the TUI's start path.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

from tui.sandbox.sockets import bind_tcp

if TYPE_CHECKING:
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.runner import SandboxServer


class DeferredSandbox:
    """A sandbox whose HTTP port is bound now and whose server starts on :meth:`start`.

    Quacks like the parts of :class:`~tui.sandbox.runner.SandboxServer` the TUI uses
    (``base_url``, ``smtp_port``, ``stop``), plus ``ready``, ``error``, :meth:`wait_ready` and
    :meth:`start_in_background`.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        """The configuration (its ``port`` is the one bound here)."""
        self._sock: socket.socket | None = bind_tcp(config.host, config.port)
        self.port: int = self._sock.getsockname()[1]
        """The bound HTTP port."""
        host = config.host if ":" not in config.host else f"[{config.host.strip('[]')}]"
        self.base_url = f"http://{host}:{self.port}"
        """``http://<host>:<port>``, known before the server runs."""
        self.server: SandboxServer | None = None
        """The running server, once started."""
        self.error: BaseException | None = None
        """Why the start failed, if it did."""
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def ready(self) -> bool:
        """True once the start is over (running, or failed: see ``error``)."""
        return self._ready.is_set()

    @property
    def smtp_port(self) -> int | None:
        """The SMTP inbound port, once running (None before, or with SMTP off)."""
        return self.server.smtp_port if self.server is not None else None

    @property
    def imap_note(self) -> str:
        """The running server's line about IMAP (``starting`` before)."""
        return self.server.imap_note if self.server is not None else "starting"

    def start(self) -> None:
        """Build and start the server (once; later calls wait for the first)."""
        with self._lock:
            if self._ready.is_set():
                return
            if self._stopped:
                self._ready.set()
                return
            try:
                from tui.sandbox.runner import SandboxServer

                server = SandboxServer(self.config)
                assert self._sock is not None
                sock, self._sock = self._sock, None
                server.start(http_sock=sock)  # closes the socket when it fails
                self.server = server
            except BaseException as exc:
                self.error = exc
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
            finally:
                self._ready.set()

    def start_in_background(self) -> None:
        """:meth:`start` in a daemon thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.start, name="mailagents-sandbox-start", daemon=True
            )
            self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for the start to be over; True when the server runs."""
        self._ready.wait(timeout)
        return self.server is not None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (after a start under way), or just close the port."""
        self._stopped = True
        if self._thread is not None:
            self._thread.join(timeout + 10.0)
        with self._lock:
            if self.server is not None:
                self.server.stop(timeout)
                self.server = None
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            self._ready.set()  # nobody waits for a start that will not come

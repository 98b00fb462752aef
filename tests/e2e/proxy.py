"""A loopback HTTP proxy for e2e tests that can hold back the answer to one kind of request.

The request reaches the server (which acts on it); its answer is read and then kept until
:meth:`HoldingProxy.let_go` or :meth:`HoldingProxy.close`: the client waits as if the
network were slow, and can be killed meanwhile.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


class HoldingProxy:
    """Forwards every request to ``upstream``; holds the answers of ``hold`` once each."""

    def __init__(self, upstream: str, hold: tuple[str, str]) -> None:
        self.upstream = urlsplit(upstream)
        self.hold = hold
        """(method, path) whose answer is held back (the first time only)."""
        self.held = threading.Event()
        """Set once such a request has reached the server and its answer is being held."""
        self._release = threading.Event()
        self._done = False
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                if proxy.should_hold(self.command, self.path):
                    proxy.held.set()
                    proxy._release.wait()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client killed mid-answer is what these tests do

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def should_hold(self, method: str, path: str) -> bool:
        """The first request matching :attr:`hold` is held."""
        with self._lock:
            if self._done or (method, path.split("?")[0]) != self.hold:
                return False
            self._done = True
            return True

    def let_go(self) -> None:
        """Send the held answer on."""
        self._release.set()

    def close(self) -> None:
        """Stop serving (letting any held answer go first)."""
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

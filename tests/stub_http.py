"""A tiny loopback HTTP stub answering crafted replies (what the sandbox never sends)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]


def json_reply(status: int, data: Any, **headers: str) -> Reply:
    """A JSON reply."""
    return status, {"content-type": "application/json", **headers}, json.dumps(data).encode()


class StubServer:
    """Answers ``routes[(method, path)]`` (query ignored), 404 otherwise; records requests.

    ``with StubServer({("GET", "/v2/x"): json_reply(200, {})}) as stub: stub.base_url``.
    """

    def __init__(self, routes: dict[tuple[str, str], Reply]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                stub.requests.append((self.command, path))
                status, headers, body = stub.routes.get(
                    (self.command, path), json_reply(404, {"error": "not_found", "message": "?"})
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

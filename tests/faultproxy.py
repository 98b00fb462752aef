"""A real loopback HTTP proxy in front of the sandbox that injects scripted faults.

    proxy = FaultProxy(sandbox.base_url).start()
    proxy.inject("GET", "/v2/messages", Fault.status(503), Fault.drop(), Fault.truncate())
    ... point the client (or the installed command) at proxy.base_url ...
    proxy.stop()

Every request whose method and path match a rule takes that rule's next fault; requests that
match nothing (or whose rule has run out of faults) go to the upstream unchanged. Faults:
an answer of the proxy's own (status, body, content type, ``Retry-After``), a dropped
connection, a 200 whose JSON body is cut in half (valid HTTP framing), a stall of N seconds
before forwarding, or a hold: the request reaches the upstream (which acts on it) and its
answer is kept until :meth:`FaultProxy.let_go` or :meth:`FaultProxy.stop`, so a client can be
killed while it waits. It runs in daemon threads, so it serves a test that blocks on a
subprocess as well as one that runs an app in its own event loop.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour (build them with the class methods)."""

    kind: str
    """``reply``, ``drop``, ``truncate``, ``stall`` or ``hold``."""
    code: int = 200
    """Status of a ``reply``."""
    body: bytes = b""
    """Body of a ``reply``."""
    content_type: str = "application/json"
    """Content type of a ``reply``."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers of a ``reply``."""
    seconds: float = 0.0
    """How long a ``stall`` holds the request before forwarding it."""

    @classmethod
    def status(
        cls, code: int, error: str | None = None, message: str = "", **headers: str
    ) -> Fault:
        """A JSON error envelope with this status (``Retry_After="1"`` adds a header)."""
        envelope = {"error": error or {503: "unavailable"}.get(code, "error"), "message": message}
        return cls(
            "reply",
            code=code,
            body=json.dumps(envelope).encode(),
            headers=tuple((k.replace("_", "-"), v) for k, v in headers.items()),
        )

    @classmethod
    def html(cls, code: int = 500) -> Fault:
        """An HTML page where JSON was expected (a proxy's or load balancer's error page)."""
        page = b"<html><head><title>Error</title></head><body><h1>Oops</h1></body></html>"
        return cls("reply", code=code, body=page, content_type="text/html; charset=utf-8")

    @classmethod
    def limited(cls, retry_after: float) -> Fault:
        """429 ``rate_limited`` with ``Retry-After``."""
        return cls.status(429, "rate_limited", "slow down", Retry_After=f"{retry_after:g}")

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def truncate(cls) -> Fault:
        """Forward, then answer with the first half of the upstream's body (framed as such)."""
        return cls("truncate")

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Hold the request ``seconds``, then forward it."""
        return cls("stall", seconds=seconds)

    @classmethod
    def hold(cls) -> Fault:
        """Forward, then keep the answer until ``let_go()`` or ``stop()`` (sets ``held``)."""
        return cls("hold")

    def describe(self) -> str:
        """A short name for the log."""
        if self.kind == "reply":
            return f"{self.code} {self.content_type.split(';')[0]}"
        if self.kind == "stall":
            return f"stall {self.seconds:g}s"
        return self.kind


@dataclass
class Rule:
    """Faults for requests of one method and path (query ignored)."""

    method: str
    """HTTP method."""
    path: str
    """Exact path."""
    faults: deque[Fault] = field(default_factory=deque)
    """Still to inject, in order."""


class FaultProxy:
    """The proxy (see the module docstring)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        """Upstream host."""
        self.upstream_port = parts.port or 80
        """Upstream port."""
        self.rules: list[Rule] = []
        """Scripted faults."""
        self.hits: Counter[tuple[str, str]] = Counter()
        """Requests seen per (method, path)."""
        self.log: list[tuple[str, str, str]] = []
        """(method, path, what happened) of every request, in order."""
        self.held = threading.Event()
        """Set once a ``hold`` fault's request has reached the upstream."""
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def inject(self, method: str, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests of ``method path``."""
        with self._lock:
            for rule in self.rules:
                if rule.method == method and rule.path == path:
                    rule.faults.extend(faults)
                    return
            self.rules.append(Rule(method, path, deque(faults)))

    def pending(self) -> int:
        """Faults not injected yet."""
        with self._lock:
            return sum(len(rule.faults) for rule in self.rules)

    def injected(self) -> list[str]:
        """What was injected so far, in order."""
        with self._lock:
            return [what for _m, _p, what in self.log if what != "forwarded"]

    def start(self) -> FaultProxy:
        """Listen on a free loopback port."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client killed while it waits is what some tests do

        server = Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def let_go(self) -> None:
        """Send held answers on."""
        self._release.set()

    def stop(self) -> None:
        """Stop listening (letting any held answer go first)."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    def _next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            self.hits[(method, path)] += 1
            for rule in self.rules:
                if rule.method == method and rule.path == path and rule.faults:
                    return rule.faults.popleft()
        return None

    def _record(self, method: str, path: str, what: str) -> None:
        with self._lock:
            self.log.append((method, path, what))

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._next_fault(method, path)
        self._record(method, path, fault.describe() if fault else "forwarded")
        if fault is not None and fault.kind == "drop":
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "reply":
            headers = [("content-type", fault.content_type), *fault.headers]
            self._answer(handler, fault.code, headers, fault.body)
            return
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.seconds)
        status, headers, answer = self._forward(handler, method, body)
        if fault is not None and fault.kind == "truncate":
            answer = answer[: max(1, len(answer) // 2)]
        if fault is not None and fault.kind == "hold":
            self.held.set()
            self._release.wait()
        self._answer(handler, status, headers, answer)

    def _forward(
        self, handler: BaseHTTPRequestHandler, method: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, handler.path, body=body or None, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, answer
        finally:
            conn.close()

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        handler.send_response(status)
        for key, value in headers:
            if key.lower() not in ("server", "date"):
                handler.send_header(key, value)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

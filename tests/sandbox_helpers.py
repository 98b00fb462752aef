"""Helpers for tests (and benchmarks) that talk to a running sandbox: sign in, sessions, proofs,
a webhook receiver, an SMTP sink, a settable clock. Test code: it is not part of the package."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tui.limits import encode_defunct
from tui.sandbox.http.tokens import sign_proof

_ssl_context: Any = None


def _verify() -> Any:
    """One shared default SSL context: building one costs ~25 ms per httpx client."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def sign_message(account: Any, message: str) -> str:
    """EIP-191 ``personal_sign`` of ``message`` by an eth-account ``LocalAccount``, ``0x`` hex."""
    signature = account.sign_message(encode_defunct(message)).signature.hex()
    return signature if signature.startswith("0x") else "0x" + signature


def sign_in(base_url: str, account: Any, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """Full SIWE flow (challenge, sign, verify); return the verify JSON (raises on non-2xx)."""
    own = client is None
    http = client or httpx.Client(base_url=base_url, timeout=10, verify=_verify())
    try:
        challenge = http.post(
            f"{base_url}/v2/auth/siwe/challenge", json={"wallet_address": account.address}
        )
        challenge.raise_for_status()
        message = challenge.json()["message"]
        verify = http.post(
            f"{base_url}/v2/auth/siwe/verify",
            json={"message": message, "signature": sign_message(account, message)},
        )
        verify.raise_for_status()
        return dict(verify.json())
    finally:
        if own:
            http.close()


def mint_proof(secret: str, method: str, path: str, t: int | None = None) -> str:
    """An ``x-payment-proof`` value for ``METHOD path`` at unix time ``t`` (default now)."""
    return sign_proof(secret, method.upper(), path, int(time.time()) if t is None else t)


class FakeClock:
    """A settable clock for ``Store(clock=...)``: starts at the real time, moves on demand."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        """Current time in seconds since the epoch."""

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class Session:
    """A signed-in tenant: an httpx client with the Bearer token and the verify fields."""

    def __init__(self, base_url: str, account: Any, *, login: dict[str, Any] | None = None) -> None:
        self.account = account
        """The eth-account ``LocalAccount`` (None for a tenant made by :func:`unbound_tenant`)."""
        self.http = httpx.Client(base_url=base_url, timeout=10, verify=_verify())
        """The underlying client (base URL set)."""
        self.login: dict[str, Any] = (
            login if login is not None else sign_in(base_url, account, client=self.http)
        )
        """The verify response (or the given ``login``)."""
        self.token: str = self.login["access_token"]
        """The access token."""
        self.agent_id: str = self.login["agent_id"]
        """The agent id."""
        self.tenant_id: str = self.login["tenant_id"]
        """The tenant id."""
        self.http.headers["authorization"] = f"Bearer {self.token}"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """Authenticated GET."""
        return self.http.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """Authenticated POST."""
        return self.http.post(path, **kwargs)

    def allocate(self, purpose: str = "test", ttl_hours: int = 1, **kwargs: Any) -> httpx.Response:
        """``POST /v2/mailboxes/leases`` for this session's agent."""
        body = {"agent_id": self.agent_id, "purpose": purpose, "ttl_hours": ttl_hours}
        return self.post("/v2/mailboxes/leases", json=body, **kwargs)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

    def send(self, mailbox_id: str, password: str, to: Any, **fields: Any) -> httpx.Response:
        """``POST /v2/messages/send`` (``subject`` and ``text`` default to small values)."""
        headers = fields.pop("headers", None)
        body = {
            "mailbox_id": mailbox_id,
            "mailbox_password": password,
            "to": to,
            "subject": "hello",
            "text": "hi",
            **fields,
        }
        return self.post("/v2/messages/send", json=body, headers=headers)


def unbound_tenant(server: Any) -> dict[str, Any]:
    """Create a tenant without a wallet identity through ``POST /internal/tenants``.

    Returns the verify-style JSON (``access_token``, ``tenant_id``, ``agent_id``, ``did: null``,
    ``addresses``). Pass it as ``Session(server.base_url, None, login=...)``.
    """
    response = httpx.post(
        f"{server.base_url}/internal/tenants",
        headers={"x-internal-token": server.config.internal_token},
        json={},
        timeout=10,
        verify=_verify(),
    )
    response.raise_for_status()
    return dict(response.json())


def webhook_signature(secret: str, timestamp: str | int, body: bytes | str) -> str:
    """Hex ``HMAC-SHA256(secret, "<timestamp>.<raw body>")`` (what ``v1=`` must equal)."""
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    return hmac.new(secret.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()


@dataclass
class ReceivedRequest:
    """One POST a :class:`WebhookReceiver` got."""

    path: str
    """Request path."""
    headers: dict[str, str]
    """Headers, lowercase names."""
    body: bytes
    """Raw body."""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A tiny HTTP server on loopback (own thread) that records POSTs.

    ``statuses`` are answered in turn (the last one repeats); default 200. Use as a context
    manager; ``url`` is its address.
    """

    statuses: list[int] = field(default_factory=lambda: [200])
    """Status codes to answer, in order."""
    reply: bytes = b"ok"
    """Response body."""
    requests: list[ReceivedRequest] = field(default_factory=list)
    """What arrived."""

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    n = len(receiver.requests)
                status = receiver.statuses[min(n, len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/hook``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SmtpSink:
    """An aiosmtpd server on loopback that keeps every message (a relay target for tests).

    ``refuse`` lists recipients answered ``550`` at RCPT. Runs its own event loop thread on
    a pre-bound free port. Use as a context manager.
    """

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[dict[str, Any]] = []
        """``{"mail_from", "rcpt_tos", "data"}`` per accepted message."""
        self.refuse = {r.lower() for r in refuse}
        """Recipients refused at RCPT."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None

    @property
    def hostport(self) -> str:
        """``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self._sock.getsockname()[1]}"

    def _handler(self) -> Any:
        sink = self

        class Handler:
            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if address.lower() in sink.refuse:
                    return "550 5.1.1 No such user here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(
                    {
                        "mail_from": envelope.mail_from,
                        "rcpt_tos": list(envelope.rcpt_tos),
                        "data": envelope.original_content or envelope.content,
                    }
                )
                return "250 2.0.0 Ok: queued as SINK1"

        return Handler()

    def __enter__(self) -> SmtpSink:
        from aiosmtpd.smtp import SMTP

        handler = self._handler()
        self._thread.start()

        async def serve() -> Any:
            return await asyncio.get_running_loop().create_server(
                lambda: SMTP(handler, hostname="sink.test", decode_data=False), sock=self._sock
            )

        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self._sock.close()

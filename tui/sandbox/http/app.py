"""The sandbox's HTTP API: the tenant-facing mailagents v2 surface, as an ASGI (Starlette) app.

Routing is the table of :mod:`tui.sandbox.http.routes` (``(method, regex, handler)``) rather
than Starlette routes so that the wire behaviour matches the reference server exactly: no
automatic HEAD, no 405 and no slash redirects (an unknown route or method is ``404 not_found
"Route not found"``), ids may be empty (``400 "<name> is required"``).
:class:`SandboxService` is what every handler gets as ``svc``: the config, the store and the
shared steps (body, bearer auth, free limits, metering).
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import NoReturn

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from tui import limits
from tui.jsontypes import JsonObject
from tui.sandbox.config import SandboxConfig
from tui.sandbox.http.admin import AdminApi
from tui.sandbox.http.errors import ApiError, bad_request, json_response, not_found
from tui.sandbox.http.routes import ROUTES, Handler
from tui.sandbox.http.tokens import verify_proof
from tui.sandbox.http.values import has_lone_surrogate
from tui.sandbox.mail.webhooks import WebhookDispatcher, current_request_id
from tui.sandbox.state.store import Store

log = logging.getLogger("tui.sandbox")

MAX_BODY = 1024 * 1024
VERIFIED_TOKENS_MAX = 4096
"""Tokens whose signature was checked, remembered (cleared when full)."""
ROUTE_CACHE_MAX = 4096
"""Method and path pairs whose route was found, remembered (cleared when full)."""


@dataclass
class Auth:
    """The verified token context of a request."""

    tenant_id: str
    """The token's tenant."""
    agent_id: str
    """The token's agent."""
    wallet_bound: bool = True
    """False for a tenant without a wallet identity (the send cooldown applies)."""
    tenant_created_ms: int = 0
    """When the tenant was created."""


@dataclass
class Access:
    """Outcome of the free-limit check of a protected endpoint."""

    paid: bool
    """True when a limit applied and a valid proof paid for the request."""


class SandboxService:
    """What every handler gets as ``svc``: the config, the store, the webhook dispatcher, the
    operator API, and the steps handlers share (body, auth, access, meter). ``create_app``
    wraps it in Starlette; it dispatches each request through :data:`routes.ROUTES`."""

    def __init__(self, config: SandboxConfig, store: Store) -> None:
        self.config = config
        """The configuration."""
        self.store = store
        """The state."""
        self.port: int = config.port
        """The bound HTTP port (set by the runner when ``config.port`` is 0)."""
        self.imap: JsonObject | None = None
        """Sandbox-only runtime hint ``{host, port, security}`` while the private IMAP runs."""
        self._routes = [(method, re.compile(path), handler) for method, path, handler in ROUTES]
        self.webhooks = WebhookDispatcher(config, store)
        """Background webhook deliveries of new messages."""
        store.add_message_listener(self.webhooks.on_message)
        self.admin = AdminApi(config, store, self.webhooks, self.body)
        """The operator API ``/v2/admin/*``."""
        self._verified_tokens: dict[str, JsonObject] = {}
        self._route_cache: dict[tuple[str, str], tuple[Handler | None, tuple[str, ...]]] = {}

    def close(self) -> None:
        """Stop webhook deliveries (queued ones are dropped) and detach from the store."""
        self.store.remove_message_listener(self.webhooks.on_message)
        self.admin.close()
        self.webhooks.close()

    @property
    def siwe_uri(self) -> str:
        """``URI:`` line of challenges."""
        if self.config.siwe_uri:
            return self.config.siwe_uri
        host = self.config.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def now_s(self) -> float:
        """The store clock in seconds."""
        return self.store.clock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point for every HTTP request."""
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except ApiError as exc:
            response = json_response(
                exc.status, {"error": exc.error, "message": exc.message, **exc.extra}
            )
        except Exception:
            log.exception("sandbox: unexpected error on %s %s", request.method, request.url.path)
            response = json_response(
                500, {"error": "internal_error", "message": "Unexpected server error"}
            )
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        """Find the handler of a request (or answer 404 / 410)."""
        path = request.url.path
        if path == "/v1" or path.startswith("/v1/"):
            raise ApiError(410, "gone", "v1 endpoints are deprecated; use v2")
        if path.startswith("/v2/admin/"):
            return await self.admin.dispatch(request)
        key = (request.method, path)
        found = self._route_cache.get(key)
        if found is None:
            found = self._route(*key)
            if len(path) <= 200:  # a hostile client's long paths are not kept
                if len(self._route_cache) >= ROUTE_CACHE_MAX:
                    self._route_cache.clear()
                self._route_cache[key] = found
        handler, groups = found
        if handler is None:
            raise not_found("Route not found")
        return await handler(self, request, *groups)

    def _route(self, method: str, path: str) -> tuple[Handler | None, tuple[str, ...]]:
        """The first route that matches (remembered per method and path by ``dispatch``)."""
        for route_method, pattern, handler in self._routes:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                return handler, match.groups()
        return None, ()

    async def body(self, request: Request) -> JsonObject:
        """The JSON body as an object: empty means ``{}``; a non-object counts as ``{}`` too."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise ApiError(413, "payload_too_large", "Request body exceeds 1 MiB")
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            return {}

        def no_constants(name: str) -> NoReturn:
            raise ValueError(name)

        try:
            value = limits.loads(raw.decode("utf-8"), parse_constant=no_constants)
        except limits.JsonTooDeepError:
            raise bad_request(f"JSON nested deeper than {limits.MAX_JSON_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError):
            raise bad_request("Invalid JSON") from None
        if b"\\u" in raw and has_lone_surrogate(value):
            # "\ud800" decodes to a str no handler can encode (UTF-8, SQLite, headers).
            raise bad_request("Invalid JSON: a string holds a lone UTF-16 surrogate")
        # A JSON null, array, string or number carries none of the fields: each endpoint then
        # answers its own "... is required" 400 (the reference answers null with a 500).
        return value if isinstance(value, dict) else {}

    def auth(self, request: Request) -> Auth:
        """Verify the Bearer token and the tenant/agent context (401 / 403 as in the contract)."""
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(401, "unauthorized", "Unauthorized")
        token = header[len("Bearer ") :].strip()
        if not token:
            raise ApiError(401, "unauthorized", "Unauthorized")
        if len(token.split(".")) != 3:
            raise ApiError(401, "unauthorized", "Invalid token")
        payload = self._verified_tokens.get(token)
        if payload is None:
            payload = self._verify_token(token)
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= self.now_s():
            raise ApiError(401, "unauthorized", "Token expired")
        tenant_id, agent_id = payload.get("tenant_id"), payload.get("agent_id")
        ctx = None
        if isinstance(tenant_id, str) and isinstance(agent_id, str):
            ctx = self.store.tenant_context(tenant_id, agent_id)
        if ctx is None:
            raise ApiError(403, "forbidden", "Tenant/agent context not found")
        if ctx.tenant_status != "active":
            raise ApiError(403, "tenant_inactive", f"Tenant is {ctx.tenant_status}")
        if ctx.agent_status != "active":
            raise ApiError(403, "agent_inactive", f"Agent is {ctx.agent_status}")
        return Auth(
            tenant_id=str(tenant_id),
            agent_id=str(agent_id),
            wallet_bound=bool(ctx.wallet_bound),
            tenant_created_ms=int(ctx.tenant_created_ms),
        )

    def _verify_token(self, token: str) -> JsonObject:
        """The payload of a token whose HS256 signature is ours (401 otherwise), remembered:
        the signature of a given token string never changes, so it is checked once (the
        expiry and the tenant's status are checked on every request)."""
        try:
            payload = jwt.decode(
                token,
                self.config.jwt_secret,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError):
            raise ApiError(401, "unauthorized", "Invalid signature") from None
        except jwt.PyJWTError:
            raise ApiError(401, "unauthorized", "Invalid token") from None
        if not isinstance(payload, dict):
            raise ApiError(401, "unauthorized", "Invalid token")
        if len(self._verified_tokens) >= VERIFIED_TOKENS_MAX:
            self._verified_tokens.clear()
        self._verified_tokens[token] = payload
        return payload

    def access(self, request: Request, auth: Auth, *, allocate: bool = False) -> Access:
        """Free-limit check of a protected endpoint; 402 unless no limit applies or paid."""
        cfg = self.config
        now_ms = self.store.now_ms()
        reasons: list[JsonObject] = []
        qps = self.admin.state.effective_qps(auth.tenant_id, cfg.tenant_qps)
        if qps > 0 and self.store.recent_usage_count(auth.tenant_id, now_ms - 999, qps) >= qps:
            reasons.append({"code": "tenant_qps", "limit": qps, "window": "1s"})
        if (
            allocate
            and cfg.allocate_hourly_limit > 0
            and self.store.allocations_since(auth.agent_id, now_ms - 3_599_999)
            >= cfg.allocate_hourly_limit
        ):
            limit = cfg.allocate_hourly_limit
            reasons.append({"code": "agent_allocate_hourly", "limit": limit, "window": "1h"})
        if not reasons:
            return Access(paid=False)
        if verify_proof(
            cfg.hmac_secret,
            request.headers.get("x-payment-proof"),
            request.method,
            request.url.path,
            self.now_s(),
            cfg.hmac_skew_s,
        ):
            return Access(paid=True)
        self.admin.limit_hit(auth.tenant_id, reasons)
        raise ApiError(
            402,
            "payment_required",
            "Free limit reached; payment is required to continue",
            amount_usdc=cfg.overage_charge_usdc,
            reasons=reasons,
        )

    def meter(self, auth: Auth, endpoint: str, access: Access | None = None) -> None:
        """Record usage after a success, and charge the overage when the request was paid."""
        paid = bool(access and access.paid)
        self.store.record_usage(auth.tenant_id, auth.agent_id, endpoint, paid)
        if paid:
            self.store.charge(auth.tenant_id, round(self.config.overage_charge_usdc * 1_000_000))

    def new_password(self) -> str:
        """A fresh random 24-character base64url webmail password."""
        return secrets.token_urlsafe(18)


class RequestIdMiddleware:
    """Adds a fresh ``x-request-id`` (UUID v4) to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4()).encode()

        async def send_with_id(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id))
                message = {**message, "headers": headers}
            await send(message)

        token = current_request_id.set(request_id.decode())
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


def create_app(config: SandboxConfig, store: Store | None = None) -> Starlette:
    """Build the sandbox ASGI app. ``app.state.sandbox`` is the :class:`SandboxService`."""
    from starlette.middleware import Middleware

    service = SandboxService(config, store or Store(config.db_path))
    app = Starlette(
        routes=[Route("/{path:path}", service)],
        middleware=[Middleware(RequestIdMiddleware)],
    )
    app.state.sandbox = service
    return app

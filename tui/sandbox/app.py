"""The sandbox's HTTP API: the tenant-facing mailagents v2 surface, as an ASGI (Starlette) app.

Routing is a small table of ``(method, regex)`` rather than Starlette routes so that the wire
behaviour matches the reference server exactly: no automatic HEAD, no 405 and no slash
redirects (an unknown route or method is ``404 not_found "Route not found"``), ids may be
empty (``400 "<name> is required"``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from tui import limits
from tui.auth import siwe
from tui.limits import encode_defunct, eth_account_class
from tui.sandbox.admin import AdminApi
from tui.sandbox.config import SandboxConfig
from tui.sandbox.mail import inbound as mail
from tui.sandbox.mail import outbound as send
from tui.sandbox.mail.webhooks import EVENT_TYPES, WebhookDispatcher, current_request_id
from tui.sandbox.state.db import Challenge
from tui.sandbox.state.leases import Lease
from tui.sandbox.state.messages import Message
from tui.sandbox.state.sends import SendAttempt, SendOutcome
from tui.sandbox.state.store import Store
from tui.sandbox.state.tenants import AddressTakenError
from tui.sandbox.state.usage import period_bounds
from tui.sandbox.state.webhooks import Delivery, Webhook

log = logging.getLogger("tui.sandbox")

MAX_BODY = 1024 * 1024
VERIFIED_TOKENS_MAX = 4096
"""Tokens whose signature was checked, remembered (cleared when full)."""
ROUTE_CACHE_MAX = 4096
"""Method and path pairs whose route was found, remembered (cleared when full)."""
SCOPES = ["mail:allocate", "mail:read", "mail:send", "webhook:write", "billing:read"]
PROOF_TARGETS = (
    "POST /v2/mailboxes/leases",
    "GET /v2/messages",
    "POST /v2/messages/send",
    "POST /v2/webhooks",
)
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_LIMIT_RE = re.compile(r"^\s*[0-9]+\s*$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
_JSON_CT = "application/json; charset=utf-8"
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")
SEND_REQUIRED = "mailbox_id, to, subject, mailbox_password, and text or html are required"
COOLDOWN_MESSAGE = "新帳號 24 小時內最多發送 10 封，請先綁定錢包以解除限制。"  # noqa: RUF001


class ApiError(Exception):
    """An error answered with the contract's envelope ``{"error", "message", ...extra}``."""

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        """HTTP status code."""
        self.error = error
        """Machine-readable code."""
        self.message = message
        """Human-readable text."""
        self.extra = extra
        """Extra body fields (402: ``amount_usdc``, ``reasons``)."""


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string (or key) anywhere in a parsed JSON value holds a lone surrogate.

    Iterative: the value's depth is already bounded, but no recursion is needed anyway.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _found(
    fetch: Callable[[str, str], Any], tenant_id: str, value: str, name: str, missing: str
) -> Any:
    """A path id's row of the tenant: 400 ``<name> is required`` when empty, 404 when unknown
    or another tenant's (the contract never says 403)."""
    if not value.strip():
        raise _bad_request(f"{name} is required")
    row = fetch(tenant_id, value.strip())
    if row is None:
        raise _not_found(missing)
    return row


def _not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def json_response(status: int, body: Any) -> Response:
    """A compact JSON response with the contract's content type."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(data, status_code=status, headers={"content-type": _JSON_CT})


def iso(ms: int | None) -> str | None:
    """ISO-8601 UTC with milliseconds, or None."""
    if ms is None:
        return None
    return _iso_ms(ms)


@functools.lru_cache(maxsize=16384)
def _iso_ms(ms: int) -> str:
    # every listing formats the same receipt times again: remembered
    return siwe.iso_millis(datetime.fromtimestamp(ms / 1000, UTC))


def usdc(micro: int) -> int | float:
    """Micro-USDC as a JSON number rounded to 6 decimals (integral values as integers)."""
    value = round(micro / 1_000_000, 6)
    return int(value) if value.is_integer() else value


def parse_iso(text: str) -> int | None:
    """Milliseconds of an ISO-8601 date or date-time (naive = UTC), or None if unparseable."""
    value = text.strip()
    # An unencoded "+" in a query string arrives as a space: "...T01:02:00 01:00".
    value = re.sub(r"(?<=\d) (\d\d:?\d\d)$", r"+\1", value)
    if not value or not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def sign_proof(secret: str, method: str, path: str, t: int) -> str:
    """``t=<t>,v1=<hex>`` with ``hex = HMAC-SHA256(secret, "METHOD\\nPATH\\nt")``."""
    digest = hmac.new(
        secret.encode(), f"{method}\n{path}\n{t}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={t},v1={digest}"


def verify_proof(
    secret: str, header: str | None, method: str, path: str, now_s: float, skew_s: int
) -> bool:
    """Check an ``x-payment-proof`` value (any problem gives False)."""
    raw = (header or "").strip()
    if not raw:
        return False
    parts: dict[str, str] = {}
    for item in raw.split(","):
        kv = item.strip().split("=")
        if len(kv) == 2:
            parts[kv[0].strip()] = kv[1].strip()
    t_text, sig = parts.get("t", ""), parts.get("v1", "")
    if not re.fullmatch(r"-?[0-9]+", t_text) or not sig or not _HEX_RE.match(sig):
        return False
    t = int(t_text)
    if abs(int(now_s) - t) > skew_s:
        return False
    expected = sign_proof(secret, method, path, t).split("v1=", 1)[1]
    return hmac.compare_digest(sig.lower().encode(), expected.encode())


def issue_token(
    config: SandboxConfig, tenant_id: str, agent_id: str, did: str | None, now_s: float
) -> dict[str, Any]:
    """An HS256 access token and the verify-style fields that go with it."""
    iat = int(now_s)
    payload = {
        "tenant_id": tenant_id,
        "agent_id": agent_id,
        "did": did,
        "scopes": list(SCOPES),
        "iat": iat,
        "exp": iat + int(config.token_ttl_s),
    }
    token = jwt.encode(payload, config.jwt_secret, algorithm="HS256")
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(config.token_ttl_s),
        "did": did,
        "tenant_id": tenant_id,
        "agent_id": agent_id,
    }


def new_unbound_tenant(config: SandboxConfig, store: Store) -> dict[str, Any]:
    """Create a tenant without a wallet identity (send cooldown applies); return its token.

    The result has the verify fields (``did`` is null) plus ``wallet_bound: false`` and the
    tenant's 5 mailbox ``addresses``.
    """
    tenant_id, agent_id = store.create_unbound_tenant(config.mailbox_domain)
    result = issue_token(config, tenant_id, agent_id, None, store.clock())
    result["wallet_bound"] = False
    result["addresses"] = sorted(r.address for r in store.accounts(tenant_id))
    return result


def _cooldown_window(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds)}s"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _recipients(value: Any) -> list[str]:
    """``to`` as one string (never split on commas) or a list (trimmed, blanks dropped)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [x.strip() for x in value if isinstance(x, str) and x.strip()]
    return []


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
    """Request handlers sharing one config and store; ``create_app`` wraps it in Starlette."""

    def __init__(self, config: SandboxConfig, store: Store) -> None:
        self.config = config
        """The configuration."""
        self.store = store
        """The state."""
        self.port: int = config.port
        """The bound HTTP port (set by the runner when ``config.port`` is 0)."""
        self.imap: dict[str, Any] | None = None
        """Sandbox-only runtime hint ``{host, port, security}`` while the private IMAP runs."""
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Awaitable[Response]]]] = [
            ("GET", re.compile(r"/healthz"), self.healthz),
            ("GET", re.compile(r"/v2/meta/runtime"), self.runtime),
            ("POST", re.compile(r"/v2/auth/siwe/challenge"), self.siwe_challenge),
            ("POST", re.compile(r"/v2/auth/siwe/verify"), self.siwe_verify),
            ("POST", re.compile(r"/v2/payments/proof"), self.payment_proof),
            ("GET", re.compile(r"/v2/mailboxes/accounts"), self.list_accounts),
            (
                "POST",
                re.compile(r"/v2/mailboxes/accounts/(.*)/credentials/reset"),
                self.reset_credentials,
            ),
            ("GET", re.compile(r"/v2/mailboxes/leases"), self.list_leases),
            ("POST", re.compile(r"/v2/mailboxes/leases"), self.allocate),
            ("POST", re.compile(r"/v2/mailboxes/leases/(.*)/release"), self.release),
            ("GET", re.compile(r"/v2/mailboxes/leases/(.*)"), self.get_lease),
            ("GET", re.compile(r"/v2/messages"), self.list_messages),
            ("POST", re.compile(r"/v2/messages/send"), self.send_message),
            ("GET", re.compile(r"/v2/messages/(.*)"), self.get_message),
            ("GET", re.compile(r"/v2/send-attempts"), self.list_send_attempts),
            ("GET", re.compile(r"/v2/send-attempts/([^/]*)"), self.get_send_attempt),
            ("POST", re.compile(r"/v2/webhooks"), self.create_webhook),
            ("GET", re.compile(r"/v2/webhooks"), self.list_webhooks),
            ("GET", re.compile(r"/v2/webhooks/deliveries"), self.list_deliveries),
            ("GET", re.compile(r"/v2/webhooks/deliveries/([^/]*)"), self.get_delivery),
            ("POST", re.compile(r"/v2/webhooks/([^/]*)/rotate-secret"), self.rotate_webhook_secret),
            ("GET", re.compile(r"/v2/webhooks/([^/]*)"), self.get_webhook),
            ("GET", re.compile(r"/v2/usage/summary"), self.usage_summary),
            ("GET", re.compile(r"/v2/billing/invoices"), self.list_invoices),
            ("GET", re.compile(r"/v2/billing/invoices/(.*)"), self.get_invoice),
            ("POST", re.compile(r"/internal/inbound/events"), self.inbound_event),
            ("POST", re.compile(r"/internal/tenants"), self.internal_new_tenant),
        ]
        self.webhooks = WebhookDispatcher(config, store)
        """Background webhook deliveries of new messages."""
        store.add_message_listener(self.webhooks.on_message)
        self.admin = AdminApi(config, store, self.webhooks, self.body)
        self._verified_tokens: dict[str, dict[str, Any]] = {}
        self._route_cache: dict[
            tuple[str, str], tuple[Callable[..., Awaitable[Response]] | None, tuple[str, ...]]
        ] = {}
        """The operator API ``/v2/admin/*``."""

    def close(self) -> None:
        """Stop webhook deliveries (queued ones are dropped) and detach from the store."""
        self.store.remove_message_listener(self.webhooks.on_message)
        self.admin.close()
        self.webhooks.close()

    # -- plumbing -------------------------------------------------------------------------

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
            raise _not_found("Route not found")
        return await handler(request, *groups)

    def _route(
        self, method: str, path: str
    ) -> tuple[Callable[..., Awaitable[Response]] | None, tuple[str, ...]]:
        """The first route that matches (remembered per method and path by ``dispatch``)."""
        for route_method, pattern, handler in self._routes:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                return handler, match.groups()
        return None, ()

    async def body(self, request: Request) -> dict[str, Any]:
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

        def no_constants(name: str) -> Any:
            raise ValueError(name)

        try:
            value = limits.loads(raw.decode("utf-8"), parse_constant=no_constants)
        except limits.JsonTooDeepError:
            raise _bad_request(f"JSON nested deeper than {limits.MAX_JSON_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError):
            raise _bad_request("Invalid JSON") from None
        if b"\\u" in raw and _has_lone_surrogate(value):
            # "\ud800" decodes to a str no handler can encode (UTF-8, SQLite, headers).
            raise _bad_request("Invalid JSON: a string holds a lone UTF-16 surrogate")
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

    def _verify_token(self, token: str) -> dict[str, Any]:
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
        reasons: list[dict[str, Any]] = []
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

    # -- public ---------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        """``GET /healthz``."""
        return json_response(200, {"status": "ok", "service": "agent-mail-cloud"})

    async def runtime(self, request: Request) -> Response:
        """``GET /v2/meta/runtime``."""
        cfg = self.config
        return json_response(
            200,
            {
                "siwe_mode": "strict",
                "payment_mode": "hmac",
                "base_chain_id": cfg.chain_id,
                "chain_name": cfg.chain_name,
                "chain_hex": cfg.chain_hex,
                "chain_rpc_urls": cfg.chain_rpc_urls,
                "chain_explorer_urls": cfg.chain_explorer_urls,
                "mailbox_domain": cfg.mailbox_domain,
                "overage_charge_usdc": cfg.overage_charge_usdc,
                "agent_allocate_hourly_limit": cfg.allocate_hourly_limit,
                "webmail_url": cfg.webmail_url,
                "auth": {"browser_wallet_required": True},
                # Sandbox-only hint (not in the live contract; clients ignore unknown fields).
                **({"imap": dict(self.imap)} if self.imap else {}),
            },
        )

    # -- SIWE -----------------------------------------------------------------------------

    async def siwe_challenge(self, request: Request) -> Response:
        """``POST /v2/auth/siwe/challenge``."""
        body = await self.body(request)
        wallet = body.get("wallet_address")
        if not isinstance(wallet, str) or not wallet.strip():
            raise _bad_request("wallet_address is required")
        wallet = wallet.strip()
        if not _ADDRESS_RE.match(wallet) or not siwe.is_checksum_address(wallet):
            raise _bad_request("invalid wallet_address")
        from eth_utils import to_checksum_address  # lazy: slow to import

        nonce = secrets.token_hex(12)
        now_ms = self.store.now_ms()
        message = siwe.SiweMessage(
            domain=self.config.effective_siwe_domain,
            address=to_checksum_address(wallet),
            statement=self.config.siwe_statement,
            uri=self.siwe_uri,
            version="1",
            chain_id=self.config.chain_id,
            nonce=nonce,
            issued_at=iso(now_ms) or "",
        ).to_text()
        expires_ms = now_ms + int(self.config.challenge_ttl_s * 1000)
        self.store.put_challenge(wallet, Challenge(nonce, message, expires_ms))
        return json_response(200, {"nonce": nonce, "message": message})

    async def siwe_verify(self, request: Request) -> Response:
        """``POST /v2/auth/siwe/verify``: checks in the contract's order, then a JWT."""
        body = await self.body(request)
        message, signature = body.get("message"), body.get("signature")
        if (
            not isinstance(message, str)
            or not message
            or not isinstance(signature, str)
            or (not signature)
        ):
            raise _bad_request("message and signature are required")
        try:
            parsed = siwe.parse(message)
        except siwe.SiweError:
            raise _bad_request("invalid SIWE message") from None
        challenge = self.store.live_challenge(parsed.address)
        if challenge is None or challenge.nonce != parsed.nonce or challenge.message != message:
            raise ApiError(401, "unauthorized", "challenge mismatch or expired")
        if not self._signature_ok(message, signature, parsed):
            raise ApiError(401, "unauthorized", "invalid SIWE signature")
        if parsed.chain_id != self.config.chain_id:
            raise ApiError(401, "unauthorized", "chain_id mismatch")
        if not self.store.consume_challenge(parsed.address, parsed.nonce):
            raise ApiError(401, "unauthorized", "challenge mismatch or expired")
        wallet = parsed.address.lower()
        did = f"did:pkh:eip155:{self.config.chain_id}:{wallet}"
        try:
            tenant_id, agent_id, _created = self.store.tenant_for_wallet(
                wallet, did, self.config.mailbox_domain
            )
        except AddressTakenError:
            raise ApiError(
                409, "conflict", "Another wallet already owns this wallet's mailbox addresses"
            ) from None
        return json_response(200, issue_token(self.config, tenant_id, agent_id, did, self.now_s()))

    def _signature_ok(self, message: str, signature: str, parsed: siwe.SiweMessage) -> bool:
        if not signature.startswith("0x") or not _HEX_RE.match(signature[2:]):
            return False
        if parsed.domain != self.config.effective_siwe_domain:
            return False
        try:  # eth-account is slow to import: loaded on the first verify, recursion limit kept
            recovered = eth_account_class().recover_message(
                encode_defunct(message), signature=signature
            )
        except Exception:
            return False
        return str(recovered).lower() == parsed.address.lower()

    # -- payments -------------------------------------------------------------------------

    async def payment_proof(self, request: Request) -> Response:
        """``POST /v2/payments/proof``: sign a proof for one of the 4 protected targets."""
        self.auth(request)
        body = await self.body(request)
        method = body.get("method")
        path = body.get("path")
        method = method.strip().upper() if isinstance(method, str) else ""
        path = path.strip() if isinstance(path, str) else ""
        if not method or not path:
            raise _bad_request("method and path are required")
        if f"{method} {path}" not in PROOF_TARGETS:
            raise _bad_request("unsupported payment proof target")
        t = int(self.now_s())
        return json_response(
            200,
            {
                "x_payment_proof": sign_proof(self.config.hmac_secret, method, path, t),
                "method": method,
                "path": path,
                "amount_usdc": self.config.overage_charge_usdc,
                "expires_at": iso((t + self.config.hmac_skew_s) * 1000),
            },
        )

    # -- mailboxes and leases -------------------------------------------------------------

    @staticmethod
    def _lease(row: Lease) -> dict[str, Any]:
        return {
            "lease_id": row.lease_id,
            "mailbox_id": row.mailbox_id,
            "account_id": row.mailbox_id,
            "address": row.address,
            "agent_id": row.agent_id,
            "purpose": row.purpose,
            "lease_status": row.lease_status,
            "started_at": iso(row.started_ms),
            "expires_at": iso(row.expires_ms),
            "released_at": iso(row.released_ms),
        }

    async def allocate(self, request: Request) -> Response:
        """``POST /v2/mailboxes/leases`` (protected)."""
        auth = self.auth(request)
        body = await self.body(request)
        agent_id, purpose, ttl = body.get("agent_id"), body.get("purpose"), body.get("ttl_hours")
        agent_text = agent_id if isinstance(agent_id, str) else ("" if not agent_id else "?")
        purpose_text = purpose.strip() if isinstance(purpose, str) else ""
        if not agent_text or not purpose_text or ttl is None:
            raise _bad_request("agent_id, purpose, ttl_hours are required")
        if agent_text != auth.agent_id:
            raise ApiError(403, "forbidden", "agent_id does not match token")
        valid_number = (isinstance(ttl, int) and not isinstance(ttl, bool)) or (
            isinstance(ttl, float) and ttl.is_integer()
        )
        if not valid_number or not 1 <= ttl <= 720:
            raise _bad_request("ttl_hours must be 1..720")
        access = self.access(request, auth, allocate=True)
        if refusal := self.admin.check_allocation(auth.tenant_id, auth.agent_id):
            raise ApiError(409, "mailbox_limit_reached", refusal)
        password = self.new_password()
        ttl_ms = int(int(ttl) * self.config.ttl_unit_s * 1000)
        row = self.store.allocate(auth.tenant_id, auth.agent_id, purpose_text, ttl_ms, password)
        if row is None:
            raise ApiError(409, "no_available_mailbox", "No available mailbox for current tenant")
        self.meter(auth, "POST /v2/mailboxes/leases", access)
        self.admin.tenant_event(auth.tenant_id, auth.agent_id, "mailbox.allocate", row.mailbox_id)
        if self.config.demo_on_allocate and self.store.lease_count(auth.tenant_id) == 1:
            loop = asyncio.get_running_loop()
            loop.call_later(  # delivered in a worker thread: parsing and fsync stay off the loop
                self.config.demo_delay_s,
                loop.run_in_executor,
                None,
                self.deliver_demo,
                row.address,
            )
        return json_response(
            201,
            {
                "lease_id": row.lease_id,
                "mailbox_id": row.mailbox_id,
                "account_id": row.mailbox_id,
                "address": row.address,
                "lease_status": row.lease_status,
                "expires_at": iso(row.expires_ms),
                "webmail_login": row.address,
                "webmail_password": password,
                "webmail_url": self.config.webmail_url,
            },
        )

    async def list_leases(self, request: Request) -> Response:
        """``GET /v2/mailboxes/leases``: active leases only."""
        auth = self.auth(request)
        items = [self._lease(r) for r in self.store.active_leases(auth.tenant_id)]
        return json_response(200, {"items": items})

    async def get_lease(self, request: Request, lease_id: str) -> Response:
        """``GET /v2/mailboxes/leases/{lease_id}``: any of the tenant's leases."""
        auth = self.auth(request)
        row = _found(self.store.get_lease, auth.tenant_id, lease_id, "lease_id", "Lease not found")
        return json_response(200, self._lease(row))

    async def release(self, request: Request, lease_id: str) -> Response:
        """``POST /v2/mailboxes/leases/{lease_id}/release``: 202, idempotent, body ignored."""
        auth = self.auth(request)
        row = self.store.release(auth.tenant_id, lease_id)
        if row is None:
            raise _not_found("Lease not found")
        self.meter(auth, "POST /v2/mailboxes/leases/{lease_id}/release")
        self.admin.tenant_event(auth.tenant_id, auth.agent_id, "mailbox.release", row.mailbox_id)
        return json_response(
            202,
            {"lease_id": row.id, "mailbox_id": row.mailbox_id, "lease_status": row.status},
        )

    async def list_accounts(self, request: Request) -> Response:
        """``GET /v2/mailboxes/accounts``: the tenant's 5 mailboxes."""
        auth = self.auth(request)
        items = [
            {
                "account_id": r.mailbox_id,
                "mailbox_id": r.mailbox_id,
                "address": r.address,
                "account_status": "active" if r.status == "leased" else r.status,
                "lease_status": r.lease_status,
                "lease_id": r.lease_id,
                "lease_expires_at": iso(r.expires_ms),
                "provider_ref": r.provider_ref,
                "updated_at": iso(r.updated_ms),
            }
            for r in self.store.accounts(auth.tenant_id)
        ]
        return json_response(200, {"items": items})

    async def reset_credentials(self, request: Request, account_id: str) -> Response:
        """``POST /v2/mailboxes/accounts/{account_id}/credentials/reset``: a new password."""
        auth = self.auth(request)
        mailbox = self.store.mailbox(auth.tenant_id, account_id)
        password = self.new_password()
        if mailbox is None or not self.store.set_password(auth.tenant_id, account_id, password):
            raise _not_found("Mailbox not found")
        self.meter(auth, "POST /v2/mailboxes/accounts/{account_id}/credentials/reset")
        return json_response(
            200,
            {
                "account_id": mailbox.mailbox_id,
                "mailbox_id": mailbox.mailbox_id,
                "address": mailbox.address,
                "webmail_login": mailbox.address,
                "webmail_password": password,
                "webmail_url": self.config.webmail_url,
            },
        )

    def deliver_demo(self, address: str) -> int:
        """Deliver the sample verification mails to a leased address; return how many."""
        count = 0
        for raw in mail.demo_messages(address):
            try:
                mail.deliver(self.store, address, raw)
                count += 1
            except mail.NoActiveLeaseError:
                break
            except Exception:  # a demo must never break the server
                log.exception("sandbox: demo delivery to %s failed", address)
                break
        return count

    # -- messages -------------------------------------------------------------------------

    @staticmethod
    def _message(row: Message, *, detail: bool) -> dict[str, Any]:
        status = row.parsed_status
        item: dict[str, Any] = {"message_id": row.id}
        if detail:
            item["mailbox_id"] = row.mailbox_id
        item.update(
            {
                "sender": row.sender,
                "sender_domain": row.sender_domain,
                "subject": row.subject,
                "raw_ref": row.raw_ref if detail else None,
                "received_at": iso(row.received_ms),
                "otp_code": row.otp_code,
                "verification_link": row.verification_link,
                # Contract quirk (§5.1): the list reports a failed parse as "pending".
                "parsed_status": status if detail or status != "failed" else "pending",
            }
        )
        return item

    async def list_messages(self, request: Request) -> Response:
        """``GET /v2/messages?mailbox_id=&since=&limit=`` (protected)."""
        auth = self.auth(request)
        access = self.access(request, auth)
        params = request.query_params
        mailbox_id = params.get("mailbox_id", "")
        if not mailbox_id:
            raise _bad_request("mailbox_id is required")
        limit_raw = params.get("limit", "")
        limit = 20
        if limit_raw:
            if not _LIMIT_RE.match(limit_raw) or not 1 <= int(limit_raw) <= 100:
                raise _bad_request("limit must be 1..100")
            limit = int(limit_raw)
        since_raw = params.get("since", "")
        since_ms = None
        if since_raw:
            since_ms = parse_iso(since_raw)
            if since_ms is None:
                raise _bad_request("since must be an ISO-8601 date-time")
        if self.store.mailbox(auth.tenant_id, mailbox_id) is None:
            raise _not_found("Mailbox not found")
        rows = self.store.list_messages(auth.tenant_id, mailbox_id, since_ms, limit)
        self.meter(auth, "GET /v2/messages", access)
        return json_response(200, {"items": [self._message(r, detail=False) for r in rows]})

    async def get_message(self, request: Request, message_id: str) -> Response:
        """``GET /v2/messages/{message_id}``."""
        auth = self.auth(request)
        row = _found(
            self.store.message, auth.tenant_id, message_id, "message_id", "Message not found"
        )
        return json_response(200, self._message(row, detail=True))

    # -- send -----------------------------------------------------------------------------

    def check_cooldown(self, auth: Auth) -> None:
        """429 ``cooldown_limit`` for a young tenant without a wallet past its free sends."""
        cfg = self.config
        if auth.wallet_bound or cfg.send_cooldown_limit <= 0:
            return
        if self.store.now_ms() - auth.tenant_created_ms > cfg.send_cooldown_s * 1000:
            return
        sent = self.store.successful_sends_since(auth.tenant_id, auth.tenant_created_ms)
        if sent >= cfg.send_cooldown_limit:
            raise ApiError(
                429,
                "cooldown_limit",
                COOLDOWN_MESSAGE,
                limit=cfg.send_cooldown_limit,
                window=_cooldown_window(cfg.send_cooldown_s),
                action="bind_wallet",
            )

    async def send_message(self, request: Request) -> Response:
        """``POST /v2/messages/send`` (protected): deliver, relay or keep in the outbox."""
        auth = self.auth(request)
        access = self.access(request, auth)
        self.check_cooldown(auth)
        body = await self.body(request)
        mailbox_id = _text(body.get("mailbox_id"))
        to = _recipients(body.get("to"))
        subject = _text(body.get("subject"))
        password = _text(body.get("mailbox_password"))
        text, html = body.get("text"), body.get("html")
        text = text if isinstance(text, str) and text.strip() else None
        html = html if isinstance(html, str) and html.strip() else None
        if not mailbox_id or not to or not subject or not password or not (text or html):
            raise _bad_request(SEND_REQUIRED)
        mailbox = self.store.mailbox(auth.tenant_id, mailbox_id)
        if mailbox is None:
            raise _not_found("Mailbox not found")
        attempt_id = self.store.create_send_attempt(
            tenant_id=auth.tenant_id,
            agent_id=auth.agent_id,
            mailbox_id=mailbox_id,
            to=to,
            subject=subject,
            text=text,
            html=html,
        )
        current = self.store.mailbox_password(auth.tenant_id, mailbox_id) or ""
        if not current or not hmac.compare_digest(current.encode(), password.encode()):
            self.store.finish_send_attempt(
                attempt_id,
                SendOutcome(
                    status="failed",
                    accepted=[],
                    rejected=[],
                    message_id=None,
                    response=None,
                    envelope=None,
                    error=send.AUTH_FAILED,
                ),
            )
            raise ApiError(502, "mail_backend_error", send.AUTH_FAILED, send_attempt_id=attempt_id)
        try:
            outcome = await self.transmit(
                attempt_id, auth.tenant_id, mailbox.address, to, subject, text, html
            )
        except Exception as exc:  # never leave a "queued" attempt behind
            self.store.finish_send_attempt(
                attempt_id,
                SendOutcome(
                    status="failed",
                    accepted=[],
                    rejected=[],
                    message_id=None,
                    response=None,
                    envelope=None,
                    error=f"sandbox delivery error: {exc}",
                ),
            )
            raise
        envelope = {"from": mailbox.address, "to": to}
        if not outcome["accepted"]:
            message = f"{send.ALL_REJECTED}: {outcome['error']}"
            self.store.finish_send_attempt(
                attempt_id,
                SendOutcome(
                    status="failed",
                    accepted=[],
                    rejected=outcome["rejected"],
                    message_id=None,
                    response=None,
                    envelope=envelope,
                    error=message,
                ),
            )
            raise ApiError(502, "mail_backend_error", message, send_attempt_id=attempt_id)
        self.store.finish_send_attempt(
            attempt_id,
            SendOutcome(
                status="accepted",
                accepted=outcome["accepted"],
                rejected=outcome["rejected"],
                message_id=outcome["message_id"],
                response=outcome["response"],
                envelope=envelope,
                error=outcome["error"],
            ),
        )
        self.meter(auth, "POST /v2/messages/send", access)
        self.admin.tenant_event(auth.tenant_id, auth.agent_id, "send_attempt.created", attempt_id)
        return json_response(
            202,
            {
                "send_attempt_id": attempt_id,
                "submission_status": "accepted",
                "accepted": outcome["accepted"],
                "rejected": outcome["rejected"],
                "message_id": outcome["message_id"],
                "response": outcome["response"],
            },
        )

    async def transmit(
        self,
        attempt_id: str,
        tenant_id: str,
        sender: str,
        to: list[str],
        subject: str,
        text: str | None,
        html: str | None,
    ) -> dict[str, Any]:
        """Route each recipient: lease (inbound path), relay, or outbox; never raises.

        Returns ``accepted``, ``rejected``, ``message_id``, ``response`` and ``error`` (the
        per-recipient problems joined, or None).
        """
        cfg = self.config
        accepted: list[str] = []
        rejected: list[str] = []
        errors: list[str] = []
        valid: list[str] = []
        for rcpt in to:
            if send.is_addr_spec(rcpt):
                valid.append(rcpt)
            else:
                rejected.append(rcpt)
                errors.append(f"{rcpt}: 553 5.1.3 invalid address syntax")
        message_id = make_msgid(domain=cfg.mailbox_domain)
        if not valid:
            return {
                "accepted": [],
                "rejected": rejected,
                "message_id": None,
                "response": None,
                "error": "; ".join(errors),
            }
        raw = mail.build_mime(
            sender=sender,
            to=", ".join(dict.fromkeys(valid)),
            # a header cannot hold CR/LF (no header injection): fold controls to spaces
            subject=_CONTROLS.sub(" ", subject),
            text=text,
            html=html,
            date=datetime.fromtimestamp(self.now_s(), UTC),
            message_id=message_id,
        )
        external: list[str] = []
        done: set[str] = set()
        parsed: mail.Parsed | None = None
        for rcpt in valid:
            key = rcpt.lower()
            if key in done:  # the same address twice gets one copy
                accepted.append(rcpt)
                continue
            done.add(key)
            target = self.store.mailbox_by_address(rcpt)
            if target is not None and target.lease_id is not None:
                try:
                    if parsed is None:  # once, in a child process (parsing holds the GIL)
                        parsed = await asyncio.to_thread(
                            mail.parse_isolated, self.store, raw, sender
                        )
                    await asyncio.to_thread(
                        mail.deliver, self.store, rcpt, raw, envelope_from=sender, parsed=parsed
                    )
                    accepted.append(rcpt)
                    continue
                except mail.NoActiveLeaseError:
                    pass  # the lease ended meanwhile: keep it like any other address
            domain = rcpt.rsplit("@", 1)[1].lower()
            if cfg.smtp_relay and target is None and domain != cfg.mailbox_domain.lower():
                external.append(rcpt)
                continue
            self.store.add_outbox(attempt_id, tenant_id, sender, rcpt, raw)
            accepted.append(rcpt)
        response = f"250 2.0.0 Ok: queued as {attempt_id.split('-')[0].upper()}"
        if external:
            assert cfg.smtp_relay is not None
            result = await asyncio.to_thread(
                send.relay, cfg.smtp_relay, sender, external, raw, cfg.relay_timeout_s
            )
            accepted.extend(result.accepted)
            rejected.extend(result.rejected)
            if result.error:
                errors.append(result.error)
            if result.response and len(result.accepted) == len(accepted):
                response = result.response  # everything went through the relay
        return {
            "accepted": accepted,
            "rejected": rejected,
            "message_id": message_id if accepted else None,
            "response": response if accepted else None,
            "error": "; ".join(errors) or None,
        }

    @staticmethod
    def _send_attempt(row: SendAttempt) -> dict[str, Any]:
        return {
            "send_attempt_id": row.id,
            "mailbox_id": row.mailbox_id,
            "to": row.to,
            "subject": row.subject,
            "submission_status": row.status,
            "accepted": row.accepted,
            "rejected": row.rejected,
            "message_id": row.message_id,
            "response": row.response,
            "envelope": row.envelope,
            "error": row.error,
            "created_at": iso(row.created_ms),
            "updated_at": iso(row.updated_ms),
        }

    async def list_send_attempts(self, request: Request) -> Response:
        """``GET /v2/send-attempts``: all of the tenant's attempts, newest first."""
        auth = self.auth(request)
        rows = self.store.send_attempts(auth.tenant_id)
        return json_response(200, {"items": [self._send_attempt(r) for r in rows]})

    async def get_send_attempt(self, request: Request, attempt_id: str) -> Response:
        """``GET /v2/send-attempts/{send_attempt_id}``."""
        auth = self.auth(request)
        row = _found(
            self.store.send_attempt,
            auth.tenant_id,
            attempt_id,
            "send_attempt_id",
            "Send attempt not found",
        )
        return json_response(200, self._send_attempt(row))

    # -- webhooks -------------------------------------------------------------------------

    @staticmethod
    def _webhook(row: Webhook) -> dict[str, Any]:
        return {
            "webhook_id": row.id,
            "event_types": row.event_types,
            "target_url": row.target_url,
            "status": row.status,
            "last_delivery_at": iso(row.last_delivery_ms),
            "last_status_code": row.last_status_code,
        }

    @staticmethod
    def _delivery(row: Delivery) -> dict[str, Any]:
        return {
            "webhook_id": row.webhook_id,
            "delivery_id": row.id,
            "status_code": row.status_code,
            "attempts": row.attempts,
            "ok": bool(row.ok),
            "error_message": row.error_message,
            "response_excerpt": row.response_excerpt,
            "request_id": row.request_id,
            "delivered_at": iso(row.delivered_ms),
        }

    async def create_webhook(self, request: Request) -> Response:
        """``POST /v2/webhooks`` (protected)."""
        auth = self.auth(request)
        access = self.access(request, auth)
        body = await self.body(request)
        event_types, target_url, secret = (
            body.get("event_types"),
            body.get("target_url"),
            body.get("secret"),
        )
        if (
            not isinstance(event_types, list)
            or not _text(target_url)
            or not isinstance(secret, str)
            or not secret
        ):
            raise _bad_request("event_types, target_url, secret are required")
        if len(secret) < 16:
            raise _bad_request("secret must have at least 16 chars")
        if any(not isinstance(e, str) or e not in EVENT_TYPES for e in event_types):
            raise _bad_request("event_types contains unsupported values")
        url = _text(target_url)
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise _bad_request("target_url must be an http(s) URL")
        row = self.store.create_webhook(auth.tenant_id, list(event_types), url, secret)
        self.meter(auth, "POST /v2/webhooks", access)
        self.admin.tenant_event(auth.tenant_id, auth.agent_id, "webhook.create", row.id)
        return json_response(201, self._webhook(row))

    async def list_webhooks(self, request: Request) -> Response:
        """``GET /v2/webhooks``: sorted by ``target_url``."""
        auth = self.auth(request)
        rows = self.store.webhooks(auth.tenant_id)
        return json_response(200, {"items": [self._webhook(r) for r in rows]})

    async def get_webhook(self, request: Request, webhook_id: str) -> Response:
        """``GET /v2/webhooks/{webhook_id}``."""
        auth = self.auth(request)
        row = _found(
            self.store.webhook, auth.tenant_id, webhook_id, "webhook_id", "Webhook not found"
        )
        return json_response(200, self._webhook(row))

    async def rotate_webhook_secret(self, request: Request, webhook_id: str) -> Response:
        """``POST /v2/webhooks/{webhook_id}/rotate-secret``: a new 36-hex-char secret."""
        auth = self.auth(request)
        if not webhook_id.strip():
            raise _bad_request("webhook_id is required")
        secret = secrets.token_hex(18)
        if not self.store.rotate_webhook_secret(auth.tenant_id, webhook_id.strip(), secret):
            raise _not_found("Webhook not found")
        return json_response(200, {"webhook_id": webhook_id.strip(), "secret": secret})

    async def list_deliveries(self, request: Request) -> Response:
        """``GET /v2/webhooks/deliveries[?webhook_id=]``: newest first."""
        auth = self.auth(request)
        webhook_id = request.query_params.get("webhook_id", "").strip() or None
        rows = self.store.deliveries(auth.tenant_id, webhook_id)
        return json_response(200, {"items": [self._delivery(r) for r in rows]})

    async def get_delivery(self, request: Request, delivery_id: str) -> Response:
        """``GET /v2/webhooks/deliveries/{delivery_id}``."""
        auth = self.auth(request)
        row = _found(
            self.store.delivery,
            auth.tenant_id,
            delivery_id,
            "delivery_id",
            "Webhook delivery not found",
        )
        return json_response(200, self._delivery(row))

    # -- usage and billing ----------------------------------------------------------------

    async def usage_summary(self, request: Request) -> Response:
        """``GET /v2/usage/summary?period=YYYY-MM``."""
        auth = self.auth(request)
        period = request.query_params.get("period", "")
        if not _PERIOD_RE.match(period):
            raise _bad_request("period must match YYYY-MM")
        summary = self.store.usage_summary(auth.tenant_id, period)
        return json_response(
            200,
            {
                "period": period,
                "usage": {
                    "api_calls": summary.api_calls,
                    "active_mailboxes": self.store.count_active_unexpired(auth.tenant_id),
                    "message_parses": summary.message_parses,
                    "billable_units": summary.api_calls,
                },
            },
        )

    async def list_invoices(self, request: Request) -> Response:
        """``GET /v2/billing/invoices[?period=YYYY-MM]``."""
        auth = self.auth(request)
        period = request.query_params.get("period")
        rows = self.store.invoices(auth.tenant_id, period if period else None)
        items = []
        for row in rows:
            start, end = period_bounds(row.period)
            items.append(
                {
                    "invoice_id": row.id,
                    "period": row.period,
                    "amount_usdc": usdc(row.amount_micro),
                    "status": row.status,
                    "period_start": start,
                    "period_end": end,
                    "settlement_tx_hash": row.settlement_tx_hash,
                }
            )
        return json_response(200, {"items": items})

    async def get_invoice(self, request: Request, invoice_id: str) -> Response:
        """``GET /v2/billing/invoices/{invoice_id}``."""
        auth = self.auth(request)
        row = _found(
            self.store.invoice, auth.tenant_id, invoice_id, "invoice_id", "Invoice not found"
        )
        start, end = period_bounds(row.period)
        return json_response(
            200,
            {
                "invoice_id": row.id,
                "tenant_id": row.tenant_id,
                "period_start": start,
                "period_end": end,
                "amount_usdc": usdc(row.amount_micro),
                "status": row.status,
                "statement_hash": row.statement_hash,
                "settlement_tx_hash": row.settlement_tx_hash,
            },
        )

    # -- internal -------------------------------------------------------------------------

    def internal_auth(self, request: Request) -> None:
        """``x-internal-token`` or ``Authorization: Bearer <internal token>``."""
        if not self.config.internal_token:
            raise ApiError(500, "internal_api_unconfigured", "Internal API token is not configured")
        expected = self.config.internal_token.encode()
        given = request.headers.get("x-internal-token", "")
        header = request.headers.get("authorization", "")
        if not given and header.startswith("Bearer "):
            given = header[len("Bearer ") :].strip()
        if not given or not hmac.compare_digest(given.encode(), expected):
            raise ApiError(401, "unauthorized", "Invalid internal token")

    async def inbound_event(self, request: Request) -> Response:
        """``POST /internal/inbound/events``: how the harness injects mail (§9.1)."""
        self.internal_auth(request)
        body = await self.body(request)

        def text(name: str) -> str:
            value = body.get(name)
            return value.strip() if isinstance(value, str) else ""

        address, sender_domain = text("address").lower(), text("sender_domain").lower()
        if not address or not sender_domain:
            raise _bad_request("address and sender_domain are required")
        received_ms = None
        if text("received_at"):
            received_ms = parse_iso(text("received_at"))
            if received_ms is None:
                raise _bad_request("received_at must be an ISO-8601 date-time")
        mailbox = self.store.mailbox_by_address(address)
        if mailbox is None:
            raise _not_found("Mailbox not found")
        provider_message_id = text("provider_message_id") or None
        if provider_message_id:
            original = self.store.find_duplicate(mailbox.mailbox_id, provider_message_id)
            if original:
                return json_response(
                    202,
                    {
                        "status": "accepted",
                        "deduped": True,
                        "tenant_id": mailbox.tenant_id,
                        "mailbox_id": mailbox.mailbox_id,
                        "message_id": original,
                        "parse_job": None,
                    },
                )
        html = "\n".join(x for x in (text("html_excerpt"), text("html_body")) if x)
        raw = mail.build_mime(
            sender=text("sender").lower(),
            to=address,
            subject=text("subject"),
            text=text("text_excerpt") or None,
            html=html or None,
        )
        parsed = await asyncio.to_thread(mail.parse_isolated, self.store, raw)
        result = await asyncio.to_thread(  # parsing and storing never block the loop
            mail.deliver,
            self.store,
            address,
            raw,
            parsed=parsed,
            require_active_lease=False,
            received_ms=received_ms,
            overrides={
                "sender": text("sender").lower(),
                "sender_domain": sender_domain,
                "subject": text("subject"),
                "raw_ref": text("raw_ref") or None,
                "provider_message_id": provider_message_id,
            },
        )
        return json_response(
            202,
            {
                "status": "accepted",
                "tenant_id": result["tenant_id"],
                "mailbox_id": result["mailbox_id"],
                "message_id": result["message_id"],
                "parse_job": {"job_id": str(uuid.uuid4()), "status": "completed"},
            },
        )

    async def internal_new_tenant(self, request: Request) -> Response:
        """``POST /internal/tenants``: a tenant without a wallet identity, with its token."""
        self.internal_auth(request)
        await self.body(request)
        return json_response(201, new_unbound_tenant(self.config, self.store))


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

"""The sandbox's operator API: ``/v2/admin/*`` with the reference server's shapes and codes.

Every request needs the admin token (``Authorization: Bearer <token>`` or ``x-admin-token``);
unlike the reference, a tenant JWT is never accepted, even without a configured token (the
sandbox always has one). Lists are paged with ``page`` (>= 1) and ``page_size`` (1..200, 20 by
default) and answer ``{items, page, page_size, total}``. Every action is audited as
``system:admin-token`` with the request's id. See ``docs/admin-api.md``.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from tui.auth import siwe
from tui.jsontypes import JsonObject, JsonValue
from tui.sandbox.config import SandboxConfig
from tui.sandbox.mail import inbound as mail
from tui.sandbox.mail.webhooks import WebhookDispatcher, current_request_id
from tui.sandbox.state.admin import (
    POLICY_ACTIONS,
    POLICY_TYPES,
    TENANT_STATUSES,
    AdminState,
    admin_state,
    parse_rate_limit,
)
from tui.sandbox.state.admin_views import Page
from tui.sandbox.state.messages import Message
from tui.sandbox.state.store import Store

_JSON_CT = "application/json; charset=utf-8"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BUCKETS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}


class AdminError(Exception):
    """An error answered with ``{"error", "message"}``."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        """HTTP status."""
        self.error = error
        """Machine-readable code."""
        self.message = message
        """Human-readable message."""


def _json(status: int, body: JsonValue) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(data, status_code=status, headers={"content-type": _JSON_CT})


def iso(ms: int | None) -> str | None:
    """ISO-8601 UTC with milliseconds, or None."""
    if ms is None:
        return None
    return siwe.iso_millis(datetime.fromtimestamp(ms / 1000, UTC))


def usdc(micro: int) -> int | float:
    """Micro-USDC as a JSON number (6 decimals; integral values as integers)."""
    value = round(micro / 1_000_000, 6)
    return int(value) if value.is_integer() else value


def js_number(value: JsonValue) -> float | None:
    """JavaScript ``Number(value)`` for the inputs the admin API sees; None for NaN."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if value is None:
        return 0.0
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        return float(text) if _NUMBER.match(text) else None
    return None


def parse_paging(request: Request) -> tuple[int, int]:
    """``page`` and ``page_size`` as the reference checks them (400 otherwise)."""
    page = js_number(request.query_params.get("page") or "1")
    size = js_number(request.query_params.get("page_size") or "20")
    if page is None or not page.is_integer() or page < 1:
        raise AdminError(400, "bad_request", "page must be >= 1")
    if size is None or not size.is_integer() or not 1 <= size <= 200:
        raise AdminError(400, "bad_request", "page_size must be 1..200")
    return int(page), int(size)


def _param(value: str, name: str) -> str:
    text = value.strip()
    if not text:
        raise AdminError(400, "bad_request", f"{name} is required")
    return text


def _parse_time(text: str | None, default: int) -> int:
    if not text:
        return default
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise AdminError(400, "bad_request", "from and to must be ISO-8601 times") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


Handler = Callable[..., Awaitable[Response]]


def parse_policy(body: JsonObject) -> tuple[str, str, str]:
    """``(policy_type, value, action)`` of a ``POST risk/policies`` body (400 when invalid)."""
    fields = {k: body.get(k) for k in ("policy_type", "value", "action")}
    text = {k: str(v).strip() if v not in (None, False, "") else "" for k, v in fields.items()}
    if not all(text.values()):
        raise AdminError(400, "bad_request", "policy_type, value and action are required")
    policy_type, value, action = text["policy_type"], text["value"], text["action"]
    if policy_type not in POLICY_TYPES:
        raise AdminError(400, "bad_request", "policy_type must be " + ", ".join(POLICY_TYPES))
    if action not in POLICY_ACTIONS:
        raise AdminError(400, "bad_request", "action must be add, update or remove")
    if policy_type == "domain_denylist":
        value = value.lower().rstrip(".")
    if (
        policy_type == "tenant_rate_limit"
        and action != "remove"
        and parse_rate_limit(value) is None
    ):
        raise AdminError(400, "bad_request", "tenant_rate_limit value is <tenant_id>:<qps>")
    return policy_type, value, action


def parse_tenant_patch(body: JsonObject) -> tuple[str | None, dict[str, int | None]]:
    """``(status, {qps, mailbox_limit})`` of a ``PATCH tenants/{id}`` body (400 when invalid)."""
    status = body.get("status")
    if status is not None and status not in TENANT_STATUSES:
        raise AdminError(400, "bad_request", "status must be active, suspended or archived")
    quotas = body.get("quotas")
    if quotas is not None and not isinstance(quotas, dict):
        raise AdminError(400, "bad_request", "quotas must be an object")
    quotas = quotas or {}
    values: dict[str, int | None] = {}
    for name in ("qps", "mailbox_limit"):
        raw = quotas.get(name)
        if raw is None:
            values[name] = None
            continue
        number = js_number(raw)
        if isinstance(raw, bool) or number is None or not number.is_integer() or number < 0:
            raise AdminError(400, "bad_request", f"quotas.{name} must be an integer >= 0")
        values[name] = int(number)
    return status, values


class AdminApi:
    """Handlers of ``/v2/admin/*`` (mounted by :class:`tui.sandbox.http.app.SandboxService`)."""

    def __init__(
        self,
        config: SandboxConfig,
        store: Store,
        webhooks: WebhookDispatcher,
        read_body: Callable[[Request], Awaitable[JsonObject]],
    ) -> None:
        self.config = config
        """Runtime settings live here (changed in place by ``PATCH settings/runtime``)."""
        self.store = store
        """The sandbox state."""
        self.state: AdminState = admin_state(store)
        """The operator tables."""
        self.webhooks = webhooks
        """Replays go through the same dispatcher as new mail."""
        self._read_body = read_body
        store.add_message_listener(self._on_message)
        saved = self.state.settings()
        if "overage_charge_usdc" in saved:
            config.overage_charge_usdc = float(saved["overage_charge_usdc"])
        if "agent_allocate_hourly_limit" in saved:
            config.allocate_hourly_limit = int(saved["agent_allocate_hourly_limit"])
        self._routes = self._route_table()

    # -- plumbing -------------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        """``(method, path pattern, handler)``; a plain list is ``ls(query, *filters)``."""
        p, st, ls = "/v2/admin/", self.state, self._lister
        return [
            ("GET", re.compile(p + "overview/metrics"), self.metrics),
            ("GET", re.compile(p + "overview/timeseries"), self.timeseries),
            ("GET", re.compile(p + "settings/runtime"), self.get_settings),
            ("PATCH", re.compile(p + "settings/runtime"), self.patch_settings),
            (
                "GET",
                re.compile(p + "messages"),
                ls(st.messages, "tenant_id", "mailbox_id", "parsed_status"),
            ),
            ("POST", re.compile(p + "messages/(.*)/reparse"), self.reparse),
            ("POST", re.compile(p + "messages/(.*)/replay-webhook"), self.replay_message),
            ("GET", re.compile(p + "tenants"), self.tenants),
            ("GET", re.compile(p + "tenants/(.*)"), self.tenant),
            ("PATCH", re.compile(p + "tenants/(.*)"), self.patch_tenant),
            ("GET", re.compile(p + "mailboxes/accounts"), ls(st.mailboxes, "status", "tenant_id")),
            ("POST", re.compile(p + "mailboxes/(.*)/freeze"), self.freeze),
            ("POST", re.compile(p + "mailboxes/(.*)/release"), self.release),
            ("GET", re.compile(p + "mailboxes/accounts/(.*)"), self.mailbox),
            ("GET", re.compile(p + "mailboxes/leases"), ls(st.leases, "status", "tenant_id")),
            (
                "GET",
                re.compile(p + "send-attempts"),
                ls(st.send_attempts, "tenant_id", "mailbox_id", "submission_status"),
            ),
            (
                "GET",
                re.compile(p + "webhook-deliveries"),
                ls(st.deliveries, "tenant_id", "webhook_id"),
            ),
            ("GET", re.compile(p + "webhooks"), ls(st.webhooks, "tenant_id", "webhook_id")),
            ("POST", re.compile(p + "webhooks/(.*)/replay"), self.replay_webhook),
            ("POST", re.compile(p + "webhooks/(.*)/rotate-secret"), self.rotate),
            (
                "GET",
                re.compile(p + "audit/logs"),
                ls(st.audit_logs, "request_id", "tenant_id", "actor_did", "action"),
            ),
            ("GET", re.compile(p + "billing/invoices"), self.invoices),
            ("POST", re.compile(p + "billing/invoices/(.*)/issue"), self.issue_invoice),
            ("GET", re.compile(p + "risk/events"), ls(st.risk_events, "tenant_id")),
            ("GET", re.compile(p + "risk/policies"), ls(st.risk_policies, "policy_type")),
            ("POST", re.compile(p + "risk/policies"), self.set_risk_policy),
            ("GET", re.compile(p + "jobs"), ls(st.jobs)),
        ]

    def _lister(self, query: Callable[..., Page], *filters: str) -> Handler:
        """A list route: ``page``/``page_size`` checked, then ``query(page, size, *filters,
        iso)`` with each filter from the query string (None when absent or empty)."""

        async def handler(request: Request) -> Response:
            page, size = parse_paging(request)
            values = [self._q(request, name) for name in filters]
            return _json(200, query(page, size, *values, iso).body())

        return handler

    def authorized(self, request: Request) -> bool:
        """True when the request carries the admin token (a tenant JWT never is)."""
        expected = self.config.admin_token
        if not expected:
            return False
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = token or request.headers.get("x-admin-token", "").strip()
        return bool(token) and hmac.compare_digest(token.encode(), expected.encode())

    async def dispatch(self, request: Request) -> Response:
        """Authenticate, then route (``404 Route not found`` for an unknown admin route)."""
        try:
            if not self.authorized(request):
                raise AdminError(401, "unauthorized", "Invalid admin token")
            for method, pattern, handler in self._routes:
                if request.method != method:
                    continue
                match = pattern.fullmatch(request.url.path)
                if match:
                    return await handler(request, *match.groups())
            raise AdminError(404, "not_found", "Route not found")
        except AdminError as exc:
            return _json(exc.status, {"error": exc.error, "message": exc.message})

    def _audit(
        self,
        action: str,
        resource_type: str,
        resource_id: str,
        tenant_id: str | None,
        metadata: JsonObject | None = None,
    ) -> None:
        self.state.audit(
            action,
            resource_type,
            resource_id,
            tenant_id=tenant_id,
            request_id=current_request_id.get(),
            metadata=metadata,
        )

    def _q(self, request: Request, name: str) -> str | None:
        return request.query_params.get(name) or None

    # -- hooks of the tenant API --------------------------------------------------------------

    def close(self) -> None:
        """Stop listening to new mail."""
        self.store.remove_message_listener(self._on_message)

    def _on_message(self, row: Message) -> None:
        """Store listener: each inbound message is audited (``message.ingest``)."""
        self.state.audit(
            "message.ingest",
            "message",
            row.id,
            tenant_id=row.tenant_id,
            actor_did="system:mail",
            request_id=current_request_id.get(),
            metadata={"sender_domain": row.sender_domain},
        )

    def tenant_event(self, tenant_id: str, agent_id: str, action: str, resource_id: str) -> None:
        """Audit a tenant's own action, attributed to its DID (as the reference does)."""
        resource_type = action.split(".", 1)[0]
        self.state.audit(
            action,
            resource_type,
            resource_id,
            tenant_id=tenant_id,
            actor_did=self.state.tenant_actor(tenant_id, agent_id),
            request_id=current_request_id.get(),
        )

    def limit_hit(self, tenant_id: str, reasons: list[JsonObject]) -> None:
        """A free limit answered 402: count it; a qps hit is also a risk event."""
        self.state.payment_challenge(tenant_id)
        for reason in reasons:
            if reason.get("code") == "tenant_qps":
                detail = f"tenant qps limit {reason.get('limit')}/s reached"
                self.state.risk(tenant_id, "medium", "rate_limit.tenant_qps", detail)

    def check_allocation(self, tenant_id: str, agent_id: str) -> str | None:
        """Why the tenant may not lease another mailbox now (its quota), or None.

        A watched tenant's allocation is also recorded as a low-severity risk event.
        """
        if self.state.watched(tenant_id):
            detail = f"watched tenant allocates a mailbox (agent {agent_id})"
            self.state.risk(tenant_id, "low", "tenant_watch.allocate", detail)
        limit = self.state.quotas(tenant_id, self.config.tenant_qps)["mailbox_limit"]
        if self.state.active_lease_count(tenant_id) >= limit:
            return f"Mailbox limit reached for current tenant ({limit})"
        return None

    # -- overview and settings --------------------------------------------------------------

    async def metrics(self, request: Request) -> Response:
        """``GET overview/metrics``."""
        return _json(200, self.state.metrics())

    async def timeseries(self, request: Request) -> Response:
        """``GET overview/timeseries?bucket=minute|hour|day&from&to``: inbound per bucket."""
        bucket = request.query_params.get("bucket") or "hour"
        if bucket not in _BUCKETS:
            raise AdminError(400, "bad_request", "bucket must be minute, hour or day")
        now = self.store.now_ms()
        end = _parse_time(self._q(request, "to"), now)
        start = _parse_time(self._q(request, "from"), end - 12 * 3_600_000)
        points = self.state.timeseries(start, end, _BUCKETS[bucket], iso)
        return _json(200, {"points": points})

    def _settings(self) -> JsonObject:
        return {
            "overage_charge_usdc": self.config.overage_charge_usdc,
            "agent_allocate_hourly_limit": self.config.allocate_hourly_limit,
        }

    async def get_settings(self, request: Request) -> Response:
        """``GET settings/runtime``."""
        return _json(200, self._settings())

    async def patch_settings(self, request: Request) -> Response:
        """``PATCH settings/runtime``: overage price and free allocations per agent-hour."""
        body = await self._read_body(request)
        overage = (
            self.config.overage_charge_usdc
            if "overage_charge_usdc" not in body
            else js_number(body.get("overage_charge_usdc"))
        )
        hourly = (
            float(self.config.allocate_hourly_limit)
            if "agent_allocate_hourly_limit" not in body
            else js_number(body.get("agent_allocate_hourly_limit"))
        )
        if overage is None or overage < 0:
            raise AdminError(400, "bad_request", "overage_charge_usdc must be >= 0")
        if hourly is None or not hourly.is_integer() or hourly < 0:
            raise AdminError(
                400, "bad_request", "agent_allocate_hourly_limit must be an integer >= 0"
            )
        self.config.overage_charge_usdc = round(float(overage), 6)
        self.config.allocate_hourly_limit = int(hourly)
        self.state.save_settings(self._settings())
        self._audit("settings.update", "runtime_settings", "runtime", None, self._settings())
        return _json(200, {"status": "updated", **self._settings()})

    # -- tenants ---------------------------------------------------------------------------

    async def tenants(self, request: Request) -> Response:
        """``GET tenants?status=``."""
        page, size = parse_paging(request)
        result = self.state.tenants(
            page, size, self._q(request, "status"), iso, self.config.tenant_qps
        )
        return _json(200, result.body())

    async def tenant(self, request: Request, tenant_id: str) -> Response:
        """``GET tenants/{tenant_id}``."""
        tenant_id = _param(tenant_id, "tenant_id")
        row = self.state.tenant(tenant_id, iso, self.config.tenant_qps)
        if row is None:
            raise AdminError(404, "not_found", "Tenant not found")
        return _json(200, row)

    async def patch_tenant(self, request: Request, tenant_id: str) -> Response:
        """``PATCH tenants/{tenant_id}`` ``{status?, quotas?: {qps?, mailbox_limit?}}``."""
        tenant_id = _param(tenant_id, "tenant_id")
        body = await self._read_body(request)
        status, values = parse_tenant_patch(body)
        if not self.state.patch_tenant(tenant_id, status, values["qps"], values["mailbox_limit"]):
            raise AdminError(404, "not_found", "Tenant not found")
        self._audit("tenant.update", "tenant", tenant_id, tenant_id, body)
        row = self.state.tenant(tenant_id, iso, self.config.tenant_qps)
        return _json(200, row)

    # -- mailboxes and leases --------------------------------------------------------------

    async def mailbox(self, request: Request, account_id: str) -> Response:
        """``GET mailboxes/accounts/{account_id}``."""
        row = self.state.mailbox(_param(account_id, "account_id"), iso)
        if row is None:
            raise AdminError(404, "not_found", "Mailbox account not found")
        return _json(200, row)

    async def freeze(self, request: Request, mailbox_id: str) -> Response:
        """``POST mailboxes/{mailbox_id}/freeze`` ``{reason}``: never allocated while frozen."""
        mailbox_id = _param(mailbox_id, "mailbox_id")
        body = await self._read_body(request)
        raw_reason = body.get("reason")
        reason = str(raw_reason).strip() if raw_reason not in (None, False, "") else ""
        if not reason:
            raise AdminError(400, "bad_request", "reason is required")
        reason = reason[:500]
        tenant_id = self.state.freeze(mailbox_id, reason)
        if tenant_id is None:
            raise AdminError(404, "not_found", "Mailbox not found")
        self.state.risk(tenant_id, "high", "mailbox.frozen", reason)
        self._audit("mailbox.freeze", "mailbox", mailbox_id, tenant_id, {"reason": reason})
        return _json(200, {"status": "frozen"})

    async def release(self, request: Request, mailbox_id: str) -> Response:
        """``POST mailboxes/{mailbox_id}/release``: end its lease, unfreeze it."""
        mailbox_id = _param(mailbox_id, "mailbox_id")
        tenant_id = self.state.release(mailbox_id)
        if tenant_id is None:
            raise AdminError(404, "not_found", "Mailbox not found")
        self._audit("mailbox.admin_release", "mailbox", mailbox_id, tenant_id)
        return _json(200, {"status": "released"})

    # -- messages and sends -----------------------------------------------------------------

    async def reparse(self, request: Request, message_id: str) -> Response:
        """``POST messages/{message_id}/reparse``: the extractor runs again on the raw mail."""
        message_id = _param(message_id, "message_id")
        row = self.state.message_row(message_id)
        if row is None:
            raise AdminError(404, "not_found", "Message not found")
        found = mail.analyze(row.raw or b"")
        status = self.state.set_parse_result(message_id, found.otp, found.link)
        result = {"parsed_status": status, "otp_extracted": found.otp is not None}
        self.state.job("message.reparse", {"message_id": message_id}, result=result)
        self._audit("message.reparse", "message", message_id, row.tenant_id)
        return _json(202, {"status": "accepted", **result})

    async def replay_message(self, request: Request, message_id: str) -> Response:
        """``POST messages/{message_id}/replay-webhook``: deliver its event again."""
        message_id = _param(message_id, "message_id")
        row = self.state.message_row(message_id)
        if row is None:
            raise AdminError(404, "not_found", "Message not found")
        queued = self.webhooks.replay(row)
        payload = {"message_id": message_id}
        self.state.job("message.replay_webhook", payload, result={"queued": queued})
        self._audit("message.replay_webhook", "message", message_id, row.tenant_id)
        return _json(202, {"status": "accepted", "queued": queued})

    # -- webhooks -----------------------------------------------------------------------------

    async def replay_webhook(self, request: Request, webhook_id: str) -> Response:
        """``POST webhooks/{webhook_id}/replay`` ``{from?, to?}``: the window's events again.

        The window defaults to the last hour (the reference dashboard's choice).
        """
        webhook_id = _param(webhook_id, "webhook_id")
        body = await self._read_body(request)
        hook = self.store.webhook(None, webhook_id)
        if hook is None:
            raise AdminError(404, "not_found", "Webhook not found")
        now = self.store.now_ms()
        raw_to, raw_from = body.get("to"), body.get("from")
        end = _parse_time(raw_to if isinstance(raw_to, str) else None, now)
        start = _parse_time(raw_from if isinstance(raw_from, str) else None, end - 3_600_000)
        queued = 0
        for row in self.state.tenant_messages_between(hook.tenant_id, start, end):
            queued += self.webhooks.replay(row, webhook_id)
        window = {"from": iso(start), "to": iso(end)}
        self.state.job(
            "webhook.replay", {"webhook_id": webhook_id, **window}, result={"queued": queued}
        )
        self._audit("webhook.replay", "webhook", webhook_id, hook.tenant_id, window)
        return _json(202, {"status": "accepted", "queued": queued})

    async def rotate(self, request: Request, webhook_id: str) -> Response:
        """``POST webhooks/{webhook_id}/rotate-secret``: the new secret, shown this once."""
        webhook_id = _param(webhook_id, "webhook_id")
        rotated = self.state.rotate_secret(webhook_id)
        if rotated is None:
            raise AdminError(404, "not_found", "Webhook not found")
        tenant_id, secret = rotated
        self._audit("webhook.rotate_secret", "webhook", webhook_id, tenant_id)
        return _json(200, {"webhook_id": webhook_id, "secret": secret})

    # -- billing ------------------------------------------------------------------------------

    async def invoices(self, request: Request) -> Response:
        """``GET billing/invoices?period=YYYY-MM``."""
        page, size = parse_paging(request)
        result = self.state.invoices(page, size, self._q(request, "period"), usdc)
        return _json(200, result.body())

    async def issue_invoice(self, request: Request, invoice_id: str) -> Response:
        """``POST billing/invoices/{invoice_id}/issue``: ``draft`` -> ``issued``."""
        invoice_id = _param(invoice_id, "invoice_id")
        issued = self.state.issue_invoice(invoice_id)
        if issued is None:
            raise AdminError(404, "not_found", "Invoice not found")
        tenant_id, status = issued
        self._audit("invoice.issue", "invoice", invoice_id, tenant_id)
        return _json(200, {"status": status})

    # -- risk, audit, jobs --------------------------------------------------------------------

    async def set_risk_policy(self, request: Request) -> Response:
        """``POST risk/policies`` ``{policy_type, value, action: add|update|remove}``."""
        policy_type, value, action = parse_policy(await self._read_body(request))
        key = self.state.set_policy(policy_type, value, action)
        metadata = {"policy_type": policy_type, "value": value, "action": action}
        self.state.audit(
            "risk.policy_update",
            "risk_policy",
            key,
            request_id=current_request_id.get(),
            metadata=metadata,
        )
        return _json(200, {"status": "updated"})

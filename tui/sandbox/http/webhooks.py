"""Webhooks and their deliveries."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from tui.jsontypes import JsonObject
from tui.sandbox.http.errors import bad_request, found, json_response, not_found
from tui.sandbox.http.values import iso, text_of
from tui.sandbox.mail.webhooks import EVENT_TYPES
from tui.sandbox.state.webhooks import Delivery, Webhook

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


def _webhook(row: Webhook) -> JsonObject:
    return {
        "webhook_id": row.id,
        "event_types": row.event_types,
        "target_url": row.target_url,
        "status": row.status,
        "last_delivery_at": iso(row.last_delivery_ms),
        "last_status_code": row.last_status_code,
    }


def _delivery(row: Delivery) -> JsonObject:
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


async def create_webhook(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/webhooks`` (protected)."""
    auth = svc.auth(request)
    access = svc.access(request, auth)
    body = await svc.body(request)
    event_types, target_url, secret = (
        body.get("event_types"),
        body.get("target_url"),
        body.get("secret"),
    )
    if (
        not isinstance(event_types, list)
        or not text_of(target_url)
        or not isinstance(secret, str)
        or not secret
    ):
        raise bad_request("event_types, target_url, secret are required")
    if len(secret) < 16:
        raise bad_request("secret must have at least 16 chars")
    if any(not isinstance(e, str) or e not in EVENT_TYPES for e in event_types):
        raise bad_request("event_types contains unsupported values")
    url = text_of(target_url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad_request("target_url must be an http(s) URL")
    row = svc.store.create_webhook(auth.tenant_id, list(event_types), url, secret)
    svc.meter(auth, "POST /v2/webhooks", access)
    svc.admin.tenant_event(auth.tenant_id, auth.agent_id, "webhook.create", row.id)
    return json_response(201, _webhook(row))


async def list_webhooks(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/webhooks``: sorted by ``target_url``."""
    auth = svc.auth(request)
    rows = svc.store.webhooks(auth.tenant_id)
    return json_response(200, {"items": [_webhook(r) for r in rows]})


async def get_webhook(svc: SandboxService, request: Request, webhook_id: str) -> Response:
    """``GET /v2/webhooks/{webhook_id}``."""
    auth = svc.auth(request)
    row = found(svc.store.webhook, auth.tenant_id, webhook_id, "webhook_id", "Webhook not found")
    return json_response(200, _webhook(row))


async def rotate_webhook_secret(svc: SandboxService, request: Request, webhook_id: str) -> Response:
    """``POST /v2/webhooks/{webhook_id}/rotate-secret``: a new 36-hex-char secret."""
    auth = svc.auth(request)
    if not webhook_id.strip():
        raise bad_request("webhook_id is required")
    secret = secrets.token_hex(18)
    if not svc.store.rotate_webhook_secret(auth.tenant_id, webhook_id.strip(), secret):
        raise not_found("Webhook not found")
    return json_response(200, {"webhook_id": webhook_id.strip(), "secret": secret})


async def list_deliveries(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/webhooks/deliveries[?webhook_id=]``: newest first."""
    auth = svc.auth(request)
    webhook_id = request.query_params.get("webhook_id", "").strip() or None
    rows = svc.store.deliveries(auth.tenant_id, webhook_id)
    return json_response(200, {"items": [_delivery(r) for r in rows]})


async def get_delivery(svc: SandboxService, request: Request, delivery_id: str) -> Response:
    """``GET /v2/webhooks/deliveries/{delivery_id}``."""
    auth = svc.auth(request)
    row = found(
        svc.store.delivery,
        auth.tenant_id,
        delivery_id,
        "delivery_id",
        "Webhook delivery not found",
    )
    return json_response(200, _delivery(row))

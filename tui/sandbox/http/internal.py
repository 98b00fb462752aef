"""The internal API: inbound mail injection and unbound tenants (internal token)."""

from __future__ import annotations

import asyncio
import hmac
import uuid
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.jsontypes import JsonObject
from tui.sandbox.http.errors import ApiError, bad_request, json_response, not_found
from tui.sandbox.http.tokens import new_unbound_tenant
from tui.sandbox.http.values import parse_iso, text_of
from tui.sandbox.mail import inbound as mail

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


def internal_auth(svc: SandboxService, request: Request) -> None:
    """``x-internal-token`` or ``Authorization: Bearer <internal token>``."""
    if not svc.config.internal_token:
        raise ApiError(500, "internal_api_unconfigured", "Internal API token is not configured")
    expected = svc.config.internal_token.encode()
    given = request.headers.get("x-internal-token", "")
    header = request.headers.get("authorization", "")
    if not given and header.startswith("Bearer "):
        given = header[len("Bearer ") :].strip()
    if not given or not hmac.compare_digest(given.encode(), expected):
        raise ApiError(401, "unauthorized", "Invalid internal token")


_INBOUND_FIELDS = (
    "address",
    "sender",
    "sender_domain",
    "subject",
    "received_at",
    "text_excerpt",
    "html_excerpt",
    "html_body",
    "raw_ref",
    "provider_message_id",
)


def _inbound_fields(body: JsonObject) -> dict[str, str]:
    """The event's text fields, trimmed ("" when absent); addresses and domain lowercased."""
    fields = {name: text_of(body.get(name)) for name in _INBOUND_FIELDS}
    for name in ("address", "sender", "sender_domain"):
        fields[name] = fields[name].lower()
    if not fields["address"] or not fields["sender_domain"]:
        raise bad_request("address and sender_domain are required")
    return fields


async def _ingest(svc: SandboxService, f: dict[str, str], received_ms: int | None) -> JsonObject:
    """Build the event's message and deliver it (parsing and storing off the loop)."""
    html = "\n".join(x for x in (f["html_excerpt"], f["html_body"]) if x)
    raw = mail.build_mime(
        sender=f["sender"],
        to=f["address"],
        subject=f["subject"],
        text=f["text_excerpt"] or None,
        html=html or None,
    )
    parsed = await asyncio.to_thread(mail.parse_isolated, svc.store, raw)
    overrides: dict[str, str | None] = {k: f[k] for k in ("sender", "sender_domain", "subject")}
    overrides["raw_ref"] = f["raw_ref"] or None
    overrides["provider_message_id"] = f["provider_message_id"] or None
    return await asyncio.to_thread(
        mail.deliver,
        svc.store,
        f["address"],
        raw,
        parsed=parsed,
        require_active_lease=False,
        received_ms=received_ms,
        overrides=overrides,
    )


async def inbound_event(svc: SandboxService, request: Request) -> Response:
    """``POST /internal/inbound/events``: how the harness injects mail (§9.1)."""
    internal_auth(svc, request)
    f = _inbound_fields(await svc.body(request))
    received_ms = None
    if f["received_at"]:
        received_ms = parse_iso(f["received_at"])
        if received_ms is None:
            raise bad_request("received_at must be an ISO-8601 date-time")
    mailbox = svc.store.mailbox_by_address(f["address"])
    if mailbox is None:
        raise not_found("Mailbox not found")
    ids = {"tenant_id": mailbox.tenant_id, "mailbox_id": mailbox.mailbox_id}
    if f["provider_message_id"]:
        original = svc.store.find_duplicate(mailbox.mailbox_id, f["provider_message_id"])
        if original:
            body = {"status": "accepted", "deduped": True, **ids, "message_id": original}
            return json_response(202, {**body, "parse_job": None})
    result = await _ingest(svc, f, received_ms)
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


async def internal_new_tenant(svc: SandboxService, request: Request) -> Response:
    """``POST /internal/tenants``: a tenant without a wallet identity, with its token."""
    internal_auth(svc, request)
    await svc.body(request)
    return json_response(201, new_unbound_tenant(svc.config, svc.store))

"""The internal API: inbound mail injection and unbound tenants (internal token)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.http.errors import ApiError, bad_request, json_response, not_found
from tui.sandbox.http.tokens import new_unbound_tenant
from tui.sandbox.http.values import parse_iso
from tui.sandbox.mail import inbound as mail

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService

log = logging.getLogger("tui.sandbox")


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


async def inbound_event(svc: SandboxService, request: Request) -> Response:
    """``POST /internal/inbound/events``: how the harness injects mail (§9.1)."""
    internal_auth(svc, request)
    body = await svc.body(request)

    def text(name: str) -> str:
        value = body.get(name)
        return value.strip() if isinstance(value, str) else ""

    address, sender_domain = text("address").lower(), text("sender_domain").lower()
    if not address or not sender_domain:
        raise bad_request("address and sender_domain are required")
    received_ms = None
    if text("received_at"):
        received_ms = parse_iso(text("received_at"))
        if received_ms is None:
            raise bad_request("received_at must be an ISO-8601 date-time")
    mailbox = svc.store.mailbox_by_address(address)
    if mailbox is None:
        raise not_found("Mailbox not found")
    provider_message_id = text("provider_message_id") or None
    if provider_message_id:
        original = svc.store.find_duplicate(mailbox.mailbox_id, provider_message_id)
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
    parsed = await asyncio.to_thread(mail.parse_isolated, svc.store, raw)
    result = await asyncio.to_thread(  # parsing and storing never block the loop
        mail.deliver,
        svc.store,
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


async def internal_new_tenant(svc: SandboxService, request: Request) -> Response:
    """``POST /internal/tenants``: a tenant without a wallet identity, with its token."""
    internal_auth(svc, request)
    await svc.body(request)
    return json_response(201, new_unbound_tenant(svc.config, svc.store))

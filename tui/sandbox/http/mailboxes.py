"""Mailboxes and leases: allocate, list, get, release; accounts and credential resets."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.jsontypes import JsonObject
from tui.sandbox.http.errors import ApiError, bad_request, found, json_response, not_found
from tui.sandbox.http.values import iso
from tui.sandbox.mail import inbound as mail
from tui.sandbox.state.leases import Lease

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


def _lease(row: Lease) -> JsonObject:
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


async def allocate(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/mailboxes/leases`` (protected)."""
    auth = svc.auth(request)
    body = await svc.body(request)
    agent_id, purpose, ttl = body.get("agent_id"), body.get("purpose"), body.get("ttl_hours")
    agent_text = agent_id if isinstance(agent_id, str) else ("" if not agent_id else "?")
    purpose_text = purpose.strip() if isinstance(purpose, str) else ""
    if not agent_text or not purpose_text or ttl is None:
        raise bad_request("agent_id, purpose, ttl_hours are required")
    if agent_text != auth.agent_id:
        raise ApiError(403, "forbidden", "agent_id does not match token")
    valid_number = (isinstance(ttl, int) and not isinstance(ttl, bool)) or (
        isinstance(ttl, float) and ttl.is_integer()
    )
    if not valid_number or not 1 <= ttl <= 720:
        raise bad_request("ttl_hours must be 1..720")
    access = svc.access(request, auth, allocate=True)
    if refusal := svc.admin.check_allocation(auth.tenant_id, auth.agent_id):
        raise ApiError(409, "mailbox_limit_reached", refusal)
    password = svc.new_password()
    ttl_ms = int(int(ttl) * svc.config.ttl_unit_s * 1000)
    row = svc.store.allocate(auth.tenant_id, auth.agent_id, purpose_text, ttl_ms, password)
    if row is None:
        raise ApiError(409, "no_available_mailbox", "No available mailbox for current tenant")
    svc.meter(auth, "POST /v2/mailboxes/leases", access)
    svc.admin.tenant_event(auth.tenant_id, auth.agent_id, "mailbox.allocate", row.mailbox_id)
    if svc.config.demo_on_allocate and svc.store.lease_count(auth.tenant_id) == 1:
        loop = asyncio.get_running_loop()
        loop.call_later(  # delivered in a worker thread: parsing and fsync stay off the loop
            svc.config.demo_delay_s,
            loop.run_in_executor,
            None,
            mail.deliver_demo,
            svc.store,
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
            "webmail_url": svc.config.webmail_url,
        },
    )


async def list_leases(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/mailboxes/leases``: active leases only."""
    auth = svc.auth(request)
    items = [_lease(r) for r in svc.store.active_leases(auth.tenant_id)]
    return json_response(200, {"items": items})


async def get_lease(svc: SandboxService, request: Request, lease_id: str) -> Response:
    """``GET /v2/mailboxes/leases/{lease_id}``: any of the tenant's leases."""
    auth = svc.auth(request)
    row = found(svc.store.get_lease, auth.tenant_id, lease_id, "lease_id", "Lease not found")
    return json_response(200, _lease(row))


async def release(svc: SandboxService, request: Request, lease_id: str) -> Response:
    """``POST /v2/mailboxes/leases/{lease_id}/release``: 202, idempotent, body ignored."""
    auth = svc.auth(request)
    row = svc.store.release(auth.tenant_id, lease_id)
    if row is None:
        raise not_found("Lease not found")
    svc.meter(auth, "POST /v2/mailboxes/leases/{lease_id}/release")
    svc.admin.tenant_event(auth.tenant_id, auth.agent_id, "mailbox.release", row.mailbox_id)
    return json_response(
        202,
        {"lease_id": row.id, "mailbox_id": row.mailbox_id, "lease_status": row.status},
    )


async def list_accounts(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/mailboxes/accounts``: the tenant's 5 mailboxes."""
    auth = svc.auth(request)
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
        for r in svc.store.accounts(auth.tenant_id)
    ]
    return json_response(200, {"items": items})


async def reset_credentials(svc: SandboxService, request: Request, account_id: str) -> Response:
    """``POST /v2/mailboxes/accounts/{account_id}/credentials/reset``: a new password."""
    auth = svc.auth(request)
    mailbox = svc.store.mailbox(auth.tenant_id, account_id)
    password = svc.new_password()
    if mailbox is None or not svc.store.set_password(auth.tenant_id, account_id, password):
        raise not_found("Mailbox not found")
    svc.meter(auth, "POST /v2/mailboxes/accounts/{account_id}/credentials/reset")
    return json_response(
        200,
        {
            "account_id": mailbox.mailbox_id,
            "mailbox_id": mailbox.mailbox_id,
            "address": mailbox.address,
            "webmail_login": mailbox.address,
            "webmail_password": password,
            "webmail_url": svc.config.webmail_url,
        },
    )

"""Reading messages: ``GET /v2/messages`` and ``GET /v2/messages/{message_id}``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.jsontypes import JsonObject
from tui.sandbox.http.errors import bad_request, found, json_response, not_found
from tui.sandbox.http.values import iso, parse_iso
from tui.sandbox.state.messages import Message

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


_LIMIT_RE = re.compile(r"^\s*[0-9]+\s*$")


def _message(row: Message, *, detail: bool) -> JsonObject:
    status = row.parsed_status
    item: JsonObject = {"message_id": row.id}
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


async def list_messages(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/messages?mailbox_id=&since=&limit=`` (protected)."""
    auth = svc.auth(request)
    access = svc.access(request, auth)
    params = request.query_params
    mailbox_id = params.get("mailbox_id", "")
    if not mailbox_id:
        raise bad_request("mailbox_id is required")
    limit_raw = params.get("limit", "")
    limit = 20
    if limit_raw:
        if not _LIMIT_RE.match(limit_raw) or not 1 <= int(limit_raw) <= 100:
            raise bad_request("limit must be 1..100")
        limit = int(limit_raw)
    since_raw = params.get("since", "")
    since_ms = None
    if since_raw:
        since_ms = parse_iso(since_raw)
        if since_ms is None:
            raise bad_request("since must be an ISO-8601 date-time")
    if svc.store.mailbox(auth.tenant_id, mailbox_id) is None:
        raise not_found("Mailbox not found")
    rows = svc.store.list_messages(auth.tenant_id, mailbox_id, since_ms, limit)
    svc.meter(auth, "GET /v2/messages", access)
    return json_response(200, {"items": [_message(r, detail=False) for r in rows]})


async def get_message(svc: SandboxService, request: Request, message_id: str) -> Response:
    """``GET /v2/messages/{message_id}``."""
    auth = svc.auth(request)
    row = found(svc.store.message, auth.tenant_id, message_id, "message_id", "Message not found")
    return json_response(200, _message(row, detail=True))

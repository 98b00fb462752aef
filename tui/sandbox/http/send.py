"""Sending: ``POST /v2/messages/send`` and the send attempts."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.jsontypes import JsonObject
from tui.sandbox.http.errors import ApiError, bad_request, found, json_response, not_found
from tui.sandbox.http.values import iso, recipients, text_of
from tui.sandbox.mail import outbound as send
from tui.sandbox.state.sends import SendAttempt, SendOutcome

if TYPE_CHECKING:
    from tui.sandbox.http.app import Auth, SandboxService


SEND_REQUIRED = "mailbox_id, to, subject, mailbox_password, and text or html are required"
COOLDOWN_MESSAGE = "新帳號 24 小時內最多發送 10 封，請先綁定錢包以解除限制。"  # noqa: RUF001


def _cooldown_window(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds)}s"


def check_cooldown(svc: SandboxService, auth: Auth) -> None:
    """429 ``cooldown_limit`` for a young tenant without a wallet past its free sends."""
    cfg = svc.config
    if auth.wallet_bound or cfg.send_cooldown_limit <= 0:
        return
    if svc.store.now_ms() - auth.tenant_created_ms > cfg.send_cooldown_s * 1000:
        return
    sent = svc.store.successful_sends_since(auth.tenant_id, auth.tenant_created_ms)
    if sent >= cfg.send_cooldown_limit:
        raise ApiError(
            429,
            "cooldown_limit",
            COOLDOWN_MESSAGE,
            limit=cfg.send_cooldown_limit,
            window=_cooldown_window(cfg.send_cooldown_s),
            action="bind_wallet",
        )


@dataclass(frozen=True)
class _SendRequest:
    mailbox_id: str
    to: list[str]
    subject: str
    password: str
    text: str | None
    html: str | None


def _send_request(body: JsonObject) -> _SendRequest:
    """The send body's fields (400 unless every required one is there)."""
    text, html = body.get("text"), body.get("html")
    req = _SendRequest(
        mailbox_id=text_of(body.get("mailbox_id")),
        to=recipients(body.get("to")),
        subject=text_of(body.get("subject")),
        password=text_of(body.get("mailbox_password")),
        text=text if isinstance(text, str) and text.strip() else None,
        html=html if isinstance(html, str) and html.strip() else None,
    )
    if not (req.mailbox_id and req.to and req.subject and req.password and (req.text or req.html)):
        raise bad_request(SEND_REQUIRED)
    return req


def _failed(
    svc: SandboxService,
    attempt_id: str,
    error: str,
    rejected: list[str] | None = None,
    envelope: JsonObject | None = None,
) -> None:
    """Record a failed send attempt."""
    outcome = SendOutcome("failed", [], rejected or [], None, envelope=envelope, error=error)
    svc.store.finish_send_attempt(attempt_id, outcome)


async def send_message(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/messages/send`` (protected): deliver, relay or keep in the outbox."""
    auth = svc.auth(request)
    access = svc.access(request, auth)
    check_cooldown(svc, auth)
    req = _send_request(await svc.body(request))
    mailbox = svc.store.mailbox(auth.tenant_id, req.mailbox_id)
    if mailbox is None:
        raise not_found("Mailbox not found")
    attempt_id = svc.store.create_send_attempt(
        tenant_id=auth.tenant_id,
        agent_id=auth.agent_id,
        mailbox_id=req.mailbox_id,
        to=req.to,
        subject=req.subject,
        text=req.text,
        html=req.html,
    )
    current = svc.store.mailbox_password(auth.tenant_id, req.mailbox_id) or ""
    if not current or not hmac.compare_digest(current.encode(), req.password.encode()):
        _failed(svc, attempt_id, send.AUTH_FAILED)
        raise ApiError(502, "mail_backend_error", send.AUTH_FAILED, send_attempt_id=attempt_id)
    out = send.Outgoing(
        attempt_id, auth.tenant_id, mailbox.address, req.to, req.subject, req.text, req.html
    )
    try:
        sent = await send.transmit(svc.config, svc.store, out)
    except Exception as exc:  # never leave a "queued" attempt behind
        _failed(svc, attempt_id, f"sandbox delivery error: {exc}")
        raise
    envelope = {"from": mailbox.address, "to": req.to}
    if not sent.accepted:
        message = f"{send.ALL_REJECTED}: {sent.error}"
        _failed(svc, attempt_id, message, sent.rejected, envelope)
        raise ApiError(502, "mail_backend_error", message, send_attempt_id=attempt_id)
    outcome = SendOutcome("accepted", sent.accepted, sent.rejected, sent.message_id, sent.response)
    outcome.envelope, outcome.error = envelope, sent.error
    svc.store.finish_send_attempt(attempt_id, outcome)
    svc.meter(auth, "POST /v2/messages/send", access)
    svc.admin.tenant_event(auth.tenant_id, auth.agent_id, "send_attempt.created", attempt_id)
    body: JsonObject = {"send_attempt_id": attempt_id, "submission_status": "accepted"}
    body.update(accepted=sent.accepted, rejected=sent.rejected)
    body.update(message_id=sent.message_id, response=sent.response)
    return json_response(202, body)


def _send_attempt(row: SendAttempt) -> JsonObject:
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


async def list_send_attempts(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/send-attempts``: all of the tenant's attempts, newest first."""
    auth = svc.auth(request)
    rows = svc.store.send_attempts(auth.tenant_id)
    return json_response(200, {"items": [_send_attempt(r) for r in rows]})


async def get_send_attempt(svc: SandboxService, request: Request, attempt_id: str) -> Response:
    """``GET /v2/send-attempts/{send_attempt_id}``."""
    auth = svc.auth(request)
    row = found(
        svc.store.send_attempt,
        auth.tenant_id,
        attempt_id,
        "send_attempt_id",
        "Send attempt not found",
    )
    return json_response(200, _send_attempt(row))

"""Sending: ``POST /v2/messages/send`` and the send attempts."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from datetime import UTC, datetime
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.http.errors import ApiError, bad_request, found, json_response, not_found
from tui.sandbox.http.values import iso, recipients, text_of
from tui.sandbox.mail import inbound as mail
from tui.sandbox.mail import outbound as send
from tui.sandbox.state.sends import SendAttempt, SendOutcome

if TYPE_CHECKING:
    from tui.sandbox.http.app import Auth, SandboxService

log = logging.getLogger("tui.sandbox")

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")
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


async def send_message(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/messages/send`` (protected): deliver, relay or keep in the outbox."""
    auth = svc.auth(request)
    access = svc.access(request, auth)
    check_cooldown(svc, auth)
    body = await svc.body(request)
    mailbox_id = text_of(body.get("mailbox_id"))
    to = recipients(body.get("to"))
    subject = text_of(body.get("subject"))
    password = text_of(body.get("mailbox_password"))
    text, html = body.get("text"), body.get("html")
    text = text if isinstance(text, str) and text.strip() else None
    html = html if isinstance(html, str) and html.strip() else None
    if not mailbox_id or not to or not subject or not password or not (text or html):
        raise bad_request(SEND_REQUIRED)
    mailbox = svc.store.mailbox(auth.tenant_id, mailbox_id)
    if mailbox is None:
        raise not_found("Mailbox not found")
    attempt_id = svc.store.create_send_attempt(
        tenant_id=auth.tenant_id,
        agent_id=auth.agent_id,
        mailbox_id=mailbox_id,
        to=to,
        subject=subject,
        text=text,
        html=html,
    )
    current = svc.store.mailbox_password(auth.tenant_id, mailbox_id) or ""
    if not current or not hmac.compare_digest(current.encode(), password.encode()):
        svc.store.finish_send_attempt(
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
        outcome = await transmit(
            svc, attempt_id, auth.tenant_id, mailbox.address, to, subject, text, html
        )
    except Exception as exc:  # never leave a "queued" attempt behind
        svc.store.finish_send_attempt(
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
        svc.store.finish_send_attempt(
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
    svc.store.finish_send_attempt(
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
    svc.meter(auth, "POST /v2/messages/send", access)
    svc.admin.tenant_event(auth.tenant_id, auth.agent_id, "send_attempt.created", attempt_id)
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
    svc: SandboxService,
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
    cfg = svc.config
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
        date=datetime.fromtimestamp(svc.now_s(), UTC),
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
        target = svc.store.mailbox_by_address(rcpt)
        if target is not None and target.lease_id is not None:
            try:
                if parsed is None:  # once, in a child process (parsing holds the GIL)
                    parsed = await asyncio.to_thread(mail.parse_isolated, svc.store, raw, sender)
                await asyncio.to_thread(
                    mail.deliver, svc.store, rcpt, raw, envelope_from=sender, parsed=parsed
                )
                accepted.append(rcpt)
                continue
            except mail.NoActiveLeaseError:
                pass  # the lease ended meanwhile: keep it like any other address
        domain = rcpt.rsplit("@", 1)[1].lower()
        if cfg.smtp_relay and target is None and domain != cfg.mailbox_domain.lower():
            external.append(rcpt)
            continue
        svc.store.add_outbox(attempt_id, tenant_id, sender, rcpt, raw)
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

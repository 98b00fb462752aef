"""Public routes: ``GET /healthz`` and ``GET /v2/meta/runtime``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.http.errors import json_response

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


async def healthz(svc: SandboxService, request: Request) -> Response:
    """``GET /healthz``."""
    return json_response(200, {"status": "ok", "service": "agent-mail-cloud"})


async def runtime(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/meta/runtime``."""
    cfg = svc.config
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
            **({"imap": dict(svc.imap)} if svc.imap else {}),
        },
    )

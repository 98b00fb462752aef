"""Usage and billing: ``GET /v2/usage/summary`` and the invoices."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.http.errors import bad_request, found, json_response
from tui.sandbox.http.values import usdc
from tui.sandbox.state.usage import period_bounds

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


_PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


async def usage_summary(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/usage/summary?period=YYYY-MM``."""
    auth = svc.auth(request)
    period = request.query_params.get("period", "")
    if not _PERIOD_RE.match(period):
        raise bad_request("period must match YYYY-MM")
    summary = svc.store.usage_summary(auth.tenant_id, period)
    return json_response(
        200,
        {
            "period": period,
            "usage": {
                "api_calls": summary.api_calls,
                "active_mailboxes": svc.store.count_active_unexpired(auth.tenant_id),
                "message_parses": summary.message_parses,
                "billable_units": summary.api_calls,
            },
        },
    )


async def list_invoices(svc: SandboxService, request: Request) -> Response:
    """``GET /v2/billing/invoices[?period=YYYY-MM]``."""
    auth = svc.auth(request)
    period = request.query_params.get("period")
    rows = svc.store.invoices(auth.tenant_id, period if period else None)
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


async def get_invoice(svc: SandboxService, request: Request, invoice_id: str) -> Response:
    """``GET /v2/billing/invoices/{invoice_id}``."""
    auth = svc.auth(request)
    row = found(svc.store.invoice, auth.tenant_id, invoice_id, "invoice_id", "Invoice not found")
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

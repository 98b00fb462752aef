"""The operator's read side of the sandbox: every ``/v2/admin`` list and detail as SQL.

:class:`AdminViews` pages each list in SQL (``LIMIT``/``OFFSET`` plus a ``COUNT``) so that tens
of thousands of rows browse at the same speed as ten, and maps each row to the reference's JSON.
:class:`tui.sandbox.state.admin.AdminState` adds the writes and rules (quotas, freezes, audit,
risk, jobs, settings). A new list is one method here and one route line in
:mod:`tui.sandbox.http.admin`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tui.jsontypes import JsonObject
from tui.sandbox.state.db import DbRow, SqlArgs, SqlValue
from tui.sandbox.state.store import Store
from tui.sandbox.state.usage import period_ms_range, period_of

DEFAULT_MAILBOX_LIMIT = 100
"""The reference's default ``mailbox_limit`` quota."""

Iso = Callable[[int | None], str | None]


@dataclass(frozen=True)
class Page:
    """One page of a list: the reference's ``{items, page, page_size, total}``."""

    items: list[JsonObject]
    """The rows of this page."""
    page: int
    """1-based page number."""
    page_size: int
    """Rows per page."""
    total: int
    """Rows in the whole (filtered) list."""

    def body(self) -> JsonObject:
        """The JSON body."""
        return {
            "items": self.items,
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
        }


def _where(filters: Mapping[str, SqlValue]) -> tuple[str, SqlArgs]:
    """``WHERE a=? AND b=?`` of the filters whose value is not None (keys are trusted SQL)."""
    used = [(k, v) for k, v in filters.items() if v is not None]
    if not used:
        return "", ()
    return " WHERE " + " AND ".join(f"{k}=?" for k, _ in used), tuple(v for _, v in used)


_TENANT_SELECT = (
    "t.id, t.name, t.status, t.did, t.wallet_bound, t.created_ms, q.qps, q.mailbox_limit, "
    "COALESCE(q.updated_ms, t.created_ms) AS updated_ms, "
    "(SELECT COUNT(*) FROM agents a WHERE a.tenant_id=t.id AND a.status='active') "
    "AS active_agents, "
    "(SELECT COUNT(*) FROM mailboxes m WHERE m.tenant_id=t.id AND m.status='leased') "
    "AS active_mailboxes, "
    "(SELECT COUNT(*) FROM usage_records u WHERE u.tenant_id=t.id AND u.ts_ms>=?) "
    "AS monthly_usage"
)
_TENANT_SOURCE = "tenants t LEFT JOIN tenant_quotas q ON q.tenant_id=t.id"
_MAILBOX_SELECT = (
    "m.id, m.address, m.status, m.tenant_id, l.agent_id, l.expires_ms, f.reason, f.frozen_ms"
)
_MAILBOX_SOURCE = (
    "mailboxes m LEFT JOIN leases l ON l.mailbox_id=m.id AND l.status='active' "
    "LEFT JOIN mailbox_freezes f ON f.mailbox_id=m.id"
)


class AdminViews:
    """The lists and details of the operator API over a :class:`Store` (read only)."""

    store: Store
    """The sandbox state these views read."""

    def _page(
        self,
        select: str,
        source: str,
        filters: Mapping[str, SqlValue],
        order: str,
        page: int,
        page_size: int,
        row: Callable[[DbRow], JsonObject],
    ) -> Page:
        where, args = _where(filters)
        with self.store._lock:
            count = self.store._one(f"SELECT COUNT(*) AS n FROM {source}{where}", args)  # noqa: S608
            rows = self.store._all(
                f"SELECT {select} FROM {source}{where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
                (*args, page_size, (page - 1) * page_size),
            )
        total = int(count["n"]) if count else 0
        return Page([row(r) for r in rows], page, page_size, total)

    def _now(self) -> int:
        return self.store.now_ms()

    def _tenant_row(self, r: JsonObject, iso: Iso, default_qps: int) -> JsonObject:
        qps = r["qps"] if r["qps"] is not None else default_qps
        limit = r["mailbox_limit"] if r["mailbox_limit"] is not None else DEFAULT_MAILBOX_LIMIT
        return {
            "tenant_id": r["id"],
            "name": r["name"],
            "status": r["status"],
            "qps": qps,
            "mailbox_limit": limit,
            "primary_did": r["did"] if r["wallet_bound"] else None,
            "active_agents": r["active_agents"],
            "active_mailboxes": r["active_mailboxes"],
            "monthly_usage": r["monthly_usage"],
            "created_at": iso(r["created_ms"]),
            "updated_at": iso(r["updated_ms"]),
        }

    def tenants(self, page: int, size: int, status: str | None, iso: Iso, default_qps: int) -> Page:
        """``GET /v2/admin/tenants``: most recently updated first."""
        self.store.expire_leases()
        month_start = period_ms_range(period_of(self._now()))[0]
        where, args = _where({"t.status": status})
        with self.store._lock:
            count = self.store._one(
                f"SELECT COUNT(*) AS n FROM {_TENANT_SOURCE}{where}",  # noqa: S608
                args,
            )
            rows = self.store._all(
                f"SELECT {_TENANT_SELECT} FROM {_TENANT_SOURCE}{where} "  # noqa: S608
                "ORDER BY updated_ms DESC, t.created_ms DESC, t.id LIMIT ? OFFSET ?",
                (month_start, *args, size, (page - 1) * size),
            )
        total = int(count["n"]) if count else 0
        return Page([self._tenant_row(r, iso, default_qps) for r in rows], page, size, total)

    def tenant(self, tenant_id: str, iso: Iso, default_qps: int) -> JsonObject | None:
        """``GET /v2/admin/tenants/{id}``: the list row plus ``quotas``."""
        self.store.expire_leases()
        month_start = period_ms_range(period_of(self._now()))[0]
        with self.store._lock:
            r = self.store._one(
                f"SELECT {_TENANT_SELECT} FROM {_TENANT_SOURCE} WHERE t.id=?",  # noqa: S608
                (month_start, tenant_id),
            )
        if r is None:
            return None
        row = self._tenant_row(r, iso, default_qps)
        row["quotas"] = {"qps": row["qps"], "mailbox_limit": row["mailbox_limit"]}
        return row

    @staticmethod
    def _mailbox_row(r: DbRow, iso: Iso) -> JsonObject:
        return {
            "mailbox_id": r["id"],
            "address": r["address"],
            "type": "alias",
            "status": r["status"],
            "tenant_id": r["tenant_id"],
            "agent_id": r["agent_id"],
            "lease_expires_at": iso(r["expires_ms"]),
            "freeze_reason": r["reason"] if r["status"] == "frozen" else None,
        }

    def mailboxes(
        self, page: int, size: int, status: str | None, tenant_id: str | None, iso: Iso
    ) -> Page:
        """``GET /v2/admin/mailboxes/accounts``: by address."""
        self.store.expire_leases()
        return self._page(
            _MAILBOX_SELECT,
            _MAILBOX_SOURCE,
            {"m.status": status, "m.tenant_id": tenant_id},
            "m.address",
            page,
            size,
            lambda r: self._mailbox_row(r, iso),
        )

    def mailbox(self, mailbox_id: str, iso: Iso) -> JsonObject | None:
        """``GET /v2/admin/mailboxes/accounts/{id}``."""
        self.store.expire_leases()
        with self.store._lock:
            r = self.store._one(
                f"SELECT {_MAILBOX_SELECT} FROM {_MAILBOX_SOURCE} WHERE m.id=?",  # noqa: S608
                (mailbox_id,),
            )
        return self._mailbox_row(r, iso) if r else None

    def leases(
        self, page: int, size: int, status: str | None, tenant_id: str | None, iso: Iso
    ) -> Page:
        """``GET /v2/admin/mailboxes/leases``: every lease, newest first."""
        self.store.expire_leases()

        def row(r: DbRow) -> JsonObject:
            return {
                "lease_id": r["id"],
                "mailbox_id": r["mailbox_id"],
                "address": r["address"],
                "type": "alias",
                "status": r["status"],
                "tenant_id": r["tenant_id"],
                "agent_id": r["agent_id"],
                "purpose": r["purpose"],
                "started_at": iso(r["started_ms"]),
                "lease_expires_at": iso(r["expires_ms"]),
                "released_at": iso(r["released_ms"]),
            }

        return self._page(
            "l.id, l.mailbox_id, m.address, l.status, l.tenant_id, l.agent_id, l.purpose, "
            "l.started_ms, l.expires_ms, l.released_ms",
            "leases l JOIN mailboxes m ON m.id=l.mailbox_id",
            {"l.status": status, "l.tenant_id": tenant_id},
            "l.seq DESC",
            page,
            size,
            row,
        )

    def messages(
        self,
        page: int,
        size: int,
        tenant_id: str | None,
        mailbox_id: str | None,
        parsed_status: str | None,
        iso: Iso,
    ) -> Page:
        """``GET /v2/admin/messages``: newest first."""

        def row(r: DbRow) -> JsonObject:
            return {
                "message_id": r["id"],
                "mailbox_id": r["mailbox_id"],
                "tenant_id": r["tenant_id"],
                "sender_domain": r["sender_domain"],
                "subject": r["subject"],
                "received_at": iso(r["received_ms"]),
                "parsed_status": r["parsed_status"],
                "otp_extracted": r["otp_code"] is not None,
            }

        return self._page(
            "id, mailbox_id, tenant_id, sender_domain, subject, received_ms, parsed_status, "
            "otp_code",
            "messages",
            {"tenant_id": tenant_id, "mailbox_id": mailbox_id, "parsed_status": parsed_status},
            "received_ms DESC, seq DESC",
            page,
            size,
            row,
        )

    def send_attempts(
        self,
        page: int,
        size: int,
        tenant_id: str | None,
        mailbox_id: str | None,
        submission_status: str | None,
        iso: Iso,
    ) -> Page:
        """``GET /v2/admin/send-attempts``: newest first."""

        def row(r: DbRow) -> JsonObject:
            return {
                "send_attempt_id": r["id"],
                "tenant_id": r["tenant_id"],
                "agent_id": r["agent_id"],
                "mailbox_id": r["mailbox_id"],
                "to": json.loads(r["to_json"]),
                "subject": r["subject"],
                "submission_status": r["status"],
                "accepted": json.loads(r["accepted_json"]),
                "rejected": json.loads(r["rejected_json"]),
                "message_id": r["message_id"],
                "response": r["response"],
                "envelope": json.loads(r["envelope_json"]) if r["envelope_json"] else None,
                "error": r["error"],
                "created_at": iso(r["created_ms"]),
                "updated_at": iso(r["updated_ms"]),
            }

        return self._page(
            "id, tenant_id, agent_id, mailbox_id, to_json, subject, status, accepted_json, "
            "rejected_json, message_id, response, envelope_json, error, created_ms, updated_ms",
            "send_attempts",
            {"tenant_id": tenant_id, "mailbox_id": mailbox_id, "status": submission_status},
            "created_ms DESC, seq DESC",
            page,
            size,
            row,
        )

    def webhooks(
        self, page: int, size: int, tenant_id: str | None, webhook_id: str | None, iso: Iso
    ) -> Page:
        """``GET /v2/admin/webhooks``: by target URL."""

        def row(r: DbRow) -> JsonObject:
            return {
                "webhook_id": r["id"],
                "tenant_id": r["tenant_id"],
                "target_url": r["target_url"],
                "event_types": json.loads(r["event_types_json"]),
                "status": r["status"],
                "last_delivery_at": iso(r["last_delivery_ms"]),
                "last_status_code": r["last_status_code"],
            }

        return self._page(
            "id, tenant_id, target_url, event_types_json, status, last_delivery_ms, "
            "last_status_code",
            "webhooks",
            {"tenant_id": tenant_id, "id": webhook_id},
            "target_url, seq",
            page,
            size,
            row,
        )

    def deliveries(
        self, page: int, size: int, tenant_id: str | None, webhook_id: str | None, iso: Iso
    ) -> Page:
        """``GET /v2/admin/webhook-deliveries``: newest first."""

        def row(r: DbRow) -> JsonObject:
            return {
                "webhook_id": r["webhook_id"],
                "tenant_id": r["tenant_id"],
                "delivery_id": r["id"],
                "event_type": r["event_type"],
                "message_id": r["message_id"],
                "status_code": r["status_code"],
                "attempts": r["attempts"],
                "ok": bool(r["ok"]),
                "error_message": r["error_message"],
                "response_excerpt": r["response_excerpt"],
                "request_id": r["request_id"],
                "delivered_at": iso(r["delivered_ms"]),
            }

        return self._page(
            "*",
            "webhook_deliveries",
            {"tenant_id": tenant_id, "webhook_id": webhook_id},
            "delivered_ms DESC, seq DESC",
            page,
            size,
            row,
        )

    def invoices(
        self, page: int, size: int, period: str | None, usdc: Callable[[int], int | float]
    ) -> Page:
        """``GET /v2/admin/billing/invoices``: newest period first."""

        def row(r: DbRow) -> JsonObject:
            return {
                "invoice_id": r["id"],
                "tenant_id": r["tenant_id"],
                "period": r["period"],
                "amount_usdc": usdc(r["amount_micro"]),
                "status": r["status"],
                "settlement_tx_hash": r["settlement_tx_hash"],
                "statement_hash": r["statement_hash"],
            }

        return self._page(
            "*", "invoices", {"period": period}, "period DESC, created_ms DESC", page, size, row
        )

    def risk_events(self, page: int, size: int, tenant_id: str | None, iso: Iso) -> Page:
        """``GET /v2/admin/risk/events``: newest first."""

        def row(r: DbRow) -> JsonObject:
            return {
                "event_id": r["id"],
                "tenant_id": r["tenant_id"],
                "severity": r["severity"],
                "type": r["type"],
                "detail": r["detail"],
                "occurred_at": iso(r["occurred_ms"]),
            }

        return self._page("*", "risk_events", {"tenant_id": tenant_id}, "seq DESC", page, size, row)

    def risk_policies(self, page: int, size: int, policy_type: str | None, iso: Iso) -> Page:
        """``GET /v2/admin/risk/policies`` (sandbox only): by type, then value."""

        def row(r: DbRow) -> JsonObject:
            return {
                "policy_id": r["key"],
                "policy_type": r["policy_type"],
                "value": r["value"],
                "action": r["action"],
                "updated_at": iso(r["updated_ms"]),
            }

        return self._page(
            "*",
            "risk_policies",
            {"policy_type": policy_type},
            "policy_type, value",
            page,
            size,
            row,
        )

    def audit_logs(
        self,
        page: int,
        size: int,
        request_id: str | None,
        tenant_id: str | None,
        actor_did: str | None,
        action: str | None,
        iso: Iso,
    ) -> Page:
        """``GET /v2/admin/audit/logs``: newest first."""

        def row(r: DbRow) -> JsonObject:
            return {
                "log_id": r["id"],
                "timestamp": iso(r["ts_ms"]),
                "tenant_id": r["tenant_id"],
                "actor_did": r["actor_did"],
                "action": r["action"],
                "resource_type": r["resource_type"],
                "resource_id": r["resource_id"],
                "request_id": r["request_id"],
                "result": r["result"],
                "metadata": json.loads(r["metadata_json"]),
            }

        filters = {
            "request_id": request_id,
            "tenant_id": tenant_id,
            "actor_did": actor_did,
            "action": action,
        }
        return self._page("*", "audit_logs", filters, "seq DESC", page, size, row)

    def jobs(self, page: int, size: int, iso: Iso) -> Page:
        """``GET /v2/admin/jobs``: newest first (the reference's job objects, camelCase)."""

        def row(r: DbRow) -> JsonObject:
            return {
                "id": r["id"],
                "type": r["type"],
                "payload": json.loads(r["payload_json"]),
                "status": r["status"],
                "result": json.loads(r["result_json"]) if r["result_json"] else None,
                "error": r["error"],
                "createdAt": iso(r["created_ms"]),
                "updatedAt": iso(r["updated_ms"]),
            }

        return self._page("*", "jobs", {}, "seq DESC", page, size, row)

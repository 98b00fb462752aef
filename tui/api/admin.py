"""Async client for the operator API ``/v2/admin/*`` (see ``docs/admin-api.md``).

The admin token goes in ``Authorization: Bearer``; it is never logged, never part of a
``repr`` and never put in a URL. Answers stay raw JSON dicts: the operator views show the
server's fields as they come (every list is ``{items, page, page_size, total}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from tui.api.errors import InvalidResponseError
from tui.api.transport import JsonTransport, QueryParams
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    import httpx


PREFIX = "/v2/admin"
"""Where the operator API lives."""
MAX_PAGE_SIZE = 200
"""The largest ``page_size`` the server accepts."""


@dataclass(frozen=True)
class AdminPage:
    """One page of an admin list."""

    items: list[JsonObject]
    """Raw rows (untrusted strings: sanitize before display)."""
    page: int
    """1-based page number."""
    page_size: int
    """Rows per page asked for."""
    total: int
    """Rows in the whole filtered list."""

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1)."""
        return max(1, -(-self.total // max(1, self.page_size)))

    def as_dict(self) -> JsonObject:
        """The server's JSON shape."""
        return {
            "items": self.items,
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
        }


def _seg(value: str) -> str:
    """One path segment (ids are percent-encoded; slashes never split the path)."""
    return quote(value, safe="")


class AdminClient:
    """One method per admin route; errors are :mod:`tui.api.errors` exceptions."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        """The service's base URL."""
        self._token = token
        self._pool = JsonTransport(self.base_url, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"AdminClient({self.base_url!r}, token=<hidden>)"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._pool.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        body: JsonObject | None = None,
    ) -> JsonObject:
        """One call to ``/v2/admin<path>``; the JSON object answered."""
        data = await self._pool.call(
            method,
            PREFIX + path,
            headers={"authorization": f"Bearer {self._token}"},
            params=params,
            body=body,
            log_path=f"{PREFIX}/{path.split('/')[1]}",  # the resource, never an id
        )
        if not isinstance(data, dict):
            raise InvalidResponseError(f"{method} {PREFIX}{path}: the answer is not an object")
        return data

    # -- lists -------------------------------------------------------------------------------

    async def page(
        self,
        path: str,
        page: int = 1,
        page_size: int = 50,
        filters: dict[str, str] | None = None,
    ) -> AdminPage:
        """A page of the list at ``path`` (``/tenants``, ``/audit/logs``...)."""
        params: dict[str, str | int] = {"page": page, "page_size": page_size}
        params.update({k: v for k, v in (filters or {}).items() if v})
        data = await self.request("GET", path, params=params)
        items = data.get("items")
        if not isinstance(items, list):
            raise InvalidResponseError(f"GET {PREFIX}{path}: no items")
        rows = [row for row in items if isinstance(row, dict)]

        def number(key: str, default: int) -> int:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else default

        return AdminPage(
            rows, number("page", page), number("page_size", page_size), number("total", len(rows))
        )

    # -- overview and settings ----------------------------------------------------------------

    async def metrics(self) -> JsonObject:
        """``GET overview/metrics``."""
        return await self.request("GET", "/overview/metrics")

    async def timeseries(self, bucket: str = "hour") -> list[JsonObject]:
        """``GET overview/timeseries``: ``[{ts, value}]``."""
        data = await self.request("GET", "/overview/timeseries", params={"bucket": bucket})
        points = data.get("points")
        return [p for p in points if isinstance(p, dict)] if isinstance(points, list) else []

    async def settings(self) -> JsonObject:
        """``GET settings/runtime``."""
        return await self.request("GET", "/settings/runtime")

    async def set_settings(
        self, *, overage_usdc: float | None = None, allocate_hourly_limit: int | None = None
    ) -> JsonObject:
        """``PATCH settings/runtime`` with the given values only."""
        body: JsonObject = {}
        if overage_usdc is not None:
            body["overage_charge_usdc"] = overage_usdc
        if allocate_hourly_limit is not None:
            body["agent_allocate_hourly_limit"] = allocate_hourly_limit
        return await self.request("PATCH", "/settings/runtime", body=body)

    # -- actions ------------------------------------------------------------------------------

    async def tenant(self, tenant_id: str) -> JsonObject:
        """``GET tenants/{id}``."""
        return await self.request("GET", f"/tenants/{_seg(tenant_id)}")

    async def set_tenant(
        self,
        tenant_id: str,
        *,
        status: str | None = None,
        qps: int | None = None,
        mailbox_limit: int | None = None,
    ) -> JsonObject:
        """``PATCH tenants/{id}``: status and quotas (only the given ones)."""
        body: JsonObject = {}
        if status is not None:
            body["status"] = status
        quotas = {
            k: v for k, v in (("qps", qps), ("mailbox_limit", mailbox_limit)) if v is not None
        }
        if quotas:
            body["quotas"] = quotas
        return await self.request("PATCH", f"/tenants/{_seg(tenant_id)}", body=body)

    async def freeze_mailbox(self, mailbox_id: str, reason: str) -> JsonObject:
        """``POST mailboxes/{id}/freeze``."""
        path = f"/mailboxes/{_seg(mailbox_id)}/freeze"
        return await self.request("POST", path, body={"reason": reason})

    async def release_mailbox(self, mailbox_id: str) -> JsonObject:
        """``POST mailboxes/{id}/release``."""
        return await self.request("POST", f"/mailboxes/{_seg(mailbox_id)}/release", body={})

    async def reparse_message(self, message_id: str) -> JsonObject:
        """``POST messages/{id}/reparse``."""
        return await self.request("POST", f"/messages/{_seg(message_id)}/reparse", body={})

    async def replay_message(self, message_id: str) -> JsonObject:
        """``POST messages/{id}/replay-webhook``."""
        path = f"/messages/{_seg(message_id)}/replay-webhook"
        return await self.request("POST", path, body={})

    async def replay_webhook(
        self, webhook_id: str, start: str | None = None, end: str | None = None
    ) -> JsonObject:
        """``POST webhooks/{id}/replay`` over ``[start, end]`` (ISO; server defaults)."""
        body = {k: v for k, v in (("from", start), ("to", end)) if v}
        return await self.request("POST", f"/webhooks/{_seg(webhook_id)}/replay", body=body)

    async def rotate_webhook(self, webhook_id: str) -> JsonObject:
        """``POST webhooks/{id}/rotate-secret``: ``{webhook_id, secret}`` (shown once)."""
        path = f"/webhooks/{_seg(webhook_id)}/rotate-secret"
        return await self.request("POST", path, body={})

    async def issue_invoice(self, invoice_id: str) -> JsonObject:
        """``POST billing/invoices/{id}/issue``."""
        path = f"/billing/invoices/{_seg(invoice_id)}/issue"
        return await self.request("POST", path, body={})

    async def set_policy(self, policy_type: str, value: str, action: str) -> JsonObject:
        """``POST risk/policies`` (``action``: add, update or remove)."""
        body = {"policy_type": policy_type, "value": value, "action": action}
        return await self.request("POST", "/risk/policies", body=body)

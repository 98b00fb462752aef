"""The contract's error envelope and JSON responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from starlette.responses import Response

from tui.jsontypes import JsonValue

_JSON_CT = "application/json; charset=utf-8"
Row = TypeVar("Row")


class ApiError(Exception):
    """An error answered with the contract's envelope ``{"error", "message", ...extra}``."""

    def __init__(self, status: int, error: str, message: str, **extra: JsonValue) -> None:
        super().__init__(message)
        self.status = status
        """HTTP status code."""
        self.error = error
        """Machine-readable code."""
        self.message = message
        """Human-readable text."""
        self.extra = extra
        """Extra body fields (402: ``amount_usdc``, ``reasons``)."""


def bad_request(message: str) -> ApiError:
    """A 400 ``bad_request``."""
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    """A 404 ``not_found``."""
    return ApiError(404, "not_found", message)


def found(
    fetch: Callable[[str, str], Row | None], tenant_id: str, value: str, name: str, missing: str
) -> Row:
    """A path id's row of the tenant: 400 ``<name> is required`` when empty, 404 when unknown
    or another tenant's (the contract never says 403)."""
    if not value.strip():
        raise bad_request(f"{name} is required")
    row = fetch(tenant_id, value.strip())
    if row is None:
        raise not_found(missing)
    return row


def json_response(status: int, body: JsonValue) -> Response:
    """A compact JSON response with the contract's content type."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(data, status_code=status, headers={"content-type": _JSON_CT})

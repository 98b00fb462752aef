"""The HTTP plumbing both API clients share (:mod:`tui.api.client`, :mod:`tui.api.admin`).

One lazily opened httpx pool per client and one JSON request with one error mapping:
no answer -> :class:`NetworkError`; HTTP >= 400 -> :func:`error_for_status` (with
``Retry-After``); a redirect, a body nested too deep or no JSON -> :class:`InvalidResponseError`.
Headers and bodies are never logged: they carry tokens, payment proofs and passwords.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeAlias

from tui import __version__, limits
from tui.api.errors import InvalidResponseError, NetworkError, error_for_status
from tui.jsontypes import JsonObject, JsonValue
from tui.limits import JsonTooDeepError

QueryParams: TypeAlias = Mapping[str, str | int]
"""A request's query string, by parameter name."""

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("tui.api.client")


def _ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.monotonic()``)."""
    return (time.monotonic() - started) * 1000


def parse_retry_after(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header given in seconds (dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), 3600.0)


class JsonTransport:
    """An httpx pool opened on first use (httpx loads off the start-up path) and one JSON call."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        """The service's base URL, without a trailing slash."""
        self._timeout = timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        """The pool (created on the first call)."""
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self._timeout,
                transport=self._transport,
                headers={"user-agent": f"mailagents-tui/{__version__}"},
                follow_redirects=False,
            )
        return self._http

    async def aclose(self) -> None:
        """Close the pool (a later call opens a new one)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        params: QueryParams | None = None,
        body: JsonObject | None = None,
        log_path: str | None = None,
        auth: httpx.Auth | None = None,
    ) -> JsonValue:
        """``method path`` with a JSON ``body``; the parsed JSON answer (any JSON value).

        ``log_path`` is what the log shows instead of ``path`` (ids left out). ``auth`` is the
        call's httpx auth flow (the tenant client's :class:`~tui.api.authflow.SessionAuth`:
        token, renewal, payment proof); the answer is that of the flow's last request, and the
        debug log says when a payment proof went with it.
        """
        import httpx

        shown = path if log_path is None else log_path
        headers = {"accept": "application/json", **headers}
        content = None
        if body is not None:
            headers["content-type"] = "application/json"
            content = json.dumps(body).encode()
        started = time.monotonic()
        try:
            response = await self.client().request(
                method, path, params=params, content=content, headers=headers, auth=auth
            )
        except httpx.TimeoutException as exc:
            log.debug("%s %s -> timed out after %.0f ms", method, shown, _ms(started))
            raise NetworkError(f"{self.base_url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            log.debug("%s %s -> %s after %.0f ms", method, shown, type(exc).__name__, _ms(started))
            raise NetworkError(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
        request_id = response.headers.get("x-request-id")
        paid = "x-payment-proof" in response.request.headers  # (its value is never logged)
        log.debug(
            "%s %s -> %s in %.0f ms (request %s%s)",
            method,
            shown,
            response.status_code,
            _ms(started),
            request_id or "-",
            ", paid with a proof" if paid else "",
        )
        return self._answer(method, path, shown, response, request_id)

    @staticmethod
    def _answer(
        method: str, path: str, shown: str, response: httpx.Response, request_id: str | None
    ) -> JsonValue:
        """The JSON of ``response``, or the error it stands for."""
        too_deep: JsonTooDeepError | None = None
        try:
            data = limits.loads(response.content) if response.content else {}
        except JsonTooDeepError as exc:  # refused before parsing: it would overflow the stack
            data, too_deep = None, exc
        except ValueError:
            data = None
        if response.status_code >= 400:
            body_obj = data if isinstance(data, dict) else {}
            if not body_obj:
                body_obj = {"error": "http_error", "message": response.reason_phrase or ""}
            err = error_for_status(response.status_code, body_obj, request_id)
            err.retry_after = parse_retry_after(response.headers.get("retry-after"))
            log.info(
                "%s %s -> %s %s (request %s)", method, shown, err.status, err.error, request_id
            )
            raise err
        if too_deep is not None:
            raise InvalidResponseError(
                f"{method} {path} answered HTTP {response.status_code} with a JSON body "
                f"nested too deep to read ({too_deep})"
            )
        if not 200 <= response.status_code < 300:
            where = response.headers.get("location")
            raise InvalidResponseError(
                f"{method} {path} answered HTTP {response.status_code}"
                + (f" (a redirect to {where[:200]}): check the API base" if where else "")
            )
        if data is None:
            raise InvalidResponseError(
                f"{method} {path} answered HTTP {response.status_code} without JSON"
            )
        return data

"""The tenant API's authentication as an httpx ``Auth`` flow: bearer token, renewal, proofs.

:class:`MailagentsClient` builds one :class:`SessionAuth` per call and passes it to httpx with
the request. The flow

- puts the bearer token of the :class:`~tui.api.client.TokenSource` on the request;
- on a 401 (or the 403 of a server that no longer knows the token's tenant, see
  :func:`~tui.api.errors.needs_new_session`) signs in again once and sends the call again;
  the same answer after that new sign-in is final (:attr:`SessionAuth.renewed` tells the
  client, which marks the error ``after_sign_in``);
- on one of the protected endpoints, policy ``auto`` answers a 402 with a proof for exactly
  this method and path and sends the call once more with it; ``always`` sends a fresh proof
  with the first try, ``never`` leaves the 402 to the caller. A 402 to a request that carried
  a proof is final: the caller gets the server's :class:`PaymentRequiredError` (it names the
  limit and the price). After a new sign-in the payment steps start again (proofs are fetched
  for each try, never reused).

httpx drives the generator: each ``yield`` sends a request and gives back its answer; the
last answer is what the call returns (the transport maps it to JSON or to an error). The flow
overrides ``async_auth_flow`` rather than ``auth_flow`` because signing in and fetching a
proof await other calls (SIWE, ``POST /v2/payments/proof``), and the client only ever uses an
``httpx.AsyncClient``; the sync flow refuses to run. It reads the bodies of the 401/402/403
answers it acts on (``requires_response_body``). Tokens and proofs are never logged: a step
logs method, path, status, time and request id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING

import httpx

from tui import limits
from tui.api.errors import ApiError, error_for_status, needs_new_session

if TYPE_CHECKING:
    from tui.api.client import PaymentPolicy, TokenSource
    from tui.api.models import PaymentProof

log = logging.getLogger("tui.api.client")

ProofFetcher = Callable[[str, str, "str | None"], Awaitable["PaymentProof"]]
"""``(method, path, token) -> PaymentProof``: ``POST /v2/payments/proof`` for one target."""


class SessionAuth(httpx.Auth):
    """One call's authentication: token, one renewal, one paid retry (see the module)."""

    requires_response_body = True
    """It acts on the bodies of 401/402/403 answers (``async_auth_flow`` reads them itself:
    httpx consults this flag only in the default flows)."""

    renewed: bool
    """The flow signed in again (an auth error after that is not cured by signing in)."""
    proof: PaymentProof | None
    """The proof that went with the last request sent (None: it carried none)."""

    def __init__(
        self,
        method: str,
        path: str,
        *,
        tokens: TokenSource | None,
        proofs: ProofFetcher,
        protected: bool,
        policy: PaymentPolicy,
    ) -> None:
        self._method = method
        self._path = path
        self._tokens = tokens
        self._proofs = proofs
        self._protected = protected
        self._policy = policy
        self.renewed = False
        self.proof = None

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Refused: the flow awaits sign-ins and proofs (the client is an ``AsyncClient``)."""
        raise RuntimeError("SessionAuth needs an httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send ``request`` with the token (and a proof when due); renew once, pay once."""
        token = await self._tokens.get_token() if self._tokens is not None else None
        for last in (self._tokens is None, True):
            self.proof = None
            stale = False  # the proof endpoint refused the session: sign in again
            if self._protected and self._policy == "always":
                stale = not await self._fetch_proof(token, last)
            if not stale:
                self._sign(request, token)
                started = time.monotonic()
                response = yield request
                if self._wants_proof(response):
                    await response.aread()
                    self._log(response, started, "fetching a payment proof")
                    stale = not await self._fetch_proof(token, last)
                    if not stale:
                        self._sign(request, token)
                        started = time.monotonic()
                        response = yield request
                if not stale:
                    if last or not await self._session_refused(response):
                        return
                    self._log(response, started, "signing in again")
            assert self._tokens is not None  # (``last`` is True without a token source)
            self.renewed = True
            token = await self._tokens.renew()

    # -- steps ------------------------------------------------------------------------------

    def _sign(self, request: httpx.Request, token: str | None) -> None:
        """Put this try's token and proof on ``request`` (a retry replaces both)."""
        if token:
            request.headers["authorization"] = f"Bearer {token}"
        if self.proof is not None:
            request.headers["x-payment-proof"] = self.proof.proof
        else:
            request.headers.pop("x-payment-proof", None)

    def _wants_proof(self, response: httpx.Response) -> bool:
        """A 402 that policy ``auto`` answers with a proof (the first try carried none)."""
        return response.status_code == 402 and self._protected and self._policy == "auto"

    async def _fetch_proof(self, token: str | None, last: bool) -> bool:
        """Fetch this call's proof into :attr:`proof`; False when the proof endpoint says the
        session is gone and a new sign-in may cure it (else its error propagates)."""
        try:
            self.proof = await self._proofs(self._method, self._path, token)
        except ApiError as exc:
            if last or not needs_new_session(exc):
                raise
            return False
        return True

    @staticmethod
    async def _session_refused(response: httpx.Response) -> bool:
        """The answer means the token (or its tenant) is unknown: a 401, or the 403
        "context not found"."""
        if response.status_code not in (401, 403):
            return False
        await response.aread()
        try:
            body = limits.loads(response.content) if response.content else {}
        except ValueError:  # (JsonTooDeepError included)
            body = {}
        if not isinstance(body, dict):
            body = {}
        return needs_new_session(error_for_status(response.status_code, body, None))

    def _log(self, response: httpx.Response, started: float, then: str) -> None:
        log.info(
            "%s %s -> %s in %.0f ms (request %s): %s",
            self._method,
            self._path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("x-request-id") or "-",
            then,
        )

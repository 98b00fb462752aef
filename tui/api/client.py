"""Async client for the mailagents v2 HTTP API: one method per endpoint.

Authentication is an httpx ``Auth`` flow, one :class:`~tui.api.authflow.SessionAuth` per
call: the bearer token comes from a :class:`TokenSource` (the core's session manager), a 401
renews the token once and retries. Payment proofs follow the policy ``auto`` (on 402 fetch a
proof for exactly that method and path, retry once), ``always`` (fetch before every protected
call) or ``never`` (surface the 402). Proofs are never reused. A call that went through with a
proof is counted here (:attr:`MailagentsClient.paid_calls`, :attr:`~MailagentsClient.paid_usdc`,
:attr:`~MailagentsClient.on_paid`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import quote

from tui.api.errors import (
    AuthenticationError,
    ForbiddenError,
    InvalidResponseError,
)
from tui.api.models import (
    Account,
    AllocatedLease,
    AuthResult,
    Challenge,
    Credentials,
    Invoice,
    Lease,
    Message,
    PaymentProof,
    Runtime,
    SendAttempt,
    SendResult,
    UsageSummary,
    Webhook,
    WebhookDelivery,
    items_of,
)
from tui.api.transport import JsonTransport, QueryParams
from tui.jsontypes import JsonObject, JsonValue

if TYPE_CHECKING:
    import httpx


PaymentPolicy = Literal["auto", "always", "never"]
"""How protected calls get their payment proofs."""

PROTECTED: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/v2/mailboxes/leases"),
        ("GET", "/v2/messages"),
        ("POST", "/v2/messages/send"),
        ("POST", "/v2/webhooks"),
    }
)
"""The four endpoints that run the free-limit check (contract §3.1)."""


class TokenSource(Protocol):
    """Supplies bearer tokens; implemented by the core's session manager."""

    async def get_token(self) -> str:
        """A token believed valid (signing in if there is none)."""
        ...

    async def renew(self) -> str:
        """Sign in again and return the new token (after a 401)."""
        ...


def _seg(value: str) -> str:
    """Quote one path segment so an id can never change the route."""
    return quote(str(value), safe="")


class MailagentsClient:
    """The v2 API over httpx. Create once per API base; close with :meth:`aclose`."""

    base_url: str
    """API base, without a trailing slash."""
    payment_policy: PaymentPolicy
    """``auto``, ``always`` or ``never``."""
    token_source: TokenSource | None
    """Where bearer tokens come from; None for public calls only."""
    paid_calls: int
    """Protected calls that went through with a payment proof in this process."""
    paid_usdc: float
    """What those calls cost, as the proofs stated."""
    on_paid: Callable[[str, str, float | None], None] | None
    """Called after a paid call succeeds with (method, path, amount)."""

    def __init__(
        self,
        base_url: str,
        *,
        token_source: TokenSource | None = None,
        payment_policy: PaymentPolicy = "auto",
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_source = token_source
        self.payment_policy = payment_policy
        self.paid_calls = 0
        self.paid_usdc = 0.0
        self.on_paid = None
        self._pool = JsonTransport(self.base_url, timeout=timeout, transport=transport)

    # -- plumbing ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._pool.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: JsonObject | None = None,
        token: str | None = None,
    ) -> JsonValue:
        """One request with ``token`` as is: no renewal, no payment (the proof endpoint)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return await self._pool.call(method, path, headers=headers, body=body)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        body: JsonObject | None = None,
        auth: bool = True,
    ) -> JsonValue:
        """One API call through the call's auth flow (token renewal once, payment policy)."""
        from tui.api.authflow import SessionAuth  # (imports httpx: off the start-up path)

        flow = SessionAuth(
            method,
            path,
            tokens=self.token_source if auth else None,
            proofs=self._proof_for,
            protected=(method, path) in PROTECTED,
            policy=self.payment_policy,
        )
        try:
            result = await self._pool.call(
                method, path, headers={}, params=params, body=body, auth=flow
            )
        except (AuthenticationError, ForbiddenError) as exc:
            if flow.renewed:
                exc.after_sign_in = True  # a new sign-in did not cure it: permanent
            raise
        if flow.proof is not None:  # it went through with a proof: a paid call
            amount = flow.proof.amount_usdc
            self.paid_calls += 1
            self.paid_usdc = round(self.paid_usdc + (amount or 0.0), 6)
            if self.on_paid is not None:
                self.on_paid(method, path, amount)
        return result

    async def _proof_for(self, method: str, path: str, token: str | None) -> PaymentProof:
        return await self.payment_proof(method, path, token=token)

    # -- public endpoints ---------------------------------------------------------------------

    async def health(self) -> JsonObject:
        """``GET /healthz``."""
        data = await self._call("GET", "/healthz", auth=False)
        if not isinstance(data, dict):
            raise InvalidResponseError("health answer is not a JSON object")
        return data

    async def runtime(self) -> Runtime:
        """``GET /v2/meta/runtime``."""
        return Runtime.from_json(await self._call("GET", "/v2/meta/runtime", auth=False))

    # -- auth ----------------------------------------------------------------------------------

    async def siwe_challenge(self, wallet_address: str) -> Challenge:
        """``POST /v2/auth/siwe/challenge``."""
        data = await self._call(
            "POST", "/v2/auth/siwe/challenge", body={"wallet_address": wallet_address}, auth=False
        )
        return Challenge.from_json(data)

    async def siwe_verify(self, message: str, signature: str) -> AuthResult:
        """``POST /v2/auth/siwe/verify``."""
        try:
            data = await self._call(
                "POST",
                "/v2/auth/siwe/verify",
                body={"message": message, "signature": signature},
                auth=False,
            )
        except AuthenticationError as exc:
            exc.after_sign_in = True  # the signature itself was refused
            raise
        return AuthResult.from_json(data)

    async def payment_proof(
        self, method: str, path: str, *, token: str | None = None
    ) -> PaymentProof:
        """``POST /v2/payments/proof`` for exactly one method and path."""
        if token is None and self.token_source is not None:
            token = await self.token_source.get_token()
        data = await self._send(
            "POST", "/v2/payments/proof", body={"method": method, "path": path}, token=token
        )
        return PaymentProof.from_json(data)

    # -- leases --------------------------------------------------------------------------------

    async def allocate_lease(self, agent_id: str, purpose: str, ttl_hours: int) -> AllocatedLease:
        """``POST /v2/mailboxes/leases`` (protected)."""
        data = await self._call(
            "POST",
            "/v2/mailboxes/leases",
            body={"agent_id": agent_id, "purpose": purpose, "ttl_hours": ttl_hours},
        )
        return AllocatedLease.from_json(data)

    async def list_leases(self) -> list[Lease]:
        """``GET /v2/mailboxes/leases``: the tenant's active leases."""
        data = await self._call("GET", "/v2/mailboxes/leases")
        return [Lease.from_json(item) for item in items_of(data, "leases")]

    async def get_lease(self, lease_id: str) -> Lease:
        """``GET /v2/mailboxes/leases/{lease_id}``."""
        return Lease.from_json(await self._call("GET", f"/v2/mailboxes/leases/{_seg(lease_id)}"))

    async def release_lease(self, lease_id: str) -> JsonObject:
        """``POST /v2/mailboxes/leases/{lease_id}/release``."""
        data = await self._call("POST", f"/v2/mailboxes/leases/{_seg(lease_id)}/release", body={})
        return data if isinstance(data, dict) else {}

    async def list_accounts(self) -> list[Account]:
        """``GET /v2/mailboxes/accounts``."""
        data = await self._call("GET", "/v2/mailboxes/accounts")
        return [Account.from_json(item) for item in items_of(data, "accounts")]

    async def reset_credentials(self, account_id: str) -> Credentials:
        """``POST /v2/mailboxes/accounts/{account_id}/credentials/reset``."""
        data = await self._call(
            "POST", f"/v2/mailboxes/accounts/{_seg(account_id)}/credentials/reset", body={}
        )
        return Credentials.from_json(data)

    # -- messages ------------------------------------------------------------------------------

    async def list_messages(
        self, mailbox_id: str, *, since: str | None = None, limit: int | None = None
    ) -> list[Message]:
        """``GET /v2/messages`` (protected): newest first, ``since`` inclusive."""
        params: dict[str, str | int] = {"mailbox_id": mailbox_id}
        if since:
            params["since"] = since
        if limit is not None:
            params["limit"] = limit
        data = await self._call("GET", "/v2/messages", params=params)
        return [Message.from_json(item) for item in items_of(data, "messages")]

    async def get_message(self, message_id: str) -> Message:
        """``GET /v2/messages/{message_id}``."""
        return Message.from_json(await self._call("GET", f"/v2/messages/{_seg(message_id)}"))

    async def send_message(
        self,
        mailbox_id: str,
        mailbox_password: str,
        to: list[str],
        subject: str,
        *,
        text: str | None = None,
        html: str | None = None,
    ) -> SendResult:
        """``POST /v2/messages/send`` (protected)."""
        body: JsonObject = {
            "mailbox_id": mailbox_id,
            "mailbox_password": mailbox_password,
            "to": to,
            "subject": subject,
        }
        if text:
            body["text"] = text
        if html:
            body["html"] = html
        return SendResult.from_json(await self._call("POST", "/v2/messages/send", body=body))

    async def list_send_attempts(self) -> list[SendAttempt]:
        """``GET /v2/send-attempts``: newest first."""
        data = await self._call("GET", "/v2/send-attempts")
        return [SendAttempt.from_json(item) for item in items_of(data, "send attempts")]

    async def get_send_attempt(self, attempt_id: str) -> SendAttempt:
        """``GET /v2/send-attempts/{id}``."""
        return SendAttempt.from_json(
            await self._call("GET", f"/v2/send-attempts/{_seg(attempt_id)}")
        )

    # -- webhooks ------------------------------------------------------------------------------

    async def create_webhook(self, event_types: list[str], target_url: str, secret: str) -> Webhook:
        """``POST /v2/webhooks`` (protected)."""
        body = {"event_types": event_types, "target_url": target_url, "secret": secret}
        return Webhook.from_json(await self._call("POST", "/v2/webhooks", body=body))

    async def list_webhooks(self) -> list[Webhook]:
        """``GET /v2/webhooks``."""
        data = await self._call("GET", "/v2/webhooks")
        return [Webhook.from_json(item) for item in items_of(data, "webhooks")]

    async def get_webhook(self, webhook_id: str) -> Webhook:
        """``GET /v2/webhooks/{id}``."""
        return Webhook.from_json(await self._call("GET", f"/v2/webhooks/{_seg(webhook_id)}"))

    async def rotate_webhook_secret(self, webhook_id: str) -> str:
        """``POST /v2/webhooks/{id}/rotate-secret``: the new secret (shown only now)."""
        data = await self._call("POST", f"/v2/webhooks/{_seg(webhook_id)}/rotate-secret", body={})
        secret = data.get("secret") if isinstance(data, dict) else None
        if not isinstance(secret, str):
            raise InvalidResponseError("rotate-secret answer lacks 'secret'")
        return secret

    async def list_webhook_deliveries(self, webhook_id: str | None = None) -> list[WebhookDelivery]:
        """``GET /v2/webhooks/deliveries[?webhook_id=]``: newest first."""
        params = {"webhook_id": webhook_id} if webhook_id else None
        data = await self._call("GET", "/v2/webhooks/deliveries", params=params)
        return [WebhookDelivery.from_json(item) for item in items_of(data, "deliveries")]

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery:
        """``GET /v2/webhooks/deliveries/{id}``."""
        return WebhookDelivery.from_json(
            await self._call("GET", f"/v2/webhooks/deliveries/{_seg(delivery_id)}")
        )

    # -- usage and billing ---------------------------------------------------------------------

    async def usage_summary(self, period: str) -> UsageSummary:
        """``GET /v2/usage/summary?period=YYYY-MM``."""
        data = await self._call("GET", "/v2/usage/summary", params={"period": period})
        return UsageSummary.from_json(data)

    async def list_invoices(self, period: str | None = None) -> list[Invoice]:
        """``GET /v2/billing/invoices[?period=]``."""
        params = {"period": period} if period else None
        data = await self._call("GET", "/v2/billing/invoices", params=params)
        return [Invoice.from_json(item) for item in items_of(data, "invoices")]

    async def get_invoice(self, invoice_id: str) -> Invoice:
        """``GET /v2/billing/invoices/{id}``."""
        return Invoice.from_json(
            await self._call("GET", f"/v2/billing/invoices/{_seg(invoice_id)}")
        )

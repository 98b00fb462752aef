"""Typed models of the mailagents v2 API answers.

Every ``from_json`` is tolerant: unknown fields are ignored, missing optional fields become
``None``, and a missing required field raises :class:`InvalidResponseError` with its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui.api.errors import InvalidResponseError
from tui.jsontypes import JsonObject


def parse_timestamp(value: object) -> datetime | None:
    """Parse an ISO-8601 timestamp from the API into an aware UTC datetime (None if invalid)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso_z(moment: datetime | None) -> str | None:
    """Format a datetime as the API does: ISO-8601 UTC with milliseconds and ``Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _req(data: JsonObject, key: str, kind: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidResponseError(f"{kind} answer lacks {key!r}")
    return value


def _opt(data: JsonObject, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _obj(data: object, kind: str) -> JsonObject:
    if not isinstance(data, dict):
        raise InvalidResponseError(f"{kind} answer is not a JSON object")
    return data


def items_of(data: object, kind: str) -> list[JsonObject]:
    """The ``items`` list of a list answer, keeping only JSON objects."""
    body = _obj(data, kind)
    items = body.get("items")
    if not isinstance(items, list):
        raise InvalidResponseError(f"{kind} answer lacks an items list")
    return [item for item in items if isinstance(item, dict)]


@dataclass(frozen=True)
class Runtime:
    """``GET /v2/meta/runtime``: how the service is configured."""

    siwe_mode: str
    """``strict`` or ``mock``."""
    payment_mode: str
    """``hmac`` or ``mock``."""
    chain_id: int | None
    """EIP-155 chain id used by SIWE."""
    chain_name: str
    """Human chain name."""
    mailbox_domain: str
    """Domain of the leased addresses."""
    overage_charge_usdc: float | None
    """Price of one paid over-limit call."""
    allocate_hourly_limit: int | None
    """Free allocations per agent per rolling hour."""
    webmail_url: str | None
    """Webmail address, when the service has one."""
    raw: JsonObject = field(default_factory=dict, repr=False)
    """The whole answer."""

    @classmethod
    def from_json(cls, data: object) -> Runtime:
        """Parse the runtime answer."""
        body = _obj(data, "runtime")
        chain = body.get("base_chain_id")
        charge = body.get("overage_charge_usdc")
        limit = body.get("agent_allocate_hourly_limit")
        return cls(
            siwe_mode=str(body.get("siwe_mode") or "mock"),
            payment_mode=str(body.get("payment_mode") or "mock"),
            chain_id=chain if isinstance(chain, int) and not isinstance(chain, bool) else None,
            chain_name=str(body.get("chain_name") or (f"chain {chain}" if chain else "unknown")),
            mailbox_domain=str(body.get("mailbox_domain") or ""),
            overage_charge_usdc=float(charge) if isinstance(charge, int | float) else None,
            allocate_hourly_limit=limit if isinstance(limit, int) else None,
            webmail_url=_opt(body, "webmail_url"),
            raw=body,
        )


@dataclass(frozen=True)
class Challenge:
    """``POST /v2/auth/siwe/challenge``."""

    nonce: str
    """The nonce the server issued."""
    message: str
    """The exact text to sign."""

    @classmethod
    def from_json(cls, data: object) -> Challenge:
        """Parse a challenge answer."""
        body = _obj(data, "challenge")
        return cls(
            nonce=_req(body, "nonce", "challenge"), message=_req(body, "message", "challenge")
        )


@dataclass(frozen=True)
class AuthResult:
    """``POST /v2/auth/siwe/verify``: a fresh access token and who it is for."""

    access_token: str
    """The bearer JWT."""
    expires_in: int
    """Lifetime in seconds as the server states it."""
    did: str
    """``did:pkh:eip155:<chain>:<address>``."""
    tenant_id: str
    """The wallet's tenant."""
    agent_id: str
    """The tenant's agent."""

    @classmethod
    def from_json(cls, data: object) -> AuthResult:
        """Parse a verify answer."""
        body = _obj(data, "verify")
        expires = body.get("expires_in")
        return cls(
            access_token=_req(body, "access_token", "verify"),
            expires_in=expires if isinstance(expires, int) else 3600,
            did=_opt(body, "did") or "",
            tenant_id=_req(body, "tenant_id", "verify"),
            agent_id=_req(body, "agent_id", "verify"),
        )


@dataclass(frozen=True)
class Lease:
    """A lease as listed or detailed (``GET /v2/mailboxes/leases[/{id}]``)."""

    lease_id: str
    """Lease id."""
    mailbox_id: str
    """Mailbox id (equals ``account_id``)."""
    address: str
    """The mailbox address."""
    lease_status: str
    """``active``, ``released`` (or ``expired`` on servers that expire leases)."""
    account_id: str | None = None
    """Same value as ``mailbox_id``."""
    agent_id: str | None = None
    """The agent that holds it."""
    purpose: str | None = None
    """Free text given at allocation."""
    started_at: datetime | None = None
    """When the lease began."""
    expires_at: datetime | None = None
    """When the lease is meant to end."""
    released_at: datetime | None = None
    """When it was released, if it was."""

    @property
    def is_active(self) -> bool:
        """The server still holds the mailbox for this lease."""
        return self.lease_status == "active"

    def is_expired(self, now: datetime | None = None) -> bool:
        """Past ``expires_at`` (the reference server keeps such leases active)."""
        if self.expires_at is None:
            return False
        return self.expires_at <= (now or datetime.now(UTC))

    @classmethod
    def from_json(cls, data: object) -> Lease:
        """Parse a lease object."""
        body = _obj(data, "lease")
        mailbox_id = _req(body, "mailbox_id", "lease")
        return cls(
            lease_id=_req(body, "lease_id", "lease"),
            mailbox_id=mailbox_id,
            address=_opt(body, "address") or "",
            lease_status=_opt(body, "lease_status") or "unknown",
            account_id=_opt(body, "account_id") or mailbox_id,
            agent_id=_opt(body, "agent_id"),
            purpose=_opt(body, "purpose"),
            started_at=parse_timestamp(body.get("started_at")),
            expires_at=parse_timestamp(body.get("expires_at")),
            released_at=parse_timestamp(body.get("released_at")),
        )


@dataclass(frozen=True)
class Credentials:
    """Mailbox login credentials, from an allocation or a credentials reset."""

    account_id: str
    """The mailbox/account id."""
    address: str
    """The mailbox address."""
    webmail_login: str | None
    """Login name for SMTP/IMAP/webmail."""
    webmail_password: str | None
    """The password; shown only at allocation and reset."""
    webmail_url: str | None
    """Webmail URL, if the service has one."""

    @classmethod
    def from_json(cls, data: object) -> Credentials:
        """Parse a credentials-reset answer."""
        body = _obj(data, "credentials")
        account = _opt(body, "account_id") or _req(body, "mailbox_id", "credentials")
        return cls(
            account_id=account,
            address=_opt(body, "address") or "",
            webmail_login=_opt(body, "webmail_login"),
            webmail_password=_opt(body, "webmail_password"),
            webmail_url=_opt(body, "webmail_url"),
        )


@dataclass(frozen=True)
class AllocatedLease:
    """``POST /v2/mailboxes/leases`` answer: the lease plus its fresh credentials."""

    lease: Lease
    """The new lease (no ``started_at``/``purpose`` in this answer)."""
    credentials: Credentials
    """The credentials issued with it."""

    @classmethod
    def from_json(cls, data: object) -> AllocatedLease:
        """Parse an allocation answer."""
        body = _obj(data, "allocation")
        lease = Lease.from_json(body)
        return cls(lease=lease, credentials=Credentials.from_json(body))


@dataclass(frozen=True)
class Account:
    """``GET /v2/mailboxes/accounts`` item: one of the tenant's mailboxes."""

    account_id: str
    """Account id (= mailbox id)."""
    address: str
    """Address."""
    account_status: str
    """``active`` (leased), ``available`` or ``frozen``."""
    lease_id: str | None
    """The active lease on it, if any."""
    lease_expires_at: datetime | None
    """Its expiry."""

    @classmethod
    def from_json(cls, data: object) -> Account:
        """Parse an account object."""
        body = _obj(data, "account")
        return cls(
            account_id=_opt(body, "account_id") or _req(body, "mailbox_id", "account"),
            address=_opt(body, "address") or "",
            account_status=_opt(body, "account_status") or "unknown",
            lease_id=_opt(body, "lease_id"),
            lease_expires_at=parse_timestamp(body.get("lease_expires_at")),
        )


@dataclass(frozen=True)
class PaymentProof:
    """``POST /v2/payments/proof``: a short-lived proof for one method and path."""

    proof: str
    """The ``x-payment-proof`` header value."""
    method: str
    """HTTP method it is valid for."""
    path: str
    """Path it is valid for."""
    amount_usdc: float | None
    """What the call will cost."""

    @classmethod
    def from_json(cls, data: object) -> PaymentProof:
        """Parse a proof answer."""
        body = _obj(data, "payment proof")
        amount = body.get("amount_usdc")
        return cls(
            proof=_req(body, "x_payment_proof", "payment proof"),
            method=_opt(body, "method") or "",
            path=_opt(body, "path") or "",
            amount_usdc=float(amount) if isinstance(amount, int | float) else None,
        )


@dataclass(frozen=True)
class Message:
    """A message as the API lists or details it (no body: the API never returns one)."""

    message_id: str
    """Message id."""
    sender: str
    """Sender address (lowercased by the server)."""
    subject: str
    """Subject."""
    received_at: datetime | None
    """When it arrived."""
    otp_code: str | None
    """The server parser's code (often wrong: treat as a guess)."""
    verification_link: str | None
    """The server parser's link."""
    parsed_status: str
    """``parsed``, ``pending`` or ``failed``."""
    sender_domain: str | None = None
    """Sender's domain."""
    mailbox_id: str | None = None
    """Only in the detail answer."""
    raw_received_at: str | None = None
    """``received_at`` exactly as the server sent it (used for ``since``)."""

    @classmethod
    def from_json(cls, data: object) -> Message:
        """Parse a message object."""
        body = _obj(data, "message")
        return cls(
            message_id=_req(body, "message_id", "message"),
            sender=_opt(body, "sender") or "",
            subject=_opt(body, "subject") or "",
            received_at=parse_timestamp(body.get("received_at")),
            otp_code=_opt(body, "otp_code"),
            verification_link=_opt(body, "verification_link"),
            parsed_status=_opt(body, "parsed_status") or "unknown",
            sender_domain=_opt(body, "sender_domain"),
            mailbox_id=_opt(body, "mailbox_id"),
            raw_received_at=_opt(body, "received_at"),
        )


def _str_list(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(frozen=True)
class SendResult:
    """``POST /v2/messages/send`` answer (202)."""

    send_attempt_id: str
    """The attempt's id (see ``/v2/send-attempts``)."""
    submission_status: str
    """``accepted``, ``queued`` or ``failed``."""
    accepted: list[str]
    """Recipients the mail server accepted."""
    rejected: list[str]
    """Recipients it refused."""
    message_id: str | None
    """The SMTP message id, when known."""

    @classmethod
    def from_json(cls, data: object) -> SendResult:
        """Parse a send answer."""
        body = _obj(data, "send")
        return cls(
            send_attempt_id=_req(body, "send_attempt_id", "send"),
            submission_status=_opt(body, "submission_status") or "unknown",
            accepted=_str_list(body.get("accepted")),
            rejected=_str_list(body.get("rejected")),
            message_id=_opt(body, "message_id"),
        )


@dataclass(frozen=True)
class SendAttempt:
    """An item of ``GET /v2/send-attempts``."""

    send_attempt_id: str
    """Id."""
    mailbox_id: str | None
    """Sending mailbox."""
    to: list[str]
    """Recipients."""
    subject: str
    """Subject."""
    submission_status: str
    """``queued``, ``accepted`` or ``failed``."""
    accepted: list[str]
    """Accepted recipients."""
    rejected: list[str]
    """Rejected recipients."""
    error: str | None
    """Why it failed."""
    created_at: datetime | None
    """When."""
    message_id: str | None = None
    """SMTP message id, when known."""
    response: str | None = None
    """The mail server's answer, when known."""
    envelope: JsonObject | None = None
    """SMTP envelope (``from``, ``to``)."""
    updated_at: datetime | None = None
    """Last change."""

    @classmethod
    def from_json(cls, data: object) -> SendAttempt:
        """Parse a send attempt."""
        body = _obj(data, "send attempt")
        return cls(
            send_attempt_id=_req(body, "send_attempt_id", "send attempt"),
            mailbox_id=_opt(body, "mailbox_id"),
            to=_str_list(body.get("to")),
            subject=_opt(body, "subject") or "",
            submission_status=_opt(body, "submission_status") or "unknown",
            accepted=_str_list(body.get("accepted")),
            rejected=_str_list(body.get("rejected")),
            error=_opt(body, "error"),
            created_at=parse_timestamp(body.get("created_at")),
            message_id=_opt(body, "message_id"),
            response=_opt(body, "response"),
            envelope=body.get("envelope") if isinstance(body.get("envelope"), dict) else None,
            updated_at=parse_timestamp(body.get("updated_at")),
        )


@dataclass(frozen=True)
class Webhook:
    """A webhook (``/v2/webhooks``); the secret is never returned after creation."""

    webhook_id: str
    """Id."""
    event_types: list[str]
    """Subscribed events (``mail.received``, ``otp.extracted``)."""
    target_url: str
    """Where deliveries go."""
    status: str
    """Always ``active`` on the reference server."""
    last_delivery_at: datetime | None
    """Last delivery time."""
    last_status_code: int | None
    """HTTP status of the last delivery."""

    @classmethod
    def from_json(cls, data: object) -> Webhook:
        """Parse a webhook."""
        body = _obj(data, "webhook")
        code = body.get("last_status_code")
        return cls(
            webhook_id=_req(body, "webhook_id", "webhook"),
            event_types=_str_list(body.get("event_types")),
            target_url=_opt(body, "target_url") or "",
            status=_opt(body, "status") or "unknown",
            last_delivery_at=parse_timestamp(body.get("last_delivery_at")),
            last_status_code=code if isinstance(code, int) else None,
        )


@dataclass(frozen=True)
class WebhookDelivery:
    """One delivery of an event to a webhook."""

    delivery_id: str
    """Id (also the ``x-agent-mail-delivery-id`` header)."""
    webhook_id: str
    """The webhook."""
    status_code: int | None
    """Final HTTP status (502 for network failures)."""
    attempts: int
    """Attempts made (1..3)."""
    ok: bool
    """Delivered with a 2xx."""
    error_message: str | None
    """Why it failed."""
    response_excerpt: str | None
    """Start of a non-2xx answer."""
    delivered_at: datetime | None
    """When."""
    request_id: str | None = None
    """``x-request-id`` of the request that stored the mail."""

    @classmethod
    def from_json(cls, data: object) -> WebhookDelivery:
        """Parse a delivery."""
        body = _obj(data, "webhook delivery")
        code = body.get("status_code")
        attempts = body.get("attempts")
        return cls(
            delivery_id=_req(body, "delivery_id", "webhook delivery"),
            webhook_id=_opt(body, "webhook_id") or "",
            status_code=code if isinstance(code, int) else None,
            attempts=attempts if isinstance(attempts, int) else 0,
            ok=body.get("ok") is True,
            error_message=_opt(body, "error_message"),
            response_excerpt=_opt(body, "response_excerpt"),
            delivered_at=parse_timestamp(body.get("delivered_at")),
            request_id=_opt(body, "request_id"),
        )


@dataclass(frozen=True)
class UsageSummary:
    """``GET /v2/usage/summary?period=YYYY-MM``."""

    period: str
    """``YYYY-MM``."""
    api_calls: int
    """Usage records in the month."""
    active_mailboxes: int
    """Active, unexpired leases now (not per period)."""
    message_parses: int
    """``GET /v2/messages`` calls."""
    billable_units: int
    """Equal to api_calls on the reference server."""

    @classmethod
    def from_json(cls, data: object) -> UsageSummary:
        """Parse a usage summary (numbers sit under ``usage``)."""
        body = _obj(data, "usage")
        usage = body.get("usage")
        if not isinstance(usage, dict):
            raise InvalidResponseError("usage answer lacks its usage object")

        def num(key: str) -> int:
            value = usage.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidResponseError(f"usage answer lacks a count for {key}")
            return int(value)

        return cls(
            period=_opt(body, "period") or "",
            api_calls=num("api_calls"),
            active_mailboxes=num("active_mailboxes"),
            message_parses=num("message_parses"),
            billable_units=num("billable_units"),
        )


@dataclass(frozen=True)
class Invoice:
    """An invoice (list items carry ``period``; details carry ``statement_hash``)."""

    invoice_id: str
    """Id."""
    period: str | None
    """``YYYY-MM`` (list only)."""
    amount_usdc: float
    """Amount."""
    status: str
    """``draft`` or ``issued``."""
    period_start: str | None
    """First day."""
    period_end: str | None
    """Last day."""
    statement_hash: str | None = None
    """Set when issued (detail only)."""
    settlement_tx_hash: str | None = None
    """Settlement transaction, if any."""

    @classmethod
    def from_json(cls, data: object) -> Invoice:
        """Parse an invoice."""
        body = _obj(data, "invoice")
        amount = body.get("amount_usdc")
        return cls(
            invoice_id=_req(body, "invoice_id", "invoice"),
            # The detail answer has no period: derive it from period_start (YYYY-MM-DD).
            period=_opt(body, "period") or (_opt(body, "period_start") or "")[:7] or None,
            amount_usdc=float(amount) if isinstance(amount, int | float) else 0.0,
            status=_opt(body, "status") or "unknown",
            period_start=_opt(body, "period_start"),
            period_end=_opt(body, "period_end"),
            statement_hash=_opt(body, "statement_hash"),
            settlement_tx_hash=_opt(body, "settlement_tx_hash"),
        )

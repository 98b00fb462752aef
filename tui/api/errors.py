"""One exception hierarchy for everything that can go wrong talking to the mailagents API."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.jsontypes import JsonObject


class MailagentsError(Exception):
    """Base class of every error the client raises; ``str()`` is a one-line user message."""

    def user_message(self) -> str:
        """A one-line explanation suitable for a status bar or stderr."""
        return str(self)


class NetworkError(MailagentsError):
    """The server could not be reached, or the connection broke (no HTTP status)."""


class InvalidResponseError(MailagentsError):
    """The server answered with something that is not the JSON the contract promises."""


class ApiError(MailagentsError):
    """An HTTP error answer, keeping the server's envelope (``error``, ``message``) intact."""

    status: int
    """HTTP status code."""
    error: str
    """The machine code from the envelope (``bad_request``, ``not_found``...)."""
    message: str
    """The server's human text."""
    request_id: str | None
    """The ``x-request-id`` response header, for support requests."""
    body: JsonObject
    """The whole JSON body (extra fields such as ``reasons`` or ``limit``)."""
    retry_after: float | None
    """Seconds from a ``Retry-After`` header, when the server sent one."""
    after_sign_in: bool
    """Raised although the client had just signed in again (or while signing in): a new
    sign-in does not cure it."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        request_id: str | None = None,
        body: JsonObject | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.request_id = request_id
        self.body = body or {}
        self.retry_after = None
        self.after_sign_in = False
        super().__init__(self.user_message())

    def user_message(self) -> str:
        """``<message> (<error>, HTTP <status>)``."""
        text = self.message or self.error or "request failed"
        return f"{text} ({self.error or 'error'}, HTTP {self.status})"


class BadRequestError(ApiError):
    """400: the request was invalid."""


class AuthenticationError(ApiError):
    """401: missing, invalid or expired token, or a rejected SIWE verify."""


class ForbiddenError(ApiError):
    """403: forbidden, tenant suspended or agent inactive."""

    def user_message(self) -> str:
        """Explain suspension plainly."""
        if self.error == "tenant_inactive":
            return f"Your account is suspended: {self.message} (HTTP 403)"
        return super().user_message()


class NotFoundError(ApiError):
    """404: unknown id, or one that belongs to another tenant."""


class ConflictError(ApiError):
    """409: e.g. ``no_available_mailbox`` when every mailbox is leased."""

    def user_message(self) -> str:
        """Tell the user what to do about an exhausted pool."""
        if self.error == "no_available_mailbox":
            return "No mailbox available: release a lease first (HTTP 409)"
        return super().user_message()


class PaymentRequiredError(ApiError):
    """402: over a free limit and no valid payment proof."""

    @property
    def amount_usdc(self) -> float | None:
        """Price of the call, as the server states it."""
        value = self.body.get("amount_usdc")
        return float(value) if isinstance(value, int | float) else None

    @property
    def reasons(self) -> list[JsonObject]:
        """The free limits that were hit (``code``, ``limit``, ``window``)."""
        value = self.body.get("reasons")
        return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []

    def user_message(self) -> str:
        """Name the limits and the price."""
        codes = ", ".join(str(r.get("code")) for r in self.reasons) or "free limit"
        price = f" ({self.amount_usdc} USDC per call)" if self.amount_usdc is not None else ""
        return f"Payment required past the {codes} limit{price} (HTTP 402)"


class RateLimitError(ApiError):
    """429: ``rate_limited`` or the unbound-wallet send ``cooldown_limit``."""

    @property
    def is_cooldown(self) -> bool:
        """True for the 24 h send cooldown of tenants without a bound wallet."""
        return self.error == "cooldown_limit"

    def user_message(self) -> str:
        """Explain the cooldown in English (the server's text is Chinese)."""
        if self.is_cooldown:
            limit = self.body.get("limit", 10)
            window = self.body.get("window", "24h")
            return (
                f"Send limit reached: new accounts may send {limit} messages per {window}; "
                "bind a wallet (sign in with SIWE) to lift it (HTTP 429)"
            )
        return super().user_message()


class ServerError(ApiError):
    """5xx: the service failed (``internal_error``, ``mail_backend_error``...)."""


class ChallengeRejected(MailagentsError):
    """The SIWE challenge failed a client-side check, so it was not signed."""


def error_for_status(
    status: int,
    body: JsonObject,
    request_id: str | None,
) -> ApiError:
    """Build the right :class:`ApiError` subclass for an HTTP error answer."""
    error = body.get("error") if isinstance(body.get("error"), str) else ""
    message = body.get("message") if isinstance(body.get("message"), str) else ""
    cls: type[ApiError]
    if status == 400:
        cls = BadRequestError
    elif status == 401:
        cls = AuthenticationError
    elif status == 402:
        cls = PaymentRequiredError
    elif status == 403:
        cls = ForbiddenError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    else:
        cls = ApiError
    return cls(status, error or "", message or "", request_id=request_id, body=body)


# -- one classification of failures ------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """How a failure is handled everywhere (poller, ``wait-otp``, the TUI, every command)."""

    transient: bool
    """True: back off with jitter and try again. False: stop and say so (a lasting state)."""
    label: str
    """A few words for a status bar: ``offline``, ``mailbox not found``, ``rate limited``..."""
    message: str
    """The one-line user message of the error."""
    retry_after: float | None = None
    """Seconds the server asked to wait (429 ``Retry-After``)."""
    slow: bool = False
    """Retry, but only at the slowest pace (e.g. a payment is needed)."""


def needs_new_session(exc: ApiError) -> bool:
    """401, or the 403 a server answers when it no longer knows the token's tenant/agent
    (e.g. an in-memory server that restarted): both are cured by signing in again."""
    if isinstance(exc, AuthenticationError):
        return True
    return exc.error == "forbidden" and "context not found" in exc.message.lower()


_TRANSIENT_STATUSES = frozenset({408, 425, 429})
"""4xx answers that mean "not now" rather than "never"."""

_LEASE_ENDED = re.compile(r"lease_(?:released|expired|inactive|not_active|ended)")
"""Error codes a server may give for a lease that no longer receives mail for its holder."""


def classify(exc: BaseException) -> Failure:
    """The one table of what is transient and what is permanent.

    Transient: network errors and timeouts, 5xx, 408/425, 429 ``rate_limited`` (honouring
    ``Retry-After``), answers that are not the promised JSON (truncated, HTML), a 401 or the
    403 "context not found" before a new sign-in was tried (the client signs in again once per
    call), and 402 (slowly: a payment may be enabled meanwhile).
    Permanent: a lease released or expired (``lease_released``, ``lease_expired``... with any
    status), 404 (the mailbox, lease or message is gone), 403, a 401 that a new sign-in did not
    cure, the 24 h send cooldown, other 4xx, a refused challenge, and anything that is not
    an API error (a bug, a wallet that cannot be loaded).
    """
    if not isinstance(exc, MailagentsError):
        return Failure(False, "failed", str(exc) or type(exc).__name__)
    message = exc.user_message()
    if isinstance(exc, NetworkError):
        return Failure(True, "offline", message)
    if isinstance(exc, InvalidResponseError):
        return Failure(True, "bad answer", message)
    if isinstance(exc, ApiError) and _LEASE_ENDED.fullmatch(exc.error or ""):
        return Failure(False, "lease ended", message)  # whatever the status says
    if not isinstance(exc, ApiError):
        label = "sign-in refused" if isinstance(exc, ChallengeRejected) else "failed"
        return Failure(False, label, message)
    if isinstance(exc, ServerError):
        return Failure(True, "server error", message, exc.retry_after)
    if isinstance(exc, RateLimitError):
        if exc.is_cooldown:
            return Failure(False, "send limit reached", message, exc.retry_after)
        return Failure(True, "rate limited", message, exc.retry_after)
    if isinstance(exc, PaymentRequiredError):
        return Failure(True, "payment needed", message, slow=True)
    if isinstance(exc, AuthenticationError):
        if exc.after_sign_in:
            return Failure(False, "sign-in failed", message)
        return Failure(True, "signed out", message)
    if isinstance(exc, ForbiddenError):
        stale = exc.error == "forbidden" and "context not found" in exc.message.lower()
        if stale and not exc.after_sign_in:  # an unknown session: a new sign-in cures it
            return Failure(True, "signed out", message)
        label = "account suspended" if exc.error == "tenant_inactive" else "forbidden"
        return Failure(False, label, message)
    if isinstance(exc, NotFoundError):
        what = exc.message.strip().lower()  # "Mailbox not found", "Lease not found"...
        label = what if re.fullmatch(r"[a-z][a-z ]{0,30} not found", what) else "not found"
        return Failure(False, label, message)
    if exc.status in _TRANSIENT_STATUSES:
        return Failure(True, "not now", message, exc.retry_after)
    return Failure(False, "refused", message)


def is_transient(exc: BaseException) -> bool:
    """Shorthand for ``classify(exc).transient``."""
    return classify(exc).transient

"""Pure input helpers shared by the billing CLI and the TUI: webhook input checks, secrets,
billing periods. No click, no Textual."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

EVENT_TYPES: tuple[str, ...] = ("mail.received", "otp.extracted")
"""Webhook events the service knows. It fires exactly one per new message: ``otp.extracted``
when a code or link was found, else ``mail.received`` (so subscribe to both to see all mail)."""

MIN_SECRET_CHARS = 16
"""The service refuses shorter webhook secrets."""

MAX_SECRET_CHARS = 256
"""A sane upper bound (the service states none)."""

GENERATED_SECRET_CHARS = 32
"""Length of a generated webhook secret (hex)."""

MAX_URL_CHARS = 2048
"""Longest target URL accepted."""

_PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class BillingInputError(ValueError):
    """Input the client refuses before calling the API; the message says what to fix."""


def generate_secret() -> str:
    """A random webhook secret of :data:`GENERATED_SECRET_CHARS` hex characters."""
    return secrets.token_hex(GENERATED_SECRET_CHARS // 2)


def validate_target_url(url: str) -> str:
    """An ``http(s)://host/...`` URL, stripped; raises :class:`BillingInputError` otherwise.

    The service accepts any string (``"not a url"`` included) and its deliveries would then
    fail forever, so the client checks.
    """
    text = (url or "").strip()
    if not text:
        raise BillingInputError("the target URL is required")
    if len(text) > MAX_URL_CHARS:
        raise BillingInputError(f"the target URL is longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise BillingInputError("the target URL contains spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise BillingInputError(f"the target URL is not valid: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise BillingInputError("the target URL must start with http:// or https://")
    if not parts.hostname:
        raise BillingInputError("the target URL has no host")
    if port == 0:
        raise BillingInputError("the target URL has port 0")
    return text


def validate_secret(secret: str) -> str:
    """A webhook secret of 16..256 characters without spaces or control characters."""
    value = secret or ""
    if len(value) < MIN_SECRET_CHARS:
        raise BillingInputError(f"the secret must have at least {MIN_SECRET_CHARS} characters")
    if len(value) > MAX_SECRET_CHARS:
        raise BillingInputError(f"the secret must have at most {MAX_SECRET_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise BillingInputError("the secret must not contain spaces or control characters")
    return value


def validate_events(events: Iterable[str]) -> list[str]:
    """Known event types, in :data:`EVENT_TYPES` order, at least one.

    The service accepts an empty list, but such a webhook never fires.
    """
    chosen = {e.strip() for e in events}
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown:
        raise BillingInputError(
            f"unknown event {', '.join(unknown)}: use {' or '.join(EVENT_TYPES)}"
        )
    if not chosen:
        raise BillingInputError("choose at least one event")
    return [e for e in EVENT_TYPES if e in chosen]


def validate_webhook_input(
    url: str, events: Iterable[str], secret: str
) -> tuple[str, list[str], str]:
    """``(target_url, event_types, secret)`` checked as the create call needs them."""
    return validate_target_url(url), validate_events(events), validate_secret(secret)


def current_period(now: datetime | None = None) -> str:
    """This UTC month as ``YYYY-MM``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m")


def validate_period(text: str) -> str:
    """``YYYY-MM`` with a month 01..12 (what the usage endpoint accepts)."""
    value = (text or "").strip()
    if not _PERIOD_RE.match(value) or value < "0001-01":
        raise BillingInputError(f"period must look like YYYY-MM (e.g. {current_period()})")
    return value


def shift_period(period: str, months: int) -> str:
    """``period`` moved by ``months`` (negative goes back)."""
    match = _PERIOD_RE.match(period)
    if not match:
        raise BillingInputError(f"not a YYYY-MM period: {period!r}")
    index = int(match.group(1)) * 12 + int(match.group(2)) - 1 + months
    year, month = divmod(index, 12)
    if year < 1 or year > 9999:
        raise BillingInputError("period out of range")
    return f"{year:04d}-{month + 1:02d}"


def recent_periods(end: str, count: int) -> list[str]:
    """``count`` periods ending with ``end``, oldest first (stops at year 1)."""
    periods = []
    for back in range(count - 1, -1, -1):
        try:
            periods.append(shift_period(end, -back))
        except BillingInputError:
            continue
    return periods

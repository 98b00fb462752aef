"""Where to read a lease's mailbox over IMAP: host, port, security, timeout.

Resolution order (:func:`resolve_imap_settings`):

1. ``MAILAGENTS_IMAP_HOST``, ``MAILAGENTS_IMAP_PORT``, ``MAILAGENTS_IMAP_SECURITY`` (each wins
   on its own; with an env host the runtime's sandbox hint is ignored);
2. the sandbox-only ``imap`` hint of ``GET /v2/meta/runtime`` (``{host, port, security}``);
3. the host of the lease's ``webmail_url`` when there is one, else the runtime's
   ``mailbox_domain``; port 993 with TLS.

``plain`` (no TLS at all) is refused unless the host is a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from tui.imap.errors import ImapConfigError

Security = Literal["tls", "starttls", "plain"]
"""``tls``: TLS from the first byte (993); ``starttls``: upgrade on 143; ``plain``: loopback."""

SECURITIES: tuple[Security, ...] = ("tls", "starttls", "plain")
DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143, "plain": 143}
ENV_HOST = "MAILAGENTS_IMAP_HOST"
ENV_PORT = "MAILAGENTS_IMAP_PORT"
ENV_SECURITY = "MAILAGENTS_IMAP_SECURITY"
DEFAULT_TIMEOUT_S = 15.0


def is_loopback(host: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``) and loopback IP addresses."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ImapSettings:
    """How to reach one IMAP server."""

    host: str
    """Server host name or address."""
    port: int = 993
    """TCP port."""
    security: Security = "tls"
    """``tls``, ``starttls`` or ``plain`` (plain only to loopback)."""
    timeout: float = DEFAULT_TIMEOUT_S
    """Seconds to connect, and for any one command to answer."""
    source: str = "default"
    """Where the host came from: ``env``, ``sandbox``, ``webmail_url`` or ``mailbox_domain``."""

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() for c in self.host):
            raise ImapConfigError("IMAP settings: no usable host")
        if self.security not in SECURITIES:
            raise ImapConfigError(
                f"IMAP settings: security must be tls, starttls or plain, not {self.security!r}"
            )
        if not 0 < int(self.port) < 65536:
            raise ImapConfigError(f"IMAP settings: port {self.port} is out of range")
        if self.security == "plain" and not is_loopback(self.host):
            raise ImapConfigError(
                f"IMAP settings: plain (no TLS) is only allowed to a loopback host, "
                f"not {self.host}; use tls or starttls"
            )

    def describe(self) -> str:
        """``host:port (TLS)`` for status lines."""
        label = {"tls": "TLS", "starttls": "STARTTLS", "plain": "plaintext"}[self.security]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port} ({label})"


def _port(value: Any, what: str) -> int:
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        raise ImapConfigError(f"IMAP settings: {what} is not a port number") from None
    if not 0 < port < 65536:
        raise ImapConfigError(f"IMAP settings: {what} {port} is out of range")
    return port


def _security(value: Any, what: str) -> Security:
    text = str(value).strip().lower()
    for choice in SECURITIES:
        if text == choice:
            return choice
    raise ImapConfigError(f"IMAP settings: {what} must be tls, starttls or plain")


def _url_host(url: str | None) -> str | None:
    if not url or not isinstance(url, str):
        return None
    try:
        host = urlsplit(url.strip() if "//" in url else "//" + url.strip()).hostname
    except ValueError:
        return None
    return host or None


def resolve_imap_settings(
    *,
    webmail_url: str | None = None,
    runtime_raw: Mapping[str, Any] | None = None,
    mailbox_domain: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ImapSettings:
    """The settings for one lease (see the module docstring for the order).

    ``runtime_raw`` is the raw JSON of ``GET /v2/meta/runtime`` (its ``imap`` hint and
    ``mailbox_domain`` are used); ``mailbox_domain`` overrides the runtime's; ``env`` defaults
    to ``os.environ``. Raises :class:`ImapConfigError` when no host is known, a value is
    invalid, or ``plain`` is asked for a non-loopback host.
    """
    environ = os.environ if env is None else env
    runtime = runtime_raw if isinstance(runtime_raw, Mapping) else {}
    env_host = (environ.get(ENV_HOST) or "").strip()
    env_port = (environ.get(ENV_PORT) or "").strip()
    env_security = (environ.get(ENV_SECURITY) or "").strip()

    host: str | None = None
    port: int | None = None
    security: Security | None = None
    source = "default"
    hint = runtime.get("imap")
    if env_host:
        host, source = env_host, "env"
    elif isinstance(hint, Mapping) and isinstance(hint.get("host"), str) and hint.get("host"):
        host, source = str(hint["host"]), "sandbox"
        if hint.get("port") is not None:
            port = _port(hint["port"], "the runtime's imap.port")
        if hint.get("security") is not None:
            security = _security(hint["security"], "the runtime's imap.security")
    elif _url_host(webmail_url):
        host, source = _url_host(webmail_url), "webmail_url"
    else:
        domain = mailbox_domain or runtime.get("mailbox_domain")
        if isinstance(domain, str) and domain.strip():
            host, source = domain.strip(), "mailbox_domain"
    if host is None:
        raise ImapConfigError(
            f"IMAP settings: no host (set {ENV_HOST}, or a webmail_url or mailbox_domain)"
        )
    if env_security:
        security = _security(env_security, ENV_SECURITY)
    if env_port:
        port = _port(env_port, ENV_PORT)
    security = security or "tls"
    return ImapSettings(
        host=host.strip().strip("[]"),
        port=port if port is not None else DEFAULT_PORTS[security],
        security=security,
        timeout=timeout,
        source=source,
    )

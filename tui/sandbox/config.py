"""Configuration of the local mailagents-compatible sandbox."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.sandbox.files import make_private_dir, tighten, write_private

CHAIN_NAMES = {84532: "Base Sepolia", 8453: "Base"}
"""Known chain names for ``/v2/meta/runtime``."""

BASE_SEPOLIA_RPC = ("https://sepolia.base.org",)
BASE_SEPOLIA_EXPLORER = ("https://sepolia.basescan.org",)


DB_FILE = "sandbox.sqlite3"
"""Database file name inside a data dir."""
SECRETS_FILE = "secrets.json"
"""Secrets file name inside a data dir."""
ADMIN_TOKEN_FILE = "admin-token"
"""The operator API token's file name inside a data dir (mode 0600)."""
_SECRET_KEYS = ("jwt_secret", "hmac_secret", "internal_token")


def _random_secret() -> str:
    return secrets.token_hex(32)


def load_or_create_secrets(path: Path) -> dict[str, str]:
    """Read the sandbox secrets from ``path``, creating it (mode 0600) with random ones."""
    tighten(path)  # secrets written by an older version may be 0644
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and all(isinstance(data.get(k), str) for k in _SECRET_KEYS):
            return {k: data[k] for k in _SECRET_KEYS}
    except FileNotFoundError:
        pass
    values = {k: _random_secret() for k in _SECRET_KEYS}
    write_private(path, json.dumps(values))
    return values


def read_token_file(path: Path) -> str:
    """A token from a file that only its owner can read (0600); ValueError otherwise."""
    info = path.stat()
    if info.st_mode & 0o077:
        raise ValueError(f"{path} must be private (chmod 600): it holds a secret")
    token = path.read_text(encoding="utf-8").strip()
    if not token or any(c.isspace() for c in token):
        raise ValueError(f"{path} holds no token")
    return token


def load_or_create_admin_token(path: Path) -> str:
    """The admin token of a data dir: read from ``path`` or created there (0600)."""
    if path.exists():
        return read_token_file(path)
    token = _random_secret()
    write_private(path, token + "\n")
    return token


@dataclass
class SandboxConfig:
    """Every knob of the sandbox. Secrets default to fresh random values."""

    host: str = "127.0.0.1"
    """Loopback address to bind the HTTP API (and SMTP) to."""
    port: int = 0
    """HTTP port; 0 picks a free one (see ``SandboxServer.port``)."""
    db_path: str = ":memory:"
    """SQLite file, or ``:memory:``."""
    siwe_domain: str | None = None
    """Domain on line 1 of SIWE challenges; ``None`` means ``host``."""
    siwe_uri: str | None = None
    """``URI:`` of SIWE challenges; ``None`` means ``http://<host>:<bound port>``."""
    siwe_statement: str = "Sign in to Agent Mail Cloud"
    """Statement line of SIWE challenges."""
    chain_id: int = 84532
    """EIP-155 chain id used in challenges and DIDs."""
    mailbox_domain: str = "sandbox.mailagents.test"
    """Mailbox addresses end in ``@<mailbox_domain>``."""
    jwt_secret: str = field(default_factory=_random_secret)
    """HS256 key of access tokens."""
    hmac_secret: str = field(default_factory=_random_secret)
    """Key of ``x-payment-proof`` HMACs."""
    internal_token: str = field(default_factory=_random_secret)
    """Token of ``/internal/*`` endpoints (``x-internal-token`` or Bearer)."""
    admin_token: str = field(default_factory=_random_secret)
    """Token of the operator API ``/v2/admin/*`` (file ``admin-token`` in a data dir)."""
    challenge_ttl_s: float = 300.0
    """Lifetime of a SIWE challenge."""
    token_ttl_s: int = 3600
    """Lifetime of an access token (``exp - iat``)."""
    hmac_skew_s: int = 300
    """Accepted ``|now - t|`` of a payment proof, in seconds."""
    allocate_hourly_limit: int = 5
    """Free allocations per agent per rolling hour; 0 disables the limit."""
    tenant_qps: int = 120
    """Free requests per tenant per second on protected endpoints; 0 disables."""
    overage_charge_usdc: float = 0.001
    """Price of one paid over-limit request."""
    ttl_unit_s: float = 3600.0
    """Seconds per ``ttl_hours`` unit of a lease (tests shrink it to make leases expire fast)."""
    smtp_port: int | None = None
    """SMTP inbound port; ``None`` disables SMTP, 0 picks a free port."""
    imap_port: int | None = None
    """IMAP port of a private Dovecot on loopback (plaintext, no TLS) serving the leases'
    mailboxes with their webmail credentials; ``None`` disables it, 0 picks a free port.
    Needs Dovecot (Debian ``dovecot-imapd``); without it IMAP stays off and the rest runs."""
    mail_dir: str | None = None
    """Root of the per-address Maildirs every inbound message is written to; ``None`` means
    ``<database dir>/maildir`` for a database file, a temporary dir for ``:memory:``."""
    webmail_url: str | None = None
    """Reported as ``webmail_url`` (runtime, allocations, resets)."""
    parser: str = "ours"
    """What guesses ``otp_code`` and ``verification_link`` of inbound mail: ``ours`` (the
    project's extractor) or ``reference`` (the reference service's simpler rules, which take
    a year in a footer or a word such as ``WITHIN`` for the code)."""
    demo_on_allocate: bool = False
    """Deliver a few sample verification mails to each tenant's first lease (``--demo``)."""
    demo_delay_s: float = 1.0
    """Delay before the demo mails arrive, so a client sees them come in live."""
    smtp_relay: str | None = None
    """``HOST:PORT`` of an SMTP server that receives sends to external recipients (else they
    stay in the outbox)."""
    relay_timeout_s: float = 10.0
    """Socket timeout of the SMTP relay connection."""
    send_cooldown_limit: int = 10
    """Sends allowed to a tenant without a wallet identity in its first ``send_cooldown_s``."""
    send_cooldown_s: float = 86400.0
    """The cooldown window after a tenant's creation (24 h)."""
    webhook_attempts: int = 3
    """Attempts per webhook delivery (the first one included)."""
    webhook_timeout_s: float = 5.0
    """Timeout of one webhook POST."""
    webhook_backoff_s: float = 0.25
    """Wait before retry ``n`` is ``webhook_backoff_s * n`` (250 ms, then 500 ms)."""
    webhook_workers: int = 4
    """Threads that POST webhook deliveries in the background."""

    @classmethod
    def for_data_dir(cls, data_dir: str | os.PathLike[str], **overrides: Any) -> SandboxConfig:
        """A config whose database and secrets live in ``data_dir`` (created, mode 0700).

        ``secrets.json`` (mode 0600) keeps the JWT, HMAC and internal secrets across restarts,
        so access tokens and proofs stay valid.
        """
        root = make_private_dir(data_dir)
        values = load_or_create_secrets(root / SECRETS_FILE)
        if "admin_token" not in overrides:
            values["admin_token"] = load_or_create_admin_token(root / ADMIN_TOKEN_FILE)
        return cls(**{"db_path": str(root / DB_FILE), **values, **overrides})

    @property
    def effective_siwe_domain(self) -> str:
        """The domain that challenges carry and verify checks."""
        return self.siwe_domain or self.host

    @property
    def chain_name(self) -> str:
        """Human name of ``chain_id``."""
        return CHAIN_NAMES.get(self.chain_id, f"chain {self.chain_id}")

    @property
    def chain_hex(self) -> str:
        """``0x`` + lowercase hex chain id."""
        return hex(self.chain_id)

    @property
    def chain_rpc_urls(self) -> list[str]:
        """RPC URLs reported by the runtime endpoint."""
        return list(BASE_SEPOLIA_RPC) if self.chain_id == 84532 else []

    @property
    def chain_explorer_urls(self) -> list[str]:
        """Explorer URLs reported by the runtime endpoint."""
        return list(BASE_SEPOLIA_EXPLORER) if self.chain_id == 84532 else []

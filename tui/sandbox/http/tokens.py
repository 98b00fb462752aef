"""Access tokens (HS256 JWTs) and payment proofs (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import re

import jwt

from tui.jsontypes import JsonObject
from tui.sandbox.config import SandboxConfig
from tui.sandbox.state.store import Store

SCOPES = ["mail:allocate", "mail:read", "mail:send", "webhook:write", "billing:read"]
PROOF_TARGETS = (
    "POST /v2/mailboxes/leases",
    "GET /v2/messages",
    "POST /v2/messages/send",
    "POST /v2/webhooks",
)
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")


def sign_proof(secret: str, method: str, path: str, t: int) -> str:
    """``t=<t>,v1=<hex>`` with ``hex = HMAC-SHA256(secret, "METHOD\\nPATH\\nt")``."""
    digest = hmac.new(
        secret.encode(), f"{method}\n{path}\n{t}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={t},v1={digest}"


def verify_proof(
    secret: str, header: str | None, method: str, path: str, now_s: float, skew_s: int
) -> bool:
    """Check an ``x-payment-proof`` value (any problem gives False)."""
    raw = (header or "").strip()
    if not raw:
        return False
    parts: dict[str, str] = {}
    for item in raw.split(","):
        kv = item.strip().split("=")
        if len(kv) == 2:
            parts[kv[0].strip()] = kv[1].strip()
    t_text, sig = parts.get("t", ""), parts.get("v1", "")
    if not re.fullmatch(r"-?[0-9]+", t_text) or not sig or not _HEX_RE.match(sig):
        return False
    t = int(t_text)
    if abs(int(now_s) - t) > skew_s:
        return False
    expected = sign_proof(secret, method, path, t).split("v1=", 1)[1]
    return hmac.compare_digest(sig.lower().encode(), expected.encode())


def issue_token(
    config: SandboxConfig, tenant_id: str, agent_id: str, did: str | None, now_s: float
) -> JsonObject:
    """An HS256 access token and the verify-style fields that go with it."""
    iat = int(now_s)
    payload = {
        "tenant_id": tenant_id,
        "agent_id": agent_id,
        "did": did,
        "scopes": list(SCOPES),
        "iat": iat,
        "exp": iat + int(config.token_ttl_s),
    }
    token = jwt.encode(payload, config.jwt_secret, algorithm="HS256")
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(config.token_ttl_s),
        "did": did,
        "tenant_id": tenant_id,
        "agent_id": agent_id,
    }


def new_unbound_tenant(config: SandboxConfig, store: Store) -> JsonObject:
    """Create a tenant without a wallet identity (send cooldown applies); return its token.

    The result has the verify fields (``did`` is null) plus ``wallet_bound: false`` and the
    tenant's 5 mailbox ``addresses``.
    """
    tenant_id, agent_id = store.create_unbound_tenant(config.mailbox_domain)
    result = issue_token(config, tenant_id, agent_id, None, store.clock())
    result["wallet_bound"] = False
    result["addresses"] = sorted(r.address for r in store.accounts(tenant_id))
    return result

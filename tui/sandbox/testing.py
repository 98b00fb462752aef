"""Helpers for tests that talk to a running sandbox (importable by any test)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tui.sandbox.app import sign_proof


def sign_message(account: Any, message: str) -> str:
    """EIP-191 ``personal_sign`` of ``message`` by an eth-account ``LocalAccount``, ``0x`` hex."""
    from eth_account.messages import encode_defunct

    signature = account.sign_message(encode_defunct(text=message)).signature.hex()
    return signature if signature.startswith("0x") else "0x" + signature


def sign_in(base_url: str, account: Any, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """Full SIWE flow (challenge, sign, verify); return the verify JSON (raises on non-2xx)."""
    own = client is None
    http = client or httpx.Client(base_url=base_url, timeout=10)
    try:
        challenge = http.post(
            f"{base_url}/v2/auth/siwe/challenge", json={"wallet_address": account.address}
        )
        challenge.raise_for_status()
        message = challenge.json()["message"]
        verify = http.post(
            f"{base_url}/v2/auth/siwe/verify",
            json={"message": message, "signature": sign_message(account, message)},
        )
        verify.raise_for_status()
        return dict(verify.json())
    finally:
        if own:
            http.close()


def mint_proof(secret: str, method: str, path: str, t: int | None = None) -> str:
    """An ``x-payment-proof`` value for ``METHOD path`` at unix time ``t`` (default now)."""
    return sign_proof(secret, method.upper(), path, int(time.time()) if t is None else t)


class FakeClock:
    """A settable clock for ``Store(clock=...)``: starts at the real time, moves on demand."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        """Current time in seconds since the epoch."""

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class Session:
    """A signed-in tenant: an httpx client with the Bearer token and the verify fields."""

    def __init__(self, base_url: str, account: Any) -> None:
        self.account = account
        """The eth-account ``LocalAccount``."""
        self.http = httpx.Client(base_url=base_url, timeout=10)
        """The underlying client (base URL set)."""
        self.login: dict[str, Any] = sign_in(base_url, account, client=self.http)
        """The verify response."""
        self.token: str = self.login["access_token"]
        """The access token."""
        self.agent_id: str = self.login["agent_id"]
        """The agent id."""
        self.tenant_id: str = self.login["tenant_id"]
        """The tenant id."""
        self.http.headers["authorization"] = f"Bearer {self.token}"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """Authenticated GET."""
        return self.http.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """Authenticated POST."""
        return self.http.post(path, **kwargs)

    def allocate(self, purpose: str = "test", ttl_hours: int = 1, **kwargs: Any) -> httpx.Response:
        """``POST /v2/mailboxes/leases`` for this session's agent."""
        body = {"agent_id": self.agent_id, "purpose": purpose, "ttl_hours": ttl_hours}
        return self.post("/v2/mailboxes/leases", json=body, **kwargs)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()

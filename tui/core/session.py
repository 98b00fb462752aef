"""Sign in with Ethereum, keep the session on disk (0600), renew it when it expires."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from tui import limits
from tui.api.errors import ChallengeRejected
from tui.auth import siwe
from tui.files import locked, read_json, write_json

if TYPE_CHECKING:
    from tui.api.client import MailagentsClient
    from tui.api.models import Challenge, Runtime
    from tui.core.settings import Settings
    from tui.core.wallets import WalletSource

EXPIRY_MARGIN_S = 60.0
"""A token this close to its ``exp`` counts as expired (sign in again first)."""


@dataclass(frozen=True)
class Session:
    """A signed-in session."""

    api_base: str
    """The API it is valid for."""
    address: str
    """The wallet that signed in."""
    access_token: str
    """Bearer JWT (a secret: never shown or logged)."""
    agent_id: str
    """Agent id."""
    tenant_id: str
    """Tenant id."""
    did: str
    """``did:pkh:...``."""
    expires_at: float
    """Unix time the token expires."""

    def __repr__(self) -> str:
        return f"Session({self.address} tenant={self.tenant_id} expires_at={self.expires_at})"

    def is_valid(self, now: float | None = None) -> bool:
        """Not expired (with a safety margin)."""
        return (now or time.time()) < self.expires_at - EXPIRY_MARGIN_S


class SessionInfo(TypedDict, total=False):
    """Public facts about a session (no token); empty when nobody is signed in."""

    address: str
    tenant_id: str
    agent_id: str
    did: str
    expires_at: float
    api_base: str


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verification (None if unreadable)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = limits.loads(base64.urlsafe_b64decode(payload)).get("exp")
    except (IndexError, ValueError, AttributeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def check_mock_challenge(challenge: Challenge, address: str, chain_id: int | None) -> None:
    """Check the reference server's mock-mode challenge (not EIP-4361)."""
    fields: dict[str, str] = {}
    lines = challenge.message.split("\n")
    if not lines or lines[0] != "Agent Mail Cloud SIWE Challenge":
        raise ChallengeRejected("the challenge is neither EIP-4361 nor the known mock format")
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if not sep or key not in ("address", "chain_id", "nonce") or key in fields:
            raise ChallengeRejected(
                f"challenge has a line the client did not expect ({line[:60]!r}): refusing to sign"
            )
        fields[key] = value
    if fields.get("address", "").lower() != address.lower():
        raise ChallengeRejected("challenge names a different wallet address: refusing to sign")
    if chain_id is not None and fields.get("chain_id") != str(chain_id):
        raise ChallengeRejected("challenge chain id differs from the runtime's: refusing to sign")
    if fields.get("nonce") != challenge.nonce:
        raise ChallengeRejected("challenge nonce mismatch: refusing to sign")


class SessionManager:
    """Owns the session: loads it, signs in, renews it once on 401 (a client TokenSource)."""

    settings: Settings
    """Resolved settings."""
    client: MailagentsClient
    """The API client (this manager is its token source)."""
    wallet_source: WalletSource
    """Where the signing key comes from."""
    session: Session | None
    """The current session, if signed in."""
    runtime: Runtime | None
    """The service's runtime, once fetched."""

    def __init__(
        self, settings: Settings, client: MailagentsClient, wallet_source: WalletSource
    ) -> None:
        self.settings = settings
        self.client = client
        self.wallet_source = wallet_source
        self.session = None
        self.runtime = None
        self._lock = asyncio.Lock()
        self._generation = 0
        client.token_source = self

    @property
    def path(self) -> Path:
        """``sessions.json`` in the state dir."""
        return self.settings.sessions_path

    def _key(self, address: str) -> str:
        return f"{self.settings.api_base} {address.lower()}"

    # -- persistence -------------------------------------------------------------------------

    def load_saved(self, address: str | None = None) -> Session | None:
        """A persisted, still valid session for this API and wallet (no network)."""
        address = address or self.wallet_source.address
        if not address:
            return None
        data = read_json(self.path, {})
        entry = data.get(self._key(address)) if isinstance(data, dict) else None
        if not isinstance(entry, dict):
            return None
        try:
            session = Session(**{k: entry[k] for k in Session.__dataclass_fields__})
        except (KeyError, TypeError):
            return None
        if not session.is_valid():
            return None
        self.session = session
        return session

    def _save(self, session: Session) -> None:
        with locked(self.path):
            data = read_json(self.path, {})
            if not isinstance(data, dict):
                data = {}
            data[self._key(session.address)] = asdict(session)
            write_json(self.path, data)

    def forget(self) -> None:
        """Sign out locally: drop the saved session for this wallet."""
        if self.session is None:
            return
        with locked(self.path):
            data = read_json(self.path, {})
            if isinstance(data, dict):
                data.pop(self._key(self.session.address), None)
                write_json(self.path, data)
        self.session = None

    # -- network -----------------------------------------------------------------------------

    async def get_runtime(self, *, refresh: bool = False) -> Runtime:
        """``/v2/meta/runtime``, cached."""
        if self.runtime is None or refresh:
            self.runtime = await self.client.runtime()
        return self.runtime

    async def sign_in(self, password: str | None = None) -> Session:
        """The whole SIWE flow: runtime, challenge, check, sign (off-thread), verify, persist."""
        async with self._lock:
            return await self._sign_in(password)

    async def _sign_in(self, password: str | None) -> Session:
        wallet = await asyncio.to_thread(self.wallet_source.load, password)
        runtime = await self.get_runtime()
        challenge = await self.client.siwe_challenge(wallet.address)
        if challenge.message.startswith("Agent Mail Cloud SIWE Challenge"):
            check_mock_challenge(challenge, wallet.address, runtime.chain_id)
        else:
            try:
                siwe.check_challenge(
                    challenge.message,
                    api_base=self.settings.api_base,
                    address=wallet.address,
                    chain_id=runtime.chain_id,
                    nonce=challenge.nonce,
                )
            except siwe.SiweError as exc:
                raise ChallengeRejected(str(exc)) from exc
        signature = await asyncio.to_thread(wallet.sign_message, challenge.message)
        result = await self.client.siwe_verify(challenge.message, signature)
        expires = token_expiry(result.access_token) or time.time() + result.expires_in
        session = Session(
            api_base=self.settings.api_base,
            address=wallet.address,
            access_token=result.access_token,
            agent_id=result.agent_id,
            tenant_id=result.tenant_id,
            did=result.did,
            expires_at=expires,
        )
        await asyncio.to_thread(self._save, session)
        self.session = session
        self._generation += 1
        return session

    async def ensure(self) -> Session:
        """A valid session: the current one, a saved one, or a new sign-in."""
        if self.session is not None and self.session.is_valid():
            return self.session
        async with self._lock:
            if self.session is not None and self.session.is_valid():
                return self.session
            saved = self.load_saved()
            if saved is not None:
                return saved
            return await self._sign_in(None)

    # -- TokenSource -------------------------------------------------------------------------

    async def get_token(self) -> str:
        """A valid token, signing in first if needed."""
        return (await self.ensure()).access_token

    async def renew(self) -> str:
        """Sign in again after a 401 (once, even when several calls fail together)."""
        generation = self._generation
        async with self._lock:
            if self._generation != generation and self.session and self.session.is_valid():
                return self.session.access_token
            return (await self._sign_in(None)).access_token

    def info(self) -> SessionInfo:
        """Public facts about the session (no token)."""
        s = self.session
        if s is None:
            return {}
        return {
            "address": s.address,
            "tenant_id": s.tenant_id,
            "agent_id": s.agent_id,
            "did": s.did,
            "expires_at": s.expires_at,
            "api_base": s.api_base,
        }

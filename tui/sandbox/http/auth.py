"""Sign-in with Ethereum (challenge, verify) and payment proofs."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.auth import siwe
from tui.limits import encode_defunct, eth_account_class
from tui.sandbox.http.errors import ApiError, bad_request, json_response
from tui.sandbox.http.tokens import PROOF_TARGETS, issue_token, sign_proof
from tui.sandbox.http.values import iso
from tui.sandbox.state.db import Challenge
from tui.sandbox.state.tenants import AddressTakenError

if TYPE_CHECKING:
    from tui.sandbox.http.app import SandboxService


_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")


async def siwe_challenge(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/auth/siwe/challenge``."""
    body = await svc.body(request)
    wallet = body.get("wallet_address")
    if not isinstance(wallet, str) or not wallet.strip():
        raise bad_request("wallet_address is required")
    wallet = wallet.strip()
    if not _ADDRESS_RE.match(wallet) or not siwe.is_checksum_address(wallet):
        raise bad_request("invalid wallet_address")
    from eth_utils import to_checksum_address  # lazy: slow to import

    nonce = secrets.token_hex(12)
    now_ms = svc.store.now_ms()
    message = siwe.SiweMessage(
        domain=svc.config.effective_siwe_domain,
        address=to_checksum_address(wallet),
        statement=svc.config.siwe_statement,
        uri=svc.siwe_uri,
        version="1",
        chain_id=svc.config.chain_id,
        nonce=nonce,
        issued_at=iso(now_ms) or "",
    ).to_text()
    expires_ms = now_ms + int(svc.config.challenge_ttl_s * 1000)
    svc.store.put_challenge(wallet, Challenge(nonce, message, expires_ms))
    return json_response(200, {"nonce": nonce, "message": message})


async def siwe_verify(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/auth/siwe/verify``: checks in the contract's order, then a JWT."""
    body = await svc.body(request)
    message, signature = body.get("message"), body.get("signature")
    if (
        not isinstance(message, str)
        or not message
        or not isinstance(signature, str)
        or (not signature)
    ):
        raise bad_request("message and signature are required")
    try:
        parsed = siwe.parse(message)
    except siwe.SiweError:
        raise bad_request("invalid SIWE message") from None
    challenge = svc.store.live_challenge(parsed.address)
    if challenge is None or challenge.nonce != parsed.nonce or challenge.message != message:
        raise ApiError(401, "unauthorized", "challenge mismatch or expired")
    if not _signature_ok(svc, message, signature, parsed):
        raise ApiError(401, "unauthorized", "invalid SIWE signature")
    if parsed.chain_id != svc.config.chain_id:
        raise ApiError(401, "unauthorized", "chain_id mismatch")
    if not svc.store.consume_challenge(parsed.address, parsed.nonce):
        raise ApiError(401, "unauthorized", "challenge mismatch or expired")
    wallet = parsed.address.lower()
    did = f"did:pkh:eip155:{svc.config.chain_id}:{wallet}"
    try:
        tenant_id, agent_id, _created = svc.store.tenant_for_wallet(
            wallet, did, svc.config.mailbox_domain
        )
    except AddressTakenError:
        raise ApiError(
            409, "conflict", "Another wallet already owns this wallet's mailbox addresses"
        ) from None
    return json_response(200, issue_token(svc.config, tenant_id, agent_id, did, svc.now_s()))


def _signature_ok(
    svc: SandboxService, message: str, signature: str, parsed: siwe.SiweMessage
) -> bool:
    if not signature.startswith("0x") or not _HEX_RE.match(signature[2:]):
        return False
    if parsed.domain != svc.config.effective_siwe_domain:
        return False
    try:  # eth-account is slow to import: loaded on the first verify, recursion limit kept
        recovered = eth_account_class().recover_message(
            encode_defunct(message), signature=signature
        )
    except Exception:
        return False
    return str(recovered).lower() == parsed.address.lower()


async def payment_proof(svc: SandboxService, request: Request) -> Response:
    """``POST /v2/payments/proof``: sign a proof for one of the 4 protected targets."""
    svc.auth(request)
    body = await svc.body(request)
    method = body.get("method")
    path = body.get("path")
    method = method.strip().upper() if isinstance(method, str) else ""
    path = path.strip() if isinstance(path, str) else ""
    if not method or not path:
        raise bad_request("method and path are required")
    if f"{method} {path}" not in PROOF_TARGETS:
        raise bad_request("unsupported payment proof target")
    t = int(svc.now_s())
    return json_response(
        200,
        {
            "x_payment_proof": sign_proof(svc.config.hmac_secret, method, path, t),
            "method": method,
            "path": path,
            "amount_usdc": svc.config.overage_charge_usdc,
            "expires_at": iso((t + svc.config.hmac_skew_s) * 1000),
        },
    )

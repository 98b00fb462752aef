"""The tenant client's httpx auth flow (tui/api/authflow.py) against the real sandbox.

Every request the client sends is recorded on its way to the sandbox (a forwarding transport,
not a stand-in: the sandbox answers), so each test checks the exact exchange: one renewal
after a 401, one proof after a 402, and what is counted as paid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sandbox_helpers import FakeClock
from support import make_settings, wallet_from

from tui.api.authflow import SessionAuth
from tui.api.client import MailagentsClient
from tui.api.errors import AuthenticationError, PaymentRequiredError, classify
from tui.core.services import Services
from tui.core.wallets import WalletSource
from tui.sandbox.state.store import Store

LEASES = "/v2/mailboxes/leases"
PROOF = "/v2/payments/proof"
VERIFY = "/v2/auth/siwe/verify"


@dataclass
class Sent:
    method: str
    path: str
    status: int
    authorization: str | None
    proof: str | None


class Recorder(httpx.AsyncBaseTransport):
    """Forwards every request to the sandbox and notes what went and what came back."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.sent.append(
            Sent(
                request.method,
                request.url.path,
                response.status_code,
                request.headers.get("authorization"),
                request.headers.get("x-payment-proof"),
            )
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def to(self, method: str, path: str) -> list[Sent]:
        return [s for s in self.sent if (s.method, s.path) == (method, path)]


def recorded_services(base_url: str, tmp_path: Any, account: Any, **overrides: Any) -> Any:
    recorder = Recorder()
    settings = make_settings(base_url, tmp_path, **overrides)
    client = MailagentsClient(
        base_url, payment_policy=settings.payment, transport=recorder, timeout=10
    )
    services = Services.create(
        settings, client=client, wallet_source=WalletSource.of(wallet_from(account))
    )
    return services, recorder


def secrets_of(recorder: Recorder) -> set[str]:
    """Every token and proof that went over the wire."""
    found = set()
    for s in recorder.sent:
        if s.authorization:
            found.add(s.authorization.removeprefix("Bearer "))
        if s.proof:
            found.add(s.proof)
    return found


async def test_a_token_expired_mid_session_is_renewed_exactly_once(
    sandbox_factory, wallet, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG, logger="tui")
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), token_ttl_s=180)
    services, recorder = recorded_services(server.base_url, tmp_path, wallet)
    try:
        first = await services.session.sign_in()
        assert await services.leases.list_active() == []
        clock.advance(181)  # the server says the token expired; the client still trusts it
        assert services.session.session.is_valid()
        recorder.sent.clear()
        assert await services.leases.list_active() == []
    finally:
        await services.aclose()
    calls = recorder.to("GET", LEASES)
    assert [c.status for c in calls] == [401, 200]
    assert calls[0].authorization == f"Bearer {first.access_token}"
    assert calls[1].authorization == f"Bearer {services.session.session.access_token}"
    assert services.session.session.access_token != first.access_token
    assert len(recorder.to("POST", VERIFY)) == 1  # one new sign-in, not one per retry
    assert f"GET {LEASES} -> 401" in caplog.text and "signing in again" in caplog.text
    assert not any(secret in caplog.text for secret in secrets_of(recorder))


class RefusedTokens:
    """A token source whose tokens the sandbox never accepts."""

    def __init__(self) -> None:
        self.renewals = 0

    async def get_token(self) -> str:
        return "not-a-token"

    async def renew(self) -> str:
        self.renewals += 1
        return f"still-not-a-token-{self.renewals}"


async def test_a_401_after_the_renewal_is_final_and_names_no_token(sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="tui")
    recorder = Recorder()
    tokens = RefusedTokens()
    client = MailagentsClient(sandbox.base_url, token_source=tokens, transport=recorder)
    try:
        with pytest.raises(AuthenticationError) as info:
            await client.list_leases()
    finally:
        await client.aclose()
    assert tokens.renewals == 1
    assert [(c.status, c.authorization) for c in recorder.sent] == [
        (401, "Bearer not-a-token"),
        (401, "Bearer still-not-a-token-1"),
    ]
    assert info.value.after_sign_in  # a new sign-in did not cure it
    assert classify(info.value).label == "sign-in failed"
    assert "not-a-token" not in str(info.value) + info.value.user_message() + caplog.text


async def test_a_402_is_paid_with_one_proof_and_counted(sandbox_factory, wallet, tmp_path, caplog):
    from tui.app.screens.leases import paid_calls_text

    caplog.set_level(logging.DEBUG, logger="tui")
    server = sandbox_factory(allocate_hourly_limit=1)
    services, recorder = recorded_services(server.base_url, tmp_path, wallet)
    paid: list[tuple[str, str, float | None]] = []
    services.client.on_paid = lambda m, p, a: paid.append((m, p, a))
    try:
        await services.leases.allocate("free", 1, release_on_exit=False)
        assert services.client.paid_calls == 0
        assert paid_calls_text(services).plain == ""
        await services.leases.allocate("paid", 1, release_on_exit=False)
        await services.leases.list_active()  # a free call afterwards is not counted
    finally:
        await services.aclose()
    allocations = recorder.to("POST", LEASES)
    assert [(c.status, c.proof is not None) for c in allocations] == [
        (201, False),
        (402, False),
        (201, True),
    ]
    proofs = recorder.to("POST", PROOF)
    assert len(proofs) == 1 and proofs[0].status == 200
    assert proofs[0].authorization == allocations[2].authorization  # the same session
    assert services.client.paid_calls == 1
    assert services.client.paid_usdc == 0.001
    assert paid == [("POST", LEASES, 0.001)]
    assert paid_calls_text(services).plain == " · paid calls 1 x 0.001 = 0.001 USDC"
    assert f"POST {LEASES} -> 402" in caplog.text and "fetching a payment proof" in caplog.text
    assert "paid with a proof" in caplog.text
    assert allocations[2].proof not in caplog.text
    assert not any(secret in caplog.text for secret in secrets_of(recorder))


async def test_a_second_402_is_an_error_naming_the_price(sandbox_factory, wallet, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="tui")
    # Proofs older or newer than -1 s: the sandbox refuses every proof it signs.
    server = sandbox_factory(allocate_hourly_limit=1, hmac_skew_s=-1)
    services, recorder = recorded_services(server.base_url, tmp_path, wallet)
    try:
        await services.leases.allocate("free", 1, release_on_exit=False)
        with pytest.raises(PaymentRequiredError) as info:
            await services.leases.allocate("refused", 1, release_on_exit=False)
    finally:
        await services.aclose()
    allocations = recorder.to("POST", LEASES)
    assert [(c.status, c.proof is not None) for c in allocations] == [
        (201, False),
        (402, False),
        (402, True),  # retried once with a proof, never twice
    ]
    assert len(recorder.to("POST", PROOF)) == 1
    message = info.value.user_message()
    assert "0.001 USDC" in message and "agent_allocate_hourly" in message
    assert services.client.paid_calls == 0 and services.client.paid_usdc == 0
    text = str(info.value) + message + caplog.text
    assert not any(secret in text for secret in secrets_of(recorder))


async def test_policy_always_sends_a_fresh_proof_after_a_renewal(sandbox_factory, wallet, tmp_path):
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), token_ttl_s=180)
    services, recorder = recorded_services(server.base_url, tmp_path, wallet, payment="always")
    try:
        await services.session.sign_in()
        clock.advance(181)
        recorder.sent.clear()
        await services.leases.allocate("a", 1, release_on_exit=False)
    finally:
        await services.aclose()
    steps = [
        (c.method, c.path, c.status, c.proof is not None)
        for c in recorder.sent
        if c.path in (LEASES, PROOF)
    ]
    # The proof endpoint refuses the expired token first: sign in again, then a fresh proof.
    assert steps == [
        ("POST", PROOF, 401, False),
        ("POST", PROOF, 200, False),
        ("POST", LEASES, 201, True),
    ]
    assert len(recorder.to("POST", VERIFY)) == 1
    # No limit applied, so the server ignored the proof, but the client sent (and counts) it.
    assert services.client.paid_calls == 1


def test_the_flow_refuses_a_sync_client():
    async def no_proof(method: str, path: str, token: str | None) -> Any:
        raise AssertionError("not reached")

    flow = SessionAuth(
        "GET", "/healthz", tokens=None, proofs=no_proof, protected=False, policy="auto"
    )
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with http, pytest.raises(RuntimeError, match="AsyncClient"):
        http.get("http://x.test/healthz", auth=flow)

"""The client core (api, auth, session, ledger, lease use cases) against the sandbox on loopback."""

from __future__ import annotations

import dataclasses
import json
import os
import stat

import httpx
import pytest
from support import make_services

from tui.api.client import MailagentsClient
from tui.api.errors import (
    ChallengeRejected,
    ConflictError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
)
from tui.core.ledger import Ledger


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_sign_in_persists_private_session_and_returning_wallet(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        session = await services.session.sign_in()
    finally:
        await services.aclose()
    assert session.address == wallet.address
    assert session.did == f"did:pkh:eip155:84532:{wallet.address.lower()}"
    assert session.is_valid()
    path = services.session.path
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    saved = json.loads(path.read_text())
    assert next(iter(saved.values()))["tenant_id"] == session.tenant_id

    # A new process finds the saved session without signing.
    again = make_services(sandbox.base_url, tmp_path, wallet)
    assert again.session.load_saved() == session
    # Signing in again (returning wallet) gives the same tenant, agent and did.
    other_home = make_services(sandbox.base_url, tmp_path / "other", wallet)
    try:
        second = await other_home.session.sign_in()
    finally:
        await other_home.aclose()
    assert (second.tenant_id, second.agent_id, second.did) == (
        session.tenant_id,
        session.agent_id,
        session.did,
    )
    assert second.access_token != "" and session.access_token not in repr(second)


async def test_refuses_challenge_for_another_domain(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(siwe_domain="evil.example")
    services = make_services(server.base_url, tmp_path, wallet)
    try:
        with pytest.raises(ChallengeRejected, match="domain"):
            await services.session.sign_in()
    finally:
        await services.aclose()
    assert services.session.session is None
    assert not services.session.path.exists()


async def test_refuses_challenge_for_another_chain(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        runtime = await services.session.get_runtime()
        services.session.runtime = dataclasses.replace(runtime, chain_id=1)
        with pytest.raises(ChallengeRejected, match="chain"):
            await services.session.sign_in()
    finally:
        await services.aclose()


async def test_invalid_token_is_renewed_once_transparently(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        session = await services.session.sign_in()
        forged = dataclasses.replace(session, access_token=session.access_token[:-4] + "AAAA")
        services.session.session = forged
        leases = await services.leases.list_active()
        assert leases == []
        assert services.session.session.access_token != forged.access_token
        assert services.session.session.tenant_id == session.tenant_id
    finally:
        await services.aclose()


async def test_expired_token_signs_in_again_before_the_call(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        session = await services.session.sign_in()
        services.session.session = dataclasses.replace(session, expires_at=0)
        await services.leases.list_active()
        assert services.session.session.is_valid()
        assert services.session.session.expires_at > 0
    finally:
        await services.aclose()


async def test_allocate_records_credentials_and_release_updates_ledger(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-1")
    try:
        allocated = await services.leases.allocate("signup", 2, release_on_exit=True)
        entry = services.ledger.get(allocated.lease.lease_id)
        assert entry is not None
        assert entry.webmail_password == allocated.credentials.webmail_password
        assert entry.webmail_password and len(entry.webmail_password) >= 16
        assert entry.address == allocated.lease.address
        assert entry.release_on_exit and entry.run_id == "run-1"
        assert mode(services.ledger.path) == 0o600
        assert [e.lease_id for e in services.leases.run_leases()] == [allocated.lease.lease_id]

        views = await services.leases.list_active()
        assert [v.lease.lease_id for v in views] == [allocated.lease.lease_id]
        assert views[0].entry is not None and views[0].release_on_exit

        result = await services.leases.release(allocated.lease.lease_id)
        assert result.released and result.detail == "released"
        assert services.ledger.get(allocated.lease.lease_id).status == "released"
        assert services.leases.run_leases() == []
        assert await services.leases.list_active() == []
    finally:
        await services.aclose()


async def test_stale_release_never_touches_the_newer_lease(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        first = await services.leases.allocate("a", 1, release_on_exit=False)
        await services.leases.release(first.lease.lease_id)
        second = await services.leases.allocate("b", 1, release_on_exit=False)
        assert second.lease.mailbox_id == first.lease.mailbox_id  # same mailbox re-leased
        result = await services.leases.release(first.lease.lease_id)
        assert result.detail.startswith("already")
        detail = await services.client.get_lease(second.lease.lease_id)
        assert detail.is_active
    finally:
        await services.aclose()


async def test_credentials_reset_stores_the_new_password(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        allocated = await services.leases.allocate("a", 1, release_on_exit=False)
        old = allocated.credentials.webmail_password
        entry = await services.leases.reset_credentials(allocated.lease)
        assert entry.webmail_password and entry.webmail_password != old
        assert (
            services.ledger.get(allocated.lease.lease_id).webmail_password == entry.webmail_password
        )
    finally:
        await services.aclose()


async def test_pool_exhausted_gives_a_clear_conflict(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=0)
    services = make_services(server.base_url, tmp_path, wallet)
    try:
        for _ in range(5):
            await services.leases.allocate("a", 1, release_on_exit=False)
        with pytest.raises(ConflictError) as info:
            await services.leases.allocate("a", 1, release_on_exit=False)
    finally:
        await services.aclose()
    assert info.value.error == "no_available_mailbox"
    assert "release a lease" in info.value.user_message()
    assert info.value.request_id


async def test_payment_proof_is_fetched_on_402_and_retried(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=1)
    services = make_services(server.base_url, tmp_path, wallet)
    paid: list[tuple[str, str, float | None]] = []
    services.client.on_paid = lambda m, p, a: paid.append((m, p, a))
    try:
        await services.leases.allocate("free", 1, release_on_exit=False)
        assert services.client.paid_calls == 0
        await services.leases.allocate("paid", 1, release_on_exit=False)
    finally:
        await services.aclose()
    assert services.client.paid_calls == 1
    assert paid == [("POST", "/v2/mailboxes/leases", 0.001)]


async def test_payment_policy_never_surfaces_the_402(sandbox_factory, wallet, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=1)
    services = make_services(server.base_url, tmp_path, wallet, payment="never")
    try:
        await services.leases.allocate("free", 1, release_on_exit=False)
        with pytest.raises(PaymentRequiredError) as info:
            await services.leases.allocate("paid", 1, release_on_exit=False)
    finally:
        await services.aclose()
    assert info.value.reasons[0]["code"] == "agent_allocate_hourly"
    assert "agent_allocate_hourly" in info.value.user_message()


async def test_other_tenants_lease_is_not_found(sandbox, wallet, tmp_path):
    from tui.limits import eth_account_class

    Account = eth_account_class()
    alice = make_services(sandbox.base_url, tmp_path / "a", wallet)
    bob = make_services(sandbox.base_url, tmp_path / "b", Account.create())
    try:
        lease = (await alice.leases.allocate("a", 1, release_on_exit=False)).lease
        with pytest.raises(NotFoundError) as info:
            await bob.client.get_lease(lease.lease_id)
        assert info.value.message == "Lease not found"
        # Bob's release of Alice's id is refused before anything is sent.
        result = await bob.leases.release(lease.lease_id)
        assert result.detail == "not found on the server"
        assert (await alice.client.get_lease(lease.lease_id)).is_active
    finally:
        await alice.aclose()
        await bob.aclose()


async def test_release_run_leases_and_orphans(sandbox, wallet, tmp_path):
    first = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-a")
    try:
        kept = await first.leases.allocate("kept", 1, release_on_exit=False)
        mine = await first.leases.allocate("mine", 1, release_on_exit=True)
    finally:
        await first.aclose()
    # Simulate a run that died: its pid is not alive any more.
    ledger = Ledger(first.ledger.path)
    entries = json.loads(ledger.path.read_text())
    for item in entries["leases"]:
        item["pid"] = 999_999_999
    ledger.path.write_text(json.dumps(entries))

    second = make_services(sandbox.base_url, tmp_path, wallet, run_id="run-b")
    try:
        await second.session.ensure()
        orphans = second.leases.orphans()
        assert [e.lease_id for e in orphans] == [mine.lease.lease_id]
        assert second.leases.run_leases() == []
        results = await second.leases.release_many([e.lease_id for e in orphans], timeout=10)
        assert [r.released for r in results] == [True]
        assert second.leases.orphans() == []
        assert (await second.client.get_lease(kept.lease.lease_id)).is_active
        assert not (await second.client.get_lease(mine.lease.lease_id)).is_active
    finally:
        await second.aclose()


async def test_unreachable_server_is_a_network_error():
    client = MailagentsClient("http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(NetworkError, match="cannot reach"):
            await client.runtime()
    finally:
        await client.aclose()


async def test_non_json_answer_is_reported(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    client = MailagentsClient("http://x.test", transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(Exception) as info:
            await client.runtime()
    finally:
        await client.aclose()
    assert info.value.status == 502
    assert "HTTP 502" in info.value.user_message()


async def test_ids_cannot_change_the_route(sandbox, wallet, tmp_path):
    services = make_services(sandbox.base_url, tmp_path, wallet)
    try:
        await services.session.sign_in()
        with pytest.raises(NotFoundError):
            await services.client.get_lease("../../healthz")
    finally:
        await services.aclose()


async def test_payment_policy_always_sends_a_fresh_proof_first():
    seen: list[tuple[str, str, str | None]] = []
    counter = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers.get("x-payment-proof")))
        if request.url.path == "/v2/payments/proof":
            counter["n"] += 1
            return httpx.Response(
                200,
                json={
                    "x_payment_proof": f"t=1,v1={counter['n']:02x}",
                    "method": "POST",
                    "path": "/v2/mailboxes/leases",
                    "amount_usdc": 0.001,
                },
            )
        body = {
            "lease_id": "l",
            "mailbox_id": "m",
            "account_id": "m",
            "address": "a@b.test",
            "lease_status": "active",
            "webmail_password": "pw",
        }
        return httpx.Response(201, json=body)

    client = MailagentsClient(
        "http://x.test", payment_policy="always", transport=httpx.MockTransport(handler)
    )
    try:
        await client.allocate_lease("agent", "p", 1)
        await client.allocate_lease("agent", "p", 1)
    finally:
        await client.aclose()
    assert seen == [
        ("POST", "/v2/payments/proof", None),
        ("POST", "/v2/mailboxes/leases", "t=1,v1=01"),
        ("POST", "/v2/payments/proof", None),
        ("POST", "/v2/mailboxes/leases", "t=1,v1=02"),
    ]


class CountingTokens:
    def __init__(self) -> None:
        self.renewals = 0

    async def get_token(self) -> str:
        return f"token-{self.renewals}"

    async def renew(self) -> str:
        self.renewals += 1
        return f"token-{self.renewals}"


@pytest.mark.parametrize(
    ("status", "body", "renews"),
    [
        (401, {"error": "unauthorized", "message": "Token expired"}, True),
        (403, {"error": "forbidden", "message": "Tenant/agent context not found"}, True),
        (403, {"error": "tenant_inactive", "message": "Tenant is suspended"}, False),
    ],
)
async def test_session_errors_sign_in_again_once(status, body, renews):
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer token-0":
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"items": []})

    tokens = CountingTokens()
    client = MailagentsClient(
        "http://x.test", token_source=tokens, transport=httpx.MockTransport(handler)
    )
    try:
        if renews:
            assert await client.list_leases() == []
            assert calls == ["Bearer token-0", "Bearer token-1"]
        else:
            with pytest.raises(Exception, match="suspended"):
                await client.list_leases()
            assert calls == ["Bearer token-0"]
    finally:
        await client.aclose()


async def test_cooldown_of_an_unbound_tenant_is_explained(sandbox, wallet, tmp_path):
    import time as _time

    from sandbox_helpers import unbound_tenant

    from tui.api.errors import RateLimitError
    from tui.core.compose import send_text
    from tui.core.session import Session, token_expiry

    tenant = unbound_tenant(sandbox)
    services = make_services(sandbox.base_url, tmp_path, wallet)
    services.session.session = Session(
        api_base=sandbox.base_url,
        address="(no wallet)",
        access_token=tenant["access_token"],
        agent_id=tenant["agent_id"],
        tenant_id=tenant["tenant_id"],
        did="",
        expires_at=token_expiry(tenant["access_token"]) or _time.time() + 3600,
    )
    try:
        lease = (await services.leases.allocate("a", 1, release_on_exit=False)).lease
        for i in range(10):
            await send_text(services, lease.lease_id, ["x@example.org"], f"n{i}", text="t")
        with pytest.raises(RateLimitError) as info:
            await send_text(services, lease.lease_id, ["x@example.org"], "n10", text="t")
    finally:
        await services.aclose()
    assert info.value.is_cooldown
    message = info.value.user_message()
    assert "may send 10 messages per 24h" in message and "bind a wallet" in message

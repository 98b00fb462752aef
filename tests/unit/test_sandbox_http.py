"""Sandbox: general HTTP conventions of the contract (§0, §1)."""

from __future__ import annotations

import uuid

import httpx
import pytest

JSON_CT = "application/json; charset=utf-8"


def test_healthz_and_headers(sandbox):
    r1 = httpx.get(f"{sandbox.base_url}/healthz", headers={"x-request-id": "mine"})
    r2 = httpx.get(f"{sandbox.base_url}/healthz")
    assert r1.status_code == 200
    assert r1.json() == {"status": "ok", "service": "agent-mail-cloud"}
    assert r1.headers["content-type"] == JSON_CT
    ids = {r1.headers["x-request-id"], r2.headers["x-request-id"]}
    assert len(ids) == 2 and "mine" not in ids
    for value in ids:
        assert uuid.UUID(value).version == 4
    assert "request_id" not in r1.json()


def test_runtime(sandbox_factory):
    server = sandbox_factory(allocate_hourly_limit=7, mailbox_domain="mx.test")
    body = httpx.get(f"{server.base_url}/v2/meta/runtime").json()
    assert body == {
        "siwe_mode": "strict",
        "payment_mode": "hmac",
        "base_chain_id": 84532,
        "chain_name": "Base Sepolia",
        "chain_hex": "0x14a34",
        "chain_rpc_urls": ["https://sepolia.base.org"],
        "chain_explorer_urls": ["https://sepolia.basescan.org"],
        "mailbox_domain": "mx.test",
        "overage_charge_usdc": 0.001,
        "agent_allocate_hourly_limit": 7,
        "webmail_url": None,
        "auth": {"browser_wallet_required": True},
    }


def test_runtime_other_chain(sandbox_factory):
    body = httpx.get(f"{sandbox_factory(chain_id=31337).base_url}/v2/meta/runtime").json()
    assert body["chain_name"] == "chain 31337"
    assert body["chain_hex"] == "0x7a69"
    assert body["chain_rpc_urls"] == [] and body["chain_explorer_urls"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("HEAD", "/healthz"),
        ("OPTIONS", "/v2/meta/runtime"),
        ("POST", "/healthz"),
        ("DELETE", "/v2/mailboxes/leases"),
        ("GET", "/v2/auth/siwe/challenge"),
        ("GET", "/v2/payments/proof"),
        ("POST", "/v2/mailboxes/accounts"),
        ("GET", "/v2/webhooks/x/rotate-secret"),
        ("GET", "/"),
    ],
)
def test_unknown_route_or_method_is_404(sandbox, method, path):
    r = httpx.request(method, f"{sandbox.base_url}{path}")
    assert r.status_code == 404
    assert "access-control-allow-origin" not in r.headers
    if method != "HEAD":
        assert r.json() == {"error": "not_found", "message": "Route not found"}
        assert r.headers["content-type"] == JSON_CT
    assert "x-request-id" in r.headers


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_v1_is_gone(sandbox, method):
    r = httpx.request(method, f"{sandbox.base_url}/v1/mailboxes/allocate")
    assert r.status_code == 410
    assert r.json() == {"error": "gone", "message": "v1 endpoints are deprecated; use v2"}


def test_body_is_json_whatever_the_content_type(sandbox, wallet):
    r = httpx.post(
        f"{sandbox.base_url}/v2/auth/siwe/challenge",
        content=f'{{"wallet_address":"{wallet.address}"}}',
        headers={"content-type": "text/plain"},
    )
    assert r.status_code == 200
    assert r.json()["nonce"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "wallet_address is required"),
        (b"   ", "wallet_address is required"),
        (b"{", "Invalid JSON"),
        (b"{'a': 1}", "Invalid JSON"),
        (b"NaN", "Invalid JSON"),
        (b"\xff\xfe", "Invalid JSON"),
        (b"null", "wallet_address is required"),
        (b"[]", "wallet_address is required"),
        (b'"0xabc"', "wallet_address is required"),
        (b"42", "wallet_address is required"),
        (b'{"wallet_address": ""}', "wallet_address is required"),
        (b'{"wallet_address": 12}', "wallet_address is required"),
        (b'{"wallet_address": "0x123"}', "invalid wallet_address"),
        (b'{"wallet_address": "not-an-address"}', "invalid wallet_address"),
    ],
)
def test_challenge_bad_bodies(sandbox, content, message):
    r = httpx.post(f"{sandbox.base_url}/v2/auth/siwe/challenge", content=content)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": message}
    assert r.headers["content-type"] == JSON_CT


def test_body_over_1mib_is_413(sandbox):
    r = httpx.post(f"{sandbox.base_url}/v2/auth/siwe/challenge", content=b" " * (1024 * 1024 + 10))
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_unexpected_error_is_a_500_envelope_without_detail(sandbox_factory, session_factory):
    server = sandbox_factory()
    s = session_factory(server)

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    server.store.tenant_context = boom
    r = s.get("/v2/mailboxes/accounts")
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "message": "Unexpected server error"}
    assert r.headers["content-type"] == JSON_CT
    assert "x-request-id" in r.headers
    # the server keeps serving
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


async def test_create_app_in_process_with_asgi_transport(wallet):
    from sandbox_helpers import sign_message

    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.http.app import create_app

    app = create_app(SandboxConfig())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        r = await client.get("/healthz")
        assert r.status_code == 200 and "x-request-id" in r.headers
        ch = await client.post("/v2/auth/siwe/challenge", json={"wallet_address": wallet.address})
        message = ch.json()["message"]
        r = await client.post(
            "/v2/auth/siwe/verify",
            json={"message": message, "signature": sign_message(wallet, message)},
        )
        assert r.status_code == 200
        token = r.json()["access_token"]
        r = await client.get("/v2/mailboxes/accounts", headers={"authorization": f"Bearer {token}"})
        assert len(r.json()["items"]) == 5

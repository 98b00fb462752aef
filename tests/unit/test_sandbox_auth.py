"""Sandbox: SIWE challenge / verify (§2.1, §2.2) and access-token checks (§2.3)."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
import jwt
import pytest
from sandbox_helpers import FakeClock, sign_in, sign_message

from tui.auth import siwe
from tui.limits import eth_account_class

Account = eth_account_class()

SCOPES = ["mail:allocate", "mail:read", "mail:send", "webhook:write", "billing:read"]


def challenge(server, address):
    r = httpx.post(f"{server.base_url}/v2/auth/siwe/challenge", json={"wallet_address": address})
    assert r.status_code == 200, r.text
    return r.json()


def verify(server, message, signature):
    return httpx.post(
        f"{server.base_url}/v2/auth/siwe/verify",
        json={"message": message, "signature": signature},
    )


def test_challenge_message_is_strict_eip4361(sandbox, wallet):
    body = challenge(sandbox, wallet.address.lower())
    assert set(body) == {"nonce", "message"}
    assert re.fullmatch(r"[0-9a-f]{24}", body["nonce"])
    lines = body["message"].split("\n")
    assert lines[0] == "127.0.0.1 wants you to sign in with your Ethereum account:"
    assert lines[1] == wallet.address  # EIP-55 even though the request was lowercase
    assert lines[2:5] == ["", "Sign in to Agent Mail Cloud", ""]
    assert lines[5] == f"URI: {sandbox.base_url}"
    assert lines[6:9] == ["Version: 1", "Chain ID: 84532", f"Nonce: {body['nonce']}"]
    assert re.fullmatch(r"Issued At: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", lines[9])
    assert len(lines) == 10 and not body["message"].endswith("\n")
    parsed = siwe.check_challenge(
        body["message"],
        api_base=sandbox.base_url,
        address=wallet.address,
        chain_id=84532,
        nonce=body["nonce"],
    )
    assert parsed.expiration_time is None


def test_configured_domain_and_chain(sandbox_factory, wallet):
    server = sandbox_factory(siwe_domain="api.example.test", chain_id=8453)
    msg = siwe.parse(challenge(server, wallet.address)["message"])
    assert msg.domain == "api.example.test" and msg.chain_id == 8453
    login = sign_in(server.base_url, wallet)
    assert login["did"] == f"did:pkh:eip155:8453:{wallet.address.lower()}"


def test_happy_path_and_token(sandbox, wallet):
    body = challenge(sandbox, wallet.address)
    r = verify(sandbox, body["message"], sign_message(wallet, body["message"]))
    assert r.status_code == 200
    data = r.json()
    assert list(data) == [
        "access_token",
        "token_type",
        "expires_in",
        "did",
        "tenant_id",
        "agent_id",
    ]
    assert data["token_type"] == "Bearer" and data["expires_in"] == 3600
    assert data["did"] == f"did:pkh:eip155:84532:{wallet.address.lower()}"
    header_b64, payload_b64, _ = data["access_token"].split(".")
    assert "=" not in data["access_token"]
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
    assert list(payload) == ["tenant_id", "agent_id", "did", "scopes", "iat", "exp"]
    assert payload["scopes"] == SCOPES
    assert payload["exp"] - payload["iat"] == 3600
    assert abs(payload["iat"] - time.time()) < 5
    assert (payload["tenant_id"], payload["agent_id"]) == (data["tenant_id"], data["agent_id"])
    # the token works
    r = httpx.get(
        f"{sandbox.base_url}/v2/mailboxes/accounts",
        headers={"authorization": f"Bearer {data['access_token']}"},
    )
    assert r.status_code == 200


def test_first_login_creates_five_mailboxes_and_invoice(sandbox, wallet):
    data = sign_in(sandbox.base_url, wallet)
    headers = {"authorization": f"Bearer {data['access_token']}"}
    items = httpx.get(f"{sandbox.base_url}/v2/mailboxes/accounts", headers=headers).json()["items"]
    hexaddr = wallet.address.lower()[2:]
    prefix = hexaddr[:6] + hexaddr[-4:]
    assert sorted(i["address"] for i in items) == [
        f"{prefix}-{n}@sandbox.mailagents.test" for n in range(1, 6)
    ]
    invoices = httpx.get(f"{sandbox.base_url}/v2/billing/invoices", headers=headers).json()
    assert [(i["status"], i["amount_usdc"]) for i in invoices["items"]] == [("draft", 0)]


def test_returning_wallet_same_identity(sandbox, wallet):
    first = sign_in(sandbox.base_url, wallet)
    second = sign_in(sandbox.base_url, wallet)
    for key in ("tenant_id", "agent_id", "did"):
        assert first[key] == second[key]
    other = sign_in(sandbox.base_url, Account.create())
    assert other["tenant_id"] != first["tenant_id"]
    assert other["agent_id"] != first["agent_id"]


def test_forged_signature_by_another_key(sandbox, wallet):
    body = challenge(sandbox, wallet.address)
    r = verify(sandbox, body["message"], sign_message(Account.create(), body["message"]))
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "message": "invalid SIWE signature"}
    # a failed verify does not consume the challenge
    r = verify(sandbox, body["message"], sign_message(wallet, body["message"]))
    assert r.status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[2:],  # no 0x prefix
        lambda s: "0x1234",
        lambda s: "0x" + "zz" * 65,
        lambda s: s[:10] + ("0" if s[10] != "0" else "1") + s[11:],  # r changed
    ],
)
def test_malformed_signature(sandbox, wallet, mangle):
    body = challenge(sandbox, wallet.address)
    r = verify(sandbox, body["message"], mangle(sign_message(wallet, body["message"])))
    assert r.status_code == 401
    assert r.json()["message"] == "invalid SIWE signature"


def test_reused_nonce(sandbox, wallet):
    body = challenge(sandbox, wallet.address)
    sig = sign_message(wallet, body["message"])
    assert verify(sandbox, body["message"], sig).status_code == 200
    r = verify(sandbox, body["message"], sig)
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "message": "challenge mismatch or expired"}


def test_new_challenge_replaces_old(sandbox, wallet):
    old = challenge(sandbox, wallet.address)
    new = challenge(sandbox, wallet.address)
    assert old["nonce"] != new["nonce"]
    r = verify(sandbox, old["message"], sign_message(wallet, old["message"]))
    assert r.status_code == 401 and r.json()["message"] == "challenge mismatch or expired"
    assert verify(sandbox, new["message"], sign_message(wallet, new["message"])).status_code == 200


def test_expired_challenge(sandbox_factory, wallet):
    from tui.sandbox.state.store import Store

    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), challenge_ttl_s=5)
    body = challenge(server, wallet.address)
    sig = sign_message(wallet, body["message"])
    clock.advance(5.01)
    r = verify(server, body["message"], sig)
    assert r.status_code == 401 and r.json()["message"] == "challenge mismatch or expired"


def test_challenge_within_ttl_is_fine(sandbox_factory, wallet):
    from tui.sandbox.state.store import Store

    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), challenge_ttl_s=5)
    body = challenge(server, wallet.address)
    clock.advance(4.9)
    assert verify(server, body["message"], sign_message(wallet, body["message"])).status_code == 200


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Chain ID: 84532", "Chain ID: 1"),
        ("127.0.0.1 wants", "evil.example wants"),
        ("Sign in to Agent Mail Cloud", "Sign in to Something Else"),
        ("Version: 1\n", "Version: 1\nRequest ID: 7\n"),
    ],
)
def test_edited_message_is_challenge_mismatch(sandbox, wallet, old, new):
    body = challenge(sandbox, wallet.address)
    edited = body["message"].replace(old, new)
    if "Request ID" in new:
        edited = body["message"].replace(
            f"Issued At: {siwe.parse(body['message']).issued_at}",
            f"Issued At: {siwe.parse(body['message']).issued_at}\nRequest ID: 7",
        )
    assert edited != body["message"]
    # signed by the right wallet: the server must still refuse the edited text
    r = verify(sandbox, edited, sign_message(wallet, edited))
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "message": "challenge mismatch or expired"}


def test_wrong_domain_in_server_config_never_verifies(sandbox_factory, wallet):
    # The message carries the configured domain; a server whose config changed refuses it.
    server = sandbox_factory(siwe_domain="a.example")
    body = challenge(server, wallet.address)
    server.config.siwe_domain = "b.example"
    r = verify(server, body["message"], sign_message(wallet, body["message"]))
    assert r.status_code == 401 and r.json()["message"] == "invalid SIWE signature"


def test_wrong_chain_in_server_config(sandbox_factory, wallet):
    server = sandbox_factory()
    body = challenge(server, wallet.address)
    server.config.chain_id = 1
    r = verify(server, body["message"], sign_message(wallet, body["message"]))
    assert r.status_code == 401 and r.json()["message"] == "chain_id mismatch"


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({}, 400, "message and signature are required"),
        ({"message": "x"}, 400, "message and signature are required"),
        ({"message": "", "signature": "0x00"}, 400, "message and signature are required"),
        ({"message": ["a"], "signature": "0x00"}, 400, "message and signature are required"),
        ({"message": "hello", "signature": "0x00"}, 400, "invalid SIWE message"),
    ],
)
def test_verify_bad_input(sandbox, payload, status, message):
    r = httpx.post(f"{sandbox.base_url}/v2/auth/siwe/verify", json=payload)
    assert r.status_code == status
    assert r.json() == {"error": "bad_request", "message": message}


def test_verify_null_body_is_400(sandbox):
    r = httpx.post(f"{sandbox.base_url}/v2/auth/siwe/verify", content=b"null")
    assert r.status_code == 400
    assert r.json()["message"] == "message and signature are required"


def test_verify_without_challenge(sandbox, wallet):
    text = siwe.SiweMessage(
        domain="127.0.0.1",
        address=wallet.address,
        uri=sandbox.base_url,
        version="1",
        chain_id=84532,
        nonce="abcdef0123456789abcdef01",
        issued_at="2026-01-01T00:00:00.000Z",
        statement="Sign in to Agent Mail Cloud",
    ).to_text()
    r = verify(sandbox, text, sign_message(wallet, text))
    assert r.status_code == 401 and r.json()["message"] == "challenge mismatch or expired"


# -- access token checks (§2.3) ------------------------------------------------------------


def accounts(server, auth_header):
    headers = {} if auth_header is None else {"authorization": auth_header}
    return httpx.get(f"{server.base_url}/v2/mailboxes/accounts", headers=headers)


def forge(server, login, **changes):
    payload = jwt.decode(login["access_token"], options={"verify_signature": False})
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, server.config.jwt_secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Unauthorized"),
        ("", "Unauthorized"),
        ("bearer {token}", "Unauthorized"),
        ("Basic {token}", "Unauthorized"),
        ("Bearer abc", "Invalid token"),
        ("Bearer a.b", "Invalid token"),
        ("Bearer a.b.c.d", "Invalid token"),
        ("Bearer {token}x", "Invalid signature"),
    ],
)
def test_token_rejections(sandbox, wallet, header, message):
    login = sign_in(sandbox.base_url, wallet)
    value = None if header is None else header.format(token=login["access_token"])
    r = accounts(sandbox, value)
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "message": message}


def test_token_signed_with_another_secret(sandbox, wallet):
    login = sign_in(sandbox.base_url, wallet)
    payload = jwt.decode(login["access_token"], options={"verify_signature": False})
    token = jwt.encode(payload, "x" * 40, algorithm="HS256")
    r = accounts(sandbox, f"Bearer {token}")
    assert r.status_code == 401 and r.json()["message"] == "Invalid signature"


def test_alg_none_token_is_refused(sandbox, wallet):
    login = sign_in(sandbox.base_url, wallet)
    payload = jwt.decode(login["access_token"], options={"verify_signature": False})
    token = jwt.encode(payload, None, algorithm="none")
    r = accounts(sandbox, f"Bearer {token}")
    assert r.status_code == 401


def test_token_expired(sandbox, wallet):
    login = sign_in(sandbox.base_url, wallet)
    r = accounts(sandbox, f"Bearer {forge(sandbox, login, exp=int(time.time()) - 1)}")
    assert r.status_code == 401 and r.json()["message"] == "Token expired"
    r = accounts(sandbox, f"Bearer {forge(sandbox, login, exp=None)}")
    assert r.status_code == 401 and r.json()["message"] == "Token expired"
    r = accounts(sandbox, f"Bearer {forge(sandbox, login, exp='never')}")
    assert r.status_code == 401 and r.json()["message"] == "Token expired"


def test_token_expires_with_the_clock(sandbox_factory, wallet):
    from tui.sandbox.state.store import Store

    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), token_ttl_s=60)
    login = sign_in(server.base_url, wallet)
    assert login["expires_in"] == 60
    bearer = f"Bearer {login['access_token']}"
    clock.advance(59)
    assert accounts(server, bearer).status_code == 200
    clock.advance(1)
    r = accounts(server, bearer)
    assert r.status_code == 401 and r.json()["message"] == "Token expired"


def test_unknown_tenant_or_agent_is_403(sandbox, wallet):
    login = sign_in(sandbox.base_url, wallet)
    other = sign_in(sandbox.base_url, Account.create())
    for changes in (
        {"tenant_id": "00000000-0000-4000-8000-000000000000"},
        {"agent_id": other["agent_id"]},  # an agent of another tenant
        {"tenant_id": None},
    ):
        r = accounts(sandbox, f"Bearer {forge(sandbox, login, **changes)}")
        assert r.status_code == 403
        assert r.json() == {"error": "forbidden", "message": "Tenant/agent context not found"}


def test_suspended_tenant_and_inactive_agent(sandbox, wallet):
    login = sign_in(sandbox.base_url, wallet)
    bearer = f"Bearer {login['access_token']}"
    sandbox.store.set_agent_status(login["agent_id"], "disabled")
    r = accounts(sandbox, bearer)
    assert r.status_code == 403
    assert r.json() == {"error": "agent_inactive", "message": "Agent is disabled"}
    sandbox.store.set_tenant_status(login["tenant_id"], "suspended")
    r = accounts(sandbox, bearer)
    assert r.status_code == 403
    assert r.json() == {"error": "tenant_inactive", "message": "Tenant is suspended"}

"""Sign only what was asked: a challenge with a grant, a statement or a field the client did
not expect is refused before anything is signed (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from stub_http import StubServer, json_reply
from support import make_services

from tui.api.errors import ChallengeRejected
from tui.auth import siwe

NOW = datetime(2026, 11, 24, 0, 28, tzinfo=UTC)
ADDRESS = "0xACb82C845B8080DBC587056e109eC916b232f49A"
NONCE = "d44e44721cb5ecb7533b6fe1"


def challenge(
    *,
    domain: str = "localhost",
    statement: str | None = "Sign in to Agent Mail Cloud",
    uri: str = "http://localhost",
    extra: str = "",
    address: str = ADDRESS,
) -> str:
    head = f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\n"
    head += f"{statement}\n\n" if statement is not None else "\n"
    return (
        head + f"URI: {uri}\nVersion: 1\nChain ID: 84532\nNonce: {NONCE}\n"
        f"Issued At: 2026-11-24T00:27:02.765Z{extra}"
    )


def check(text: str) -> siwe.SiweMessage:
    return siwe.check_challenge(
        text,
        api_base="http://localhost:3000",
        address=ADDRESS.lower(),
        chain_id=84532,
        nonce=NONCE,
        now=NOW,
    )


def test_the_reference_shape_with_or_without_statement_is_accepted():
    assert check(challenge()).statement == "Sign in to Agent Mail Cloud"
    assert check(challenge(statement=None)).statement is None
    assert check(challenge(extra="\nExpiration Time: 2026-11-24T00:32:02Z")).nonce == NONCE


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            challenge(extra="\nResources:\n- https://bank.example/transfer-all"),
            "resources the client never asked for ('https://bank.example/transfer-all')",
        ),
        (challenge(extra="\nResources:\n- ipfs://a\n- ipfs://b"), "('ipfs://a' and 1 more)"),
        (
            challenge(statement="I authorise Agent Mail Cloud to spend 100 USDC"),
            "agree to 'I authorise Agent Mail Cloud to spend 100 USDC'",
        ),
        (challenge(statement="Sign in to Agent Mail Cloud."), "does not expect"),
        (challenge(extra="\nRequest ID: grant-42"), "Request ID"),
        (challenge(uri="https://wallet-drainer.example/login"), "wallet-drainer.example"),
    ],
)
def test_unexpected_content_is_refused(text, needle):
    with pytest.raises(siwe.SiweError, match="refusing to sign") as caught:
        check(text)
    assert needle in str(caught.value)


def test_a_hostile_statement_is_quoted_not_shown_raw():
    text = challenge(statement="Sign \x1b[2Jhere " + "x" * 500)
    with pytest.raises(siwe.SiweError) as caught:
        check(text)
    message = str(caught.value)
    assert "\x1b" not in message and len(message) < 300


def runtime_reply():
    return json_reply(200, {"siwe_mode": "strict", "payment_mode": "hmac", "base_chain_id": 84532})


@pytest.mark.parametrize(
    "extra",
    [
        "\nResources:\n- https://api.mailagents.net/v2/admin",
        "\nRequest ID: 1",
    ],
)
async def test_sign_in_refuses_a_crafted_challenge_and_never_verifies(wallet, tmp_path, extra):
    routes = {("GET", "/v2/meta/runtime"): runtime_reply()}
    with StubServer(routes) as stub:
        text = challenge(
            domain="127.0.0.1", uri=stub.base_url, extra=extra, address=wallet.address
        ).replace("2026-11-24T00:27:02.765Z", siwe.iso_millis(datetime.now(UTC)))
        routes[("POST", "/v2/auth/siwe/challenge")] = json_reply(
            200, {"nonce": NONCE, "message": text}
        )
        services = make_services(stub.base_url, tmp_path, wallet)
        try:
            with pytest.raises(ChallengeRejected, match="refusing to sign"):
                await services.session.sign_in()
        finally:
            await services.aclose()
        assert ("POST", "/v2/auth/siwe/verify") not in stub.requests
        assert ("POST", "/v2/auth/siwe/challenge") in stub.requests


async def test_sign_in_refuses_a_mock_challenge_with_an_extra_line(wallet, tmp_path):
    text = (
        f"Agent Mail Cloud SIWE Challenge\naddress:{wallet.address.lower()}\nchain_id:84532\n"
        f"nonce:{NONCE}\nscope:admin"
    )
    routes = {
        ("GET", "/v2/meta/runtime"): runtime_reply(),
        ("POST", "/v2/auth/siwe/challenge"): json_reply(200, {"nonce": NONCE, "message": text}),
    }
    with StubServer(routes) as stub:
        services = make_services(stub.base_url, tmp_path, wallet)
        try:
            with pytest.raises(ChallengeRejected, match="did not expect"):
                await services.session.sign_in()
        finally:
            await services.aclose()
        assert ("POST", "/v2/auth/siwe/verify") not in stub.requests


async def test_sign_in_refuses_the_sandbox_with_another_statement(
    sandbox_factory, wallet, tmp_path
):
    server = sandbox_factory(siwe_statement="Grant full access to your mailboxes")
    services = make_services(server.base_url, tmp_path, wallet)
    try:
        with pytest.raises(ChallengeRejected, match="Grant full access"):
            await services.session.sign_in()
    finally:
        await services.aclose()
    assert services.session.session is None

"""EIP-4361 build/parse/check, against the EIP's own example and the reference server's shape."""

from datetime import UTC, datetime, timedelta

import pytest

from tui.auth import siwe

EIP_EXAMPLE = (
    "service.invalid wants you to sign in with your Ethereum account:\n"
    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n"
    "\n"
    "I accept the ServiceOrg Terms of Service: https://service.invalid/tos\n"
    "\n"
    "URI: https://service.invalid/login\n"
    "Version: 1\n"
    "Chain ID: 1\n"
    "Nonce: 32891756\n"
    "Issued At: 2021-09-30T16:25:24Z\n"
    "Resources:\n"
    "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n"
    "- https://example.com/my-web2-claim.json"
)

REFERENCE = (
    "localhost wants you to sign in with your Ethereum account:\n"
    "0xACb82C845B8080DBC587056e109eC916b232f49A\n"
    "\n"
    "Sign in to Agent Mail Cloud\n"
    "\n"
    "URI: http://localhost\n"
    "Version: 1\n"
    "Chain ID: 84532\n"
    "Nonce: d44e44721cb5ecb7533b6fe1\n"
    "Issued At: 2026-11-24T00:27:02.765Z"
)


def test_parse_eip_example_roundtrips():
    msg = siwe.parse(EIP_EXAMPLE)
    assert msg.domain == "service.invalid"
    assert msg.chain_id == 1
    assert msg.nonce == "32891756"
    assert msg.resources == (
        "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
        "https://example.com/my-web2-claim.json",
    )
    assert msg.to_text() == EIP_EXAMPLE


def test_parse_without_statement_roundtrips():
    text = REFERENCE.replace("Sign in to Agent Mail Cloud\n\n", "\n")
    msg = siwe.parse(text)
    assert msg.statement is None
    assert msg.to_text() == text


def _check(text, **kw):
    args = dict(
        api_base="http://localhost:3000",
        address="0xacb82c845b8080dbc587056e109ec916b232f49a",
        chain_id=84532,
        nonce="d44e44721cb5ecb7533b6fe1",
        now=datetime(2026, 11, 24, 0, 28, tzinfo=UTC),
    )
    args.update(kw)
    return siwe.check_challenge(text, **args)


def test_check_accepts_reference_challenge_ignoring_port():
    assert _check(REFERENCE).host == "localhost"


@pytest.mark.parametrize(
    ("kw", "text", "needle"),
    [
        ({"api_base": "https://api.mailagents.net"}, REFERENCE, "domain"),
        ({"address": "0x" + "1" * 40}, REFERENCE, "different wallet"),
        ({"chain_id": 8453}, REFERENCE, "chain"),
        ({"nonce": "ffffffffffffffffffffffff"}, REFERENCE, "nonce"),
        ({}, REFERENCE + "\nExpiration Time: 2026-11-24T00:27:30Z", "expired"),
        ({}, REFERENCE.replace("2026-11-24T00:27", "2026-11-25T00:27"), "future"),
        (
            {},
            REFERENCE.replace(
                "0xACb82C845B8080DBC587056e109eC916b232f49A",
                "0xACB82C845B8080DBC587056e109eC916b232f49A",
            ),
            "checksum",
        ),
        ({}, REFERENCE.replace("Version: 1", "Version: 2"), "version"),
        ({}, REFERENCE.replace("\n", "\r\n"), "LF"),
        ({}, "hello", "short"),
    ],
)
def test_check_refuses(kw, text, needle):
    with pytest.raises(siwe.SiweError, match=needle):
        _check(text, **kw)


def test_skew_allows_slightly_future_issue_time():
    now = datetime(2026, 11, 24, 0, 25, tzinfo=UTC)
    assert _check(REFERENCE, now=now, skew=timedelta(minutes=5)).nonce


def test_domain_host():
    assert siwe.domain_host("https://API.mailagents.net:443/x") == "api.mailagents.net"
    assert siwe.domain_host("127.0.0.1:8080") == "127.0.0.1"
    assert siwe.domain_host("[::1]:80") == "::1"

"""Sandbox: send (§5.5), send attempts (§5.6), outbox, relay, cooldown and `sandbox tenant new`."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

import httpx
import jwt
import pytest
from click.testing import CliRunner
from sandbox_helpers import FakeClock, Session, SmtpSink, mint_proof, unbound_tenant

from tui.sandbox.cli import sandbox as sandbox_cli
from tui.sandbox.config import SandboxConfig
from tui.sandbox.mail.outbound import AUTH_FAILED, is_addr_spec
from tui.sandbox.state.store import Store

SEND = "/v2/messages/send"
REQUIRED = "mailbox_id, to, subject, mailbox_password, and text or html are required"
ATTEMPT_KEYS = [
    "send_attempt_id",
    "mailbox_id",
    "to",
    "subject",
    "submission_status",
    "accepted",
    "rejected",
    "message_id",
    "response",
    "envelope",
    "error",
    "created_at",
    "updated_at",
]
COOLDOWN = {
    "error": "cooldown_limit",
    "message": "新帳號 24 小時內最多發送 10 封，請先綁定錢包以解除限制。",  # noqa: RUF001
    "limit": 10,
    "window": "24h",
    "action": "bind_wallet",
}


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(allocate_hourly_limit=0)


def leased(session):
    """Allocate a lease; return ``(lease JSON, password)``."""
    r = session.allocate()
    assert r.status_code == 201, r.text
    lease = r.json()
    return lease, lease["webmail_password"]


def test_send_between_two_leases_end_to_end(server, session_factory):
    alice, bob = session_factory(server), session_factory(server)
    a, a_pw = leased(alice)
    b, _ = leased(bob)
    r = alice.send(
        a["mailbox_id"],
        a_pw,
        f"  {b['address'].upper()} ",
        subject="  Your login code  ",
        text="Hi Bob,\n\nYour verification code is 482913.\n",
        html="<p>Your verification code is <b>482913</b>.</p>",
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert list(body) == [
        "send_attempt_id",
        "submission_status",
        "accepted",
        "rejected",
        "message_id",
        "response",
    ]
    assert body["submission_status"] == "accepted"
    assert body["accepted"] == [b["address"].upper()]
    assert body["rejected"] == []
    assert body["message_id"].startswith("<") and body["message_id"].endswith(">")
    assert body["response"].startswith("250 ")

    items = bob.get("/v2/messages", params={"mailbox_id": b["mailbox_id"]}).json()["items"]
    assert len(items) == 1
    msg = items[0]
    assert msg["sender"] == a["address"]
    assert msg["sender_domain"] == "sandbox.mailagents.test"
    assert msg["subject"] == "Your login code"
    assert msg["otp_code"] == "482913"
    assert msg["parsed_status"] == "parsed"
    # a real RFC 5322 message: From, To, Date, Message-ID, multipart/alternative
    raw = server.store.message(None, msg["message_id"]).raw
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["From"] == a["address"]
    assert parsed["To"] == b["address"].upper()
    assert parsed["Message-ID"] == body["message_id"]
    assert parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    # the attempt: contract fields, no bodies
    attempt = alice.get(f"/v2/send-attempts/{body['send_attempt_id']}").json()
    assert list(attempt) == ATTEMPT_KEYS
    assert attempt["to"] == [b["address"].upper()]
    assert attempt["envelope"] == {"from": a["address"], "to": [b["address"].upper()]}
    assert attempt["submission_status"] == "accepted"
    assert attempt["error"] is None
    assert server.outbox() == []
    # usage recorded for the send
    period = attempt["created_at"][:7]
    usage = alice.get("/v2/usage/summary", params={"period": period}).json()["usage"]
    assert usage["api_calls"] == 2  # allocate + send


def test_outbox_for_external_and_unleased_recipients(server, session_factory):
    s, other = session_factory(server), session_factory(server)
    lease, pw = leased(s)
    spare = next(
        x["address"]
        for x in s.get("/v2/mailboxes/accounts").json()["items"]
        if x["lease_id"] is None
    )
    first = s.send(lease["mailbox_id"], pw, ["  ext@example.com ", "", "   ", spare], text="x")
    assert first.status_code == 202, first.text
    assert first.json()["accepted"] == ["ext@example.com", spare]
    second = s.send(lease["mailbox_id"], pw, "someone@example.org", html="<b>hi</b>")
    assert second.status_code == 202
    outbox = server.outbox(s.tenant_id)
    assert [o.recipient for o in outbox] == ["ext@example.com", spare, "someone@example.org"]
    assert all(o.sender == lease["address"] for o in outbox)
    assert b"Subject: hello" in outbox[0].raw
    # the spare mailbox is not leased: nothing was ingested there
    spare_id = next(
        x["mailbox_id"]
        for x in s.get("/v2/mailboxes/accounts").json()["items"]
        if x["address"] == spare
    )
    assert s.get("/v2/messages", params={"mailbox_id": spare_id}).json()["items"] == []

    items = s.get("/v2/send-attempts").json()["items"]
    ids = [i["send_attempt_id"] for i in items]
    assert ids == [second.json()["send_attempt_id"], first.json()["send_attempt_id"]]
    assert items[1]["to"] == ["ext@example.com", spare]
    assert all("text" not in i and "html" not in i for i in items)
    # unknown and foreign ids
    for path in ("/v2/send-attempts/nope", f"/v2/send-attempts/{ids[0]}"):
        client = s if path.endswith("nope") else other
        r = client.get(path)
        assert r.status_code == 404
        assert r.json() == {"error": "not_found", "message": "Send attempt not found"}
    assert other.get("/v2/send-attempts").json() == {"items": []}
    assert s.get("/v2/send-attempts/").json() == {
        "error": "bad_request",
        "message": "send_attempt_id is required",
    }


def test_invalid_addresses_are_rejected_per_recipient(server, session_factory):
    s = session_factory(server)
    lease, pw = leased(s)
    r = s.send(lease["mailbox_id"], pw, ["ok@example.com", "not an email", "a@b@c"])
    assert r.status_code == 202
    assert r.json()["accepted"] == ["ok@example.com"]
    assert r.json()["rejected"] == ["not an email", "a@b@c"]
    attempt = s.get(f"/v2/send-attempts/{r.json()['send_attempt_id']}").json()
    assert "not an email" in attempt["error"]
    # a string is ONE recipient: commas are not split, so this is invalid
    r = s.send(lease["mailbox_id"], pw, "a@example.com, b@example.com")
    assert r.status_code == 502
    body = r.json()
    assert body["error"] == "mail_backend_error"
    assert body["message"].startswith("Can't send mail - all recipients were rejected")
    attempt = s.get(f"/v2/send-attempts/{body['send_attempt_id']}").json()
    assert attempt["submission_status"] == "failed"
    assert attempt["accepted"] == []
    assert attempt["rejected"] == ["a@example.com, b@example.com"]
    assert len(server.outbox(s.tenant_id)) == 1


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("user@example.com", True),
        ("first.last+tag@sub.example.co", True),
        ('"quoted local"@example.com', True),
        ("user@[127.0.0.1]", True),
        ("user@localhost", True),
        ("not an email", False),
        ("@example.com", False),
        ("user@", False),
        ("user@@example.com", False),
        ("a..b@example.com", False),
        ("user@-bad.com", False),
        ("Bob <bob@example.com>", False),
        ("x" * 65 + "@example.com", False),
    ],
)
def test_addr_spec_check(address, ok):
    assert is_addr_spec(address) is ok


def test_wrong_password_is_502_and_a_failed_attempt(server, session_factory):
    s = session_factory(server)
    lease, pw = leased(s)
    r = s.send(lease["mailbox_id"], pw + "x", "ext@example.com")
    assert r.status_code == 502
    body = r.json()
    assert body == {
        "error": "mail_backend_error",
        "message": AUTH_FAILED,
        "send_attempt_id": body["send_attempt_id"],
    }
    attempt = s.get(f"/v2/send-attempts/{body['send_attempt_id']}").json()
    assert attempt["submission_status"] == "failed"
    assert "535" in attempt["error"] and "authentication failed" in attempt["error"]
    assert attempt["accepted"] == [] and attempt["message_id"] is None
    # a reset makes the old password stale, the new one works; the password is trimmed
    reset = s.post(f"/v2/mailboxes/accounts/{lease['mailbox_id']}/credentials/reset").json()
    assert s.send(lease["mailbox_id"], pw, "ext@example.com").status_code == 502
    r = s.send(lease["mailbox_id"], f" {reset['webmail_password']} ", "ext@example.com")
    assert r.status_code == 202
    # a mailbox that never had credentials cannot log in
    never = next(
        x["mailbox_id"]
        for x in s.get("/v2/mailboxes/accounts").json()["items"]
        if x["lease_id"] is None
    )
    assert s.send(never, pw, "ext@example.com").status_code == 502
    # a failed send records no usage: allocate + reset + one send
    usage = s.get("/v2/usage/summary", params={"period": attempt["created_at"][:7]}).json()
    assert usage["usage"]["api_calls"] == 3


@pytest.mark.parametrize(
    "override",
    [
        {"mailbox_id": ""},
        {"mailbox_id": None},
        {"to": ""},
        {"to": []},
        {"to": ["  ", ""]},
        {"to": 5},
        {"subject": "   "},
        {"subject": None},
        {"mailbox_password": "  "},
        {"text": "", "html": ""},
        {"text": "  ", "html": None},
    ],
)
def test_validation_errors(sandbox, session_factory, override):
    s = session_factory(sandbox)
    body = {
        "mailbox_id": "m",
        "to": "x@example.com",
        "subject": "s",
        "mailbox_password": "p",
        "text": "t",
        **override,
    }
    r = s.post(SEND, json={k: v for k, v in body.items() if v is not None})
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": REQUIRED}


def test_other_errors(sandbox, session_factory):
    s, other = session_factory(sandbox), session_factory(sandbox)
    assert s.post(SEND, content=b"{nope").json() == {
        "error": "bad_request",
        "message": "Invalid JSON",
    }
    assert s.post(SEND).json()["message"] == REQUIRED
    foreign = other.get("/v2/mailboxes/accounts").json()["items"][0]["mailbox_id"]
    for mailbox_id in ("unknown", foreign):
        r = s.send(mailbox_id, "pw", "x@example.com")
        assert r.status_code == 404
        assert r.json() == {"error": "not_found", "message": "Mailbox not found"}
    r = httpx.post(f"{sandbox.base_url}{SEND}", json={})
    assert r.status_code == 401
    r = s.get(SEND)  # GET on the send path is a message lookup
    assert r.status_code == 404 and r.json()["message"] == "Message not found"


def test_cooldown_for_a_tenant_without_wallet(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(
        store=Store(":memory:", clock=clock), allocate_hourly_limit=0, token_ttl_s=3 * 86400
    )
    login = unbound_tenant(server)
    assert login["did"] is None and login["wallet_bound"] is False
    unbound = Session(server.base_url, None, login=login)
    try:
        lease, pw = leased(unbound)
        assert unbound.send(lease["mailbox_id"], "wrong", "x@example.com").status_code == 502
        for n in range(10):  # failed sends do not count
            r = unbound.send(lease["mailbox_id"], pw, f"x{n}@example.com")
            assert r.status_code == 202, (n, r.text)
        r = unbound.send(lease["mailbox_id"], pw, "x11@example.com")
        assert r.status_code == 429
        assert r.json() == COOLDOWN
        # the cooldown comes before JSON parsing and validation
        r = unbound.post(SEND, content=b"{nope")
        assert r.status_code == 429
        assert len(unbound.get("/v2/send-attempts").json()["items"]) == 11
        # past the tenant's first 24 hours it may send again
        clock.advance(86400 + 1)
        assert unbound.send(lease["mailbox_id"], pw, "later@example.com").status_code == 202
    finally:
        unbound.close()
    # a wallet (SIWE) tenant is never limited
    siwe = session_factory(server)
    lease, pw = leased(siwe)
    for n in range(12):
        assert siwe.send(lease["mailbox_id"], pw, f"y{n}@example.com").status_code == 202


def test_relay_forwards_external_recipients(sandbox_factory, session_factory):
    with SmtpSink(refuse=("nobody@example.com",)) as sink:
        server = sandbox_factory(allocate_hourly_limit=0, smtp_relay=sink.hostport)
        alice, bob = session_factory(server), session_factory(server)
        a, pw = leased(alice)
        b, _ = leased(bob)
        r = alice.send(
            a["mailbox_id"],
            pw,
            ["ext@example.com", "nobody@example.com", b["address"]],
            subject="relayed",
            text="code 123987",
        )
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["accepted"] == [b["address"], "ext@example.com"]
        assert body["rejected"] == ["nobody@example.com"]
        assert len(sink.messages) == 1
        got = sink.messages[0]
        assert got["mail_from"] == a["address"]
        assert got["rcpt_tos"] == ["ext@example.com"]
        assert b"Subject: relayed" in got["data"]
        assert server.outbox() == []  # relayed, not kept
        attempt = alice.get(f"/v2/send-attempts/{body['send_attempt_id']}").json()
        assert "nobody@example.com" in attempt["error"] and "550" in attempt["error"]
        # the lease recipient got it through the inbound path
        msgs = bob.get("/v2/messages", params={"mailbox_id": b["mailbox_id"]}).json()["items"]
        assert [m["otp_code"] for m in msgs] == ["123987"]
        # everything relayed: the relay's own reply is the response
        r = alice.send(a["mailbox_id"], pw, "ext2@example.com")
        assert r.json()["response"] == "250 2.0.0 Ok: queued as SINK1"
        hostport = sink.hostport
    # relay down: the external recipient is rejected, nothing accepted -> 502
    r = alice.send(a["mailbox_id"], pw, "ext@example.com")
    assert r.status_code == 502, r.text
    attempt = alice.get(f"/v2/send-attempts/{r.json()['send_attempt_id']}").json()
    assert attempt["submission_status"] == "failed"
    assert attempt["rejected"] == ["ext@example.com"]
    assert f"relay {hostport}" in attempt["error"]


def test_tenant_qps_402_then_paid_send(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(
        store=Store(":memory:", clock=clock), allocate_hourly_limit=0, tenant_qps=1
    )
    s = session_factory(server)
    lease, pw = leased(s)  # one usage record in this second
    r = s.send(lease["mailbox_id"], pw, "x@example.com")
    assert r.status_code == 402
    assert r.json() == {
        "error": "payment_required",
        "message": "Free limit reached; payment is required to continue",
        "amount_usdc": 0.001,
        "reasons": [{"code": "tenant_qps", "limit": 1, "window": "1s"}],
    }
    secret, t = server.config.hmac_secret, int(clock())
    wrong = mint_proof(secret, "POST", "/v2/mailboxes/leases", t)
    r = s.send(lease["mailbox_id"], pw, "x@example.com", headers={"x-payment-proof": wrong})
    assert r.status_code == 402
    # a paid request that fails (bad password) is not charged
    good = {"x-payment-proof": mint_proof(secret, "POST", SEND, t)}
    assert s.send(lease["mailbox_id"], "bad", "x@example.com", headers=good).status_code == 502
    assert s.get("/v2/billing/invoices").json()["items"][0]["amount_usdc"] == 0
    r = s.send(lease["mailbox_id"], pw, "x@example.com", headers=good)
    assert r.status_code == 202
    assert s.get("/v2/billing/invoices").json()["items"][0]["amount_usdc"] == 0.001
    # the proof is also the way through the limit for a proof fetched from the API
    proof = s.post("/v2/payments/proof", json={"method": "POST", "path": SEND}).json()
    r = s.send(
        lease["mailbox_id"],
        pw,
        "x@example.com",
        headers={"x-payment-proof": proof["x_payment_proof"]},
    )
    assert r.status_code == 202
    assert s.get("/v2/billing/invoices").json()["items"][0]["amount_usdc"] == 0.002


def test_tenant_new_cli_over_http(sandbox):
    result = CliRunner().invoke(
        sandbox_cli,
        [
            "tenant",
            "new",
            "--url",
            sandbox.base_url,
            "--internal-token",
            sandbox.config.internal_token,
        ],
    )
    assert result.exit_code == 0, result.output
    login = json.loads(result.output)
    assert {"access_token", "tenant_id", "agent_id"} <= set(login)
    s = Session(sandbox.base_url, None, login=login)
    try:
        accounts = s.get("/v2/mailboxes/accounts").json()["items"]
        assert sorted(a["address"] for a in accounts) == login["addresses"]
        assert all(a["address"].startswith("u") for a in accounts)
    finally:
        s.close()
    bad = CliRunner().invoke(
        sandbox_cli, ["tenant", "new", "--url", sandbox.base_url, "--internal-token", "nope"]
    )
    assert bad.exit_code != 0 and "401" in bad.output
    r = httpx.post(f"{sandbox.base_url}/internal/tenants")
    assert r.status_code == 401


def test_tenant_new_cli_in_data_dir(tmp_path):
    config = SandboxConfig.for_data_dir(tmp_path)
    Store(config.db_path).close()
    result = CliRunner().invoke(sandbox_cli, ["tenant", "new", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    login = json.loads(result.output)
    claims = jwt.decode(login["access_token"], config.jwt_secret, algorithms=["HS256"])
    assert claims["tenant_id"] == login["tenant_id"]
    store = Store(config.db_path)
    try:
        ctx = store.tenant_context(login["tenant_id"], login["agent_id"])
        assert ctx is not None and ctx.wallet_bound == 0
    finally:
        store.close()
    usage = CliRunner().invoke(sandbox_cli, ["tenant", "new"])
    assert usage.exit_code == 2


def test_subject_cannot_inject_headers(server, session_factory):
    s = session_factory(server)
    lease, pw = leased(s)
    evil = "evil\r\nBcc: victim@example.com"
    r = s.send(lease["mailbox_id"], pw, "x@example.com", subject=evil)
    assert r.status_code == 202
    raw = server.outbox(s.tenant_id)[0].raw
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"] == "evil Bcc: victim@example.com"
    assert parsed["Bcc"] is None

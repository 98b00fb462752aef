"""Sandbox: webhooks (§6): create/list/detail/rotate, signed deliveries, retries, isolation."""

from __future__ import annotations

import re
import smtplib
import socket
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
import pytest
from sandbox_helpers import FakeClock, WebhookReceiver, mint_proof, webhook_signature

from tui.sandbox.state.store import Store

HOOKS = "/v2/webhooks"
SECRET = "s3cret-s3cret-s3cret"
BOTH = ["mail.received", "otp.extracted"]
WEBHOOK_KEYS = [
    "webhook_id",
    "event_types",
    "target_url",
    "status",
    "last_delivery_at",
    "last_status_code",
]
DELIVERY_KEYS = [
    "webhook_id",
    "delivery_id",
    "status_code",
    "attempts",
    "ok",
    "error_message",
    "response_excerpt",
    "request_id",
    "delivered_at",
]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(
        smtp_port=0, allocate_hourly_limit=0, webhook_backoff_s=0.01, webhook_timeout_s=2
    )


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


def create(session, url, event_types=BOTH, secret=SECRET, **kwargs):
    body = {"event_types": event_types, "target_url": url, "secret": secret}
    return session.post(HOOKS, json=body, **kwargs)


def smtp_send(server, to, subject="Your code", text="Your verification code is 482913.\n"):
    msg = EmailMessage()
    msg["From"] = "Robot <robot@service.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=5) as client:
        client.sendmail("robot@service.example", [to], msg.as_bytes())


def inbound(server, **fields):
    return httpx.post(
        f"{server.base_url}/internal/inbound/events",
        json={"sender": "bot@site.example", "sender_domain": "site.example", **fields},
        headers={"x-internal-token": server.config.internal_token},
    )


def test_signed_delivery_when_mail_arrives_over_smtp(server, session_factory, receiver):
    s = session_factory(server)
    lease = s.allocate().json()
    r = create(s, receiver.url)
    assert r.status_code == 201
    hook = r.json()
    assert list(hook) == WEBHOOK_KEYS
    assert hook["event_types"] == BOTH and hook["target_url"] == receiver.url
    assert hook["status"] == "active"
    assert hook["last_delivery_at"] is None and hook["last_status_code"] is None
    assert "secret" not in hook

    smtp_send(server, lease["address"])
    assert server.wait_webhooks_idle(5)
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req.path == "/hook"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["x-agent-mail-attempt"] == "1"
    delivery_id = req.headers["x-agent-mail-delivery-id"]
    uuid.UUID(delivery_id)
    ts = req.headers["x-agent-mail-timestamp"]
    sig = req.headers["x-agent-mail-signature"]
    assert sig == f"t={ts},v1={webhook_signature(SECRET, ts, req.body)}"
    assert sig != f"t={ts},v1={webhook_signature('another-secret-xx', ts, req.body)}"

    payload = req.json()
    message = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()
    message = message["items"][0]
    assert payload == {
        "event_type": "otp.extracted",
        "tenant_id": s.tenant_id,
        "mailbox_id": lease["mailbox_id"],
        "message_id": message["message_id"],
        "sender": "robot@service.example",
        "sender_domain": "service.example",
        "subject": "Your code",
        "received_at": message["received_at"],
        "otp_code": "482913",
        "verification_link": None,
        "message": {
            "messageId": message["message_id"],
            "tenantId": s.tenant_id,
            "mailboxId": lease["mailbox_id"],
            "providerMessageId": None,
            "sender": "robot@service.example",
            "senderDomain": "service.example",
            "subject": "Your code",
            "rawRef": None,
            "receivedAt": message["received_at"],
        },
    }
    # compact JSON, as JSON.stringify writes it
    assert b'","tenant_id":"' in req.body

    deliveries = s.get(f"{HOOKS}/deliveries").json()["items"]
    assert len(deliveries) == 1
    d = deliveries[0]
    assert list(d) == DELIVERY_KEYS
    assert d["delivery_id"] == delivery_id and d["webhook_id"] == hook["webhook_id"]
    assert (d["status_code"], d["attempts"], d["ok"]) == (200, 1, True)
    assert d["error_message"] is None and d["response_excerpt"] is None
    uuid.UUID(d["request_id"])
    assert ISO.match(d["delivered_at"])
    assert s.get(f"{HOOKS}/deliveries/{delivery_id}").json() == d
    after = s.get(f"{HOOKS}/{hook['webhook_id']}").json()
    assert after["last_status_code"] == 200 and after["last_delivery_at"] == d["delivered_at"]
    assert s.get(f"{HOOKS}/deliveries", params={"webhook_id": "other"}).json() == {"items": []}
    assert s.get(f"{HOOKS}/deliveries", params={"webhook_id": hook["webhook_id"]}).json() == {
        "items": [d]
    }


def test_one_event_per_message_by_parse_result(server, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    with WebhookReceiver() as plain, WebhookReceiver() as otp:
        create(s, plain.url, ["mail.received"])
        create(s, otp.url, ["otp.extracted"])
        create(s, plain.url + "/never", [])  # accepted, never fires
        r = inbound(server, address=lease["address"], subject="Hello", text_excerpt="Just news")
        assert r.status_code == 202
        assert server.wait_webhooks_idle(5)
        assert [q.json()["event_type"] for q in plain.requests] == ["mail.received"]
        assert otp.requests == []
        deliveries = s.get(f"{HOOKS}/deliveries").json()["items"]
        assert [d["request_id"] for d in deliveries] == [r.headers["x-request-id"]]
        r = inbound(
            server,
            address=lease["address"],
            subject="Confirm",
            text_excerpt="Open https://site.example/verify?t=abc to confirm",
            provider_message_id="p-1",
        )
        assert server.wait_webhooks_idle(5)
        assert len(plain.requests) == 1
        assert [q.json()["event_type"] for q in otp.requests] == ["otp.extracted"]
        assert otp.requests[0].json()["verification_link"] == "https://site.example/verify?t=abc"
        # a deduplicated ingest fires nothing
        again = inbound(server, address=lease["address"], subject="x", provider_message_id="p-1")
        assert again.json()["deduped"] is True
        assert server.wait_webhooks_idle(5)
        assert len(otp.requests) == 1 and len(plain.requests) == 1
        assert [p.path for p in plain.requests] == ["/hook"]
    assert len(s.get(f"{HOOKS}/deliveries").json()["items"]) == 2


def test_failing_receiver_is_retried_and_logged(sandbox_factory, session_factory):
    server = sandbox_factory(smtp_port=0, allocate_hourly_limit=0, webhook_backoff_s=0.15)
    s = session_factory(server)
    lease = s.allocate().json()
    with WebhookReceiver(statuses=[500], reply=b"boom " * 100) as failing:
        hook = create(s, failing.url).json()
        smtp_send(server, lease["address"], subject="News", text="nothing to see")
        # ingestion does not wait for the deliveries (0.15 s + 0.3 s of backoff)
        assert server.service.webhooks.pending == 1
        assert server.wait_webhooks_idle(5)
    assert [q.headers["x-agent-mail-attempt"] for q in failing.requests] == ["1", "2", "3"]
    assert len({q.headers["x-agent-mail-delivery-id"] for q in failing.requests}) == 1
    assert len({q.headers["x-agent-mail-timestamp"] for q in failing.requests}) == 1
    assert len({q.body for q in failing.requests}) == 1
    [d] = s.get(f"{HOOKS}/deliveries").json()["items"]
    assert d["ok"] is False
    assert (d["status_code"], d["attempts"]) == (500, 3)
    assert d["error_message"] == "Webhook returned HTTP 500"
    assert d["response_excerpt"] == ("boom " * 40)[:200]
    assert s.get(f"{HOOKS}/{hook['webhook_id']}").json()["last_status_code"] == 500

    # recovers on the second attempt
    with WebhookReceiver(statuses=[503, 200]) as flaky:
        create(s, flaky.url, ["mail.received"])
        smtp_send(server, lease["address"], subject="Again", text="still nothing")
        assert server.wait_webhooks_idle(5)
    assert [q.headers["x-agent-mail-attempt"] for q in flaky.requests] == ["1", "2"]
    items = s.get(f"{HOOKS}/deliveries").json()["items"]
    newest = [d for d in items if d["status_code"] == 200]
    assert len(newest) == 1 and newest[0]["attempts"] == 2 and newest[0]["ok"] is True


def test_network_failure_is_recorded_as_502(server, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    create(s, f"http://127.0.0.1:{port}/gone")
    server.deliver(lease["address"], b"Subject: hi\r\nFrom: a@b.example\r\n\r\nhello\r\n")
    assert server.wait_webhooks_idle(5)
    [d] = s.get(f"{HOOKS}/deliveries").json()["items"]
    assert (d["status_code"], d["attempts"], d["ok"]) == (502, 3, False)
    assert d["error_message"].startswith("Webhook request failed")
    assert d["response_excerpt"] is None


def test_send_to_a_lease_fires_the_recipients_webhook(server, session_factory, receiver):
    alice, bob = session_factory(server), session_factory(server)
    a, b = alice.allocate().json(), bob.allocate().json()
    create(bob, receiver.url)
    create(alice, receiver.url + "/alice")  # the sender's own webhook does not fire
    r = alice.send(a["mailbox_id"], a["webmail_password"], b["address"], text="code 778899")
    assert r.status_code == 202
    assert server.wait_webhooks_idle(5)
    assert [q.path for q in receiver.requests] == ["/hook"]
    payload = receiver.requests[0].json()
    assert payload["tenant_id"] == bob.tenant_id
    assert payload["sender"] == a["address"]
    assert payload["otp_code"] == "778899"
    [d] = bob.get(f"{HOOKS}/deliveries").json()["items"]
    assert d["request_id"] == r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "event_types, target_url, secret are required"),
        ({"event_types": "mail.received"}, "event_types, target_url, secret are required"),
        ({"target_url": ""}, "event_types, target_url, secret are required"),
        ({"target_url": "   "}, "event_types, target_url, secret are required"),
        ({"secret": ""}, "event_types, target_url, secret are required"),
        ({"secret": 1234567890123456789}, "event_types, target_url, secret are required"),
        ({"secret": "x" * 15}, "secret must have at least 16 chars"),
        ({"event_types": ["mail.sent"]}, "event_types contains unsupported values"),
        ({"event_types": ["mail.received", 1]}, "event_types contains unsupported values"),
        ({"target_url": "not a url"}, "target_url must be an http(s) URL"),
        ({"target_url": "ftp://example.com/x"}, "target_url must be an http(s) URL"),
        ({"target_url": "http://"}, "target_url must be an http(s) URL"),
    ],
)
def test_create_validation(sandbox, session_factory, body, message):
    s = session_factory(sandbox)
    full = {"event_types": BOTH, "target_url": "https://example.com/h", "secret": SECRET, **body}
    if not body:
        full = {}
    r = s.post(HOOKS, json=full)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": message}


def test_list_detail_rotate_and_isolation(sandbox, session_factory):
    s, other = session_factory(sandbox), session_factory(sandbox)
    urls = ["https://b.example/h", "http://a.example/h", "https://c.example/h"]
    hooks = [create(s, u).json() for u in urls]
    r = create(s, "https://x.example", event_types=[], secret="1234567890123456")
    assert r.status_code == 201 and r.json()["event_types"] == []
    listed = s.get(HOOKS).json()["items"]
    assert [h["target_url"] for h in listed] == sorted([*urls, "https://x.example"])
    first = hooks[0]["webhook_id"]
    assert s.get(f"{HOOKS}/{first}").json() == hooks[0]
    r = s.post(f"{HOOKS}/{first}/rotate-secret")
    assert r.status_code == 200
    assert list(r.json()) == ["webhook_id", "secret"]
    assert r.json()["webhook_id"] == first
    assert re.fullmatch(r"[0-9a-f]{36}", r.json()["secret"])
    assert sandbox.store.webhook(None, first).secret == r.json()["secret"]
    # another tenant sees none of it
    assert other.get(HOOKS).json() == {"items": []}
    for response in (
        other.get(f"{HOOKS}/{first}"),
        other.post(f"{HOOKS}/{first}/rotate-secret"),
        s.get(f"{HOOKS}/unknown"),
        s.post(f"{HOOKS}/unknown/rotate-secret"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "Webhook not found"}
    r = s.get(f"{HOOKS}/deliveries/unknown")
    assert r.json() == {"error": "not_found", "message": "Webhook delivery not found"}
    assert s.get(f"{HOOKS}/{first}/rotate-secret").json()["message"] == "Route not found"
    assert s.get(f"{HOOKS}/").json()["message"] == "webhook_id is required"
    assert s.get(f"{HOOKS}/deliveries/").json()["message"] == "delivery_id is required"
    assert httpx.get(f"{sandbox.base_url}{HOOKS}").status_code == 401
    # usage: the 4 creates count; rotate, lists and details do not
    period = datetime.now(UTC).strftime("%Y-%m")
    summary = s.get("/v2/usage/summary", params={"period": period}).json()["usage"]
    assert summary["api_calls"] == 4


def test_rotated_secret_signs_the_next_delivery(server, session_factory, receiver):
    s = session_factory(server)
    lease = s.allocate().json()
    hook = create(s, receiver.url).json()
    new_secret = s.post(f"{HOOKS}/{hook['webhook_id']}/rotate-secret").json()["secret"]
    server.deliver(lease["address"], b"Subject: hi\r\nFrom: a@b.example\r\n\r\nhello\r\n")
    assert server.wait_webhooks_idle(5)
    [req] = receiver.requests
    ts = req.headers["x-agent-mail-timestamp"]
    v1 = req.headers["x-agent-mail-signature"].split("v1=")[1]
    assert v1 == webhook_signature(new_secret, ts, req.body)
    assert v1 != webhook_signature(SECRET, ts, req.body)


def test_other_tenants_mail_does_not_reach_my_webhook(server, session_factory, receiver):
    mine, theirs = session_factory(server), session_factory(server)
    mine.allocate()
    lease = theirs.allocate().json()
    create(mine, receiver.url)
    smtp_send(server, lease["address"])
    assert server.wait_webhooks_idle(5)
    assert receiver.requests == []
    assert mine.get(f"{HOOKS}/deliveries").json() == {"items": []}


def test_create_is_protected_402_then_proof(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(
        store=Store(":memory:", clock=clock), allocate_hourly_limit=0, tenant_qps=1
    )
    s = session_factory(server)
    assert create(s, "https://a.example/h").status_code == 201  # first: free
    r = create(s, "https://b.example/h")
    assert r.status_code == 402
    assert r.json()["reasons"] == [{"code": "tenant_qps", "limit": 1, "window": "1s"}]
    # the limit is checked before validation
    assert s.post(HOOKS, json={}).status_code == 402
    proof = mint_proof(server.config.hmac_secret, "POST", HOOKS, int(clock()))
    r = create(s, "https://b.example/h", headers={"x-payment-proof": proof})
    assert r.status_code == 201
    assert s.get("/v2/billing/invoices").json()["items"][0]["amount_usdc"] == 0.001
    clock.advance(2)
    assert create(s, "https://c.example/h").status_code == 201
    assert len(s.get(HOOKS).json()["items"]) == 3

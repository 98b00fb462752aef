"""Sandbox: SMTP inbound, internal inbound events, and the messages API (§5.1, §5.2, §9.1)."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

import httpx
import pytest
from sandbox_helpers import FakeClock

from tui.sandbox.state.store import Store

LIST_KEYS = [
    "message_id",
    "sender",
    "sender_domain",
    "subject",
    "raw_ref",
    "received_at",
    "otp_code",
    "verification_link",
    "parsed_status",
]
DETAIL_KEYS = [*LIST_KEYS[:1], "mailbox_id", *LIST_KEYS[1:]]


@pytest.fixture
def smtp_sandbox(sandbox_factory):
    return sandbox_factory(smtp_port=0, allocate_hourly_limit=0)


def rich_message(to):
    msg = EmailMessage()
    msg["From"] = "Ünïcode Sender <Alerts@Example.COM>"
    msg["To"] = to
    msg["Subject"] = "Vérifiez votre adresse — code inside"
    msg.set_content("Bonjour,\n\nVotre code de vérification est 584219.\n", cte="quoted-printable")
    msg.add_alternative(
        '<p>Votre code: <b>584219</b></p><a href="https://example.com/verify?t=abc">Verify</a>',
        subtype="html",
        cte="base64",
    )
    return msg.as_bytes()


def smtp_send(server, to, raw, sender="alerts@example.com"):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=5) as client:
        return client.sendmail(sender, to, raw)


_HTTP = httpx.Client(timeout=10)  # one client: creating one costs ~25 ms (TLS context)


def inbound(server, **fields):
    return _HTTP.post(
        f"{server.base_url}/internal/inbound/events",
        json=fields,
        headers={"x-internal-token": server.config.internal_token},
    )


def test_smtp_delivery_shows_up_with_extracted_code(smtp_sandbox, session_factory):
    s = session_factory(smtp_sandbox)
    lease = s.allocate().json()
    assert smtp_send(smtp_sandbox, [lease["address"].upper()], rich_message(lease["address"])) == {}
    items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
    assert len(items) == 1
    item = items[0]
    assert list(item) == LIST_KEYS
    assert item["otp_code"] == "584219"
    assert item["verification_link"] == "https://example.com/verify?t=abc"
    assert item["sender"] == "alerts@example.com"
    assert item["sender_domain"] == "example.com"
    assert item["subject"] == "Vérifiez votre adresse — code inside"
    assert item["parsed_status"] == "parsed" and item["raw_ref"] is None
    detail = s.get(f"/v2/messages/{item['message_id']}").json()
    assert list(detail) == DETAIL_KEYS
    assert detail["mailbox_id"] == lease["mailbox_id"]
    assert {k: detail[k] for k in LIST_KEYS} == item
    # the raw bytes are kept
    row = smtp_sandbox.store.message(None, item["message_id"])
    assert b"584219" in row.raw and row.raw.startswith(b"From: ")
    assert row.envelope_from == "alerts@example.com"


def test_rcpt_refused_without_active_lease(smtp_sandbox, session_factory):
    s = session_factory(smtp_sandbox)
    unleased = s.get("/v2/mailboxes/accounts").json()["items"][0]["address"]
    for address in (unleased, "nobody@sandbox.mailagents.test", "x@elsewhere.example"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            smtp_send(smtp_sandbox, [address], b"Subject: hi\r\n\r\ncode 123456\r\n")
        code, _reply = info.value.recipients[address]
        assert 500 <= code < 600
    for box in s.get("/v2/mailboxes/accounts").json()["items"]:
        r = s.get("/v2/messages", params={"mailbox_id": box["mailbox_id"]})
        assert r.json() == {"items": []}


def test_mixed_recipients_only_leased_one_gets_it(smtp_sandbox, session_factory):
    s = session_factory(smtp_sandbox)
    lease = s.allocate().json()
    refused = smtp_send(
        smtp_sandbox,
        [lease["address"], "nobody@sandbox.mailagents.test"],
        b"From: a@b.example\r\nSubject: hi\r\n\r\nYour code is 771234\r\n",
    )
    assert list(refused) == ["nobody@sandbox.mailagents.test"]
    items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
    assert [i["otp_code"] for i in items] == ["771234"]


def test_released_lease_stops_receiving(smtp_sandbox, session_factory):
    s = session_factory(smtp_sandbox)
    lease = s.allocate().json()
    smtp_send(smtp_sandbox, [lease["address"]], b"Subject: one\r\n\r\nfirst\r\n")
    s.post(f"/v2/mailboxes/leases/{lease['lease_id']}/release")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp_send(smtp_sandbox, [lease["address"]], b"Subject: two\r\n\r\nsecond\r\n")
    # messages persist across release and re-lease (like the reference)
    again = s.allocate().json()
    assert again["mailbox_id"] == lease["mailbox_id"]
    items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
    assert [i["subject"] for i in items] == ["one"]


def test_expired_lease_stops_receiving(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), smtp_port=0)
    s = session_factory(server)
    lease = s.allocate(ttl_hours=1).json()
    smtp_send(server, [lease["address"]], b"Subject: before\r\n\r\nx\r\n")
    clock.advance(3600)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp_send(server, [lease["address"]], b"Subject: after\r\n\r\nx\r\n")


def test_failed_parse_is_pending_in_list_failed_in_detail(smtp_sandbox, session_factory):
    s = session_factory(smtp_sandbox)
    lease = s.allocate().json()
    smtp_send(
        smtp_sandbox,
        [lease["address"]],
        b"From: pal@friends.example\r\nSubject: lunch?\r\n\r\nSee you at noon.\r\n",
    )
    item = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"][0]
    assert item["otp_code"] is None and item["verification_link"] is None
    assert item["parsed_status"] == "pending"
    assert s.get(f"/v2/messages/{item['message_id']}").json()["parsed_status"] == "failed"


def test_no_subject_and_no_from(smtp_sandbox, session_factory):
    s = session_factory(smtp_sandbox)
    lease = s.allocate().json()
    smtp_send(smtp_sandbox, [lease["address"]], b"\r\nbody only\r\n", sender="env@from.example")
    item = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"][0]
    assert item["subject"] == "(no subject)"
    assert (item["sender"], item["sender_domain"]) == ("env@from.example", "from.example")


# -- list: ordering, since, limit, validation -------------------------------------------------


@pytest.fixture
def filled(sandbox, session_factory):
    """A session whose first mailbox holds 5 messages one minute apart (m0 oldest)."""
    s = session_factory(sandbox)
    lease = s.allocate().json()
    for n in range(5):
        r = inbound(
            sandbox,
            address=lease["address"],
            sender="svc@site.io",
            sender_domain="site.io",
            subject=f"m{n}",
            text_excerpt=f"Your verification code is 10000{n}",
            received_at=f"2026-01-01T00:0{n}:00.000Z",
        )
        assert r.status_code == 202, r.text
    s.lease = lease
    return s


def subjects(session, **params):
    r = session.get("/v2/messages", params={"mailbox_id": session.lease["mailbox_id"], **params})
    assert r.status_code == 200, r.text
    return [i["subject"] for i in r.json()["items"]]


def test_newest_first(filled):
    assert subjects(filled) == ["m4", "m3", "m2", "m1", "m0"]


def test_since_is_inclusive(filled):
    assert subjects(filled, since="2026-01-01T00:02:00.000Z") == ["m4", "m3", "m2"]
    assert subjects(filled, since="2026-01-01T00:02:00.001Z") == ["m4", "m3"]
    assert subjects(filled, since="2026-01-01T01:02:00+01:00") == ["m4", "m3", "m2"]
    assert subjects(filled, since="2026-01-01T00:02:00") == ["m4", "m3", "m2"]  # naive = UTC
    assert subjects(filled, since="2026-01-02") == []
    assert subjects(filled, since="") == ["m4", "m3", "m2", "m1", "m0"]


def test_limit(filled):
    assert subjects(filled, limit="2") == ["m4", "m3"]
    assert subjects(filled, limit="100") == ["m4", "m3", "m2", "m1", "m0"]
    assert subjects(filled, limit="") == ["m4", "m3", "m2", "m1", "m0"]
    assert subjects(filled, limit="1", since="2026-01-01T00:01:00Z") == ["m4"]


def test_default_limit_is_20(sandbox, session_factory):
    s = session_factory(sandbox)
    lease = s.allocate().json()
    for n in range(25):
        inbound(sandbox, address=lease["address"], sender_domain="x.io", subject=str(n))
    r = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]})
    items = r.json()["items"]
    assert len(items) == 20
    assert items[0]["subject"] == "24"  # same received second: newest insert first


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "mailbox_id is required"),
        ({"mailbox_id": ""}, "mailbox_id is required"),
        ({"mailbox_id": "M", "limit": "0"}, "limit must be 1..100"),
        ({"mailbox_id": "M", "limit": "101"}, "limit must be 1..100"),
        ({"mailbox_id": "M", "limit": "abc"}, "limit must be 1..100"),
        ({"mailbox_id": "M", "limit": "-1"}, "limit must be 1..100"),
        ({"mailbox_id": "M", "limit": "2.5"}, "limit must be 1..100"),
        ({"mailbox_id": "M", "since": "garbage"}, "since must be an ISO-8601 date-time"),
        ({"mailbox_id": "M", "since": "1767225600"}, "since must be an ISO-8601 date-time"),
        ({"mailbox_id": "M", "since": "2026-13-01"}, "since must be an ISO-8601 date-time"),
    ],
)
def test_list_validation(filled, params, message):
    params = {k: (filled.lease["mailbox_id"] if v == "M" else v) for k, v in params.items()}
    r = filled.get("/v2/messages", params=params)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": message}


def test_validation_comes_before_mailbox_lookup(filled):
    r = filled.get("/v2/messages", params={"mailbox_id": "nope", "limit": "0"})
    assert r.status_code == 400


def test_other_tenants_mailbox_and_messages_are_404(filled, sandbox, session_factory):
    intruder = session_factory(sandbox)
    r = intruder.get("/v2/messages", params={"mailbox_id": filled.lease["mailbox_id"]})
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "Mailbox not found"}
    message_id = filled.get(
        "/v2/messages", params={"mailbox_id": filled.lease["mailbox_id"]}
    ).json()["items"][0]["message_id"]
    r = intruder.get(f"/v2/messages/{message_id}")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "Message not found"}


def test_message_detail_errors(filled):
    r = filled.get("/v2/messages/")
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": "message_id is required"}
    r = filled.get("/v2/messages/latest")
    assert r.status_code == 404 and r.json()["message"] == "Message not found"
    assert httpx.get(f"{filled.http.base_url}/v2/messages/x").status_code == 401


def test_list_works_for_unleased_mailbox(sandbox, session_factory):
    s = session_factory(sandbox)
    box = s.get("/v2/mailboxes/accounts").json()["items"][3]
    r = s.get("/v2/messages", params={"mailbox_id": box["mailbox_id"]})
    assert r.status_code == 200 and r.json() == {"items": []}


def test_list_requires_auth(sandbox):
    r = httpx.get(f"{sandbox.base_url}/v2/messages", params={"mailbox_id": "x"})
    assert r.status_code == 401


# -- internal inbound events (§9.1) -----------------------------------------------------------


def test_inbound_event_and_list_vs_detail(sandbox, session_factory):
    s = session_factory(sandbox)
    lease = s.allocate().json()
    r = inbound(
        sandbox,
        address=f"  {lease['address'].upper()} ",
        sender="SVC@Site.IO",
        sender_domain="Site.IO",
        subject="Your code",
        raw_ref="maildir:///x/1",
        text_excerpt="Your verification code is 482913",
        html_body='<a href="https://site.io/v?t=1">verify</a>',
    )
    assert r.status_code == 202
    body = r.json()
    assert list(body) == ["status", "tenant_id", "mailbox_id", "message_id", "parse_job"]
    assert body["status"] == "accepted" and body["tenant_id"] == s.tenant_id
    assert body["mailbox_id"] == lease["mailbox_id"]
    assert body["parse_job"]["status"] == "completed"
    item = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"][0]
    assert item["otp_code"] == "482913"
    assert item["verification_link"] == "https://site.io/v?t=1"
    assert (item["sender"], item["sender_domain"]) == ("svc@site.io", "site.io")
    assert item["raw_ref"] is None  # list quirk
    detail = s.get(f"/v2/messages/{body['message_id']}").json()
    assert detail["raw_ref"] == "maildir:///x/1"
    assert detail["parsed_status"] == "parsed"


def test_inbound_event_dedup(sandbox, session_factory):
    s = session_factory(sandbox)
    lease = s.allocate().json()
    first = inbound(
        sandbox, address=lease["address"], sender_domain="a.io", provider_message_id="<m1@a.io>"
    ).json()
    second = inbound(
        sandbox, address=lease["address"], sender_domain="a.io", provider_message_id="<m1@a.io>"
    )
    assert second.status_code == 202
    assert second.json() == {
        "status": "accepted",
        "deduped": True,
        "tenant_id": s.tenant_id,
        "mailbox_id": lease["mailbox_id"],
        "message_id": first["message_id"],
        "parse_job": None,
    }
    assert (
        len(s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]) == 1
    )


def test_inbound_event_accepts_unleased_mailbox(sandbox, session_factory):
    s = session_factory(sandbox)
    box = s.get("/v2/mailboxes/accounts").json()["items"][0]
    r = inbound(sandbox, address=box["address"], sender_domain="a.io")
    assert r.status_code == 202


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({}, 400, "address and sender_domain are required"),
        ({"address": "a@b.c"}, 400, "address and sender_domain are required"),
        ({"sender_domain": "b.c"}, 400, "address and sender_domain are required"),
        (
            {"address": "nobody@sandbox.mailagents.test", "sender_domain": "b.c"},
            404,
            "Mailbox not found",
        ),
        (
            {"address": "a@b.c", "sender_domain": "b.c", "received_at": "yesterday"},
            400,
            "received_at must be an ISO-8601 date-time",
        ),
    ],
)
def test_inbound_event_errors(sandbox, fields, status, message):
    r = inbound(sandbox, **fields)
    assert r.status_code == status
    assert r.json()["message"] == message


def test_inbound_event_auth(sandbox):
    url = f"{sandbox.base_url}/internal/inbound/events"
    for headers in ({}, {"x-internal-token": "wrong"}, {"authorization": "Bearer wrong"}):
        r = httpx.post(url, json={}, headers=headers)
        assert r.status_code == 401
        assert r.json() == {"error": "unauthorized", "message": "Invalid internal token"}
    r = httpx.post(
        url, json={}, headers={"authorization": f"Bearer {sandbox.config.internal_token}"}
    )
    assert r.status_code == 400  # authenticated, then validated


# -- in-process delivery and demo ---------------------------------------------------------------


def test_in_process_deliver(sandbox, session_factory):
    from tui.sandbox.mail.inbound import NoActiveLeaseError, demo_messages

    s = session_factory(sandbox)
    lease = s.allocate().json()
    for raw in demo_messages(lease["address"]):
        sandbox.deliver(lease["address"], raw)
    items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
    assert {i["otp_code"] for i in items} >= {"482913", "771045"}
    assert "https://forumly.example/verify-email?token=demo-7f3a9c" in {
        i["verification_link"] for i in items
    }
    with pytest.raises(NoActiveLeaseError):
        sandbox.deliver("nobody@sandbox.mailagents.test", b"Subject: x\r\n\r\n")


def test_demo_on_first_allocation(sandbox_factory, session_factory):
    server = sandbox_factory(demo_on_allocate=True, demo_delay_s=0.05)
    s = session_factory(server)
    lease = s.allocate().json()
    deadline = time.monotonic() + 3
    items = []
    while time.monotonic() < deadline and len(items) < 3:
        time.sleep(0.05)
        items = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()["items"]
    assert len(items) == 3
    assert all(i["parsed_status"] == "parsed" for i in items)
    # only the first lease gets them
    second = s.allocate().json()
    time.sleep(0.2)
    assert s.get("/v2/messages", params={"mailbox_id": second["mailbox_id"]}).json() == {
        "items": []
    }


def test_since_with_unencoded_plus(filled):
    r = filled.http.get(
        f"/v2/messages?mailbox_id={filled.lease['mailbox_id']}&since=2026-01-01T01:02:00+01:00"
    )
    assert [i["subject"] for i in r.json()["items"]] == ["m4", "m3", "m2"]


def test_inbound_event_unconfigured_token(sandbox_factory):
    server = sandbox_factory(internal_token="")
    r = httpx.post(
        f"{server.base_url}/internal/inbound/events", json={}, headers={"x-internal-token": ""}
    )
    assert r.status_code == 500
    assert r.json()["error"] == "internal_api_unconfigured"

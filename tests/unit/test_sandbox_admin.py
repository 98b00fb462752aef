"""Sandbox operator API ``/v2/admin/*``: auth, paging, shapes, and each action's real effect."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

import httpx
import pytest
from sandbox_helpers import FakeClock, WebhookReceiver, webhook_signature

from tui.sandbox.config import SandboxConfig, read_token_file
from tui.sandbox.mail.inbound import build_mime
from tui.sandbox.state.store import Store

A = "/v2/admin"
TENANT_KEYS = [
    "tenant_id",
    "name",
    "status",
    "qps",
    "mailbox_limit",
    "primary_did",
    "active_agents",
    "active_mailboxes",
    "monthly_usage",
    "created_at",
    "updated_at",
]
LIST_ROUTES = [
    "tenants",
    "mailboxes/accounts",
    "mailboxes/leases",
    "messages",
    "send-attempts",
    "webhooks",
    "webhook-deliveries",
    "billing/invoices",
    "risk/events",
    "risk/policies",
    "audit/logs",
    "jobs",
]


@pytest.fixture
def server(sandbox_factory):
    clock = FakeClock()
    srv = sandbox_factory(
        store=Store(":memory:", clock=clock),
        smtp_port=0,
        allocate_hourly_limit=0,
        webhook_backoff_s=0.01,
        webhook_timeout_s=2,
        token_ttl_s=10 * 86400,
    )
    srv.clock = clock
    return srv


@pytest.fixture
def admin(server):
    client = httpx.Client(
        base_url=server.base_url,
        headers={"authorization": f"Bearer {server.config.admin_token}"},
        timeout=10,
    )
    yield client
    client.close()


def code_mail(to, sender="robot@service.example", code="482913"):
    return build_mime(sender=sender, to=to, subject="Your code", text=f"Your code is {code}.\n")


def smtp_send(server, to, sender="robot@service.example"):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "hi"
    msg.set_content("Your verification code is 482913.\n")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=5) as client:
        client.sendmail(sender, [to], msg.as_bytes())


def audit_actions(admin, **params):
    return [r["action"] for r in admin.get(f"{A}/audit/logs", params=params).json()["items"]]


# -- auth ------------------------------------------------------------------------------------


def test_auth_token_forms_and_refusals(server, admin, session_factory):
    s = session_factory(server)
    url = f"{server.base_url}{A}/tenants"
    token = server.config.admin_token
    for headers in ({}, {"authorization": "Bearer wrong"}, {"x-admin-token": "wrong"}):
        r = httpx.get(url, headers=headers)
        assert r.status_code == 401
        assert r.json() == {"error": "unauthorized", "message": "Invalid admin token"}
    # A tenant JWT is never an admin credential.
    r = httpx.get(url, headers={"authorization": f"Bearer {s.token}"})
    assert r.status_code == 401
    assert httpx.get(url, headers={"x-admin-token": token}).status_code == 200
    assert httpx.get(url, headers={"authorization": f"bearer {token}"}).status_code == 200
    # Unknown admin routes: 401 without the token, 404 with it (as the reference).
    assert httpx.get(f"{server.base_url}{A}/nope").status_code == 401
    r = admin.get(f"{A}/nope")
    assert r.status_code == 404 and r.json()["message"] == "Route not found"
    assert admin.post(f"{A}/tenants").status_code == 404


def test_every_list_route_pages_and_validates(server, admin):
    for route in LIST_ROUTES:
        r = admin.get(f"{A}/{route}")
        assert r.status_code == 200, route
        body = r.json()
        assert list(body) == ["items", "page", "page_size", "total"], route
        assert (body["page"], body["page_size"]) == (1, 20)
        for params, message in (
            ({"page": "0"}, "page must be >= 1"),
            ({"page": "abc"}, "page must be >= 1"),
            ({"page": "1.5"}, "page must be >= 1"),
            ({"page_size": "0"}, "page_size must be 1..200"),
            ({"page_size": "201"}, "page_size must be 1..200"),
        ):
            r = admin.get(f"{A}/{route}", params=params)
            assert r.status_code == 400, (route, params)
            assert r.json() == {"error": "bad_request", "message": message}
        assert admin.get(f"{A}/{route}", params={"page_size": "1.0"}).json()["page_size"] == 1


def test_paging_slices_in_order(server, admin, session_factory):
    sessions = [session_factory(server) for _ in range(3)]
    for s in sessions:
        server.clock.advance(1)
        assert s.allocate().status_code == 201
    first = admin.get(f"{A}/tenants", params={"page_size": 2}).json()
    second = admin.get(f"{A}/tenants", params={"page_size": 2, "page": 2}).json()
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    ids = [t["tenant_id"] for t in first["items"] + second["items"]]
    assert sorted(ids) == sorted(s.tenant_id for s in sessions)
    beyond = admin.get(f"{A}/tenants", params={"page_size": 2, "page": 9}).json()
    assert beyond["items"] == [] and beyond["total"] == 3


# -- tenants ---------------------------------------------------------------------------------


def test_tenant_list_detail_and_404(server, admin, session_factory):
    s = session_factory(server)
    s.allocate()
    row = admin.get(f"{A}/tenants").json()["items"][0]
    assert list(row) == TENANT_KEYS
    assert row["tenant_id"] == s.tenant_id and row["status"] == "active"
    assert row["qps"] == 120 and row["mailbox_limit"] == 100
    assert row["active_agents"] == 1 and row["active_mailboxes"] == 1
    assert row["monthly_usage"] == 1
    assert row["primary_did"].startswith("did:")
    detail = admin.get(f"{A}/tenants/{s.tenant_id}").json()
    assert detail["quotas"] == {"qps": 120, "mailbox_limit": 100}
    r = admin.get(f"{A}/tenants/unknown")
    assert r.status_code == 404 and r.json()["message"] == "Tenant not found"
    assert admin.get(f"{A}/tenants/%20").json()["message"] == "tenant_id is required"
    assert admin.patch(f"{A}/tenants/unknown", json={}).status_code == 404


def test_suspended_tenant_cannot_allocate_and_reactivates(server, admin, session_factory):
    s = session_factory(server)
    r = admin.patch(f"{A}/tenants/{s.tenant_id}", json={"status": "suspended"})
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = s.allocate()
    assert r.status_code == 403
    assert r.json() == {"error": "tenant_inactive", "message": "Tenant is suspended"}
    assert admin.get(f"{A}/tenants", params={"status": "suspended"}).json()["total"] == 1
    admin.patch(f"{A}/tenants/{s.tenant_id}", json={"status": "archived"})
    assert s.allocate().json()["message"] == "Tenant is archived"
    admin.patch(f"{A}/tenants/{s.tenant_id}", json={"status": "active"})
    assert s.allocate().status_code == 201
    assert audit_actions(admin, tenant_id=s.tenant_id).count("tenant.update") == 3
    bad = admin.patch(f"{A}/tenants/{s.tenant_id}", json={"status": "deleted"})
    assert bad.status_code == 400


def test_qps_quota_answers_402_and_is_a_risk_event(server, admin, session_factory):
    s = session_factory(server)
    r = admin.patch(f"{A}/tenants/{s.tenant_id}", json={"quotas": {"qps": 1}})
    assert r.json()["quotas"] == {"qps": 1, "mailbox_limit": 100}
    assert s.allocate().status_code == 201
    r = s.allocate()  # same fake-clock instant: the second call in one second
    assert r.status_code == 402
    assert r.json()["reasons"] == [{"code": "tenant_qps", "limit": 1, "window": "1s"}]
    events = admin.get(f"{A}/risk/events").json()["items"]
    assert events[0]["type"] == "rate_limit.tenant_qps" and events[0]["tenant_id"] == s.tenant_id
    server.clock.advance(2)
    assert s.allocate().status_code == 201
    bad = admin.patch(f"{A}/tenants/{s.tenant_id}", json={"quotas": {"qps": -1}})
    assert bad.status_code == 400


def test_mailbox_limit_quota(server, admin, session_factory):
    s = session_factory(server)
    admin.patch(f"{A}/tenants/{s.tenant_id}", json={"quotas": {"mailbox_limit": 1}})
    assert s.allocate().status_code == 201
    r = s.allocate()
    assert r.status_code == 409 and r.json()["error"] == "mailbox_limit_reached"


# -- mailboxes and leases --------------------------------------------------------------------


def test_frozen_mailbox_is_never_allocated(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    r = admin.post(f"{A}/mailboxes/{lease['mailbox_id']}/freeze", json={})
    assert r.status_code == 400 and r.json()["message"] == "reason is required"
    r = admin.post(f"{A}/mailboxes/{lease['mailbox_id']}/freeze", json={"reason": "abuse"})
    assert r.status_code == 200 and r.json() == {"status": "frozen"}
    detail = admin.get(f"{A}/mailboxes/accounts/{lease['mailbox_id']}").json()
    assert detail["status"] == "frozen" and detail["freeze_reason"] == "abuse"
    assert detail["agent_id"] is None
    # The tenant's lease ended; the next allocation takes another mailbox.
    assert s.get(f"/v2/mailboxes/leases/{lease['lease_id']}").json()["lease_status"] == "released"
    again = s.allocate().json()
    assert again["mailbox_id"] != lease["mailbox_id"]
    rows = admin.get(f"{A}/mailboxes/accounts", params={"tenant_id": s.tenant_id}).json()
    assert rows["total"] == 5
    for row in rows["items"]:
        if row["status"] != "frozen":
            admin.post(f"{A}/mailboxes/{row['mailbox_id']}/freeze", json={"reason": "all"})
    r = s.allocate()
    assert r.status_code == 409 and r.json()["error"] == "no_available_mailbox"
    frozen = admin.get(f"{A}/mailboxes/accounts", params={"status": "frozen"}).json()
    assert frozen["total"] == 5
    risk = admin.get(f"{A}/risk/events").json()["items"]
    assert {e["type"] for e in risk} == {"mailbox.frozen"} and risk[-1]["severity"] == "high"
    r = admin.post(f"{A}/mailboxes/{lease['mailbox_id']}/release")
    assert r.json() == {"status": "released"}
    assert s.allocate().json()["mailbox_id"] == lease["mailbox_id"]
    assert admin.post(f"{A}/mailboxes/nope/freeze", json={"reason": "x"}).status_code == 404
    assert admin.post(f"{A}/mailboxes/nope/release").status_code == 404
    assert admin.get(f"{A}/mailboxes/accounts/nope").status_code == 404
    actions = audit_actions(admin, tenant_id=s.tenant_id)
    assert "mailbox.freeze" in actions and "mailbox.admin_release" in actions


def test_leases_list(server, admin, session_factory):
    s = session_factory(server)
    first = s.allocate().json()
    s.post(f"/v2/mailboxes/leases/{first['lease_id']}/release")
    second = s.allocate().json()
    body = admin.get(f"{A}/mailboxes/leases").json()
    assert [r["lease_id"] for r in body["items"]] == [second["lease_id"], first["lease_id"]]
    assert body["items"][1]["status"] == "released" and body["items"][1]["released_at"]
    active = admin.get(f"{A}/mailboxes/leases", params={"status": "active"}).json()
    assert active["total"] == 1 and active["items"][0]["address"] == second["address"]


# -- messages, sends -------------------------------------------------------------------------


def test_messages_list_and_reparse_runs_the_parser(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    found = server.deliver(lease["address"], code_mail(lease["address"]))
    items = admin.get(f"{A}/messages", params={"tenant_id": s.tenant_id}).json()["items"]
    assert items[0]["message_id"] == found["message_id"]
    assert items[0]["parsed_status"] == "parsed" and items[0]["otp_extracted"] is True
    assert items[0]["sender_domain"] == "service.example"
    # An older parser missed the code: reparse finds it again.
    with server.store._lock:
        server.store._conn.execute(
            "UPDATE messages SET otp_code=NULL, verification_link=NULL, parsed_status='failed'"
        )
    failed = admin.get(f"{A}/messages", params={"parsed_status": "failed"}).json()
    assert failed["total"] == 1
    r = admin.post(f"{A}/messages/{found['message_id']}/reparse")
    assert r.status_code == 202 and r.json()["status"] == "accepted"
    assert r.json()["parsed_status"] == "parsed"
    message = s.get(f"/v2/messages/{found['message_id']}").json()
    assert message["otp_code"] == "482913"
    jobs = admin.get(f"{A}/jobs").json()["items"]
    assert jobs[0]["type"] == "message.reparse" and jobs[0]["status"] == "completed"
    assert admin.post(f"{A}/messages/nope/reparse").status_code == 404
    assert admin.post(f"{A}/messages/nope/replay-webhook").status_code == 404
    assert "message.reparse" in audit_actions(admin)


def test_send_attempts_list(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    r = s.send(lease["mailbox_id"], lease["webmail_password"], ["someone@example.com"])
    assert r.status_code in (200, 202), r.text
    body = admin.get(f"{A}/send-attempts", params={"tenant_id": s.tenant_id}).json()
    assert body["total"] == 1
    row = body["items"][0]
    assert row["to"] == ["someone@example.com"] and row["mailbox_id"] == lease["mailbox_id"]
    assert set(row) >= {"send_attempt_id", "submission_status", "accepted", "rejected"}


# -- webhooks --------------------------------------------------------------------------------


def test_rotation_signs_later_deliveries_and_replays_deliver(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    with WebhookReceiver() as receiver:
        body = {"event_types": ["otp.extracted"], "target_url": receiver.url, "secret": "x" * 20}
        hook = s.post("/v2/webhooks", json=body).json()
        rows = admin.get(f"{A}/webhooks", params={"tenant_id": s.tenant_id}).json()["items"]
        assert rows[0]["webhook_id"] == hook["webhook_id"]
        r = admin.post(f"{A}/webhooks/{hook['webhook_id']}/rotate-secret")
        assert r.status_code == 200
        secret = r.json()["secret"]
        assert r.json()["webhook_id"] == hook["webhook_id"] and len(secret) >= 32
        found = server.deliver(lease["address"], code_mail(lease["address"]))
        assert server.wait_webhooks_idle()
        first = receiver.requests[0]
        ts, sig = first.headers["x-agent-mail-timestamp"], first.headers["x-agent-mail-signature"]
        assert sig.endswith(webhook_signature(secret, ts, first.body))
        r = admin.post(f"{A}/messages/{found['message_id']}/replay-webhook")
        assert r.status_code == 202 and r.json()["queued"] == 1
        r = admin.post(f"{A}/webhooks/{hook['webhook_id']}/replay", json={})
        assert r.status_code == 202 and r.json()["queued"] == 1
        assert server.wait_webhooks_idle()
        assert len(receiver.requests) == 3
        assert {q.json()["message_id"] for q in receiver.requests} == {found["message_id"]}
    deliveries = admin.get(f"{A}/webhook-deliveries", params={"tenant_id": s.tenant_id}).json()
    assert deliveries["total"] == 3 and deliveries["items"][0]["ok"] is True
    assert admin.post(f"{A}/webhooks/nope/rotate-secret").status_code == 404
    assert admin.post(f"{A}/webhooks/nope/replay", json={}).status_code == 404
    actions = audit_actions(admin, tenant_id=s.tenant_id)
    assert {"webhook.rotate_secret", "webhook.replay", "message.replay_webhook"} <= set(actions)


# -- billing ---------------------------------------------------------------------------------


def test_invoice_issue(server, admin, session_factory):
    s = session_factory(server)
    server.store.charge(s.tenant_id, 2500)
    rows = admin.get(f"{A}/billing/invoices").json()["items"]
    assert rows[0]["tenant_id"] == s.tenant_id and rows[0]["status"] == "draft"
    assert rows[0]["amount_usdc"] == 0.0025
    period = rows[0]["period"]
    assert admin.get(f"{A}/billing/invoices", params={"period": period}).json()["total"] == 1
    assert admin.get(f"{A}/billing/invoices", params={"period": "1999-01"}).json()["total"] == 0
    r = admin.post(f"{A}/billing/invoices/{rows[0]['invoice_id']}/issue")
    assert r.status_code == 200 and r.json() == {"status": "issued"}
    mine = s.get("/v2/billing/invoices").json()["items"][0]
    assert mine["status"] == "issued"
    after = admin.get(f"{A}/billing/invoices").json()["items"][0]
    assert after["statement_hash"].startswith("stmt_")
    assert admin.post(f"{A}/billing/invoices/nope/issue").status_code == 404
    assert "invoice.issue" in audit_actions(admin)


# -- risk ------------------------------------------------------------------------------------


def test_denied_sender_domain_is_refused_at_smtp(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    policy = {"policy_type": "domain_denylist", "value": "Evil.test", "action": "add"}
    r = admin.post(f"{A}/risk/policies", json=policy)
    assert r.status_code == 200 and r.json() == {"status": "updated"}
    listed = admin.get(f"{A}/risk/policies").json()["items"]
    assert listed[0]["policy_id"] == "domain_denylist:evil.test"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_send(server, lease["address"], sender="bot@mail.evil.test")
    assert refused.value.recipients[lease["address"]][0] == 550
    events = admin.get(f"{A}/risk/events").json()["items"]
    assert events[0]["type"] == "domain_denylist.hit" and events[0]["tenant_id"] == s.tenant_id
    assert "mail.evil.test" in events[0]["detail"]
    smtp_send(server, lease["address"], sender="bot@fine.example")
    policy["action"] = "remove"
    admin.post(f"{A}/risk/policies", json=policy)
    assert admin.get(f"{A}/risk/policies").json()["total"] == 0
    smtp_send(server, lease["address"], sender="bot@mail.evil.test")
    assert admin.get(f"{A}/messages", params={"tenant_id": s.tenant_id}).json()["total"] == 2
    assert "risk.policy_update" in audit_actions(admin)


def test_risk_policy_validation_rate_limit_and_watch(server, admin, session_factory):
    r = admin.post(f"{A}/risk/policies", json={})
    assert r.status_code == 400
    assert r.json()["message"] == "policy_type, value and action are required"
    bad_type = {"policy_type": "x", "value": "y", "action": "add"}
    assert admin.post(f"{A}/risk/policies", json=bad_type).status_code == 400
    bad_action = {"policy_type": "tenant_watch", "value": "y", "action": "drop"}
    assert admin.post(f"{A}/risk/policies", json=bad_action).status_code == 400
    s = session_factory(server)
    bad_rate = {"policy_type": "tenant_rate_limit", "value": s.tenant_id, "action": "add"}
    assert admin.post(f"{A}/risk/policies", json=bad_rate).status_code == 400
    rate = {"policy_type": "tenant_rate_limit", "value": f"{s.tenant_id}:1", "action": "add"}
    assert admin.post(f"{A}/risk/policies", json=rate).status_code == 200
    watch = {"policy_type": "tenant_watch", "value": s.tenant_id, "action": "add"}
    assert admin.post(f"{A}/risk/policies", json=watch).status_code == 200
    assert s.allocate().status_code == 201
    r = s.allocate()
    assert r.status_code == 402 and r.json()["reasons"][0]["limit"] == 1
    types = [e["type"] for e in admin.get(f"{A}/risk/events").json()["items"]]
    assert "tenant_watch.allocate" in types and "rate_limit.tenant_qps" in types
    # "update" replaces the tenant's one rate limit.
    rate.update(value=f"{s.tenant_id}:50", action="update")
    admin.post(f"{A}/risk/policies", json=rate)
    policies = admin.get(f"{A}/risk/policies", params={"policy_type": "tenant_rate_limit"}).json()
    assert policies["total"] == 1 and policies["items"][0]["value"].endswith(":50")
    server.clock.advance(2)
    assert s.allocate().status_code == 201


# -- settings, metrics, timeseries, audit ---------------------------------------------------


def test_runtime_settings_change_limits_and_price(server, admin, session_factory):
    assert admin.get(f"{A}/settings/runtime").json() == {
        "overage_charge_usdc": 0.001,
        "agent_allocate_hourly_limit": 0,
    }
    for body, message in (
        ({"overage_charge_usdc": -1}, "overage_charge_usdc must be >= 0"),
        ({"overage_charge_usdc": "x"}, "overage_charge_usdc must be >= 0"),
        (
            {"agent_allocate_hourly_limit": 2.5},
            "agent_allocate_hourly_limit must be an integer >= 0",
        ),
    ):
        r = admin.patch(f"{A}/settings/runtime", json=body)
        assert r.status_code == 400 and r.json()["message"] == message
    r = admin.patch(
        f"{A}/settings/runtime",
        json={"overage_charge_usdc": 0.25, "agent_allocate_hourly_limit": 1},
    )
    assert r.json() == {
        "status": "updated",
        "overage_charge_usdc": 0.25,
        "agent_allocate_hourly_limit": 1,
    }
    s = session_factory(server)
    assert s.allocate().status_code == 201
    server.clock.advance(5)
    r = s.allocate()
    assert r.status_code == 402
    assert r.json()["amount_usdc"] == 0.25
    assert r.json()["reasons"] == [{"code": "agent_allocate_hourly", "limit": 1, "window": "1h"}]
    assert "settings.update" in audit_actions(admin)


def test_settings_persist_across_restart(tmp_path):
    from tui.sandbox.runner import SandboxServer

    config = SandboxConfig.for_data_dir(tmp_path, port=0)
    with SandboxServer(config) as srv:
        headers = {"x-admin-token": config.admin_token}
        body = {"agent_allocate_hourly_limit": 9}
        httpx.patch(f"{srv.base_url}{A}/settings/runtime", json=body, headers=headers)
    again = SandboxConfig.for_data_dir(tmp_path, port=0)
    assert again.admin_token == config.admin_token
    with SandboxServer(again) as srv:
        r = httpx.get(f"{srv.base_url}{A}/settings/runtime", headers=headers)
        assert r.json()["agent_allocate_hourly_limit"] == 9


def test_admin_token_file_is_private(tmp_path):
    SandboxConfig.for_data_dir(tmp_path)
    path = tmp_path / "admin-token"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(read_token_file(path)) == 64
    os.chmod(path, 0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        read_token_file(path)


def test_metrics_are_computed_from_the_data(server, admin, session_factory):
    empty = admin.get(f"{A}/overview/metrics").json()
    assert empty == {
        "active_tenants_24h": 0,
        "active_mailbox_leases": 0,
        "inbound_messages_24h": 0,
        "otp_extract_success_rate": 0.0,
        "webhook_success_rate": 100.0,
        "payment_conversion_rate": 100.0,
    }
    a, b = session_factory(server), session_factory(server)
    lease = a.allocate().json()
    b.allocate()
    server.deliver(lease["address"], code_mail(lease["address"]))
    plain = build_mime(sender="x@y.example", to=lease["address"], subject="hello", text="hi")
    server.deliver(lease["address"], plain)
    admin.patch(f"{A}/settings/runtime", json={"agent_allocate_hourly_limit": 1})
    assert a.allocate().status_code == 402
    m = admin.get(f"{A}/overview/metrics").json()
    assert m["active_tenants_24h"] == 2 and m["active_mailbox_leases"] == 2
    assert m["inbound_messages_24h"] == 2 and m["otp_extract_success_rate"] == 50.0
    assert m["payment_conversion_rate"] == 0.0
    server.clock.advance(2 * 86400)
    later = admin.get(f"{A}/overview/metrics").json()
    assert later["inbound_messages_24h"] == 0 and later["active_tenants_24h"] == 0


def test_timeseries(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    server.deliver(lease["address"], code_mail(lease["address"]))
    points = admin.get(f"{A}/overview/timeseries").json()["points"]
    assert len(points) == 13 and sum(p["value"] for p in points) == 1
    assert points[-1]["value"] == 1
    r = admin.get(f"{A}/overview/timeseries", params={"bucket": "week"})
    assert r.status_code == 400 and r.json()["message"] == "bucket must be minute, hour or day"
    day = admin.get(f"{A}/overview/timeseries", params={"bucket": "day"}).json()["points"]
    assert len(day) == 1


def test_audit_rows_carry_the_request_id_and_filter(server, admin, session_factory):
    s = session_factory(server)
    r = admin.patch(f"{A}/tenants/{s.tenant_id}", json={"quotas": {"qps": 5}})
    request_id = r.headers["x-request-id"]
    rows = admin.get(f"{A}/audit/logs", params={"request_id": request_id}).json()["items"]
    assert len(rows) == 1
    row = rows[0]
    assert row["action"] == "tenant.update" and row["actor_did"] == "system:admin-token"
    assert row["resource_type"] == "tenant" and row["resource_id"] == s.tenant_id
    assert row["result"] == "success" and row["metadata"] == {"quotas": {"qps": 5}}
    by_actor = admin.get(f"{A}/audit/logs", params={"actor_did": "nobody"}).json()
    assert by_actor["total"] == 0


# -- demo --------------------------------------------------------------------------------------


def test_demo_seed_fills_every_list_once(sandbox_factory):
    from tui.sandbox.demo import seed_operator_demo

    store = Store(":memory:")
    assert seed_operator_demo(store, "sandbox.mailagents.test") is True
    assert seed_operator_demo(store, "sandbox.mailagents.test") is False
    server = sandbox_factory(store=store)
    headers = {"x-admin-token": server.config.admin_token}
    with httpx.Client(base_url=server.base_url, headers=headers) as admin:
        for route in LIST_ROUTES:
            assert admin.get(f"{A}/{route}").json()["total"] > 0, route
        tenants = admin.get(f"{A}/tenants", params={"page_size": 50}).json()["items"]
        assert {t["status"] for t in tenants} == {"active", "suspended", "archived"}
        assert admin.get(f"{A}/tenants").json()["total"] == 8
        frozen = admin.get(f"{A}/mailboxes/accounts", params={"status": "frozen"}).json()
        assert frozen["total"] == 1
        metrics = admin.get(f"{A}/overview/metrics").json()
        assert metrics["inbound_messages_24h"] > 0 and metrics["active_mailbox_leases"] > 0
        points = admin.get(f"{A}/overview/timeseries").json()["points"]
        assert sum(1 for p in points if p["value"]) >= 6


def test_sandbox_cli_demo_seeds_and_prints_the_token_path(tmp_path):
    from tui.sandbox.cli import _seed_demo

    config = SandboxConfig.for_data_dir(tmp_path)
    _seed_demo(config)
    store = Store(config.db_path)
    try:
        with store._lock:
            row = store._one("SELECT COUNT(*) AS n FROM tenants")
        assert row["n"] == 8
    finally:
        store.close()


def test_tenant_actions_and_inbound_mail_are_audited(server, admin, session_factory):
    s = session_factory(server)
    lease = s.allocate().json()
    server.deliver(lease["address"], code_mail(lease["address"]))
    s.post(f"/v2/mailboxes/leases/{lease['lease_id']}/release")
    rows = admin.get(f"{A}/audit/logs", params={"tenant_id": s.tenant_id}).json()["items"]
    assert [r["action"] for r in rows] == ["mailbox.release", "message.ingest", "mailbox.allocate"]
    assert rows[0]["actor_did"] == rows[2]["actor_did"] == s.login["did"]
    assert rows[1]["actor_did"] == "system:mail" and rows[2]["resource_id"] == lease["mailbox_id"]

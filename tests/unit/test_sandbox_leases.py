"""Sandbox: leases, accounts, credentials (§4), with expiry and the fixed §11 bugs."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sandbox_helpers import FakeClock

from tui.sandbox.state.store import Store

LEASE_KEYS = [
    "lease_id",
    "mailbox_id",
    "account_id",
    "address",
    "agent_id",
    "purpose",
    "lease_status",
    "started_at",
    "expires_at",
    "released_at",
]
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def clocked(sandbox_factory):
    """A private sandbox on a fake clock, no hourly limit."""
    clock = FakeClock()
    server = sandbox_factory(
        store=Store(":memory:", clock=clock), allocate_hourly_limit=0, token_ttl_s=10 * 86400
    )
    server.clock = clock
    return server


def test_allocate_response(sandbox, session_factory):
    s = session_factory(sandbox)
    r = s.allocate(purpose="  signup  ", ttl_hours=2)
    assert r.status_code == 201, r.text
    body = r.json()
    assert list(body) == [
        "lease_id",
        "mailbox_id",
        "account_id",
        "address",
        "lease_status",
        "expires_at",
        "webmail_login",
        "webmail_password",
        "webmail_url",
    ]
    assert body["account_id"] == body["mailbox_id"]
    assert body["address"].endswith("-1@sandbox.mailagents.test")
    assert body["lease_status"] == "active"
    assert body["webmail_login"] == body["address"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", body["webmail_password"])
    assert body["webmail_url"] is None
    assert ISO_RE.match(body["expires_at"])
    detail = s.get(f"/v2/mailboxes/leases/{body['lease_id']}").json()
    assert list(detail) == LEASE_KEYS
    assert detail["purpose"] == "signup" and detail["agent_id"] == s.agent_id
    assert detail["released_at"] is None
    assert ts(detail["expires_at"]) - ts(detail["started_at"]) == pytest.approx(7200, abs=0.002)


def test_no_fake_sample_message_on_allocation(sandbox, session_factory):
    s = session_factory(sandbox)
    lease = s.allocate().json()
    r = s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]})
    assert r.status_code == 200 and r.json() == {"items": []}


def test_allocation_order_and_409(sandbox_factory, session_factory):
    server = sandbox_factory(allocate_hourly_limit=0)
    s = session_factory(server)
    addresses = [s.allocate().json()["address"] for _ in range(5)]
    assert [a.split("@")[0][-2:] for a in addresses] == ["-1", "-2", "-3", "-4", "-5"]
    r = s.allocate()
    assert r.status_code == 409
    assert r.json() == {
        "error": "no_available_mailbox",
        "message": "No available mailbox for current tenant",
    }
    # releasing #2 makes #2 the next one
    lease2 = next(
        i for i in s.get("/v2/mailboxes/leases").json()["items"] if i["address"] == addresses[1]
    )
    assert s.post(f"/v2/mailboxes/leases/{lease2['lease_id']}/release").status_code == 202
    assert s.allocate().json()["address"] == addresses[1]


def test_each_allocation_and_reset_issues_a_fresh_password(sandbox_factory, session_factory):
    server = sandbox_factory(allocate_hourly_limit=0)
    s = session_factory(server)
    first = s.allocate().json()
    s.post(f"/v2/mailboxes/leases/{first['lease_id']}/release")
    second = s.allocate().json()
    assert second["mailbox_id"] == first["mailbox_id"]
    assert second["webmail_password"] != first["webmail_password"]
    r = s.post(f"/v2/mailboxes/accounts/{second['account_id']}/credentials/reset")
    assert r.status_code == 200
    reset = r.json()
    assert list(reset) == [
        "account_id",
        "mailbox_id",
        "address",
        "webmail_login",
        "webmail_password",
        "webmail_url",
    ]
    assert reset["webmail_login"] == reset["address"] == second["address"]
    assert reset["webmail_password"] not in (first["webmail_password"], second["webmail_password"])
    assert len(reset["webmail_password"]) == 24
    box = server.store.mailbox_by_address(second["address"])
    assert box.password == reset["webmail_password"]


def test_reset_works_on_unleased_mailbox_and_404s(sandbox, session_factory):
    s = session_factory(sandbox)
    other = session_factory(sandbox)
    account = s.get("/v2/mailboxes/accounts").json()["items"][0]
    assert account["lease_status"] is None
    assert (
        s.post(
            f"/v2/mailboxes/accounts/{account['account_id']}/credentials/reset", content=b"garbage"
        ).status_code
        == 200
    )
    r = other.post(f"/v2/mailboxes/accounts/{account['account_id']}/credentials/reset")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "Mailbox not found"}
    r = s.post("/v2/mailboxes/accounts/nope/credentials/reset")
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "agent_id, purpose, ttl_hours are required"),
        ({"purpose": "x", "ttl_hours": 1}, 400, "agent_id, purpose, ttl_hours are required"),
        ({"agent_id": "A", "ttl_hours": 1}, 400, "agent_id, purpose, ttl_hours are required"),
        (
            {"agent_id": "A", "purpose": "  ", "ttl_hours": 1},
            400,
            "agent_id, purpose, ttl_hours are required",
        ),
        ({"agent_id": "A", "purpose": "x"}, 400, "agent_id, purpose, ttl_hours are required"),
        (
            {"agent_id": "A", "purpose": "x", "ttl_hours": None},
            400,
            "agent_id, purpose, ttl_hours are required",
        ),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": 0}, 400, "ttl_hours must be 1..720"),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": 721}, 400, "ttl_hours must be 1..720"),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": -3}, 400, "ttl_hours must be 1..720"),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": 1.5}, 400, "ttl_hours must be 1..720"),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": "2"}, 400, "ttl_hours must be 1..720"),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": True}, 400, "ttl_hours must be 1..720"),
        ({"agent_id": "A", "purpose": "x", "ttl_hours": [1]}, 400, "ttl_hours must be 1..720"),
        (
            {"agent_id": "other", "purpose": "x", "ttl_hours": 1},
            403,
            "agent_id does not match token",
        ),
        (
            {"agent_id": "other", "purpose": "x", "ttl_hours": 999},
            403,
            "agent_id does not match token",
        ),
    ],
)
def test_allocate_validation(sandbox, session_factory, body, status, message):
    s = session_factory(sandbox)
    payload = {k: (s.agent_id if v == "A" else v) for k, v in body.items()}
    r = s.post("/v2/mailboxes/leases", json=payload)
    assert r.status_code == status
    assert r.json() == {
        "error": "bad_request" if status == 400 else "forbidden",
        "message": message,
    }
    assert s.get("/v2/mailboxes/leases").json() == {"items": []}


@pytest.mark.parametrize("ttl", [1, 720, 3.0])
def test_allocate_ttl_bounds_ok(sandbox, session_factory, ttl):
    s = session_factory(sandbox)
    assert s.allocate(ttl_hours=ttl).status_code == 201


def test_allocate_null_body_is_400(sandbox, session_factory):
    s = session_factory(sandbox)
    r = s.post("/v2/mailboxes/leases", content=b"null")
    assert r.status_code == 400
    assert r.json()["message"] == "agent_id, purpose, ttl_hours are required"
    r = s.post("/v2/mailboxes/leases", content=b"{nope")
    assert r.status_code == 400 and r.json()["message"] == "Invalid JSON"


def test_auth_comes_before_validation(sandbox):
    import httpx

    r = httpx.post(f"{sandbox.base_url}/v2/mailboxes/leases", content=b"{nope")
    assert r.status_code == 401


def test_list_detail_release(sandbox, session_factory):
    s = session_factory(sandbox)
    a = s.allocate(purpose="a").json()
    b = s.allocate(purpose="b").json()
    items = s.get("/v2/mailboxes/leases").json()["items"]
    assert {i["lease_id"] for i in items} == {a["lease_id"], b["lease_id"]}
    assert all(list(i) == LEASE_KEYS for i in items)
    r = s.post(f"/v2/mailboxes/leases/{a['lease_id']}/release", content=b"not json at all")
    assert r.status_code == 202
    assert r.json() == {
        "lease_id": a["lease_id"],
        "mailbox_id": a["mailbox_id"],
        "lease_status": "released",
    }
    # idempotent
    r = s.post(f"/v2/mailboxes/leases/{a['lease_id']}/release")
    assert r.status_code == 202 and r.json()["lease_status"] == "released"
    items = s.get("/v2/mailboxes/leases").json()["items"]
    assert [i["lease_id"] for i in items] == [b["lease_id"]]
    detail = s.get(f"/v2/mailboxes/leases/{a['lease_id']}").json()
    assert detail["lease_status"] == "released" and ISO_RE.match(detail["released_at"])


def test_release_of_stale_lease_keeps_the_newer_lease(sandbox_factory, session_factory):
    server = sandbox_factory(allocate_hourly_limit=0)
    s = session_factory(server)
    old = s.allocate().json()
    s.post(f"/v2/mailboxes/leases/{old['lease_id']}/release")
    new = s.allocate().json()
    assert new["mailbox_id"] == old["mailbox_id"]
    r = s.post(f"/v2/mailboxes/leases/{old['lease_id']}/release")
    assert r.status_code == 202
    assert s.get(f"/v2/mailboxes/leases/{new['lease_id']}").json()["lease_status"] == "active"
    assert [i["lease_id"] for i in s.get("/v2/mailboxes/leases").json()["items"]] == [
        new["lease_id"]
    ]
    account = next(
        i
        for i in s.get("/v2/mailboxes/accounts").json()["items"]
        if i["mailbox_id"] == new["mailbox_id"]
    )
    assert account["lease_id"] == new["lease_id"] and account["account_status"] == "active"


def test_other_tenant_gets_404(sandbox, session_factory):
    owner = session_factory(sandbox)
    intruder = session_factory(sandbox)
    lease = owner.allocate().json()
    for path, method in [
        (f"/v2/mailboxes/leases/{lease['lease_id']}", "GET"),
        (f"/v2/mailboxes/leases/{lease['lease_id']}/release", "POST"),
    ]:
        r = intruder.http.request(method, path)
        assert r.status_code == 404
        assert r.json() == {"error": "not_found", "message": "Lease not found"}
    assert intruder.get("/v2/mailboxes/leases").json() == {"items": []}
    assert lease["address"] not in {
        i["address"] for i in intruder.get("/v2/mailboxes/accounts").json()["items"]
    }
    # still active for the owner
    assert owner.get(f"/v2/mailboxes/leases/{lease['lease_id']}").json()["lease_status"] == "active"


def test_lease_id_required_and_unknown(sandbox, session_factory):
    s = session_factory(sandbox)
    r = s.get("/v2/mailboxes/leases/")
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": "lease_id is required"}
    r = s.get("/v2/mailboxes/leases/does-not-exist")
    assert r.status_code == 404 and r.json()["message"] == "Lease not found"
    r = s.post("/v2/mailboxes/leases/does-not-exist/release")
    assert r.status_code == 404 and r.json()["message"] == "Lease not found"


def test_accounts_shape_and_order(sandbox, session_factory):
    s = session_factory(sandbox)
    before = s.get("/v2/mailboxes/accounts").json()["items"]
    assert len(before) == 5
    assert [i["address"].split("@")[0][-1] for i in before] == ["1", "2", "3", "4", "5"]
    for item in before:
        assert list(item) == [
            "account_id",
            "mailbox_id",
            "address",
            "account_status",
            "lease_status",
            "lease_id",
            "lease_expires_at",
            "provider_ref",
            "updated_at",
        ]
        assert item["account_status"] == "available" and item["lease_id"] is None
    lease = s.allocate().json()
    after = s.get("/v2/mailboxes/accounts").json()["items"]
    top = after[0]  # most recently updated first
    assert top["mailbox_id"] == lease["mailbox_id"]
    assert top["account_status"] == "active" and top["lease_status"] == "active"
    assert top["lease_id"] == lease["lease_id"]
    assert top["lease_expires_at"] == lease["expires_at"]
    assert top["provider_ref"] == f"sandbox:{lease['address']}"


def test_lease_expires_by_itself(clocked, session_factory):
    s = session_factory(clocked)
    lease = s.allocate(ttl_hours=1).json()
    clocked.clock.advance(3599)
    assert s.get(f"/v2/mailboxes/leases/{lease['lease_id']}").json()["lease_status"] == "active"
    clocked.clock.advance(1.5)
    detail = s.get(f"/v2/mailboxes/leases/{lease['lease_id']}").json()
    assert detail["lease_status"] == "expired"
    assert detail["released_at"] == detail["expires_at"]
    assert s.get("/v2/mailboxes/leases").json() == {"items": []}
    account = next(
        i
        for i in s.get("/v2/mailboxes/accounts").json()["items"]
        if i["mailbox_id"] == lease["mailbox_id"]
    )
    assert account["account_status"] == "available" and account["lease_id"] is None
    # the slot is free again, and the expired lease stays expired
    again = s.allocate().json()
    assert again["mailbox_id"] == lease["mailbox_id"]
    r = s.post(f"/v2/mailboxes/leases/{lease['lease_id']}/release")
    assert r.status_code == 202 and r.json()["lease_status"] == "expired"
    assert s.get(f"/v2/mailboxes/leases/{again['lease_id']}").json()["lease_status"] == "active"


def test_expired_leases_free_the_pool(clocked, session_factory):
    s = session_factory(clocked)
    for _ in range(5):
        assert s.allocate(ttl_hours=1).status_code == 201
    assert s.allocate().status_code == 409
    clocked.clock.advance(3601)
    assert s.allocate().status_code == 201


def test_ttl_unit_knob_makes_real_time_expiry_fast(sandbox_factory, session_factory):
    import time

    server = sandbox_factory(ttl_unit_s=0.2, allocate_hourly_limit=0)
    s = session_factory(server)
    lease = s.allocate(ttl_hours=1).json()
    assert s.get("/v2/mailboxes/leases").json()["items"]
    time.sleep(0.25)
    assert s.get(f"/v2/mailboxes/leases/{lease['lease_id']}").json()["lease_status"] == "expired"


def test_store_check_password(sandbox, session_factory):
    s = session_factory(sandbox)
    lease = s.allocate().json()
    assert sandbox.store.check_password(lease["address"], lease["webmail_password"])
    assert not sandbox.store.check_password(lease["address"], "wrong")
    assert not sandbox.store.check_password("nobody@x.test", "")

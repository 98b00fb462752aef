"""Sandbox: free limits, 402, payment proofs, charging (§3) and usage / billing (§7)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from sandbox_helpers import FakeClock, mint_proof

from tui.sandbox.state.store import Store

LEASES = "/v2/mailboxes/leases"
PAYMENT_REQUIRED = {
    "error": "payment_required",
    "message": "Free limit reached; payment is required to continue",
    "amount_usdc": 0.001,
}


@pytest.fixture
def limited(sandbox_factory):
    """A sandbox with an hourly allocation limit of 2 and a fake clock."""
    clock = FakeClock()
    server = sandbox_factory(
        store=Store(":memory:", clock=clock), allocate_hourly_limit=2, token_ttl_s=86400
    )
    server.clock = clock
    return server


def proof(server, method="POST", path=LEASES, t=None, secret=None):
    when = int(server.clock()) if t is None else t
    return mint_proof(secret or server.config.hmac_secret, method, path, when)


def invoice_amount(session):
    items = session.get("/v2/billing/invoices").json()["items"]
    return items[0]["amount_usdc"]


def test_hourly_limit_402_then_paid_with_proof(limited, session_factory):
    s = session_factory(limited)
    assert s.allocate().status_code == 201
    assert s.allocate().status_code == 201
    r = s.allocate()
    assert r.status_code == 402
    assert r.json() == {
        **PAYMENT_REQUIRED,
        "reasons": [{"code": "agent_allocate_hourly", "limit": 2, "window": "1h"}],
    }
    assert invoice_amount(s) == 0
    r = s.allocate(headers={"x-payment-proof": proof(limited)})
    assert r.status_code == 201
    assert invoice_amount(s) == 0.001
    # paid allocations count too; releases do not lower the count
    for lease in s.get(LEASES).json()["items"]:
        s.post(f"{LEASES}/{lease['lease_id']}/release")
    assert s.allocate().status_code == 402
    # a rolling hour later it is free again
    limited.clock.advance(3600)
    assert s.allocate().status_code == 201
    assert invoice_amount(s) == 0.001


def test_limit_zero_disables(sandbox_factory, session_factory):
    s = session_factory(sandbox_factory(allocate_hourly_limit=0))
    for _ in range(5):
        assert s.allocate().status_code == 201


def test_paid_request_that_fails_is_not_charged(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), allocate_hourly_limit=5)
    s = session_factory(server)
    for _ in range(5):
        assert s.allocate().status_code == 201
    assert s.allocate().status_code == 402
    r = s.allocate(
        headers={
            "x-payment-proof": mint_proof(server.config.hmac_secret, "POST", LEASES, int(clock()))
        }
    )
    assert r.status_code == 409
    assert invoice_amount(s) == 0


def test_proof_ignored_when_no_limit_applies(sandbox, session_factory):
    s = session_factory(sandbox)
    r = s.allocate(headers={"x-payment-proof": "garbage"})
    assert r.status_code == 201
    assert invoice_amount(s) == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda srv: None,  # missing
        lambda srv: "",
        lambda srv: "garbage",
        lambda srv: "t=abc,v1=00",
        lambda srv: f"t={int(srv.clock())},v1=not-hex",
        lambda srv: f"t={int(srv.clock())}",
        lambda srv: proof(srv, path="/v2/messages"),  # wrong path
        lambda srv: proof(srv, path="/v2/mailboxes/leases/"),  # path must match exactly
        lambda srv: proof(srv, method="GET"),  # wrong method
        lambda srv: proof(srv, t=int(srv.clock()) - 301),  # expired
        lambda srv: proof(srv, t=int(srv.clock()) + 301),  # too far ahead
        lambda srv: proof(srv, secret="another-secret"),  # forged
        lambda srv: proof(srv)[:-1] + ("0" if proof(srv)[-1] != "0" else "1"),  # tampered
    ],
)
def test_bad_proofs_all_give_the_same_402(limited, session_factory, make):
    s = session_factory(limited)
    s.allocate()
    s.allocate()
    value = make(limited)
    headers = {} if value is None else {"x-payment-proof": value}
    r = s.allocate(headers=headers)
    assert r.status_code == 402
    assert r.json()["error"] == "payment_required"
    assert r.json()["reasons"] == [{"code": "agent_allocate_hourly", "limit": 2, "window": "1h"}]


@pytest.mark.parametrize(
    "make",
    [
        lambda srv: proof(srv, t=int(srv.clock()) - 299),
        lambda srv: proof(srv, t=int(srv.clock()) + 299),
        lambda srv: ", ".join(reversed(proof(srv).split(","))),  # order does not matter
        lambda srv: proof(srv).upper().replace("T=", "t=").replace("V1=", "v1="),  # hex case
    ],
)
def test_good_proofs(limited, session_factory, make):
    s = session_factory(limited)
    s.allocate()
    s.allocate()
    assert s.allocate(headers={"x-payment-proof": make(limited)}).status_code == 201


def test_proof_endpoint(limited, session_factory):
    s = session_factory(limited)
    r = s.post("/v2/payments/proof", json={"method": " post ", "path": f" {LEASES} "})
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["x_payment_proof", "method", "path", "amount_usdc", "expires_at"]
    assert body["method"] == "POST" and body["path"] == LEASES and body["amount_usdc"] == 0.001
    t = int(re.fullmatch(r"t=(\d+),v1=[0-9a-f]{64}", body["x_payment_proof"]).group(1))
    assert t == int(limited.clock())
    assert body["expires_at"] == datetime.fromtimestamp(t + 300, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    assert body["x_payment_proof"] == proof(limited, t=t)
    s.allocate()
    s.allocate()
    # the issued proof pays; no usage was recorded by issuing it
    assert s.allocate(headers={"x-payment-proof": body["x_payment_proof"]}).status_code == 201
    period = datetime.fromtimestamp(limited.clock(), UTC).strftime("%Y-%m")
    usage = s.get("/v2/usage/summary", params={"period": period}).json()["usage"]
    assert usage["api_calls"] == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "method and path are required"),
        ({"method": "POST"}, "method and path are required"),
        ({"method": " ", "path": LEASES}, "method and path are required"),
        ({"method": "GET", "path": LEASES}, "unsupported payment proof target"),
        (
            {"method": "POST", "path": "/v2/mailboxes/leases?x=1"},
            "unsupported payment proof target",
        ),
        ({"method": "GET", "path": "/v2/usage/summary"}, "unsupported payment proof target"),
    ],
)
def test_proof_endpoint_errors(sandbox, session_factory, body, message):
    s = session_factory(sandbox)
    r = s.post("/v2/payments/proof", json=body)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": message}


def test_proof_endpoint_needs_auth(sandbox):
    r = httpx.post(f"{sandbox.base_url}/v2/payments/proof", json={"method": "POST", "path": LEASES})
    assert r.status_code == 401


def test_all_four_targets_are_accepted(sandbox, session_factory):
    s = session_factory(sandbox)
    for method, path in [
        ("POST", LEASES),
        ("GET", "/v2/messages"),
        ("POST", "/v2/messages/send"),
        ("POST", "/v2/webhooks"),
    ]:
        assert (
            s.post("/v2/payments/proof", json={"method": method, "path": path}).status_code == 200
        )


def test_tenant_qps_limit(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), tenant_qps=1)
    s = session_factory(server)
    box = s.get("/v2/mailboxes/accounts").json()["items"][0]["mailbox_id"]
    params = {"mailbox_id": box}
    assert s.get("/v2/messages", params=params).status_code == 200
    r = s.get("/v2/messages", params=params)
    assert r.status_code == 402
    assert r.json()["reasons"] == [{"code": "tenant_qps", "limit": 1, "window": "1s"}]
    # the proof signs the path without the query string
    good = mint_proof(server.config.hmac_secret, "GET", "/v2/messages", int(clock()))
    assert (
        s.get("/v2/messages", params=params, headers={"x-payment-proof": good}).status_code == 200
    )
    # limits come before query validation
    assert s.get("/v2/messages").status_code == 402
    clock.advance(1.0)
    assert s.get("/v2/messages", params=params).status_code == 200
    # both reasons at once, in order
    clock.advance(1.0)
    assert s.allocate().status_code == 201
    r = s.allocate()
    assert r.status_code == 402
    assert [x["code"] for x in r.json()["reasons"]] == ["tenant_qps"]


def test_both_reasons(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(
        store=Store(":memory:", clock=clock), tenant_qps=1, allocate_hourly_limit=1
    )
    s = session_factory(server)
    assert s.allocate().status_code == 201
    r = s.allocate()
    assert r.json()["reasons"] == [
        {"code": "tenant_qps", "limit": 1, "window": "1s"},
        {"code": "agent_allocate_hourly", "limit": 1, "window": "1h"},
    ]


def test_validation_before_limits(limited, session_factory):
    s = session_factory(limited)
    s.allocate()
    s.allocate()
    r = s.post(LEASES, json={"agent_id": s.agent_id, "purpose": "x", "ttl_hours": 0})
    assert r.status_code == 400
    r = s.post(LEASES, json={"agent_id": "someone", "purpose": "x", "ttl_hours": 1})
    assert r.status_code == 403


# -- usage and billing ----------------------------------------------------------------------


def test_usage_summary_counts(sandbox, session_factory):
    s = session_factory(sandbox)
    period = datetime.now(UTC).strftime("%Y-%m")
    lease = s.allocate().json()
    s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]})
    s.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]})
    s.post(f"/v2/mailboxes/accounts/{lease['account_id']}/credentials/reset")
    s.get(f"{LEASES}/{lease['lease_id']}")  # not recorded
    s.get("/v2/mailboxes/accounts")  # not recorded
    s.post("/v2/payments/proof", json={"method": "POST", "path": LEASES})  # not recorded
    r = s.get("/v2/usage/summary", params={"period": period})
    assert r.status_code == 200
    assert r.json() == {
        "period": period,
        "usage": {"api_calls": 4, "active_mailboxes": 1, "message_parses": 2, "billable_units": 4},
    }
    s.post(f"{LEASES}/{lease['lease_id']}/release")
    usage = s.get("/v2/usage/summary", params={"period": "2020-01"}).json()["usage"]
    assert usage == {
        "api_calls": 0,
        "active_mailboxes": 0,
        "message_parses": 0,
        "billable_units": 0,
    }


@pytest.mark.parametrize("period", [None, "", "2026-13", "2026-1", "202601", "2026-00", "x"])
def test_usage_summary_bad_period(sandbox, session_factory, period):
    s = session_factory(sandbox)
    params = {} if period is None else {"period": period}
    r = s.get("/v2/usage/summary", params=params)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": "period must match YYYY-MM"}


def test_invoices_list_and_detail(sandbox, session_factory):
    s = session_factory(sandbox)
    other = session_factory(sandbox)
    period = datetime.now(UTC).strftime("%Y-%m")
    items = s.get("/v2/billing/invoices").json()["items"]
    assert len(items) == 1
    item = items[0]
    assert list(item) == [
        "invoice_id",
        "period",
        "amount_usdc",
        "status",
        "period_start",
        "period_end",
        "settlement_tx_hash",
    ]
    assert item["period"] == period and item["status"] == "draft"
    assert item["period_start"] == f"{period}-01"
    assert re.fullmatch(rf"{period}-(28|29|30|31)", item["period_end"])
    assert s.get("/v2/billing/invoices", params={"period": period}).json()["items"] == items
    assert s.get("/v2/billing/invoices", params={"period": "1999-01"}).json() == {"items": []}
    assert s.get("/v2/billing/invoices", params={"period": "junk"}).json() == {"items": []}
    r = s.get(f"/v2/billing/invoices/{item['invoice_id']}")
    assert r.status_code == 200
    assert r.json() == {
        "invoice_id": item["invoice_id"],
        "tenant_id": s.tenant_id,
        "period_start": item["period_start"],
        "period_end": item["period_end"],
        "amount_usdc": 0,
        "status": "draft",
        "statement_hash": None,
        "settlement_tx_hash": None,
    }
    r = other.get(f"/v2/billing/invoices/{item['invoice_id']}")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "Invoice not found"}


def test_charges_accumulate_to_six_decimals(limited, session_factory):
    s = session_factory(limited)
    s.allocate()
    s.allocate()
    for _ in range(3):
        r = s.allocate(headers={"x-payment-proof": proof(limited)})
        assert r.status_code == 201
    assert invoice_amount(s) == 0.003

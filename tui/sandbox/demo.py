"""``sandbox --demo``: seed tenants, traffic and operator events so every console tab shows
something (tenants in each status, leases, a frozen mailbox, a day of inbound mail, sends,
webhooks and their deliveries, invoices, risk policies and events, audit rows and jobs).

Seeding runs once per database (a ``demo.seeded`` audit row marks it).
"""

from __future__ import annotations

import secrets
import uuid

from tui.sandbox.mail import inbound as mail
from tui.sandbox.state.admin import AdminState, admin_state
from tui.sandbox.state.leases import Lease
from tui.sandbox.state.sends import SendOutcome
from tui.sandbox.state.store import Store
from tui.sandbox.state.webhooks import Delivery

SENDERS = (
    ("Acme Cloud <no-reply@acme.example>", "Your Acme verification code", "Your code is {n}."),
    (
        "Forumly <accounts@forumly.example>",
        "Confirm your email",
        "Open https://forumly.example/v?t={n}",
    ),
    ("Shop <security@shop.example>", "Sign-in code: {n}", "Use {n} to sign in."),
    ("Newsletter <news@letters.example>", "This week in agents", "No code in this one."),
)
"""(From, subject, text) of the seeded mail; ``{n}`` becomes a number."""


def _wallet() -> tuple[str, str]:
    address = "0x" + secrets.token_hex(20)
    return address, f"did:pkh:eip155:84532:{address}"


def seed_audit(state: AdminState, count: int, tenant_id: str | None = None) -> None:
    """Append ``count`` audit rows in one transaction (the browsing benchmark's data)."""
    now = state.store.now_ms()
    actions = ("mailbox.allocate", "mailbox.release", "message.ingest", "webhook.deliver")
    rows = [
        (
            str(uuid.uuid4()),
            now - (count - i) * 1000,
            tenant_id,
            "system:demo",
            actions[i % len(actions)],
            "mailbox",
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            "success",
            "{}",
        )
        for i in range(count)
    ]
    with state.store._tx() as db:
        db.executemany(
            "INSERT INTO audit_logs (id, ts_ms, tenant_id, actor_did, action, resource_type, "
            "resource_id, request_id, result, metadata_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


def _seed_tenant(
    store: Store, mailbox_domain: str, i: int, now: int
) -> tuple[str, str, list[Lease]]:
    """Demo tenant ``i``: its leases, a few mails in them and their metered usage."""
    address, did = _wallet()
    tenant_id, agent_id, _ = store.tenant_for_wallet(address, did, mailbox_domain)
    leases = []
    for _ in range(1 + i % 3):
        lease = store.allocate(tenant_id, agent_id, "signup", 24 * 3_600_000, "demo-pass")
        if lease is not None:
            leases.append(lease)
            store.record_usage(tenant_id, agent_id, "POST /v2/mailboxes/leases", i % 4 == 0)
    for k in range(3 + 2 * i):
        lease = leases[k % len(leases)]
        sender, subject, text = SENDERS[(i + k) % len(SENDERS)]
        n = f"{(i * 7919 + k * 104729) % 1_000_000:06d}"
        raw = mail.build_mime(
            sender=sender,
            to=lease.address,
            subject=subject.format(n=n),
            text=text.format(n=n),
        )
        mail.deliver(
            store,
            lease.address,
            raw,
            require_active_lease=False,
            received_ms=now - ((i * 5 + k * 3) % 12) * 3_600_000 - k * 60_000,
        )
        store.record_usage(tenant_id, agent_id, "GET /v2/messages", False)
    return tenant_id, agent_id, leases


def _seed_traffic(store: Store, i: int, tenant_id: str, agent_id: str, leases: list[Lease]) -> None:
    """Demo tenant ``i``'s webhook and its deliveries, a send attempt and a charge."""
    hook = store.create_webhook(
        tenant_id,
        ["otp.extracted", "mail.received"],
        f"https://hooks.tenant{i}.example/mail",
        secrets.token_hex(16),
    )
    for k in range(2 + i % 3):
        ok = (i + k) % 4 != 3
        store.record_delivery(
            Delivery(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                webhook_id=hook.id,
                event_type="otp.extracted",
                message_id=None,
                status_code=200 if ok else 503,
                attempts=1 if ok else 3,
                ok=ok,
                error_message=None if ok else "Webhook returned HTTP 503",
                response_excerpt=None if ok else "upstream unavailable",
                request_id=str(uuid.uuid4()),
            )
        )
    attempt = store.create_send_attempt(
        tenant_id=tenant_id,
        agent_id=agent_id,
        mailbox_id=leases[0].mailbox_id,
        to=[f"ops{i}@partner.example"],
        subject="Report ready",
        text="See attached.",
        html=None,
    )
    store.finish_send_attempt(
        attempt,
        SendOutcome(
            status="accepted" if i % 3 else "failed",
            accepted=[f"ops{i}@partner.example"] if i % 3 else [],
            rejected=[] if i % 3 else [f"ops{i}@partner.example"],
            message_id=f"<demo-{i}@sandbox.mailagents.test>",
            response="250 OK" if i % 3 else None,
            envelope=None,
            error=None if i % 3 else "550 mailbox unavailable",
        ),
    )
    if i % 2:
        store.charge(tenant_id, 1000 * (i + 1))


def _seed_operator_events(state: AdminState, made: list[tuple[str, str, list[Lease]]]) -> None:
    """Statuses, a frozen mailbox, policies and their events, jobs."""
    suspended, archived = made[1][0], made[2][0]
    state.patch_tenant(suspended, "suspended", None, None)
    state.patch_tenant(archived, "archived", None, None)
    state.patch_tenant(made[3][0], None, 5, 3)
    frozen = made[4][2][0]
    state.freeze(frozen.mailbox_id, "reported for abuse")
    state.risk(made[4][0], "high", "mailbox.frozen", "reported for abuse")
    state.set_policy("domain_denylist", "spam.example", "add")
    state.set_policy("tenant_watch", made[5][0], "add")
    state.set_policy("tenant_rate_limit", f"{made[6][0]}:2", "add")
    state.risk(made[0][0], "medium", "domain_denylist.hit", "sender domain spam.example refused")
    state.risk(made[6][0], "medium", "rate_limit.tenant_qps", "tenant qps limit 2/s reached")
    state.risk(made[5][0], "low", "tenant_watch.allocate", "watched tenant allocates a mailbox")
    for tenant_id, what in ((suspended, "suspended"), (archived, "archived")):
        state.audit(
            "tenant.update", "tenant", tenant_id, tenant_id=tenant_id, metadata={"status": what}
        )
    state.audit(
        "mailbox.freeze",
        "mailbox",
        frozen.mailbox_id,
        tenant_id=made[4][0],
        metadata={"reason": "reported for abuse"},
    )
    state.job("message.reparse", {"message_id": "demo"}, result={"parsed_status": "parsed"})
    state.job("webhook.replay", {"webhook_id": "demo"}, status="failed", error="target unreachable")


def seed_operator_demo(store: Store, mailbox_domain: str, tenants: int = 8) -> bool:
    """Seed the demo world; False when this database was seeded before."""
    state = admin_state(store)
    if state.audit_logs(1, 1, None, None, None, "demo.seeded", lambda _ms: None).total:
        return False
    now = store.now_ms()
    made: list[tuple[str, str, list[Lease]]] = []
    for i in range(tenants):
        tenant_id, agent_id, leases = _seed_tenant(store, mailbox_domain, i, now)
        made.append((tenant_id, agent_id, leases))
        _seed_traffic(store, i, tenant_id, agent_id, leases)
    _seed_operator_events(state, made)
    seed_audit(state, 40)
    state.audit(
        "demo.seeded", "sandbox", "demo", actor_did="system:demo", metadata={"tenants": tenants}
    )
    return True

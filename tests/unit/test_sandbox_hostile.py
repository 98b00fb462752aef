"""Sandbox under hostile input (issue 13): lone surrogates in JSON strings, SMTP recipients."""

from __future__ import annotations

import json

import httpx
import pytest

LONE = '"\\ud800"'  # a JSON escape for a lone UTF-16 surrogate


def post_raw(session_or_url, path: str, text: str) -> httpx.Response:
    """POST ``text`` (already JSON, with escapes kept as written) to ``path``."""
    headers = {"content-type": "application/json"}
    if isinstance(session_or_url, str):
        return httpx.post(session_or_url + path, content=text.encode(), headers=headers)
    return session_or_url.post(path, content=text.encode(), headers=headers)


def assert_bad_request(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "bad_request"
    assert "surrogate" in body["message"]


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(allocate_hourly_limit=0)


def test_lone_surrogate_is_a_400_on_every_route(server, session_factory):
    session = session_factory(server)
    lease = session.allocate().json()
    base = server.base_url

    assert_bad_request(post_raw(base, "/v2/auth/siwe/challenge", f'{{"wallet_address": {LONE}}}'))
    assert_bad_request(
        post_raw(base, "/v2/auth/siwe/verify", f'{{"message": {LONE}, "signature": "0x00"}}')
    )
    allocate = {"agent_id": session.agent_id, "purpose": "__", "ttl_hours": 1}
    assert_bad_request(
        post_raw(session, "/v2/mailboxes/leases", json.dumps(allocate).replace('"__"', LONE))
    )
    send = {
        "mailbox_id": lease["mailbox_id"],
        "mailbox_password": lease["webmail_password"],
        "to": ["someone@example.com"],
        "subject": "__",
        "text": "hi",
    }
    assert_bad_request(
        post_raw(session, "/v2/messages/send", json.dumps(send).replace('"__"', LONE))
    )
    hook = {"event_types": ["mail.received"], "target_url": "__", "secret": "s" * 16}
    assert_bad_request(post_raw(session, "/v2/webhooks", json.dumps(hook).replace('"__"', LONE)))
    # in a key, nested in a list, and after an escaped backslash that is not an escape
    assert_bad_request(post_raw(session, "/v2/payments/proof", f"{{{LONE}: 1}}"))
    assert_bad_request(post_raw(session, "/v2/webhooks", f'{{"event_types": [[{LONE}]]}}'))
    # a surrogate *pair* is a real character and stays accepted
    pair = json.dumps(allocate).replace('"__"', '"mail \\ud83d\\udce7"')
    created = post_raw(session, "/v2/mailboxes/leases", pair)
    assert created.status_code == 201, created.text
    listed = session.get("/v2/mailboxes/leases").json()
    assert "mail \U0001f4e7" in json.dumps(listed, ensure_ascii=False)
    assert httpx.get(base + "/healthz").status_code == 200


# -- SMTP: recipients and the event loop ---------------------------------------------------


def lease_addresses(server, count: int) -> list[str]:
    """``count`` leased addresses, made straight in the store (5 mailboxes per tenant)."""
    from tui.sandbox.state.tenants import MAILBOXES_PER_TENANT

    store, domain = server.store, server.config.mailbox_domain
    addresses: list[str] = []
    for t in range(-(-count // MAILBOXES_PER_TENANT)):
        wallet = f"0x{t + 1:040x}"
        tenant_id, agent_id, _ = store.tenant_for_wallet(
            wallet, f"did:pkh:eip155:1:{wallet}", domain
        )
        for _ in range(MAILBOXES_PER_TENANT):
            if len(addresses) < count:
                row = store.allocate(tenant_id, agent_id, "smtp test", 3_600_000, "pw-" + wallet)
                addresses.append(row.address)
    return addresses


def stored_count(server, address: str) -> int:
    mailbox = server.store.mailbox_by_address(address)
    return len(server.store.list_messages(mailbox.tenant_id, mailbox.mailbox_id, None, 5000))


def mime(to: str, subject: str = "hello") -> bytes:
    from tui.sandbox.mail.inbound import build_mime

    return build_mime(sender="a@example.com", to=to, subject=subject, text="code 482913")


@pytest.fixture
def smtp_server(sandbox_factory):
    return sandbox_factory(smtp_port=0, allocate_hourly_limit=0)


def test_smtp_collapses_duplicate_recipients(smtp_server):
    import smtplib

    (address,) = lease_addresses(smtp_server, 1)
    with smtplib.SMTP("127.0.0.1", smtp_server.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.com")
        for i in range(1000):
            code, _ = smtp.rcpt(address.upper() if i % 2 else address)
            assert code == 250
        code, _ = smtp.data(mime(address))
        assert code == 250
    assert stored_count(smtp_server, address) == 1


def test_smtp_refuses_recipients_past_100_with_452(smtp_server):
    import smtplib

    addresses = lease_addresses(smtp_server, 101)
    with smtplib.SMTP("127.0.0.1", smtp_server.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.com")
        codes = [smtp.rcpt(a)[0] for a in addresses]
        assert codes[:100] == [250] * 100
        assert codes[100] == 452
        assert smtp.rcpt(addresses[0])[0] == 250  # naming an accepted one again is fine
        code, _ = smtp.data(mime(", ".join(addresses[:3])))
        assert code == 250
    assert [stored_count(smtp_server, a) for a in addresses] == [1] * 100 + [0]


def test_smtp_delivery_runs_off_the_event_loop(smtp_server):
    """While a delivery is held inside the store (a listener that waits), HTTP still answers."""
    import smtplib
    import threading

    (address,) = lease_addresses(smtp_server, 1)
    entered, release = threading.Event(), threading.Event()

    def slow_listener(row):
        entered.set()
        release.wait(30)

    smtp_server.store.add_message_listener(slow_listener)
    replies: list[int] = []

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", smtp_server.smtp_port, timeout=60) as smtp:
            replies.append(smtp.sendmail("a@example.com", [address], mime(address)) == {})

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert entered.wait(30), "the delivery never reached the store"
        # the delivery is in progress right now; on the loop, this request could not be served
        health = httpx.get(smtp_server.base_url + "/healthz", timeout=10)
        assert health.status_code == 200
        with smtplib.SMTP("127.0.0.1", smtp_server.smtp_port, timeout=10) as other:
            assert other.noop()[0] == 250  # nor is the SMTP loop held by the delivery
        assert not release.is_set() and sender.is_alive()
    finally:
        release.set()
        sender.join(60)
        smtp_server.store.remove_message_listener(slow_listener)
    assert replies == [True]
    assert stored_count(smtp_server, address) == 1


def test_smtp_mail_is_parsed_in_a_child_process_that_comes_back(smtp_server):
    """Parsing runs in a child (off the GIL); if the child dies, the next mail starts a new one."""
    import os
    import signal
    import smtplib

    from tui.sandbox.mail import inbound as mail

    (address,) = lease_addresses(smtp_server, 1)

    def send_and_read():
        with smtplib.SMTP("127.0.0.1", smtp_server.smtp_port, timeout=60) as smtp:
            assert smtp.sendmail("a@example.com", [address], mime(address)) == {}
        mailbox = smtp_server.store.mailbox_by_address(address)
        return smtp_server.store.list_messages(mailbox.tenant_id, mailbox.mailbox_id, None, 1)[0]

    assert send_and_read().otp_code == "482913"
    child = mail._child._proc
    assert child is not None and child.poll() is None and child.pid != os.getpid()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    assert send_and_read().otp_code == "482913"
    assert mail._child._proc is not None and mail._child._proc.pid != child.pid

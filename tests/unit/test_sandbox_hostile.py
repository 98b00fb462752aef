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

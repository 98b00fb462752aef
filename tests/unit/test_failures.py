"""The one classification of failures (transient or permanent), and the poller using it."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from tui.api.client import MailagentsClient
from tui.api.errors import (
    ApiError,
    AuthenticationError,
    ChallengeRejected,
    InvalidResponseError,
    NetworkError,
    classify,
    error_for_status,
)
from tui.core.poller import MailboxPoller, PollSettings


def api(status: int, error: str = "", message: str = "", retry_after: float | None = None):
    exc = error_for_status(status, {"error": error, "message": message}, None)
    exc.retry_after = retry_after
    return exc


@pytest.mark.parametrize(
    ("exc", "transient", "label"),
    [
        (NetworkError("cannot reach"), True, "offline"),
        (NetworkError("did not answer in time"), True, "offline"),
        (InvalidResponseError("answered HTTP 200 without JSON"), True, "bad answer"),
        (api(500, "internal_error"), True, "server error"),
        (api(502, "mail_backend_error"), True, "server error"),
        (api(503, "http_error", "Service Unavailable"), True, "server error"),
        (api(429, "rate_limited", "slow", retry_after=3), True, "rate limited"),
        (api(429, "cooldown_limit", "24h"), False, "send limit reached"),
        (api(408, "timeout"), True, "not now"),
        (api(402, "payment_required"), True, "payment needed"),
        (api(401, "unauthorized", "expired"), True, "signed out"),
        (api(403, "forbidden", "Tenant/agent context not found"), True, "signed out"),
        (api(403, "forbidden", "agent_id does not match token"), False, "forbidden"),
        (api(403, "tenant_inactive", "Tenant is suspended"), False, "account suspended"),
        (api(404, "not_found", "Mailbox not found"), False, "mailbox not found"),
        (api(404, "not_found", "Lease not found"), False, "lease not found"),
        (api(404, "not_found", "[b]x[/b] not found\x1b[2J"), False, "not found"),
        (api(404, "http_error", ""), False, "not found"),
        (api(400, "bad_request", "limit must be 1..100"), False, "refused"),
        (api(409, "no_available_mailbox"), False, "refused"),
        (api(410, "gone"), False, "refused"),
        (api(409, "lease_expired", "Lease has expired"), False, "lease ended"),
        (api(403, "lease_released", "Lease was released"), False, "lease ended"),
        (api(410, "lease_not_active"), False, "lease ended"),
        (ChallengeRejected("names a different wallet"), False, "sign-in refused"),
        (KeyError("bug"), False, "failed"),
    ],
)
def test_the_table(exc, transient, label):
    failure = classify(exc)
    assert (failure.transient, failure.label) == (transient, label)
    assert failure.message


def test_retry_after_and_payment_pace():
    assert classify(api(429, "rate_limited", retry_after=7)).retry_after == 7
    assert classify(api(503, retry_after=2)).retry_after == 2
    assert classify(api(402)).slow


def test_a_401_a_new_sign_in_did_not_cure_is_permanent():
    again = api(401, "unauthorized", "expired")
    again.after_sign_in = True
    assert classify(again) == classify(again) and not classify(again).transient
    assert classify(again).label == "sign-in failed"
    stale = api(403, "forbidden", "Tenant/agent context not found")
    stale.after_sign_in = True
    assert not classify(stale).transient


class Tokens:
    def __init__(self) -> None:
        self.renewed = 0

    async def get_token(self) -> str:
        return "old"

    async def renew(self) -> str:
        self.renewed += 1
        return "new"


async def test_the_client_signs_in_again_once_and_marks_what_it_did_not_cure():
    seen: list[str] = []

    def always_401(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(401, json={"error": "unauthorized", "message": "no"})

    tokens = Tokens()
    client = MailagentsClient(
        "http://sandbox.test", token_source=tokens, transport=httpx.MockTransport(always_401)
    )
    with pytest.raises(AuthenticationError) as info:
        await client.list_messages("m")
    assert seen == ["Bearer old", "Bearer new"] and tokens.renewed == 1
    assert info.value.after_sign_in and not classify(info.value).transient
    await client.aclose()


def script(*answers):
    """A transport answering from a list (an exception is raised), then empty lists."""
    queue = list(answers)
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        answer = queue.pop(0) if queue else httpx.Response(200, json={"items": []})
        if isinstance(answer, Exception):
            raise answer
        return answer

    return MailagentsClient("http://sandbox.test", transport=httpx.MockTransport(handler)), calls


QUICK = PollSettings(fast=0.01, normal=0.01, idle=0.01, backoff_base=0.01, backoff_max=0.02)


async def run_until(poller: MailboxPoller, done) -> list:
    updates: list = []
    task = asyncio.ensure_future(poller.run(updates.append))
    for _ in range(500):
        if done(updates) or task.done():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return updates


async def test_truncated_and_html_answers_are_retried():
    client, _calls = script(
        httpx.Response(200, content=b'{"items": [{"message_id"'),
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(500, content=b"<html>oops</html>", headers={"content-type": "text/html"}),
    )
    poller = MailboxPoller(client, "m", settings=QUICK)
    updates = await run_until(poller, lambda u: any(x.status.state == "ok" for x in u))
    assert [u.status.reason for u in updates[:3]] == ["bad answer", "bad answer", "server error"]
    assert updates[3].status.state == "ok" and updates[3].status.failures == 0
    await client.aclose()


async def test_a_permanent_failure_stops_with_a_reason_and_run_resumes():
    client, calls = script(
        httpx.Response(503, json={"error": "unavailable", "message": "x"}),
        httpx.Response(404, json={"error": "not_found", "message": "Mailbox not found"}),
    )
    poller = MailboxPoller(client, "m", settings=QUICK)
    updates: list = []
    await asyncio.wait_for(poller.run(updates.append), 5)  # returns by itself: stopped
    assert [u.status.state for u in updates] == ["backing_off", "stopped"]
    assert poller.stopped and poller.status.permanent
    assert poller.status.reason == "mailbox not found"
    assert "Mailbox not found" in (poller.status.error or "")
    assert calls["n"] == 2

    again = await run_until(poller, lambda u: bool(u))
    assert again[0].status.state == "ok" and again[0].status.error is None
    await client.aclose()


async def test_attempt_records_transient_and_raises_permanent():
    client, _calls = script(
        httpx.ConnectError("down"),
        httpx.Response(403, json={"error": "forbidden", "message": "nope"}),
    )
    poller = MailboxPoller(client, "m", settings=QUICK)
    update = await poller.attempt()
    assert update.status.state == "backing_off" and update.status.failures == 1
    with pytest.raises(ApiError):
        await poller.attempt()
    assert poller.stopped and poller.status.reason == "forbidden"
    await client.aclose()


async def test_a_failure_that_is_no_api_error_still_leaves_a_visible_stop():
    class Locked:
        async def get_token(self) -> str:
            raise RuntimeError("keystore is locked")

        async def renew(self) -> str:
            raise AssertionError("not reached")

    client = MailagentsClient(
        "http://sandbox.test",
        token_source=Locked(),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"items": []})),
    )
    poller = MailboxPoller(client, "m", settings=QUICK)
    with pytest.raises(RuntimeError):
        await poller.run(lambda u: None)
    assert poller.stopped and poller.status.reason == "failed"
    assert poller.status.error == "keystore is locked"
    await client.aclose()

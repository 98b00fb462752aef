"""Webhook deliveries of the sandbox (contract §6.3-6.4), POSTed from a background thread pool.

Every newly stored inbound message (SMTP, internal inbound, send to a lease, in-process
delivery) fires exactly one event: ``otp.extracted`` when an OTP or a link was found, else
``mail.received``. Each of the tenant's webhooks subscribed to it gets one delivery: up to
``webhook_attempts`` signed POSTs with ``webhook_backoff_s * attempt`` between them, then one
delivery record with the final outcome. Ingestion only queues the work, so a slow receiver
never holds up SMTP; :meth:`WebhookDispatcher.wait_idle` lets tests wait for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import UTC, datetime

import httpx

from tui.auth import siwe
from tui.jsontypes import JsonObject
from tui.sandbox.config import SandboxConfig
from tui.sandbox.state.messages import Message
from tui.sandbox.state.store import Store
from tui.sandbox.state.webhooks import Delivery

log = logging.getLogger("tui.sandbox.webhooks")

EVENT_TYPES = ("mail.received", "otp.extracted")
"""The only event types a webhook may subscribe to."""

current_request_id: ContextVar[str | None] = ContextVar("sandbox_request_id", default=None)
"""``x-request-id`` of the HTTP request being handled (set by the app's middleware)."""


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return siwe.iso_millis(datetime.fromtimestamp(ms / 1000, UTC))


def event_type_of(row: Message) -> str:
    """``otp.extracted`` if the message has an OTP or a link, else ``mail.received``."""
    return "otp.extracted" if row.otp_code or row.verification_link else "mail.received"


def payload_of(event_type: str, row: Message) -> JsonObject:
    """The contract's payload (§6.4), nested camelCase ``message`` included."""
    received_at = _iso(row.received_ms)
    return {
        "event_type": event_type,
        "tenant_id": row.tenant_id,
        "mailbox_id": row.mailbox_id,
        "message_id": row.id,
        "sender": row.sender,
        "sender_domain": row.sender_domain,
        "subject": row.subject,
        "received_at": received_at,
        "otp_code": row.otp_code,
        "verification_link": row.verification_link,
        "message": {
            "messageId": row.id,
            "tenantId": row.tenant_id,
            "mailboxId": row.mailbox_id,
            "providerMessageId": row.provider_message_id,
            "sender": row.sender,
            "senderDomain": row.sender_domain,
            "subject": row.subject,
            "rawRef": row.raw_ref,
            "receivedAt": received_at,
        },
    }


def signature(secret: str, timestamp: int, body: str) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookDispatcher:
    """Turns new messages into webhook deliveries, run by a small thread pool."""

    def __init__(self, config: SandboxConfig, store: Store) -> None:
        self.config = config
        """Timeouts, attempts, backoff."""
        self.store = store
        """Where webhooks are read and deliveries written."""
        self._cond = threading.Condition()
        self._pending = 0
        self._closed = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None

    # -- queueing ---------------------------------------------------------------------------

    def on_message(self, row: Message) -> None:
        """Store listener: queue one delivery per subscribed webhook of the message's tenant."""
        if self._closed.is_set():
            return
        event_type = event_type_of(row)
        hooks = [h for h in self.store.webhooks(row.tenant_id) if event_type in h.event_types]
        if not hooks:
            return
        body = json.dumps(payload_of(event_type, row), separators=(",", ":"), ensure_ascii=False)
        request_id = current_request_id.get() or str(uuid.uuid4())
        for hook in hooks:
            self._submit(hook.id, event_type, row.id, body, request_id)

    def replay(self, row: Message, webhook_id: str | None = None) -> int:
        """Queue a message's event again (to one webhook, or every subscribed one); count them.

        A webhook that does not subscribe to the event type gets nothing, as on arrival.
        """
        if self._closed.is_set():
            return 0
        event_type = event_type_of(row)
        hooks = [h for h in self.store.webhooks(row.tenant_id) if event_type in h.event_types]
        hooks = [h for h in hooks if webhook_id is None or h.id == webhook_id]
        body = json.dumps(payload_of(event_type, row), separators=(",", ":"), ensure_ascii=False)
        request_id = current_request_id.get() or str(uuid.uuid4())
        for hook in hooks:
            self._submit(hook.id, event_type, row.id, body, request_id)
        return len(hooks)

    def _submit(
        self, webhook_id: str, event_type: str, message_id: str, body: str, request_id: str
    ) -> None:
        with self._cond:
            if self._closed.is_set():
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=max(1, self.config.webhook_workers),
                    thread_name_prefix="sandbox-webhook",
                )
            self._pending += 1
            executor = self._executor
        try:
            executor.submit(self._run, webhook_id, event_type, message_id, body, request_id)
        except RuntimeError:  # shut down meanwhile
            self._done()

    def _done(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def _run(
        self, webhook_id: str, event_type: str, message_id: str, body: str, request_id: str
    ) -> None:
        try:
            self.deliver(webhook_id, event_type, message_id, body, request_id)
        except Exception:
            if not self._closed.is_set():
                log.exception("sandbox: webhook delivery to %s failed", webhook_id)
        finally:
            self._done()

    @property
    def pending(self) -> int:
        """Deliveries queued or in progress."""
        with self._cond:
            return self._pending

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is queued or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop: drop queued deliveries, abort retry waits, wait for in-flight POSTs."""
        self._closed.set()
        with self._cond:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        with self._cond:
            self._pending = 0
            self._cond.notify_all()
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- one delivery -----------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        with self._cond:
            if self._client is None:
                # trust_env=False: a proxy from the environment must not see loopback receivers.
                self._client = httpx.Client(trust_env=False, follow_redirects=True)
            return self._client

    def _post(
        self, url: str, data: bytes, headers: dict[str, str]
    ) -> tuple[bool, int | None, str | None, str | None]:
        """One POST: ``(ok, status_code, error, response excerpt)`` (a failure counts as 502)."""
        timeout = self.config.webhook_timeout_s
        try:
            response = self._http().post(url, content=data, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return False, 502, f"Webhook timed out after {round(timeout * 1000)} ms", None
        except (httpx.HTTPError, OSError) as exc:
            return False, 502, f"Webhook request failed: {exc or type(exc).__name__}", None
        status_code = response.status_code
        if 200 <= status_code < 300:
            return True, status_code, None, None
        return False, status_code, f"Webhook returned HTTP {status_code}", response.text[:200]

    def deliver(
        self, webhook_id: str, event_type: str, message_id: str, body: str, request_id: str
    ) -> None:
        """POST one event to one webhook with retries, then record the final outcome."""
        hook = self.store.webhook(None, webhook_id)
        if hook is None:
            return
        cfg = self.config
        delivery_id = str(uuid.uuid4())
        timestamp = int(self.store.clock())
        headers = {
            "content-type": "application/json",
            "x-agent-mail-delivery-id": delivery_id,
            "x-agent-mail-timestamp": str(timestamp),
            "x-agent-mail-signature": signature(hook.secret, timestamp, body),
        }
        data = body.encode("utf-8")
        attempts = max(1, cfg.webhook_attempts)
        ok, status_code, error, excerpt = False, None, None, None
        attempt = 0
        for attempt in range(1, attempts + 1):
            headers["x-agent-mail-attempt"] = str(attempt)
            ok, status_code, error, excerpt = self._post(hook.target_url, data, headers)
            if ok:
                break
            if attempt < attempts and self._closed.wait(cfg.webhook_backoff_s * attempt):
                return  # shutting down
        if self._closed.is_set():
            return
        self.store.record_delivery(
            Delivery(
                id=delivery_id,
                tenant_id=hook.tenant_id,
                webhook_id=webhook_id,
                event_type=event_type,
                message_id=message_id,
                status_code=status_code,
                attempts=attempt,
                ok=ok,
                error_message=error,
                response_excerpt=excerpt,
                request_id=request_id,
            )
        )

"""The tenant API's one route table: method, path pattern, handler.

The first route whose method matches and whose pattern matches the whole path wins (order
matters: ``/v2/messages/send`` before ``/v2/messages/(.*)``). Each group of the pattern is
one more argument of the handler, after ``svc`` and ``request``. ``/v2/admin/*`` is the
operator API's own table (:mod:`tui.sandbox.http.admin`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response

from tui.sandbox.http import auth, billing, internal, mailboxes, messages, meta, send, webhooks

Handler = Callable[..., Awaitable[Response]]
"""``async (svc, request, *path_ids) -> Response``."""

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/healthz", meta.healthz),
    ("GET", r"/v2/meta/runtime", meta.runtime),
    ("POST", r"/v2/auth/siwe/challenge", auth.siwe_challenge),
    ("POST", r"/v2/auth/siwe/verify", auth.siwe_verify),
    ("POST", r"/v2/payments/proof", auth.payment_proof),
    ("GET", r"/v2/mailboxes/accounts", mailboxes.list_accounts),
    ("POST", r"/v2/mailboxes/accounts/(.*)/credentials/reset", mailboxes.reset_credentials),
    ("GET", r"/v2/mailboxes/leases", mailboxes.list_leases),
    ("POST", r"/v2/mailboxes/leases", mailboxes.allocate),
    ("POST", r"/v2/mailboxes/leases/(.*)/release", mailboxes.release),
    ("GET", r"/v2/mailboxes/leases/(.*)", mailboxes.get_lease),
    ("GET", r"/v2/messages", messages.list_messages),
    ("POST", r"/v2/messages/send", send.send_message),
    ("GET", r"/v2/messages/(.*)", messages.get_message),
    ("GET", r"/v2/send-attempts", send.list_send_attempts),
    ("GET", r"/v2/send-attempts/([^/]*)", send.get_send_attempt),
    ("POST", r"/v2/webhooks", webhooks.create_webhook),
    ("GET", r"/v2/webhooks", webhooks.list_webhooks),
    ("GET", r"/v2/webhooks/deliveries", webhooks.list_deliveries),
    ("GET", r"/v2/webhooks/deliveries/([^/]*)", webhooks.get_delivery),
    ("POST", r"/v2/webhooks/([^/]*)/rotate-secret", webhooks.rotate_webhook_secret),
    ("GET", r"/v2/webhooks/([^/]*)", webhooks.get_webhook),
    ("GET", r"/v2/usage/summary", billing.usage_summary),
    ("GET", r"/v2/billing/invoices", billing.list_invoices),
    ("GET", r"/v2/billing/invoices/(.*)", billing.get_invoice),
    ("POST", r"/internal/inbound/events", internal.inbound_event),
    ("POST", r"/internal/tenants", internal.internal_new_tenant),
]

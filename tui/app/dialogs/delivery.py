"""One webhook delivery in full: outcome, HTTP status, attempts, error, the receiver's answer
and the request id (``GET /v2/webhooks/deliveries/{id}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from tui.app.dialogs.detail import DetailDialog, fields_text

if TYPE_CHECKING:
    from tui.api.models import WebhookDelivery


def delivery_text(delivery: WebhookDelivery) -> Text:
    """The delivery's fields as plain text."""
    from tui.api.models import iso_z

    code = str(delivery.status_code) if delivery.status_code is not None else "-"
    return fields_text(
        [
            ("Delivery", delivery.delivery_id, ""),
            ("Webhook", delivery.webhook_id, ""),
            ("Result", "ok" if delivery.ok else "failed", "green" if delivery.ok else "bold red"),
            ("HTTP", code, ""),
            ("Attempts", str(delivery.attempts), ""),
            ("At", iso_z(delivery.delivered_at) or "-", ""),
            ("Error", delivery.error_message or "-", "red" if delivery.error_message else ""),
            ("Response", delivery.response_excerpt or "-", "dim"),
            ("Request", delivery.request_id or "-", "dim"),
        ]
    )


class DeliveryDialog(DetailDialog["WebhookDelivery"]):
    """A webhook delivery, fetched by id."""

    TITLE_TEXT = "Webhook delivery"

    async def fetch(self) -> WebhookDelivery:
        """``GET /v2/webhooks/deliveries/{id}``."""
        return await self.app.services.client.get_webhook_delivery(self.item.delivery_id)

    def render_item(self, item: WebhookDelivery) -> Text:
        """The delivery's fields."""
        return delivery_text(item)

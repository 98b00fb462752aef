"""Webhooks: the list, the selected webhook's delivery log, create and rotate-secret."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.api.models import Webhook, WebhookDelivery
from tui.app.resource_screen import ResourceScreen
from tui.app.widgets.row_table import RowTable
from tui.core.resources import Column, TableSpec
from tui.core.sanitize import clean
from tui.core.timefmt import relative_time

if TYPE_CHECKING:
    from tui.app.dialogs.webhook_new import NewWebhook

REFRESH_SECONDS = 20.0
"""How often the list and the log are fetched again while the screen is shown."""


def status_code_text(code: int | None) -> Text:
    """An HTTP status coloured by class (2xx green, 4xx yellow, 5xx red, none dim)."""
    if code is None:
        return Text("-", style="dim")
    style = "green" if 200 <= code < 300 else "yellow" if 400 <= code < 500 else "bold red"
    return Text(str(code), style=style)


class WebhooksLoaded(Message):
    """The tenant's webhooks arrived."""

    def __init__(self, webhooks: list[Webhook]) -> None:
        super().__init__()
        self.webhooks = webhooks
        """:class:`tui.api.models.Webhook` items, sorted by target as the service sends them."""

    def can_replace(self, message: Message) -> bool:
        """Only the newest list matters."""
        return isinstance(message, WebhooksLoaded)


class DeliveriesLoaded(Message):
    """One webhook's delivery log arrived."""

    def __init__(self, webhook_id: str, deliveries: list[WebhookDelivery]) -> None:
        super().__init__()
        self.webhook_id = webhook_id
        """Whose log it is."""
        self.deliveries = deliveries
        """:class:`tui.api.models.WebhookDelivery` items, newest first."""


class WebhookCreated(Message):
    """A webhook was created."""

    def __init__(self, webhook: Webhook, secret: str | None) -> None:
        super().__init__()
        self.webhook = webhook
        """The new :class:`tui.api.models.Webhook`."""
        self.secret = secret
        """The generated secret to show once (None when the user typed it)."""


class SecretRotated(Message):
    """A webhook got a new secret from the service."""

    def __init__(self, webhook_id: str, secret: str) -> None:
        super().__init__()
        self.webhook_id = webhook_id
        """The webhook."""
        self.secret = secret
        """The new secret (shown once)."""


def webhook_cells(hook: Webhook, now: datetime) -> Sequence[Text]:
    """Target, events, status, last delivery, its code."""
    events = ", ".join(hook.event_types)
    return (
        Text(clean(hook.target_url, 200)),
        Text(clean(events, 60)) if events else Text("(none: never fires)", style="red"),
        Text(clean(hook.status, 12), style="green" if hook.status == "active" else ""),
        Text(
            relative_time(hook.last_delivery_at, now) if hook.last_delivery_at else "never",
            style="dim",
        ),
        status_code_text(hook.last_status_code),
    )


def delivery_cells(d: WebhookDelivery, now: datetime) -> Sequence[Text]:
    """When, code, tries, result, error and response."""
    detail = Text()
    if d.error_message:
        detail.append(clean(d.error_message, 120), style="red")
    if d.response_excerpt:
        if detail:
            detail.append("  ")
        detail.append(clean(d.response_excerpt, 200), style="dim")
    return (
        Text(relative_time(d.delivered_at, now), style="dim"),
        status_code_text(d.status_code),
        Text(str(d.attempts)),
        Text("ok", style="green") if d.ok else Text("failed", style="bold red"),
        detail,
    )


SPEC: TableSpec[Webhook] = TableSpec(
    "webhooks",
    (
        Column("target", "Target"),
        Column("events", "Events"),
        Column("status", "Status", 8),
        Column("last", "Last delivery", 13),
        Column("code", "Code", 4),
    ),
    key=lambda hook: hook.webhook_id,
    cells=webhook_cells,
    noun="webhook",
    empty="No webhooks. Press n to create one.",
)

DELIVERIES: TableSpec[WebhookDelivery] = TableSpec(
    "deliveries",
    (
        Column("when", "When", 9),
        Column("code", "Code", 4),
        Column("attempts", "Tries", 5),
        Column("ok", "Result", 6),
        Column("error", "Error / response"),
    ),
    key=lambda d: d.delivery_id,
    cells=delivery_cells,
    noun="delivery",
)


class WebhooksScreen(ResourceScreen[Webhook]):
    """Webhooks (target, events, status, last delivery) over the selected one's deliveries."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="webhooks.back", tooltip="Back"),
        Binding("n", "new", "New", id="webhooks.new", tooltip="Create a webhook"),
        Binding(
            "R",
            "rotate",
            "Rotate secret",
            id="webhooks.rotate",
            tooltip="Replace the selected webhook's secret (confirm; shown once)",
        ),
        Binding("r", "reload", "Refresh", id="webhooks.refresh", tooltip="Fetch again"),
        Binding("j", "cursor_down", "Down", show=False, id="webhooks.down", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="webhooks.up", tooltip="Previous row"),
        Binding("g", "cursor_top", "Top", show=False, id="webhooks.top", tooltip="First row"),
        Binding("G", "cursor_bottom", "Bottom", show=False, id="webhooks.bottom", tooltip="Last"),
    ]

    spec = SPEC

    def __init__(self) -> None:
        super().__init__()
        self.deliveries_of: str | None = None
        """Webhook id whose log :attr:`deliveries` holds."""
        self.pending_select: str | None = None
        """A webhook to put the cursor on once the list has it (after creation)."""

    def header(self) -> Text:
        """Title."""
        return Text("Webhooks", style="bold")

    def compose_below(self) -> ComposeResult:
        """The selected webhook's delivery log."""
        yield Static(id="deliveries-title")
        yield RowTable(DELIVERIES)

    def on_mount(self) -> None:
        """First load, then every :data:`REFRESH_SECONDS`."""
        self.update_log_title()
        self.set_status("loading webhooks…")
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load)

    @property
    def webhooks(self) -> list[Webhook]:
        """Webhooks as last loaded."""
        return self.all_rows

    @property
    def hooks_table(self) -> RowTable[Webhook]:
        """The webhook list."""
        return self.table

    @property
    def log_table(self) -> RowTable[WebhookDelivery]:
        """The delivery log."""
        return self.query_one("#deliveries-table", RowTable)

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        """The selected webhook's deliveries as last loaded."""
        return self.log_table.shown

    # -- data ------------------------------------------------------------------------------

    @work(exclusive=True, group="webhooks-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the webhooks (the log follows for the selected one)."""
        self.post_message(WebhooksLoaded(await self.app.services.client.list_webhooks()))

    @work(exclusive=True, group="webhooks-deliveries", exit_on_error=False)
    async def load_deliveries(self, webhook_id: str) -> None:
        """Fetch one webhook's deliveries."""
        found = await self.app.services.client.list_webhook_deliveries(webhook_id)
        self.post_message(DeliveriesLoaded(webhook_id, found))

    @on(WebhooksLoaded)
    def webhooks_loaded(self, event: WebhooksLoaded) -> None:
        """Redraw the list, keeping the cursor on the same webhook."""
        keep, self.pending_select = self.pending_select, None
        self.show(event.webhooks, keep=keep)
        count = len(self.webhooks)
        self.set_status(
            f"{count} webhook{'s' if count != 1 else ''} · updated "
            f"{datetime.now().strftime('%H:%M:%S')}"
        )
        self.follow_selection()

    def follow_selection(self) -> None:
        """Load the log of the webhook under the cursor (or clear it)."""
        hook = self.selected()
        if hook is None:
            self.deliveries_of = None
            self.log_table.show([])
            self.update_log_title()
            return
        if hook.webhook_id != self.deliveries_of:
            self.log_table.show([])
            self.deliveries_of = hook.webhook_id
            self.update_log_title(loading=True)
        self.load_deliveries(hook.webhook_id)

    @on(DataTable.RowHighlighted, "#webhooks-table")
    def webhook_highlighted(self) -> None:
        """Moving in the list shows that webhook's log."""
        hook = self.selected()
        if hook is not None and hook.webhook_id != self.deliveries_of:
            self.follow_selection()

    @on(DeliveriesLoaded)
    def deliveries_loaded(self, event: DeliveriesLoaded) -> None:
        """Fill the log (if it is still the selected webhook's)."""
        if event.webhook_id == self.deliveries_of:
            self.log_table.show(event.deliveries)
            self.update_log_title()

    def update_log_title(self, *, loading: bool = False) -> None:
        """``Deliveries of <target>`` with a count."""
        title = Text("Deliveries", style="bold")
        hook = next((h for h in self.webhooks if h.webhook_id == self.deliveries_of), None)
        if hook is None:
            title.append("  (select a webhook)", style="dim")
        else:
            title.append(" of ")
            title.append(clean(hook.target_url, 100))
            if loading:
                title.append("  loading…", style="dim")
            elif not self.deliveries:
                title.append("  none yet (one per new message, up to 3 attempts)", style="dim")
            else:
                failed = sum(1 for d in self.deliveries if not d.ok)
                title.append(f"  {len(self.deliveries)} · {failed} failed", style="dim")
        self.query_one("#deliveries-title", Static).update(title)

    @on(DataTable.RowSelected, "#deliveries-table")
    def delivery_selected(self) -> None:
        """Enter on a delivery: the delivery in full."""
        delivery = self.log_table.selected()
        if delivery is not None:
            from tui.app.dialogs.delivery import DeliveryDialog

            self.app.push_screen(DeliveryDialog(delivery))

    # -- create ----------------------------------------------------------------------------

    def action_new(self) -> None:
        """Ask for target, events and secret, then create."""
        from tui.app.dialogs.webhook_new import WebhookNewDialog

        def done(result: NewWebhook | None) -> None:
            if result is not None:
                self.working("creating webhook…", self.create(result))

        self.app.push_screen(WebhookNewDialog(), done)

    @work(exclusive=True, group="webhooks-create", exit_on_error=False)
    async def create(self, new: NewWebhook) -> None:
        """``POST /v2/webhooks`` (protected: a 402 is paid by the client's proof policy)."""
        hook = await self.app.services.client.create_webhook(
            new.event_types, new.target_url, new.secret
        )
        self.post_message(WebhookCreated(hook, new.secret if new.generated else None))

    @on(WebhookCreated)
    def webhook_created(self, event: WebhookCreated) -> None:
        """Toast, show a generated secret once, refresh and select the new webhook."""
        hook = event.webhook
        self.notify(f"Webhook created for {clean(hook.target_url, 100)}", markup=False)
        self.pending_select = hook.webhook_id
        self.load()
        if event.secret is not None:
            from tui.app.dialogs.webhook_secret import WebhookSecretDialog

            self.app.push_screen(
                WebhookSecretDialog(event.secret, "Webhook created: its secret", hook.target_url)
            )

    # -- rotate ----------------------------------------------------------------------------

    def action_rotate(self) -> None:
        """Confirm, then rotate the selected webhook's secret."""
        hook = self.target()
        if hook is None:
            return

        def rotate() -> None:
            self.working("rotating secret…", self.rotate(hook.webhook_id))

        self.confirm_then(
            f"Rotate the secret of {clean(hook.target_url, 100)}?\n"
            "The service makes a new one and shows it once; receivers checking the old "
            "secret reject deliveries until they have the new one.",
            rotate,
            yes="Rotate",
        )

    @work(exclusive=True, group="webhooks-rotate", exit_on_error=False)
    async def rotate(self, webhook_id: str) -> None:
        """``POST /v2/webhooks/{id}/rotate-secret``."""
        secret = await self.app.services.client.rotate_webhook_secret(webhook_id)
        self.post_message(SecretRotated(webhook_id, secret))

    @on(SecretRotated)
    def secret_rotated(self, event: SecretRotated) -> None:
        """Show the new secret once."""
        from tui.app.dialogs.webhook_secret import WebhookSecretDialog

        hook = next((h for h in self.webhooks if h.webhook_id == event.webhook_id), None)
        self.set_status("secret rotated")
        self.app.push_screen(
            WebhookSecretDialog(event.secret, "New webhook secret", hook.target_url if hook else "")
        )

    def action_reload(self) -> None:
        """Fetch again now."""
        self.working("refreshing…", self.load())

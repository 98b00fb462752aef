"""One invoice: period, amount, status, statement and settlement hashes (fetched on open)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.first_resume import StyledOnce
from tui.app.routing import WorkerErrors
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.api.models import Invoice
    from tui.app.app import MailagentsApp

STATUS_STYLE = {"draft": "yellow", "issued": "green"}
"""Colour of an invoice status."""


def invoice_text(invoice: Invoice, period: str | None) -> Text:
    """The invoice's fields, every value as plain text."""
    text = Text()
    rows = [
        ("Invoice", invoice.invoice_id, ""),
        ("Period", period or invoice.period or "-", "bold"),
        ("From", invoice.period_start or "-", ""),
        ("To", invoice.period_end or "-", ""),
        ("Amount", f"{invoice.amount_usdc:.6f} USDC", "bold"),
        ("Status", invoice.status, STATUS_STYLE.get(invoice.status, "")),
        ("Statement", invoice.statement_hash or "- (set when issued)", ""),
        ("Settlement", invoice.settlement_tx_hash or "-", ""),
    ]
    for i, (label, value, style) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(f"{label:<12}", style="dim")
        text.append(clean(value, 120), style=style)
    return text


class InvoiceLoaded(Message):
    """An invoice's detail arrived."""

    def __init__(self, invoice: Invoice) -> None:
        super().__init__()
        self.invoice = invoice
        """The :class:`tui.api.models.Invoice` detail."""


class InvoiceDialog(StyledOnce, WorkerErrors, ModalScreen[None]):
    """Shows a list item at once, then the detail (statement hash) when it arrives."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="invoice.close", tooltip="Close"),
    ]

    app: MailagentsApp  # type: ignore[assignment]

    def __init__(self, invoice: Invoice) -> None:
        super().__init__()
        self.invoice = invoice
        """The :class:`tui.api.models.Invoice` shown (the list item, then the detail)."""
        self.period = invoice.period
        """``YYYY-MM`` from the list item (the detail lacks it)."""
        self.loaded = False
        """Whether the detail arrived."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog", id="invoice-dialog"):
            yield Static(Text("Invoice", style="bold"))
            yield Static(invoice_text(self.invoice, self.period), id="invoice-body")
            yield Static(Text("loading details…", style="dim"), id="invoice-status")

    def on_mount(self) -> None:
        """Fetch the detail."""
        self.load()

    @work(exclusive=True, group="invoice-detail", exit_on_error=False)
    async def load(self) -> None:
        """``GET /v2/billing/invoices/{id}``; a failure goes to the router (shown in place)."""
        self.post_message(
            InvoiceLoaded(await self.app.services.client.get_invoice(self.invoice.invoice_id))
        )

    @on(InvoiceLoaded)
    def invoice_loaded(self, event: InvoiceLoaded) -> None:
        """Show the detail."""
        self.invoice = event.invoice
        self.loaded = True
        self.query_one("#invoice-body", Static).update(invoice_text(event.invoice, self.period))
        self.set_status("enter or escape closes")

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The dialog's status line (also used by the error router)."""
        self.query_one("#invoice-status", Static).update(
            Text(message, style="bold red" if error else "dim")
        )

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

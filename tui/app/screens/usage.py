"""Usage and billing: a month's figures, the price of paid calls, a 6-month sparkline of API
calls, and the invoices (enter shows one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Sparkline, Static

from tui.api.models import Invoice, Runtime, UsageSummary
from tui.app.resource_screen import ResourceScreen
from tui.app.widgets.key_footer import KeyFooter
from tui.app.widgets.row_table import RowTable
from tui.core.billing import current_period, recent_periods, shift_period
from tui.core.resources import Column, TableSpec
from tui.core.sanitize import clean

SPARK_MONTHS = 6
"""Months in the sparkline (the selected one and the five before)."""

SPARK_COLUMN = 8
"""Columns per month in the sparkline (``YYYY-MM`` plus a space)."""

STATUS_STYLE = {"draft": "yellow", "issued": "green"}
"""Colour of an invoice status."""


class UsageLoaded(Message):
    """A month's usage, the runtime and the sparkline's monthly totals arrived."""

    def __init__(self, summary: UsageSummary, runtime: Runtime, monthly: dict[str, int]) -> None:
        super().__init__()
        self.summary = summary
        """:class:`tui.api.models.UsageSummary` of the selected month."""
        self.runtime = runtime
        """:class:`tui.api.models.Runtime` (price of a paid call)."""
        self.monthly = monthly
        """``YYYY-MM`` -> API calls, for the sparkline's months."""

    def can_replace(self, message: Message) -> bool:
        """Only the newest figures matter."""
        return isinstance(message, UsageLoaded)


class InvoicesLoaded(Message):
    """The invoices arrived."""

    def __init__(self, invoices: list[Invoice]) -> None:
        super().__init__()
        self.invoices = invoices
        """:class:`tui.api.models.Invoice` list items, newest period first."""


def invoice_cells(inv: Invoice, now: datetime) -> Sequence[Text]:
    """Period, amount, status, from, to, settlement."""
    return (
        Text(clean(inv.period or "-", 10)),
        Text(f"{inv.amount_usdc:.6f}", justify="right"),
        Text(clean(inv.status, 12), style=STATUS_STYLE.get(inv.status, "")),
        Text(clean(inv.period_start or "-", 12), style="dim"),
        Text(clean(inv.period_end or "-", 12), style="dim"),
        Text(clean(inv.settlement_tx_hash or "-", 80), style="dim"),
    )


SPEC: TableSpec[Invoice] = TableSpec(
    "invoices",
    (
        Column("period", "Period", 8),
        Column("amount", "Amount (USDC)", 14),
        Column("status", "Status", 8),
        Column("start", "From", 10),
        Column("end", "To", 10),
        Column("settlement", "Settlement"),
    ),
    key=lambda inv: inv.invoice_id,
    cells=invoice_cells,
    noun="invoice",
)


class UsageScreen(ResourceScreen[Invoice]):
    """Usage of one month (``h``/``l`` or ``[``/``]`` change it) and the invoices."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="usage.back", tooltip="Back"),
        Binding(
            "h,left_square_bracket",
            "previous_period",
            "Prev month",
            id="usage.previous",
            tooltip="Show the month before",
        ),
        Binding(
            "l,right_square_bracket",
            "next_period",
            "Next month",
            id="usage.next",
            tooltip="Show the month after (up to the current one)",
        ),
        Binding("r", "reload", "Refresh", id="usage.refresh", tooltip="Fetch everything again"),
        Binding("enter", "open_invoice", "Invoice", id="usage.invoice", tooltip="Invoice details"),
        Binding("j", "cursor_down", "Down", show=False, id="usage.down", tooltip="Next invoice"),
        Binding("k", "cursor_up", "Up", show=False, id="usage.up", tooltip="Previous invoice"),
    ]

    spec = SPEC

    def __init__(self, period: str | None = None) -> None:
        super().__init__()
        self.period = period or current_period()
        """The month shown, ``YYYY-MM`` (default: the current UTC month)."""
        self.summary: UsageSummary | None = None
        """The shown month's :class:`tui.api.models.UsageSummary`, once loaded."""
        self.runtime: Runtime | None = None
        """The service's runtime, once loaded."""
        self.monthly: dict[str, int] = {}
        """API calls per month fetched so far (past months do not change; ``r`` refetches)."""

    @property
    def invoices(self) -> list[Invoice]:
        """Invoices as last loaded."""
        return self.all_rows

    def compose(self) -> ComposeResult:
        """The month's figures above the invoice list."""
        yield Static(Text("Usage & billing", style="bold"), id="usage-header")
        yield Static(id="usage-period")
        yield Static(id="usage-figures")
        yield Static(id="usage-payments")
        yield Static(id="usage-spark-title")
        yield Sparkline([], id="usage-spark")
        yield Static(id="usage-spark-labels")
        yield Static(Text("Invoices", style="bold"), id="invoices-title")
        yield RowTable(self.spec)
        yield Static(id="status-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """First load."""
        self.query_one("#usage-spark", Sparkline).styles.width = SPARK_MONTHS * SPARK_COLUMN
        self.show_period()
        self.show_payments()
        self.set_status("loading usage…")
        self.load_usage(self.period)
        self.load_invoices()
        self.set_interval(2.0, self.show_payments)

    # -- data ------------------------------------------------------------------------------

    @work(exclusive=True, group="usage-load", exit_on_error=False)
    async def load_usage(self, period: str) -> None:
        """The month's summary, the runtime, and the sparkline months not fetched yet."""
        client = self.app.services.client
        missing = [p for p in recent_periods(period, SPARK_MONTHS) if p not in self.monthly]
        missing = [p for p in missing if p != period]
        summary, runtime, others = await asyncio.gather(
            client.usage_summary(period),
            self.app.services.session.get_runtime(),
            asyncio.gather(*(client.usage_summary(p) for p in missing)),
        )
        monthly = {period: summary.api_calls}
        monthly.update({p: s.api_calls for p, s in zip(missing, others, strict=True)})
        self.post_message(UsageLoaded(summary, runtime, monthly))

    @work(exclusive=True, group="usage-invoices", exit_on_error=False)
    async def load_invoices(self) -> None:
        """Every invoice."""
        self.post_message(InvoicesLoaded(await self.app.services.client.list_invoices()))

    @on(UsageLoaded)
    def usage_loaded(self, event: UsageLoaded) -> None:
        """Show the figures, the price and the sparkline."""
        self.monthly.update(event.monthly)
        self.runtime = event.runtime
        if event.summary.period and event.summary.period != self.period:
            return  # the user moved on; that month's load follows
        self.summary = event.summary
        self.show_figures()
        self.show_payments()
        self.show_sparkline()
        self.set_status(f"usage of {self.period}")

    @on(InvoicesLoaded)
    def invoices_loaded(self, event: InvoicesLoaded) -> None:
        """Fill the invoice table and select the shown month's invoice."""
        self.show(event.invoices)
        self.select_period_invoice()
        if not event.invoices:
            self.query_one("#invoices-title", Static).update(
                Text.assemble(("Invoices", "bold"), ("  none yet", "dim"))
            )

    # -- drawing ---------------------------------------------------------------------------

    def show_period(self) -> None:
        """The period picker line."""
        text = Text()
        text.append("◀ ", style="dim")
        text.append(f" {self.period} ", style="bold reverse")
        at_current = self.period >= current_period()
        text.append(" ▶", style="dim" if not at_current else "")
        if at_current:
            text.append("  current month", style="green")
        text.append("   h/[ previous · l/] next", style="dim")
        self.query_one("#usage-period", Static).update(text)

    def show_figures(self) -> None:
        """API calls, active mailboxes, parses, billable units."""
        s = self.summary
        text = Text()
        if s is None:
            text.append("loading…", style="dim")
        else:
            rows = [
                ("API calls", s.api_calls, "allocate, release, reset, list, send, webhook"),
                ("Active mailboxes", s.active_mailboxes, "now, whatever the month"),
                ("Message parses", s.message_parses, "message list calls"),
                ("Billable units", s.billable_units, ""),
            ]
            for i, (label, value, note) in enumerate(rows):
                if i:
                    text.append("\n")
                text.append(f"{label:<18}", style="dim")
                text.append(f"{value:>8}", style="bold")
                if note:
                    text.append(f"   {note}", style="dim")
        self.query_one("#usage-figures", Static).update(text)

    def show_payments(self) -> None:
        """Price of a paid call (runtime) and this session's paid calls (client)."""
        client = self.app.services.client
        text = Text()
        text.append("Paid call price   ", style="dim")
        runtime = self.runtime
        charge = runtime.overage_charge_usdc if runtime is not None else None
        if runtime is None or charge is None:
            text.append("…" if runtime is None else "unknown", style="dim")
        else:
            text.append(f"{charge:g} USDC", style="bold")
            text.append(f" per call past a free limit ({runtime.payment_mode})", style="dim")
        text.append("\nThis session      ", style="dim")
        text.append(f"{client.paid_calls} paid call{'s' if client.paid_calls != 1 else ''}")
        text.append(f" · {client.paid_usdc:g} USDC", style="yellow" if client.paid_calls else "")
        self.query_one("#usage-payments", Static).update(text)

    def show_sparkline(self) -> None:
        """API calls per month for the six months ending with the shown one."""
        periods = recent_periods(self.period, SPARK_MONTHS)
        values = [self.monthly.get(p, 0) for p in periods]
        title = Text()
        title.append("API calls per month", style="bold")
        title.append(
            f"  {periods[0]} … {periods[-1]} (the API reports monthly totals, not daily ones)",
            style="dim",
        )
        self.query_one("#usage-spark-title", Static).update(title)
        self.query_one("#usage-spark", Sparkline).data = values
        labels = Text()
        for p, v in zip(periods, values, strict=True):
            labels.append(f"{v:<{SPARK_COLUMN}}", style="bold" if p == self.period else "")
        labels.append("\n")
        for p in periods:
            labels.append(f"{p:<{SPARK_COLUMN}}", style="bold" if p == self.period else "dim")
        self.query_one("#usage-spark-labels", Static).update(labels)

    def select_period_invoice(self) -> None:
        """Put the invoice cursor on the shown month's invoice, when there is one."""
        found = next((i for i in self.invoices if i.period == self.period), None)
        if found is not None:
            self.table.select(found.invoice_id)

    # -- keys ------------------------------------------------------------------------------

    def go_to(self, period: str) -> None:
        """Show another month."""
        self.period = period
        self.summary = None
        self.show_period()
        self.show_figures()
        self.show_sparkline()
        self.select_period_invoice()
        self.working(f"loading {period}…", self.load_usage(period))

    def action_previous_period(self) -> None:
        """The month before."""
        with contextlib.suppress(ValueError):
            self.go_to(shift_period(self.period, -1))

    def action_next_period(self) -> None:
        """The month after, never past the current one."""
        following = shift_period(self.period, 1)
        if following > current_period():
            self.notify("No usage in the future", severity="warning")
            return
        self.go_to(following)

    def action_reload(self) -> None:
        """Fetch everything again."""
        self.monthly.clear()
        self.working("refreshing…", self.load_usage(self.period))
        self.load_invoices()

    def open_row(self) -> None:
        """Enter on an invoice row."""
        self.action_open_invoice()

    def action_open_invoice(self) -> None:
        """Show the selected invoice."""
        invoice = self.target()
        if invoice is not None:
            from tui.app.dialogs.invoice import InvoiceDialog

            self.app.push_screen(InvoiceDialog(invoice))

"""Sent: the tenant's send attempts with their status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui.app.routing import WorkerErrors
from tui.app.widgets.key_footer import KeyFooter
from tui.core.sanitize import clean
from tui.core.timefmt import relative_time

if TYPE_CHECKING:
    from tui.app.app import MailagentsApp

STATUS_STYLE = {"accepted": "green", "queued": "yellow", "failed": "bold red"}


class AttemptsLoaded(Message):
    """Send attempts arrived."""

    def __init__(self, attempts: list, delivered: set[str] | None = None) -> None:
        super().__init__()
        self.attempts = attempts
        """:class:`tui.api.models.SendAttempt` items."""
        self.delivered = delivered or set()
        """Ids of the attempts seen arriving in a recipient lease's mailbox."""


class SentScreen(WorkerErrors, Screen[None]):
    """Send attempts, newest first."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="sent.back", tooltip="Back"),
        Binding("enter", "open_attempt", "Details", id="sent.open", tooltip="The attempt in full"),
        Binding("r", "reload", "Refresh", id="sent.refresh", tooltip="Fetch again"),
        Binding("j", "cursor_down", "Down", show=False, id="sent.down", tooltip="Next"),
        Binding("k", "cursor_up", "Up", show=False, id="sent.up", tooltip="Previous"),
    ]

    app: MailagentsApp  # type: ignore[assignment]

    attempts: list = []
    """The attempts shown, newest first (:class:`tui.api.models.SendAttempt`)."""

    def compose(self) -> ComposeResult:
        """Layout."""
        yield Static(Text("Sent", style="bold"), id="sent-header")
        table: DataTable[Text] = DataTable(id="sent-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="status-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns and first load."""
        table = self.query_one(DataTable)
        table.add_column("When", key="when", width=9)
        table.add_column("Status", key="status", width=9)
        table.add_column("To", key="to", width=34)
        table.add_column("Subject", key="subject")
        table.add_column("Error", key="error")
        self.set_status("loading…")
        self.load()
        table.focus()

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The status line."""
        self.query_one("#status-bar", Static).update(
            Text(message, style="bold red" if error else "")
        )

    @work(exclusive=True, group="sent-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the attempts; then look for those sent to this tenant's own leases in the
        recipients' mailboxes ("delivered" once there; others stay "accepted")."""
        from tui.core.delivery import delivered_attempts

        client = self.app.services.client
        attempts = await client.list_send_attempts()
        self.post_message(AttemptsLoaded(attempts))
        leases = [
            view.lease
            for screen in self.app.screen_stack
            for view in getattr(screen, "views", [])
            if hasattr(view, "lease")
        ]
        delivered = await delivered_attempts(client, attempts, leases)
        if delivered:
            self.post_message(AttemptsLoaded(attempts, delivered))

    @on(AttemptsLoaded)
    def loaded(self, event: AttemptsLoaded) -> None:
        """Fill the table."""
        table = self.query_one(DataTable)
        table.clear()
        self.attempts = list(event.attempts)
        now = datetime.now(UTC)  # one clock for every row
        for a in event.attempts:
            status = Text(
                clean(a.submission_status, 12), style=STATUS_STYLE.get(a.submission_status, "")
            )
            if a.send_attempt_id in event.delivered:
                status = Text("delivered", style="bold green")
            to = ", ".join(a.to)
            if a.rejected:
                to += f"  (rejected: {', '.join(a.rejected)})"
            table.add_row(
                Text(relative_time(a.created_at, now), style="dim"),
                status,
                Text(clean(to, 120)),
                Text(clean(a.subject, 200)),
                Text(clean(a.error or "", 200), style="red"),
                key=a.send_attempt_id,
            )
        count = len(event.attempts)
        self.set_status(
            f"{count} send attempt{'s' if count != 1 else ''}" if count else "Nothing sent yet."
        )

    @on(DataTable.RowSelected, "#sent-table")
    def attempt_selected(self) -> None:
        """Enter on a row."""
        self.action_open_attempt()

    def action_open_attempt(self) -> None:
        """Show the selected attempt in full."""
        table = self.query_one(DataTable)
        attempt = None
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            attempt = next((a for a in self.attempts if a.send_attempt_id == key), None)
        if attempt is None:
            self.notify("No send attempt selected", severity="warning")
            return
        from tui.app.dialogs.send_attempt import SendAttemptDialog

        self.app.push_screen(SendAttemptDialog(attempt))

    def action_reload(self) -> None:
        """Refresh."""
        self.load()

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()

    def action_cursor_down(self) -> None:
        """vim j."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """vim k."""
        self.query_one(DataTable).action_cursor_up()

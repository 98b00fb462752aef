"""Sent: the tenant's send attempts with their status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message

from tui.api.models import SendAttempt
from tui.app.resource_screen import ResourceScreen
from tui.core.resources import Column, TableSpec
from tui.core.sanitize import clean
from tui.core.timefmt import relative_time

STATUS_STYLE = {"accepted": "green", "queued": "yellow", "failed": "bold red"}


class AttemptsLoaded(Message):
    """Send attempts arrived."""

    def __init__(self, attempts: list[SendAttempt], delivered: set[str] | None = None) -> None:
        super().__init__()
        self.attempts = attempts
        """The attempts, newest first."""
        self.delivered = delivered or set()
        """Ids of the attempts seen arriving in a recipient lease's mailbox."""


@dataclass(frozen=True)
class SentRow:
    """One attempt and whether it was seen arriving."""

    attempt: SendAttempt
    """The attempt."""
    delivered: bool
    """Seen in a recipient lease's mailbox."""


def cells(row: SentRow, now: datetime) -> Sequence[Text]:
    """When, status, to (and rejected), subject, error."""
    a = row.attempt
    status = Text(clean(a.submission_status, 12), style=STATUS_STYLE.get(a.submission_status, ""))
    if row.delivered:
        status = Text("delivered", style="bold green")
    to = ", ".join(a.to)
    if a.rejected:
        to += f"  (rejected: {', '.join(a.rejected)})"
    return (
        Text(relative_time(a.created_at, now), style="dim"),
        status,
        Text(clean(to, 120)),
        Text(clean(a.subject, 200)),
        Text(clean(a.error or "", 200), style="red"),
    )


SPEC: TableSpec[SentRow] = TableSpec(
    "sent",
    (
        Column("when", "When", 9),
        Column("status", "Status", 9),
        Column("to", "To", 34),
        Column("subject", "Subject"),
        Column("error", "Error"),
    ),
    key=lambda row: row.attempt.send_attempt_id,
    cells=cells,
    noun="send attempt",
)


class SentScreen(ResourceScreen[SentRow]):
    """Send attempts, newest first."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="sent.back", tooltip="Back"),
        Binding("enter", "open_attempt", "Details", id="sent.open", tooltip="The attempt in full"),
        Binding("r", "reload", "Refresh", id="sent.refresh", tooltip="Fetch again"),
        Binding("j", "cursor_down", "Down", show=False, id="sent.down", tooltip="Next"),
        Binding("k", "cursor_up", "Up", show=False, id="sent.up", tooltip="Previous"),
    ]

    spec = SPEC

    def header(self) -> Text:
        """Title."""
        return Text("Sent", style="bold")

    def on_mount(self) -> None:
        """First load."""
        self.set_status("loading…")
        self.load()

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
        self.show([SentRow(a, a.send_attempt_id in event.delivered) for a in event.attempts])
        count = len(event.attempts)
        self.set_status(
            f"{count} send attempt{'s' if count != 1 else ''}" if count else "Nothing sent yet."
        )

    def open_row(self) -> None:
        """Enter on a row."""
        self.action_open_attempt()

    def action_open_attempt(self) -> None:
        """Show the selected attempt in full."""
        row = self.target()
        if row is not None:
            from tui.app.dialogs.send_attempt import SendAttemptDialog

            self.app.push_screen(SendAttemptDialog(row.attempt))

    def action_reload(self) -> None:
        """Refresh."""
        self.working("refreshing…", self.load())

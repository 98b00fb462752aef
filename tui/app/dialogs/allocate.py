"""Allocate a mailbox: purpose and ttl hours, validated in place."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.core.leases import LeaseInputError, validate_lease_input


class AllocateDialog(ModalScreen[tuple[str, int] | None]):
    """Returns ``(purpose, ttl_hours)`` or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="allocate.cancel", tooltip="Close"),
    ]

    def __init__(self, purpose: str = "signup", ttl_hours: int = 1) -> None:
        super().__init__()
        self.default_purpose = purpose
        """Initial purpose."""
        self.default_ttl = ttl_hours
        """Initial ttl."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog"):
            yield Static(Text("Allocate a mailbox", style="bold"))
            yield Label("Purpose")
            yield Input(self.default_purpose, id="purpose", max_length=200)
            yield Label("TTL hours (1-720)")
            yield Input(str(self.default_ttl), id="ttl", type="integer", max_length=3)
            yield Static(id="allocate-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Allocate", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the purpose."""
        self.query_one("#purpose", Input).focus()

    def submit(self) -> None:
        """Validate and return."""
        purpose = self.query_one("#purpose", Input).value
        ttl = self.query_one("#ttl", Input).value
        try:
            result = validate_lease_input(purpose, ttl)
        except LeaseInputError as exc:
            self.query_one("#allocate-error", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(result)

    @on(Input.Submitted)
    def input_submitted(self) -> None:
        """Enter in a field submits."""
        self.submit()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        """Allocate button."""
        self.submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without allocating."""
        self.dismiss(None)

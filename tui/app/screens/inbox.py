"""Inbox of one lease (placeholder until the inbox issue lands)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.core.sanitize import clean


class InboxScreen(Screen[None]):
    """Messages of one lease."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="inbox.back", tooltip="Back to the leases"),
    ]

    def __init__(self, view: Any) -> None:
        super().__init__()
        self.view = view
        """The :class:`tui.core.leases.LeaseView` whose mail is shown."""

    def compose(self) -> ComposeResult:
        """Layout."""
        text = Text("Inbox  ", style="bold")
        text.append(clean(self.view.lease.address), style="bold cyan")
        text.append("\n\nThe live inbox is not built yet. escape goes back.", style="dim")
        yield Static(text, id="inbox-placeholder")
        yield Footer()

    def action_back(self) -> None:
        """Back to the lease list."""
        self.app.pop_screen()

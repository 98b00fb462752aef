"""An unexpected error, with details, instead of a crash."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.first_resume import StyledOnce


class ErrorDialog(StyledOnce, ModalScreen[None]):
    """Shows a title and the details of an error; escape or enter closes."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="error.close", tooltip="Close"),
    ]

    def __init__(self, title: str, details: str) -> None:
        super().__init__()
        self.title_text = title
        """One line."""
        self.details = details
        """Traceback or explanation (plain text)."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog error"):
            yield Static(Text(self.title_text, style="bold red"))
            with VerticalScroll(classes="error-details"):
                yield Static(Text(self.details))
            yield Static(Text("Nothing was lost. escape closes this.", style="dim"))

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

"""A modal with a message that workers update (e.g. releasing leases on quit)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import LoadingIndicator, Static

from tui.app.first_resume import StyledOnce


class ProgressDialog(StyledOnce, ModalScreen[None]):
    """Shows progress of something that must finish before going on."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message
        """Initial text."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog"):
            yield Static(Text(self.message), id="progress-text")
            yield LoadingIndicator()

    def update(self, message: str) -> None:
        """Change the text."""
        self.query_one("#progress-text", Static).update(Text(message))

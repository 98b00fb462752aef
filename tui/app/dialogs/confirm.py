"""A yes/no question."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.first_resume import StyledOnce


class ConfirmDialog(StyledOnce, ModalScreen[bool]):
    """Asks a question; ``y``/enter answers yes, ``n``/escape no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Yes"),
        Binding("n", "answer(False)", "No", id="confirm.no", tooltip="No"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel", tooltip="No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        """The question (plain text, never markup)."""
        self.yes_label = yes
        """Label of the yes button."""
        self.no_label = no
        """Label of the no button."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog"):
            yield Static(Text(self.question), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} (y)", variant="warning", id="yes")
                yield Button(f"{self.no_label} (n)", id="no")

    def on_mount(self) -> None:
        """Focus yes."""
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        """Answer with the button."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        """Answer by key."""
        self.dismiss(value)

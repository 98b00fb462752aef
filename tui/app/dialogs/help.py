"""All keys of the current screen and the app (``?``)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def bindings_table(screen: Screen) -> Table:
    """A table of every active binding (key, action, what it does)."""
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Key", style="bold cyan", no_wrap=True)
    table.add_column("Action")
    table.add_column("What it does", style="dim")
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        label = binding.description or binding.action
        if (key, label) in seen:
            continue
        seen.add((key, label))
        display = screen.app.get_key_display(binding)
        table.add_row(Text(display), Text(label), Text(binding.tooltip or ""))
    return table


class HelpDialog(ModalScreen[None]):
    """Lists every key of the screen below."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.target = screen
        """The screen whose keys are shown."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys", style="bold"))
            yield Static(bindings_table(self.target))
            yield Static(
                Text("ctrl+p opens the command palette. escape or ? closes this.", style="dim")
            )

    def action_dismiss(self) -> None:  # type: ignore[override]
        """Close."""
        self.dismiss(None)

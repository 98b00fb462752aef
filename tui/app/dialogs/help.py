"""All keys of the current screen and the app (``?``)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(key, action, what it does) for every active binding of ``screen``."""
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        label = binding.description or binding.action
        if (key, label) in seen:
            continue
        seen.add((key, label))
        rows.append((screen.app.get_key_display(binding), label, binding.tooltip or ""))
    return rows


def bindings_table(rows: list[tuple[str, str, str]]) -> Table:
    """A table of bindings."""
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Key", style="bold cyan", no_wrap=True)
    table.add_column("Action")
    table.add_column("What it does", style="dim")
    for key, label, tip in rows:
        table.add_row(Text(key), Text(label), Text(tip))
    return table


class HelpDialog(ModalScreen[None]):
    """Lists every key of the screen below."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.rows = binding_rows(screen)
        """(key, action, description) shown."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys", style="bold"))
            yield Static(bindings_table(self.rows))
            yield Static(
                Text("ctrl+p opens the command palette. escape or ? closes this.", style="dim")
            )

    def action_dismiss(self) -> None:  # type: ignore[override]
        """Close."""
        self.dismiss(None)

"""All keys of the current screen and the app (``?``): the screen's own first, then the rest."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.app.first_resume import StyledOnce

GROUPS = ("This screen", "Everywhere", "Generic keys")
"""Sections of the help, in order."""


def group_of(node: DOMNode, binding: Binding) -> str:
    """Which section a binding belongs to: the screen's (or one of our widgets'), the app's,
    or a generic Textual one (focus, scrolling, editing). Every binding of ours has an id
    (Textual's own have none)."""
    if not binding.id:
        return GROUPS[2]
    if isinstance(node, App) or binding.id.startswith("app."):
        return GROUPS[1]
    return GROUPS[0]


def grouped_rows(screen: Screen) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(section title, rows) for the sections that have keys, in :data:`GROUPS` order."""
    rows_by: dict[str, list[tuple[str, str, str]]] = {g: [] for g in GROUPS}
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description:
            continue
        group = group_of(active.node, binding)
        display = screen.app.get_key_display(binding)
        existing = next((r for r in rows_by[group] if r[1] == binding.description), None)
        if (group, binding.action) in seen and existing is not None:
            if display not in existing[0].split(" "):
                index = rows_by[group].index(existing)
                rows_by[group][index] = (f"{existing[0]} {display}", *existing[1:])
            continue
        seen.add((group, binding.action))
        rows_by[group].append((display, binding.description, binding.tooltip or ""))
    return [(g, rows_by[g]) for g in GROUPS if rows_by[g]]


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """Every (key, action, what it does) of :func:`grouped_rows`, in order."""
    return [row for _title, rows in grouped_rows(screen) for row in rows]


def bindings_table(rows: list[tuple[str, str, str]]) -> Table:
    """A table of bindings."""
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
    table.add_column("Key", style="bold cyan", no_wrap=True)
    table.add_column("Action", no_wrap=True)
    table.add_column("What it does", style="dim", ratio=1)
    for key, label, tip in rows:
        table.add_row(Text(key), Text(label), Text(tip))
    return table


class HelpDialog(StyledOnce, ModalScreen[None]):
    """Lists every key of the screen below, its own keys first; then what the screen says
    about its state in full (a long reason cut in the status bar)."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.sections = grouped_rows(screen)
        """(section title, rows of (key, action, description)) shown."""
        self.rows = [row for _title, rows in self.sections for row in rows]
        """Every (key, action, description) shown, in order."""
        notes = getattr(screen, "help_notes", None)
        self.notes: list[Text] = list(notes()) if callable(notes) else []
        """What the screen reports about its state, whole (e.g. why IMAP is off)."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with VerticalScroll(classes="dialog help"):
            if self.notes:
                yield Static(Text("Status", style="bold"))
                for note in self.notes:
                    yield Static(note, classes="help-note")
            for title, rows in self.sections:
                yield Static(Text(title, style="bold"), classes="help-section")
                yield Static(bindings_table(rows))
            yield Static(
                Text(
                    "ctrl+p opens the command palette (every action by name). "
                    "escape or ? closes this.",
                    style="dim",
                )
            )

    def action_dismiss(self) -> None:  # type: ignore[override]
        """Close."""
        self.dismiss(None)

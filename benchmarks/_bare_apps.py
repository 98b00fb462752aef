"""Bare Textual apps the benchmarks compare the product against.

python benchmarks/_bare_apps.py label          # one Label (first-frame baseline)
python benchmarks/_bare_apps.py table 1000     # a DataTable of 1,000 inbox-like rows
"""

from __future__ import annotations

import sys
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label

LABEL_TEXT = "bare textual ready"
"""What the bare label app shows (the first-frame marker)."""


class BareLabelApp(App[None]):
    """One Label: the floor of a Textual app's first frame."""

    def compose(self) -> ComposeResult:
        yield Label(LABEL_TEXT)


class BareTableApp(App[None]):
    """A DataTable with the given rows and vim ``j``/``k``, nothing else."""

    BINDINGS = [
        Binding("j", "down", "Down", id="bare.down"),
        Binding("k", "up", "Up", id="bare.up"),
    ]

    def __init__(self, columns: list[tuple[str, int | None]], rows: list[tuple[Any, ...]]):
        super().__init__()
        self.columns = columns
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable(id="bare-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name, width in self.columns:
            table.add_column(name, key=name, width=width)
        self.load(self.rows)
        table.focus()

    def load(self, rows: list[tuple[Any, ...]]) -> None:
        """Replace the rows."""
        table = self.query_one(DataTable)
        table.clear()
        for i, row in enumerate(rows):
            table.add_row(*row, key=str(i))

    def action_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()


INBOX_COLUMNS: list[tuple[str, int | None]] = [
    ("When", 8),
    ("From", 22),
    ("Code", 10),
    ("Subject", None),
]
"""The inbox list's columns and widths (as ``tui/app/screens/inbox.py`` sets them)."""


def inbox_like_rows(count: int) -> list[tuple[Any, ...]]:
    """Rows that look like the inbox's (rich Text cells)."""
    from rich.text import Text

    rows = []
    for i in range(count):
        rows.append(
            (
                Text(f"{i % 59 + 1}m ago", style="dim"),
                Text(f"no-reply{i % 37}@service{i % 11}.example"),
                Text(f"{100000 + i * 7 % 900000}", style="bold black on yellow")
                if i % 3 == 0
                else Text(""),
                Text(f"Your verification code for account #{i} (message {i} of {count})"),
            )
        )
    return rows


def main(argv: list[str]) -> None:
    mode = argv[0] if argv else "label"
    if mode == "label":
        BareLabelApp().run()
    elif mode == "table":
        count = int(argv[1]) if len(argv) > 1 else 1000
        BareTableApp(INBOX_COLUMNS, inbox_like_rows(count)).run()
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

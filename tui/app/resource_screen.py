"""The tenant list screen every resource list (leases, sent, webhooks...) is an instance of.

A :class:`ResourceScreen` is driven by a :class:`tui.core.resources.TableSpec`: it lays out a
header, the filter field (when the spec filters), the :class:`RowTable`, the empty-list line
(when the spec has one), any widgets the subclass adds, the status bar and the key footer. It
keeps the cursor on the same row across reloads, filters as you type (``/``, escape clears),
moves with vim keys, and offers the one "use the selected row or warn, confirm, then act"
pattern (:meth:`target`, :meth:`confirm_then`). A subclass loads rows in a worker, posts a
message, and calls :meth:`show` with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tui.app.first_resume import StyledOnce
from tui.app.routing import WorkerErrors
from tui.app.widgets.key_footer import KeyFooter
from tui.app.widgets.row_table import RowTable
from tui.core.resources import Row, TableSpec

if TYPE_CHECKING:
    from tui.app.app import MailagentsApp


class ResourceScreen(StyledOnce, WorkerErrors, Screen[None], Generic[Row]):
    """One :class:`TableSpec`'s list, its filter, its status line and its row actions."""

    spec: ClassVar[TableSpec[Any]]  # Any: a ClassVar cannot name the type variable Row
    """What the screen lists (set by each subclass)."""

    app: MailagentsApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        """Current filter (as typed)."""
        self.all_rows: list[Row] = []
        """Rows as last loaded, before the filter."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, filter, table, empty line, the subclass's widgets, status bar, footer."""
        name = self.spec.name
        yield Static(self.header(), id=f"{name}-header")
        if self.spec.matches is not None:
            yield Input(placeholder=self.spec.filter_hint, id=f"{name}-filter")
        yield RowTable(self.spec)
        if self.spec.empty is not None:
            yield Static(id=f"{name}-empty")
        yield from self.compose_below()
        yield Static(id="status-bar")
        yield KeyFooter()

    def header(self) -> Text:
        """The first line (bold title by default)."""
        return Text()

    def compose_below(self) -> ComposeResult:
        """Widgets under the list (none by default)."""
        yield from ()

    def on_mount(self) -> None:
        """Hide the filter and the empty line, focus the list.

        Textual runs this after a subclass's own ``on_mount`` (handlers are called along the
        MRO), so a subclass must not call it again."""
        if self.spec.matches is not None:
            self.query_one(f"#{self.spec.name}-filter", Input).display = False
        if self.spec.empty is not None:
            self.query_one(f"#{self.spec.name}-empty", Static).display = False
        self.table.focus()

    @property
    def table(self) -> RowTable[Row]:
        """The list."""
        return self.query_one(f"#{self.spec.name}-table", RowTable)

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The status line (also the error router's)."""
        self.query_one("#status-bar", Static).update(
            Text(message, style="bold red" if error else "")
        )

    # -- rows -----------------------------------------------------------------------------

    def show(self, rows: list[Row], *, keep: str | None = None) -> None:
        """Show ``rows`` (filtered), keeping the cursor on the same row."""
        self.all_rows = list(rows)
        self.render_rows(keep=keep)

    def render_rows(self, *, keep: str | None = None) -> None:
        """Redraw from :attr:`all_rows` through the filter."""
        self.table.show(self.visible_rows(), keep=keep)
        if self.spec.empty is not None:
            empty = self.query_one(f"#{self.spec.name}-empty", Static)
            if not self.all_rows:
                empty.update(Text(self.spec.empty, style="dim"))
            empty.display = not self.all_rows

    def visible_rows(self) -> list[Row]:
        """Rows that pass the filter."""
        needle = self.filter_text.lower()
        if not needle or self.spec.matches is None:
            return self.all_rows
        matches = self.spec.matches
        return [row for row in self.all_rows if matches(row, needle)]

    def selected(self) -> Row | None:
        """The row under the cursor."""
        return self.table.selected()

    def target(self) -> Row | None:
        """The row under the cursor, or None after saying there is none."""
        row = self.selected()
        if row is None:
            nothing = self.spec.nothing or f"No {self.spec.noun} selected"
            self.notify(nothing, severity="warning")
        return row

    def confirm_then(self, question: str, act: Callable[[], object], *, yes: str = "Yes") -> None:
        """Ask ``question``; run ``act`` on yes."""
        from tui.app.dialogs.confirm import ConfirmDialog

        def done(answer: bool | None) -> None:
            if answer:
                act()

        self.app.push_screen(ConfirmDialog(question, yes=yes), done)

    # -- keys -----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()

    def moving_table(self) -> RowTable[Any]:  # Any: a focused side table lists other rows
        """The table the vim keys move: the focused one, else the list."""
        focused = self.focused
        return focused if isinstance(focused, RowTable) else self.table

    def action_cursor_down(self) -> None:
        """vim j."""
        self.moving_table().action_cursor_down()

    def action_cursor_up(self) -> None:
        """vim k."""
        self.moving_table().action_cursor_up()

    def action_cursor_top(self) -> None:
        """vim g."""
        self.moving_table().cursor_top()

    def action_cursor_bottom(self) -> None:
        """vim G."""
        self.moving_table().cursor_bottom()

    def action_filter(self) -> None:
        """Show and focus the filter input."""
        box = self.query_one(f"#{self.spec.name}-filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        """Hide the filter (escape)."""
        box = self.query_one(f"#{self.spec.name}-filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.render_rows()
            self.table.focus()

    @on(Input.Changed)
    def filter_changed(self, event: Input.Changed) -> None:
        """Filter as you type."""
        if event.input.id == f"{self.spec.name}-filter":
            self.filter_text = event.value.strip()
            self.render_rows()

    @on(Input.Submitted)
    def filter_submitted(self, event: Input.Submitted) -> None:
        """Enter returns to the table, keeping the filter."""
        if event.input.id == f"{self.spec.name}-filter":
            self.table.focus()

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row of the list: :meth:`open_row`."""
        if event.data_table is self.table:
            self.open_row()

    def open_row(self) -> None:
        """What enter does (nothing by default)."""

"""The data table of a :class:`tui.core.resources.TableSpec`: typed rows, cursor kept by key."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Generic

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from tui.core.resources import Row, TableSpec


class RowTable(DataTable[object], Generic[Row]):
    """A row-cursor, zebra-striped table of ``spec``'s rows (id ``{name}-table``)."""

    def __init__(self, spec: TableSpec[Row], *, id: str | None = None) -> None:
        super().__init__(id=id or f"{spec.name}-table", cursor_type="row", zebra_stripes=True)
        self.spec = spec
        """What the table shows."""
        self.shown: list[Row] = []
        """The rows shown, in order (``rows`` is DataTable's own)."""
        for column in spec.columns:
            self.add_column(column.label, key=column.key, width=column.width or None)

    def show(self, rows: list[Row], *, keep: str | None = None) -> None:
        """Redraw with ``rows``; the cursor stays on the same row (or goes to ``keep``)."""
        wanted = keep if keep is not None else self.selected_key()
        self.clear()
        self.shown = list(rows)
        now = datetime.now(UTC)  # one clock for every row
        for row in self.shown:
            self.add_row(*self.spec.cells(row, now), key=self.spec.key(row))
        if wanted is not None:
            self.select(wanted)

    def select(self, key: str) -> None:
        """Put the cursor on the row ``key`` (if it is there)."""
        with contextlib.suppress(RowDoesNotExist):
            self.move_cursor(row=self.get_row_index(key))

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None
        return key

    def selected(self) -> Row | None:
        """The row under the cursor."""
        key = self.selected_key()
        return next((r for r in self.shown if self.spec.key(r) == key), None)

    def update_cells(self, columns: tuple[str, ...], now: datetime) -> None:
        """Redraw only ``columns`` of every row (a live countdown)."""
        keys = [c.key for c in self.spec.columns]
        for row in self.shown:
            cells = self.spec.cells(row, now)
            for column in columns:
                with contextlib.suppress(CellDoesNotExist, RowDoesNotExist):
                    self.update_cell(self.spec.key(row), column, cells[keys.index(column)])

    def cursor_top(self) -> None:
        """vim g."""
        self.move_cursor(row=0)

    def cursor_bottom(self) -> None:
        """vim G."""
        self.move_cursor(row=max(0, self.row_count - 1))

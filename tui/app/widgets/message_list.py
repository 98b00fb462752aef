"""A line-API list for big inboxes: renders only the visible rows, cached, so 10,000 messages
load at once (a DataTable measures every row when it is added)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

CACHE_LINES = 512
"""Rendered lines kept (a few screens' worth)."""


@dataclass(frozen=True)
class Column:
    """A column: label and width (None = the rest of the line)."""

    label: str
    """Header text."""
    width: int | None
    """Cells wide, or None for the remaining width."""
    min_width: int | None = None
    """A fixed column may narrow down to this so that the remaining-width column keeps
    ``MessageList.flex_min`` cells (the subject on an 80-column terminal)."""


class MessageList(ScrollView, can_focus=True):
    """Rows identified by keys; cells come from ``render_row(key)`` on demand."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, id="list.up", tooltip="Previous row"),
        Binding("down", "cursor_down", "Down", show=False, id="list.down", tooltip="Next row"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.pgup", tooltip="Page up"),
        Binding(
            "pagedown", "page_down", "Page down", show=False, id="list.pgdn", tooltip="Page down"
        ),
        Binding("home", "first", "First", show=False, id="list.home", tooltip="First row"),
        Binding("end", "last", "Last", show=False, id="list.end", tooltip="Last row"),
        Binding("enter", "select", "Open", show=False, id="list.select", tooltip="Open"),
    ]

    COMPONENT_CLASSES = {"message-list--header", "message-list--cursor"}

    DEFAULT_CSS = """
    MessageList { height: 1fr; }
    MessageList > .message-list--header { text-style: bold; background: $panel; }
    MessageList > .message-list--cursor { background: $accent 40%; text-style: bold; }
    MessageList:focus > .message-list--cursor { background: $accent; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row (a move repaints only the two rows concerned)."""

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another row."""

        message_list: MessageList
        """The list."""
        key: str | None
        """Key of the highlighted row (None when empty)."""

        @property
        def control(self) -> MessageList:
            """The list (for ``@on(..., selector)``)."""
            return self.message_list

    @dataclass
    class Selected(Message):
        """Enter on a row."""

        message_list: MessageList
        """The list."""
        key: str
        """Key of the selected row."""

        @property
        def control(self) -> MessageList:
            """The list (for ``@on(..., selector)``)."""
            return self.message_list

    def __init__(
        self,
        columns: list[Column],
        render_row: Callable[[str], list[Text]],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = columns
        """Column layout."""
        self.render_row = render_row
        """Cells of a row, as rich Text (never markup)."""
        self.keys: list[str] = []
        """Row keys in display order."""
        self._index: dict[str, int] = {}
        self._cache: OrderedDict[tuple[str, int, int], Strip] = OrderedDict()

    # -- data -----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows in the list."""
        return len(self.keys)

    @property
    def cursor_key(self) -> str | None:
        """Key under the cursor."""
        if not self.keys:
            return None
        return self.keys[min(self.cursor_row, len(self.keys) - 1)]

    def set_rows(self, keys: list[str], *, changed: set[str] | None = None) -> None:
        """Replace the rows, keeping the cursor on the same key when it is still there.

        ``changed`` names rows whose content changed (their cached lines are dropped);
        None drops the whole cache.
        """
        current = self.cursor_key
        self.keys = list(keys)
        self._index = {key: i for i, key in enumerate(self.keys)}
        if changed is None:
            self._cache.clear()
        else:
            for cache_key in [k for k in self._cache if k[0] in changed]:
                del self._cache[cache_key]
        self.virtual_size = Size(self.size.width, len(self.keys) + 1)
        row = self._index.get(current, None) if current is not None else None
        if row is None:
            row = min(self.cursor_row, max(0, len(self.keys) - 1))
        self.set_reactive(MessageList.cursor_row, row)
        self.post_message(self.Highlighted(self, self.cursor_key))
        self.refresh()

    def refresh_rows(self, keys: set[str] | None = None) -> None:
        """Re-render some rows (or all) without changing the order."""
        if keys is None:
            self._cache.clear()
        else:
            for cache_key in [k for k in self._cache if k[0] in keys]:
                del self._cache[cache_key]
        self.refresh()

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of a row (tests and tools)."""
        return self.render_row(self.keys[index])

    def move_cursor(self, *, row: int) -> None:
        """Move the cursor (clamped) and scroll it into view."""
        if not self.keys:
            return
        self.cursor_row = max(0, min(row, len(self.keys) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Scroll to the cursor, redraw the two rows, announce."""
        self._scroll_to_cursor()
        self.refresh_line(old)
        self.refresh_line(new)
        self.post_message(self.Highlighted(self, self.cursor_key))

    def refresh_line(self, row: int) -> None:
        """Redraw one data row (row 0 is the first data row)."""
        y = row + 1 - int(self.scroll_offset.y)
        self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def on_resize(self) -> None:
        """Widths changed: render again."""
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self.keys) + 1)

    # -- rendering ------------------------------------------------------------------------

    flex_min = 30
    """Cells the remaining-width column keeps when narrowing columns with a ``min_width``
    can give them."""

    def _widths(self, width: int) -> list[int]:
        widths = [c.width or 0 for c in self.columns]
        need = self.flex_min - (width - sum(widths) - len(self.columns))
        for index, column in enumerate(self.columns):
            if need <= 0:
                break
            if column.width is not None and column.min_width is not None:
                cut = min(need, column.width - column.min_width)
                widths[index] -= cut
                need -= cut
        rest = max(4, width - sum(widths) - len(self.columns))
        return [
            w if c.width is not None else rest for c, w in zip(self.columns, widths, strict=True)
        ]

    def _line(self, cells: list[Text], width: int, style: Style | None) -> Strip:
        line = Text(no_wrap=True, overflow="ellipsis")
        for cell, cell_width in zip(cells, self._widths(width), strict=False):
            piece = cell.copy()
            piece.no_wrap = True
            piece.truncate(cell_width, overflow="ellipsis", pad=True)
            line.append_text(piece)
            line.append(" ")
        line.truncate(width, pad=True)
        if style is not None:
            line.stylize(style)
        segments = [s for s in line.render(self.app.console) if s.text != "\n"]
        return Strip(segments, width).crop(0, width)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the widget: the header, or a data row."""
        width = self.size.width
        if y == 0:
            header = [Text(c.label) for c in self.columns]
            return self._line(header, width, self.get_component_rich_style("message-list--header"))
        row = int(self.scroll_offset.y) + y - 1
        if row >= len(self.keys):
            return Strip([Segment(" " * width)], width)
        key = self.keys[row]
        highlighted = row == self.cursor_row
        state = (2 if self.has_focus else 1) if highlighted else 0
        cache_key = (key, width, state)
        strip = self._cache.get(cache_key)
        if strip is None:
            style = self.get_component_rich_style("message-list--cursor") if highlighted else None
            strip = self._line(self.render_row(key), width, style)
            self._cache[cache_key] = strip
            if len(self._cache) > CACHE_LINES:
                self._cache.popitem(last=False)
        return strip

    # -- actions --------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        """Previous row."""
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        """Next row."""
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        """A page up."""
        self.move_cursor(row=self.cursor_row - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        """A page down."""
        self.move_cursor(row=self.cursor_row + max(1, self.size.height - 2))

    def action_first(self) -> None:
        """First row."""
        self.move_cursor(row=0)

    def action_last(self) -> None:
        """Last row."""
        self.move_cursor(row=len(self.keys) - 1)

    def action_select(self) -> None:
        """Enter."""
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        """Click a row to highlight it; click the highlighted row to open it."""
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self.keys):
            if row == self.cursor_row:
                self.action_select()
            else:
                self.move_cursor(row=row)

    def on_focus(self) -> None:
        """The cursor looks different with focus."""
        self.refresh()

    def on_blur(self) -> None:
        """The cursor looks different without focus."""
        self.refresh()

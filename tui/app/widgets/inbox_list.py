"""The inbox's message list: when, from, code and subject of each mail, rendered on demand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive

from tui.app.widgets.message_list import Column, MessageList
from tui.core.inbox import InboxItem
from tui.core.sanitize import clean
from tui.core.timefmt import relative_time

COLUMNS = [
    Column("When", 8),
    Column("From", 22, min_width=12),
    Column("Code", 10, min_width=8),
    Column("Subject", None),
]


def code_badge(item: InboxItem) -> Text:
    """The list's code column."""
    if item.sample:
        return Text("sample", style="dim italic")
    if item.code:
        return Text(clean(item.code, 16), style="bold black on yellow")
    if item.link:
        return Text("link", style="bold cyan")
    if item.server_guess:
        return Text(f"{clean(item.server_guess, 12)}?", style="dim")
    return Text("")


def row_cells(item: InboxItem, clock: datetime) -> list[Text]:
    """The list's cells for one message, its time relative to ``clock``."""
    m = item.message
    subject = Text(clean(m.subject, 200), style="dim" if item.sample else "")
    badge = code_badge(item)
    if item.foreign:
        # Mail from before this lease: said in the code column (its code is an earlier
        # lessee's, not one to use), the subject keeps its room.
        subject.stylize("dim")
        badge = Text("older", style="yellow")
    return [
        Text(relative_time(m.received_at, clock), style="dim"),
        Text(clean(m.sender, 60), style="dim" if item.foreign else ""),
        badge,
        subject,
    ]


class InboxList(MessageList):
    """Rows keyed by row key; each row's item comes from ``item_of`` when it is shown."""

    clock: reactive[datetime] = reactive(lambda: datetime.now(UTC), init=False)
    """The one "now" every row's relative time is measured from (so times read in order);
    moved on when mail arrives and every 30 seconds (every row is redrawn)."""

    def __init__(self, item_of: Callable[[str], InboxItem], *, id: str | None = None) -> None:
        super().__init__(COLUMNS, lambda key: row_cells(item_of(key), self.clock), id=id)

    def watch_clock(self) -> None:
        """Every row's time against the new clock."""
        self.refresh_rows()

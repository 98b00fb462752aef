"""A read-only detail dialog: the list item at once, then the service's detail when it arrives.

Subclasses name the title, how to fetch the detail and how to render an item (as plain
``Text``: every value from the service is untrusted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.first_resume import StyledOnce
from tui.app.routing import WorkerErrors
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.app.app import MailagentsApp

Item = TypeVar("Item")
"""What a detail dialog shows (an API model: the list item, then its detail)."""


def fields_text(rows: list[tuple[str, str, str]]) -> Text:
    """``label  value`` lines (label dim, value in its style), values cleaned and capped."""
    text = Text()
    for i, (label, value, style) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(f"{label:<12}", style="dim")
        text.append(clean(value, 300), style=style)
    return text


class DetailLoaded(Message, Generic[Item]):
    """The detail arrived."""

    def __init__(self, item: Item) -> None:
        super().__init__()
        self.item = item
        """The detail object."""


class DetailDialog(StyledOnce, WorkerErrors, ModalScreen[None], Generic[Item]):
    """Shows ``item`` at once, then the detail :meth:`fetch` returns."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="detail.close", tooltip="Close"),
    ]

    TITLE_TEXT: ClassVar[str] = "Details"
    """The dialog's title."""

    app: MailagentsApp  # type: ignore[assignment]

    def __init__(self, item: Item) -> None:
        super().__init__()
        self.item = item
        """What is shown (the list item, then the detail)."""
        self.loaded = False
        """Whether the detail arrived."""

    async def fetch(self) -> Item:
        """The detail of :attr:`item` (one API call)."""
        raise NotImplementedError

    def render_item(self, item: Item) -> Text:
        """The item as text."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog"):
            yield Static(Text(self.TITLE_TEXT, style="bold"))
            yield Static(self.render_item(self.item), id="detail-body")
            yield Static(Text("loading details…", style="dim"), id="detail-status")

    def on_mount(self) -> None:
        """Fetch the detail."""
        self.load()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load(self) -> None:
        """Fetch; a failure goes to the router (shown in place)."""
        self.post_message(DetailLoaded(await self.fetch()))

    @on(DetailLoaded)
    def detail_loaded(self, event: DetailLoaded[Item]) -> None:
        """Show the detail."""
        self.item = event.item
        self.loaded = True
        self.query_one("#detail-body", Static).update(self.render_item(event.item))
        self.set_status("enter or escape closes")

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The dialog's status line (also used by the error router)."""
        self.query_one("#detail-status", Static).update(
            Text(message, style="bold red" if error else "dim")
        )

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

"""A row's raw JSON, scrollable."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.clipboard import copy_text
from tui.app.first_resume import StyledOnce
from tui.core.sanitize import clean_block
from tui.jsontypes import JsonValue


class JsonDialog(StyledOnce, ModalScreen[None]):
    """Shows one object as indented JSON; ``c`` copies it, escape closes."""

    BINDINGS = [
        Binding("c", "copy", "Copy", id="json.copy", tooltip="Copy the JSON"),
        Binding("escape,enter,v,q", "close", "Close", id="json.close", tooltip="Close"),
    ]

    def __init__(self, title: str, data: JsonValue) -> None:
        super().__init__()
        self.title_text = title
        """What the object is."""
        self.text = json.dumps(data, indent=2, ensure_ascii=False)
        """The JSON text (untrusted strings inside are escaped by json.dumps)."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog json-dialog"):
            yield Static(Text(self.title_text, style="bold"))
            with VerticalScroll(classes="json-scroll"):
                yield Static(Text(clean_block(self.text)), id="json-body")
            yield Static(Text("c copies · escape closes", style="dim"))

    def action_copy(self) -> None:
        """Copy the JSON."""
        where = copy_text(self.app, self.text)
        self.notify(f"Copied the JSON to the {where}", markup=False)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

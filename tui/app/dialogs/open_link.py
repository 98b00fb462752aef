"""Before opening a link: show its full host and every warning; open only on confirmation."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.first_resume import StyledOnce
from tui.app.widgets.message_detail import link_text
from tui.core.links import LinkInfo


class OpenLinkDialog(StyledOnce, ModalScreen[bool]):
    """Confirm opening a link; returns True to open."""

    BINDINGS = [
        Binding("y", "answer(True)", "Open", id="link.open", tooltip="Open in the browser"),
        Binding("n,escape", "answer(False)", "Cancel", id="link.cancel", tooltip="Do not open"),
    ]

    def __init__(self, info: LinkInfo) -> None:
        super().__init__()
        self.info = info
        """The inspected link."""

    def compose(self) -> ComposeResult:
        """Layout."""
        info = self.info
        with Vertical(classes="dialog"):
            head = Text("Open this link?\n\n", style="bold")
            head.append("Host  ")
            head.append(info.host or "(none)", style="bold")
            if info.display_host != info.host:
                head.append(f"  (shown as {info.display_host})", style="yellow")
            yield Static(head)
            yield Static(link_text(info), classes="dialog-body")
            if info.warnings:
                warn = Text()
                for line in info.warnings:
                    warn.append(f"! {line}\n", style="bold yellow")
                yield Static(warn, id="link-warnings")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open (y)", variant="warning", id="yes", disabled=not info.openable)
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        """Focus cancel: opening must be a deliberate choice."""
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        """Answer with the button."""
        self.dismiss(event.button.id == "yes" and self.info.openable)

    def action_answer(self, value: bool) -> None:
        """Answer by key."""
        self.dismiss(value and self.info.openable)

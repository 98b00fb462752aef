"""Save an attachment: pick one, choose the folder, see the file name, then save."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.app.first_resume import StyledOnce
from tui.core.attachments import SaveError, safe_filename, save_attachment, tilde
from tui.core.sanitize import clean
from tui.extract import Attachment
from tui.imap.message import size_text


class SaveAttachmentDialog(StyledOnce, ModalScreen[Path | None]):
    """Returns the path written, or None when cancelled. Nothing is written before Save."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="save.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, parts: list[tuple[Attachment, bytes]], folder: Path) -> None:
        super().__init__()
        self.parts = parts
        """The message's attachments with their bytes."""
        self.folder = folder
        """The folder first offered."""
        self.index = 0
        """The attachment chosen."""

    def name_for(self, index: int) -> str:
        """The safe file name of an attachment."""
        att = self.parts[index][0]
        return safe_filename(att.filename, index + 1, att.content_type)

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog"):
            yield Static(Text("Save an attachment", style="bold"))
            if len(self.parts) > 1:
                yield Label("Attachment")
                yield OptionList(
                    *[
                        Option(
                            Text(
                                f"{clean(self.name_for(i), 60)}  "
                                f"{clean(att.content_type, 40)}  {size_text(len(data))}"
                            ),
                            id=str(i),
                        )
                        for i, (att, data) in enumerate(self.parts)
                    ],
                    id="save-which",
                )
            else:
                att, data = self.parts[0]
                yield Static(
                    Text(
                        f"{clean(self.name_for(0), 60)}  {clean(att.content_type, 40)}  "
                        f"{size_text(len(data))}"
                    ),
                    id="save-which-one",
                )
            yield Label("Folder")
            yield Input(tilde(self.folder), id="save-folder")
            yield Static(id="save-target", classes="dialog-body")
            yield Static(id="save-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the list (or the folder) and show the target."""
        if len(self.parts) > 1:
            which = self.query_one("#save-which", OptionList)
            which.highlighted = 0
            which.focus()
        else:
            self.query_one("#save-folder", Input).focus()
        self.show_target()

    def show_target(self) -> None:
        """``Saves as <folder>/<name>`` (a taken name gets `` (1)`` when saved)."""
        folder = self.query_one("#save-folder", Input).value.strip() or "?"
        path = tilde(Path(folder).expanduser() / self.name_for(self.index))
        self.query_one("#save-target", Static).update(
            Text.assemble("Saves as ", (clean(path, 200), "bold"))
        )

    @on(OptionList.OptionHighlighted)
    def chosen(self, event: OptionList.OptionHighlighted) -> None:
        """Another attachment chosen."""
        self.index = int(event.option.id or 0)
        self.show_target()

    @on(OptionList.OptionSelected)
    def picked(self) -> None:
        """Enter on an attachment moves on to the folder."""
        self.query_one("#save-folder", Input).focus()

    @on(Input.Changed, "#save-folder")
    def folder_changed(self) -> None:
        """Follow the folder as it is typed."""
        self.query_one("#save-error", Static).update("")
        self.show_target()

    async def submit(self) -> None:
        """Write the file; an error keeps the dialog open with the reason."""
        folder = self.query_one("#save-folder", Input).value
        data = self.parts[self.index][1]
        try:
            path = await asyncio.to_thread(save_attachment, folder, self.name_for(self.index), data)
        except SaveError as exc:
            self.query_one("#save-error", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(path)

    @on(Input.Submitted)
    async def input_submitted(self) -> None:
        """Enter in the folder saves."""
        await self.submit()

    @on(Button.Pressed, "#ok")
    async def ok(self) -> None:
        """Save button."""
        await self.submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)

"""A message's headers or whole source (``H`` in the inbox); ``e`` saves it as ``.eml``."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.first_resume import StyledOnce
from tui.app.widgets.key_footer import KeyFooter
from tui.core.sanitize import clean, clean_block

SHOWN_BYTES = 200_000
"""Bytes of a source shown (a huge mail stays quick; saving writes all of it)."""


def split_source(raw: bytes) -> tuple[str, str]:
    """(headers, whole source) as text, control characters and escapes removed."""
    text = raw[:SHOWN_BYTES].decode("utf-8", errors="replace").replace("\r\n", "\n")
    head, _sep, _body = text.partition("\n\n")
    return clean_block(head, SHOWN_BYTES), clean_block(text, SHOWN_BYTES)


class MessageSourceDialog(StyledOnce, ModalScreen[None]):
    """Headers first; ``h`` switches to the whole source and back; ``e`` saves ``.eml``."""

    BINDINGS = [
        Binding(
            "h", "toggle_source", "Headers/source", id="source.toggle", tooltip="Headers or all"
        ),
        Binding(
            "e", "save", "Save .eml", id="source.save", tooltip="Save the message as an .eml file"
        ),
        Binding("escape", "close", "Close", id="source.close", tooltip="Close"),
    ]

    def __init__(self, title: str, raw: bytes | None, folder: Path, note: str = "") -> None:
        super().__init__()
        self.title_text = title
        """The subject, shown on top."""
        self.raw = raw
        """The message's bytes (None: not available, ``note`` says why)."""
        self.folder = folder
        """Where ``e`` saves."""
        self.note = note
        """Why there is no source, or that it is cut."""
        self.whole = False
        """Showing the whole source (else the headers)."""
        self.saved: Path | None = None
        """The last file saved."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog source"):
            yield Static(id="source-title")
            with VerticalScroll(id="source-scroll"):
                yield Static(id="source-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Headers first."""
        self.render_body()

    def render_body(self) -> None:
        """Headers or everything."""
        title = Text(clean(self.title_text, 200), style="bold")
        title.append("  whole source" if self.whole else "  headers", style="dim")
        if self.note:
            title.append(f"\n{clean(self.note, 300)}", style="yellow")
        self.query_one("#source-title", Static).update(title)
        if self.raw is None:
            self.query_one("#source-body", Static).update(Text("(no source)", style="dim"))
            return
        headers, whole = split_source(self.raw)
        self.query_one("#source-body", Static).update(Text(whole if self.whole else headers))

    def action_toggle_source(self) -> None:
        """Headers <-> whole source."""
        self.whole = not self.whole
        self.render_body()

    def action_save(self) -> None:
        """Write ``<subject>.eml`` (0600, never over an existing file) in the download folder."""
        from tui.core.attachments import SaveError, safe_filename, save_attachment, tilde

        if self.raw is None:
            self.notify("Nothing to save: no source for this message", severity="warning")
            return
        name = safe_filename(f"{self.title_text or 'message'}.eml", 0)
        if not name.endswith(".eml"):
            name = name[:100] + ".eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.saved = save_attachment(self.folder, name, self.raw)
        except (SaveError, OSError) as exc:
            self.notify(f"Not saved: {clean(str(exc), 200)}", severity="error", markup=False)
            return
        self.notify(f"Saved {clean(tilde(self.saved), 200)}", markup=False)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

"""Leases an earlier run left behind: release them, keep them, or decide later."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.app.first_resume import StyledOnce
from tui.core.leases import Leftover
from tui.core.sanitize import clean
from tui.core.timefmt import time_left

Answer = Literal["release", "keep", "later"]
"""What the user chose."""

SHOWN = 8
"""Leases listed by name (the rest are counted)."""


class LeftoversDialog(StyledOnce, ModalScreen[Answer]):
    """Lists the leftovers and why; ``y``/``r`` releases them all, ``n``/``k`` keeps them (not
    asked again), ``escape`` asks again at the next start."""

    BINDINGS = [
        Binding("y,r", "answer('release')", "Release", id="leftovers.release", tooltip="Release"),
        Binding("n,k", "answer('keep')", "Keep", id="leftovers.keep", tooltip="Keep them"),
        Binding("escape", "answer('later')", "Later", id="leftovers.later", tooltip="Ask later"),
    ]

    def __init__(self, leftovers: list[Leftover]) -> None:
        super().__init__()
        self.leftovers = leftovers
        """The leases to decide about."""

    def body(self) -> Text:
        """The question (plain text: addresses and purposes are the server's, not markup)."""
        count = len(self.leftovers)
        text = Text(f"{count} active lease(s) that no running mailagents-tui owns:\n\n")
        for leftover in self.leftovers[:SHOWN]:
            lease = leftover.lease
            text.append(f"  {clean(lease.address, 60)}", style="bold")
            purpose = clean(lease.purpose or "", 30)
            if purpose:
                text.append(f"  {purpose}")
            left = "expired (still held)" if lease.is_expired() else time_left(lease.expires_at)
            text.append(f"  {left}\n")
            text.append(f"    {leftover.why()}", style="dim")
            if leftover.entry is None or not leftover.entry.has_password:
                text.append(" · no password", style="dim")
            text.append("\n")
        if count > SHOWN:
            text.append(f"  … and {count - SHOWN} more\n")
        text.append(
            "\nRelease them now, or keep them (kept leases are not offered again; "
            "escape asks at the next start)?"
        )
        return text

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog", id="leftovers-dialog"):
            yield Static(self.body(), classes="dialog-body", id="leftovers-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Release (y)", variant="warning", id="release")
                yield Button("Keep (n)", id="keep")
                yield Button("Later (esc)", id="later")

    def on_mount(self) -> None:
        """Focus Release."""
        self.query_one("#release", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        """Answer with the button."""
        self.action_answer(event.button.id or "later")

    def action_answer(self, value: str) -> None:
        """Answer by key."""
        answer: Answer = value if value in ("release", "keep") else "later"  # type: ignore[assignment]
        self.dismiss(answer)

"""The inbox's body: the message list and the preview pane, beside or below it, or hidden."""

from __future__ import annotations

from typing import Literal

from textual.containers import Horizontal
from textual.reactive import reactive

Pane = Literal["right", "below", "off"]
PANES: tuple[Pane, ...] = ("right", "below", "off")
"""Where the preview pane sits (``v`` cycles)."""
PANE_NAMES = {"right": "Preview beside the list", "below": "Preview below the list"}
"""What a toast says of each place (the hidden one: see :func:`pane_toast`)."""


def pane_toast(pane: Pane) -> str:
    """The toast that says where the preview went."""
    return PANE_NAMES.get(pane, "Preview hidden (enter or v shows it)")


class InboxBody(Horizontal):
    """The list and the preview; the layout follows :attr:`pane` (a ``-pane-*`` class)."""

    pane: reactive[Pane] = reactive("right", init=False)
    """Where the preview is."""

    def __init__(self, pane: Pane, *, id: str | None = None) -> None:
        super().__init__(id=id, classes=f"-pane-{pane}")  # styled once, from the start
        self.set_reactive(InboxBody.pane, pane)

    def watch_pane(self, pane: str) -> None:
        """Lay the preview out: its class, one per place."""
        for name in PANES:
            self.set_class(name == pane, f"-pane-{name}")

    def following(self) -> Pane:
        """The place after the current one (``v``)."""
        return PANES[(PANES.index(self.pane) + 1) % len(PANES)]

"""The footer of every screen: the screen's main keys from the left, ``?`` and ``q`` pinned right.

Textual's ``Footer`` lists the focused widget's keys, then the screen's, then the app's: at
80 columns the app's ``?`` and ``q`` (and the command palette's key) were cut off first. Here
they are docked to the right edge, so whatever does not fit is a screen key (and ``?`` lists
every key anyway).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

PINNED = ("app.help", "app.help_f1", "app.quit")
"""Binding ids always shown, at the right edge, in this order (``f1`` only where ``?`` types
a character, in a text field)."""


class KeyFooter(Footer):
    """Compact footer with ``? Help`` and ``q Quit`` always visible (the palette: ctrl+p)."""

    DEFAULT_CSS = """
    KeyFooter HorizontalGroup.pinned {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
        padding-left: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(compact=True, show_command_palette=False, id=id)
        self._shown: tuple[tuple[object, ...], ...] | None = None
        """What the last compose showed (see :meth:`bindings_changed`)."""

    @staticmethod
    def _keys(screen: Screen[object]) -> tuple[tuple[object, ...], ...]:
        """What the footer would show for ``screen``: its shown and pinned keys."""
        return tuple(
            (binding.key, binding.action, binding.description, binding.id, enabled, tooltip)
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show or binding.id in PINNED
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Recompose only when what the footer shows changed: a focus change brings the
        focused widget's keys, which are usually hidden ones (a recompose mounts every key
        again: the most costly part of opening a screen)."""
        same = self._bindings_ready and self._shown is not None and screen is self.screen
        if same and self._keys(screen) == self._shown:
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        """The screen's shown keys (one per action), then the pinned ones docked right."""
        if not self._bindings_ready:
            return
        self._shown = self._keys(self.screen)
        seen: set[str] = set()
        pinned: dict[str, FooterKey] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            pin = binding.id in PINNED
            if not (binding.show or pin) or (binding.action in seen and not pin):
                continue
            seen.add(binding.action)
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
            if binding.id in PINNED:
                pinned[binding.id] = key
            else:
                yield key
        if "app.help" in pinned:
            pinned.pop("app.help_f1", None)
        if pinned:
            with HorizontalGroup(classes="pinned"):
                for binding_id in PINNED:
                    if binding_id in pinned:
                        yield pinned[binding_id]

"""Opening a screen styles its widgets once, not twice.

Textual styles each widget as it mounts, and again, every node of the screen, when the screen
is first shown (``ScreenResume``): on the inbox screen the second pass was most of opening it
(issue 16: a 107 ms callback under load, against the 50 ms budget). :class:`StyledOnce` skips
that second pass the first time a screen is shown. Only the screen's own node is styled
again: it was styled when it was made, which may have been before the screens' stylesheet
was added (``MailagentsApp.load_screen_styles``); its widgets mount after that. A screen
shown again (a dialog closed over it) is restyled as Textual does.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class StyledOnce:
    """Mixin for screens and dialogs, before ``Screen`` in the bases (its handler runs first)."""

    _shown_once = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """The first time: no second styling of every node (see the module)."""
        if self._shown_once or not isinstance(self, Screen):
            return
        self._shown_once = True
        if event.refresh_styles:
            event.refresh_styles = False
            self.app.stylesheet.apply(self)

"""Copy to the system clipboard (pyperclip), or to the terminal's (OSC 52) when there is none."""

from __future__ import annotations

from textual.app import App


def copy_text(app: App, text: str) -> str:
    """Copy ``text``; return where it went, for the toast."""
    try:
        import pyperclip

        pyperclip.copy(text)
    except Exception:  # no backend (headless, SSH): pyperclip raises its own exception types
        app.copy_to_clipboard(text)
        return "terminal clipboard (OSC 52)"
    return "system clipboard"

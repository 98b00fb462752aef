"""The Textual application (imported only when the TUI starts)."""

from tui.app.app import MailagentsApp, make_app, run_app

__all__ = ["MailagentsApp", "make_app", "run_app"]

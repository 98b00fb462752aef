"""A webhook secret, shown once (after creation with a generated one, or a rotation)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.clipboard import copy_text
from tui.app.first_resume import StyledOnce
from tui.app.widgets.key_footer import KeyFooter
from tui.core.sanitize import clean


class WebhookSecretDialog(StyledOnce, ModalScreen[None]):
    """Shows one secret with a copy key; the service never shows it again."""

    BINDINGS = [
        Binding("c", "copy", "Copy", id="webhook_secret.copy", tooltip="Copy the secret"),
        Binding("escape,enter", "close", "Close", id="webhook_secret.close", tooltip="Close"),
    ]

    def __init__(self, secret: str, title: str, target: str = "") -> None:
        super().__init__()
        self.secret = secret
        """The secret (from the service or generated here)."""
        self.title_text = title
        """What happened (``New secret``, ``Webhook created``)."""
        self.target = target
        """The webhook's target URL, for context."""
        self.copied = False
        """Whether the secret was copied."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog", id="webhook-secret-dialog"):
            yield Static(Text(self.title_text, style="bold"))
            if self.target:
                yield Static(Text(clean(self.target, 200), style="dim"))
            body = Text("\nSecret  ")
            body.append(clean(self.secret, 300), style="bold")
            body.append(
                "\n\nShown only now: the service never returns it again. Store it where your "
                'receiver checks x-agent-mail-signature (HMAC-SHA256 of "<timestamp>.<body>").',
                style="yellow",
            )
            yield Static(body, id="webhook-secret-body", classes="dialog-body")
            yield Static(Text("c copies · enter or escape closes", style="dim"))
        yield KeyFooter()

    def action_copy(self) -> None:
        """Copy the secret."""
        where = copy_text(self.app, self.secret)
        self.copied = True
        self.notify(f"Copied the secret to the {where}", markup=False)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

"""Create a webhook: target URL, events, secret (typed or generated), validated in place."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.core.billing import (
    EVENT_TYPES,
    GENERATED_SECRET_CHARS,
    MIN_SECRET_CHARS,
    BillingInputError,
    generate_secret,
    validate_webhook_input,
)

EVENT_HELP = (
    "The service sends one event per new message: otp.extracted when it found a code or "
    "link, mail.received only for mail without one. Keep both to hear about every message."
)
"""Why both events are ticked by default."""


@dataclass(frozen=True)
class NewWebhook:
    """What the dialog returns: input checked and ready for ``create_webhook``."""

    target_url: str
    """http(s) URL."""
    event_types: list[str]
    """At least one known event."""
    secret: str
    """Signing secret (16+ characters)."""
    generated: bool
    """True when the secret is the generated one (the user has to be shown it)."""


class WebhookNewDialog(ModalScreen[NewWebhook | None]):
    """Returns a :class:`NewWebhook`, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="webhook_new.cancel", tooltip="Close"),
        Binding(
            "ctrl+g",
            "generate",
            "Generate",
            id="webhook_new.generate",
            tooltip="Put a new random secret in the secret field",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.generated_secret = generate_secret()
        """The secret offered by default (kept to know whether the user changed it)."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog", id="webhook-new"):
            yield Static(Text("New webhook", style="bold"))
            # The fields scroll; the error and the buttons below them always show (80x24).
            with VerticalScroll(classes="dialog-form"):
                yield from self.compose_fields()
            yield Static(id="webhook-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Static(Text("enter in a field creates", style="dim"), classes="dialog-hint")
                yield Button("Create", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def compose_fields(self) -> ComposeResult:
        """URL, events and secret."""
        yield Label("Target URL (http or https)")
        yield Input(placeholder="https://example.com/hooks/mail", id="webhook-url")
        yield Label("Events")
        with Horizontal(id="webhook-events"):
            for event in EVENT_TYPES:
                yield Checkbox(event, True, id=f"event-{event.replace('.', '-')}")
        yield Static(Text(EVENT_HELP, style="dim"), id="webhook-events-help")
        yield Label(
            f"Secret ({MIN_SECRET_CHARS}+ characters; random {GENERATED_SECRET_CHARS} "
            "filled in; ctrl+g makes another)"
        )
        with Horizontal(id="webhook-secret-row"):
            yield Input(self.generated_secret, id="webhook-secret", max_length=256)
            yield Button("Generate", id="generate")

    def on_mount(self) -> None:
        """Focus the URL."""
        self.query_one("#webhook-url", Input).focus()

    def chosen_events(self) -> list[str]:
        """Ticked events."""
        return [
            event
            for event in EVENT_TYPES
            if self.query_one(f"#event-{event.replace('.', '-')}", Checkbox).value
        ]

    def show_error(self, message: str) -> None:
        """Say what to fix, in place."""
        self.query_one("#webhook-error", Static).update(Text(message, style="bold red"))

    def submit(self) -> None:
        """Validate and return."""
        secret = self.query_one("#webhook-secret", Input).value
        try:
            url, events, secret = validate_webhook_input(
                self.query_one("#webhook-url", Input).value, self.chosen_events(), secret
            )
        except BillingInputError as exc:
            self.show_error(str(exc).capitalize())
            return
        self.dismiss(NewWebhook(url, events, secret, generated=secret == self.generated_secret))

    def action_generate(self) -> None:
        """A new random secret."""
        self.generated_secret = generate_secret()
        self.query_one("#webhook-secret", Input).value = self.generated_secret

    @on(Button.Pressed, "#generate")
    def generate_pressed(self) -> None:
        """Generate button."""
        self.action_generate()

    @on(Input.Submitted)
    def input_submitted(self) -> None:
        """Enter in a field creates (the hint by the buttons says so; a toast reports it)."""
        self.submit()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        """Create button."""
        self.submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without creating."""
        self.dismiss(None)

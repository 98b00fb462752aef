"""Create a webhook: target URL, events, secret (typed or generated), validated in place (a
:class:`FormDialog`)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from tui.app.dialogs.form import ChoiceField, FormDialog, FormError, FormSpec, FormValues, TextField
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


def check(values: FormValues) -> NewWebhook:
    """The checked webhook, or what to fix."""
    typed = values.texts["webhook-secret"]
    try:
        url, events, secret = validate_webhook_input(
            values.texts["webhook-url"], values.chosen["webhook-events"], typed
        )
    except BillingInputError as exc:
        raise FormError(str(exc).capitalize()) from None
    return NewWebhook(url, events, secret, generated=secret == values.generated["webhook-secret"])


FIELDS = (
    TextField(
        "webhook-url", "Target URL (http or https)", placeholder="https://example.com/hooks/mail"
    ),
    ChoiceField(
        "webhook-events",
        "Events",
        EVENT_TYPES,
        checked=EVENT_TYPES,
        option_id="event",
        help=EVENT_HELP,
    ),
    TextField(
        "webhook-secret",
        f"Secret ({MIN_SECRET_CHARS}+ characters; random {GENERATED_SECRET_CHARS} filled in; "
        "ctrl+g makes another)",
        max_length=256,
        generate=generate_secret,
    ),
)
"""URL, events and secret."""


class WebhookNewDialog(FormDialog[NewWebhook]):
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
        super().__init__(
            FormSpec(
                "New webhook",
                FIELDS,
                "Create",
                check,
                error_id="webhook-error",
                dialog_id="webhook-new",
                scroll=True,  # the error and the buttons below the fields always show (80x24)
                hint="enter in a field creates",
            )
        )

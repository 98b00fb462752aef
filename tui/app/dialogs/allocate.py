"""Allocate a mailbox: purpose and ttl hours, validated in place (a :class:`FormDialog`)."""

from __future__ import annotations

from textual.binding import Binding

from tui.app.dialogs.form import FormDialog, FormError, FormSpec, FormValues, TextField
from tui.core.leases import LeaseInputError, validate_lease_input


def check(values: FormValues) -> tuple[str, int]:
    """``(purpose, ttl_hours)``, or what to fix."""
    try:
        return validate_lease_input(values.texts["purpose"], values.texts["ttl"])
    except LeaseInputError as exc:
        raise FormError(str(exc)) from None


class AllocateDialog(FormDialog[tuple[str, int]]):
    """Returns ``(purpose, ttl_hours)`` or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="allocate.cancel", tooltip="Close"),
    ]

    def __init__(self, purpose: str = "signup", ttl_hours: int = 1) -> None:
        super().__init__(
            FormSpec(
                "Allocate a mailbox",
                (
                    TextField("purpose", "Purpose", purpose, max_length=200),
                    TextField(
                        "ttl", "TTL hours (1-720)", str(ttl_hours), integer=True, max_length=3
                    ),
                ),
                "Allocate",
                check,
                error_id="allocate-error",
            )
        )

"""The inputs of an operator action (a :class:`FormDialog`), checked before it is confirmed."""

from __future__ import annotations

from textual.binding import Binding

from tui.app.dialogs.form import FormDialog, FormError, FormSpec, FormValues, TextField
from tui.core.admin import ActionSpec


def fields_of(action: ActionSpec) -> tuple[TextField, ...]:
    """One input per value the action asks for, its label and hint as placeholder."""
    fields = []
    for item in action.inputs:
        hint = " (optional)" if not item.required else ""
        if item.choices:
            hint = f" ({' | '.join(item.choices)})"
        fields.append(TextField(f"in-{item.name}", "", placeholder=f"{item.label}{hint}"))
    return tuple(fields)


class ActionDialog(FormDialog[dict[str, str]]):
    """Asks for an action's inputs; dismisses with them (confirmed) or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="action.cancel", tooltip="Cancel"),
    ]

    def __init__(self, action: ActionSpec, target: str) -> None:
        self.action_spec = action
        """What will run."""
        self.target = target
        """On what (empty for actions without a row)."""
        super().__init__(
            FormSpec(
                action.label,
                fields_of(action),
                "Confirm",
                self.check,
                error_id="action-error",
                ok_variant="warning" if action.destructive else "primary",
                enter_moves_on=True,
                target=target,
                title_class="dialog-body",
            )
        )

    def check(self, values: FormValues) -> dict[str, str]:
        """The typed values by input name, or the first problem."""
        typed = {i.name: values.texts[f"in-{i.name}"].strip() for i in self.action_spec.inputs}
        for item in self.action_spec.inputs:
            message = item.check(typed[item.name])
            if message:
                raise FormError(message)
        if typed and not any(typed.values()) and self.action_spec.destructive:
            raise FormError("nothing to change")
        return typed

    def confirm(self) -> None:
        """Dismiss with the values when they are valid."""
        self.submit()

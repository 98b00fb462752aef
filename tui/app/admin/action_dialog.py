"""The form of an operator action: its inputs, the question naming the object, confirm."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.widgets.button import ButtonVariant

from tui.core.admin import ActionSpec
from tui.core.sanitize import clean


class ActionDialog(ModalScreen[dict[str, str] | None]):
    """Asks for an action's inputs; dismisses with them (confirmed) or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="action.cancel", tooltip="Cancel"),
    ]

    def __init__(self, action: ActionSpec, target: str) -> None:
        super().__init__()
        self.action_spec = action
        """What will run."""
        self.target = target
        """On what (empty for actions without a row)."""

    def compose(self) -> ComposeResult:
        """Layout: title, one input per value, an error line, buttons."""
        with Vertical(classes="dialog"):
            title = Text(self.action_spec.label, style="bold")
            if self.target:
                title.append(" " + clean(self.target, 80))
            yield Static(title, classes="dialog-body")
            for item in self.action_spec.inputs:
                hint = " (optional)" if not item.required else ""
                if item.choices:
                    hint = f" ({' | '.join(item.choices)})"
                yield Input(placeholder=f"{item.label}{hint}", id=f"in-{item.name}")
            yield Static("", classes="dialog-error", id="action-error")
            with Horizontal(classes="dialog-buttons"):
                variant: ButtonVariant = "warning" if self.action_spec.destructive else "primary"
                yield Button("Confirm", variant=variant, id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the first input."""
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    def values(self) -> dict[str, str]:
        """The typed values by input name."""
        return {
            item.name: self.query_one(f"#in-{item.name}", Input).value.strip()
            for item in self.action_spec.inputs
        }

    def problem(self) -> str | None:
        """The first invalid input's message, or None."""
        values = self.values()
        for item in self.action_spec.inputs:
            message = item.check(values[item.name])
            if message:
                return message
        if values and not any(values.values()) and self.action_spec.destructive:
            return "nothing to change"
        return None

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        """Enter in the last input confirms; elsewhere moves on."""
        event.stop()
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.confirm()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        """Confirm or cancel."""
        if event.button.id == "ok":
            self.confirm()
        else:
            self.dismiss(None)

    def confirm(self) -> None:
        """Dismiss with the values when they are valid."""
        problem = self.problem()
        if problem:
            self.query_one("#action-error", Static).update(Text(problem, style="bold red"))
            return
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        """Cancel."""
        self.dismiss(None)

"""The one form dialog: fields from specs, checked in place, enter or the button submits.

A form is a :class:`FormSpec`: a title, its fields (:class:`TextField`, :class:`ChoiceField`),
the button's label and a ``check`` that turns the typed values into the dialog's result or
raises :class:`FormError` with what to fix (shown in red under the fields). Allocating a
lease and creating a webhook are two specs of this one dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.app.first_resume import StyledOnce
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from textual.widgets.button import ButtonVariant

T = TypeVar("T")


class FormError(Exception):
    """What to fix (one line, shown in the dialog)."""


@dataclass(frozen=True)
class TextField:
    """One line of text."""

    name: str
    """The input's id and its key in :attr:`FormValues.texts`."""
    label: str
    """The label above it (empty: none, the placeholder says what to type)."""
    value: str = ""
    """Initial value (a ``generate`` field starts with a generated one when empty)."""
    placeholder: str = ""
    """Shown while empty."""
    max_length: int = 0
    """Longest value (0: no limit)."""
    integer: bool = False
    """Digits only."""
    generate: Callable[[], str] | None = None
    """A value maker: adds a Generate button (and the dialog's ``generate`` action)."""


@dataclass(frozen=True)
class ChoiceField:
    """Several checkboxes, each one option."""

    name: str
    """The row's id and the key in :attr:`FormValues.chosen`."""
    label: str
    """The label above them."""
    options: tuple[str, ...]
    """The options, in order."""
    checked: tuple[str, ...] = ()
    """Those ticked at first."""
    option_id: str = "option"
    """Checkbox ids: ``{option_id}-{option with dots as dashes}``."""
    help: str = ""
    """A dim note under the row."""

    def checkbox_id(self, option: str) -> str:
        """The checkbox of ``option``."""
        return f"{self.option_id}-{option.replace('.', '-')}"


Field = TextField | ChoiceField


@dataclass
class FormValues:
    """What was typed and ticked, given to :attr:`FormSpec.check`."""

    texts: dict[str, str] = field(default_factory=dict)
    """Text field values by name."""
    chosen: dict[str, list[str]] = field(default_factory=dict)
    """Ticked options by choice field name."""
    generated: dict[str, str] = field(default_factory=dict)
    """The last value each generating field made (to tell it from a typed one)."""


@dataclass(frozen=True)
class FormSpec(Generic[T]):
    """One form: what it asks and what it returns."""

    title: str
    """Bold first line."""
    fields: tuple[Field, ...]
    """In order."""
    ok: str
    """The submit button's label."""
    check: Callable[[FormValues], T]
    """Values -> result; raises :class:`FormError` with what to fix."""
    error_id: str = "form-error"
    """Id of the error line."""
    dialog_id: str | None = None
    """Id of the dialog box (for its own styles)."""
    scroll: bool = False
    """Fields in a scrolling area, so the error line and buttons always show (80x24)."""
    hint: str = ""
    """A dim note left of the buttons."""
    ok_variant: ButtonVariant = "primary"
    """The submit button's look (``warning`` for a destructive action)."""
    enter_moves_on: bool = False
    """Enter in a field moves to the next one (submits in the last) instead of submitting."""
    target: str = ""
    """What the form acts on, after the title (plain, cleaned)."""
    title_class: str = ""
    """CSS class of the title line."""


class FormDialog(StyledOnce, ModalScreen[T | None], Generic[T]):
    """Dismisses with :attr:`FormSpec.check`'s result, or None when cancelled."""

    def __init__(self, spec: FormSpec[T]) -> None:
        super().__init__()
        self.spec = spec
        """The form."""
        self.generated: dict[str, str] = {}
        """The last value each generating field made."""
        for item in spec.fields:
            if isinstance(item, TextField) and item.generate is not None and not item.value:
                self.generated[item.name] = item.generate()

    def compose(self) -> ComposeResult:
        """Title, fields, error line, buttons."""
        with Vertical(classes="dialog", id=self.spec.dialog_id):
            title = Text(self.spec.title, style="bold")
            if self.spec.target:
                title.append(" " + clean(self.spec.target, 80))
            yield Static(title, classes=self.spec.title_class)
            if self.spec.scroll:
                with VerticalScroll(classes="dialog-form"):
                    yield from self.compose_fields()
            else:
                yield from self.compose_fields()
            yield Static(id=self.spec.error_id, classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                if self.spec.hint:
                    yield Static(Text(self.spec.hint, style="dim"), classes="dialog-hint")
                yield Button(self.spec.ok, variant=self.spec.ok_variant, id="ok")
                yield Button("Cancel", id="cancel")

    def compose_fields(self) -> ComposeResult:
        """One label and input (or row of checkboxes) per field."""
        for item in self.spec.fields:
            if item.label:
                yield Label(item.label)
            if isinstance(item, ChoiceField):
                with Horizontal(id=item.name):
                    for option in item.options:
                        yield Checkbox(option, option in item.checked, id=item.checkbox_id(option))
                if item.help:
                    yield Static(Text(item.help, style="dim"), id=f"{item.name}-help")
            elif item.generate is not None:
                with Horizontal(id=f"{item.name}-row"):
                    yield self.text_input(item)
                    yield Button("Generate", id="generate")
            else:
                yield self.text_input(item)

    def text_input(self, item: TextField) -> Input:
        """The input of a text field."""
        return Input(
            item.value or self.generated.get(item.name, ""),
            placeholder=item.placeholder,
            id=item.name,
            type="integer" if item.integer else "text",
            max_length=item.max_length,
        )

    def on_mount(self) -> None:
        """Focus the first input."""
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    def values(self) -> FormValues:
        """What the fields hold now."""
        values = FormValues(generated=dict(self.generated))
        for item in self.spec.fields:
            if isinstance(item, ChoiceField):
                values.chosen[item.name] = [
                    option
                    for option in item.options
                    if self.query_one(f"#{item.checkbox_id(option)}", Checkbox).value
                ]
            else:
                values.texts[item.name] = self.query_one(f"#{item.name}", Input).value
        return values

    def submit(self) -> None:
        """Check and return, or say what to fix in place."""
        try:
            result = self.spec.check(self.values())
        except FormError as exc:
            self.query_one(f"#{self.spec.error_id}", Static).update(
                Text(str(exc), style="bold red")
            )
            return
        self.dismiss(result)

    def action_generate(self) -> None:
        """A new value in every generating field."""
        for item in self.spec.fields:
            if isinstance(item, TextField) and item.generate is not None:
                self.generated[item.name] = item.generate()
                self.query_one(f"#{item.name}", Input).value = self.generated[item.name]

    @on(Button.Pressed, "#generate")
    def generate_pressed(self) -> None:
        """Generate button."""
        self.action_generate()

    @on(Input.Submitted)
    def input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field submits (or moves to the next field, see ``enter_moves_on``)."""
        event.stop()
        inputs = list(self.query(Input))
        if self.spec.enter_moves_on and event.input is not inputs[-1]:
            inputs[inputs.index(event.input) + 1].focus()
            return
        self.submit()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        """The submit button."""
        self.submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)

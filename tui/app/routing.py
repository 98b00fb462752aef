"""One place that turns worker failures into something the user understands."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich.text import Text
from textual.worker import Worker, WorkerState

from tui.api.errors import (
    AuthenticationError,
    ChallengeRejected,
    MailagentsError,
    PaymentRequiredError,
    RateLimitError,
    classify,
)
from tui.auth.wallet import WalletError
from tui.core.leases import LeaseInputError
from tui.core.settings import SettingsError
from tui.files import FileRefused

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.app.app import MailagentsApp

Result = TypeVar("Result")
"""What a worker returns."""

ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
"""A worker in one of these states runs no more."""


class WorkerErrors:
    """Mixin for screens and dialogs: forward failed workers to the app's router (the message
    does not bubble), and say in the status line that network work started
    (:meth:`working`) until it ends."""

    # Any: the workers watched return different things, and Worker is invariant in its result.
    _working: dict[Worker[Any], str] | None = None
    _working_shown: Worker[Any] | None = None

    def working(self, label: str, worker: Worker[Result]) -> Worker[Result]:
        """Issue 16: a key that starts network work shows it in the same frame. ``label``
        ("refreshing…") goes to the status line now and stays until ``worker`` ends: its result
        handler replaces it, a failure's message replaces it, and if it is still shown when the
        worker ends (cancelled, failed without a message, or a result that says nothing) the
        line is cleared. Never stuck."""
        if self._working is None:
            self._working = {}
        self._working[worker] = label
        self._working_shown = worker
        self.set_status(label)
        return worker

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The status line (each screen has its own)."""
        raise NotImplementedError

    def status_line(self) -> str:
        """What the status line says now (``#status-bar`` by default)."""
        bar = cast("DOMNode", self).query_one("#status-bar")
        content = getattr(bar, "content", "")
        return content.plain if isinstance(content, Text) else str(content)

    def clear_status(self) -> None:
        """The status line once a :meth:`working` label has outlived its worker."""
        self.set_status("")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Route a failure; end a :meth:`working` label with its worker."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            app: MailagentsApp = self.app  # type: ignore[attr-defined]
            app.route_error(event.worker.error, self.set_status)
        if event.state in ENDED and self._working is not None:
            label = self._working.pop(event.worker, None)
            if label is not None and self._working_shown is event.worker:
                self._working_shown = None
                if label in self.status_line():
                    self.clear_status()


def describe(error: BaseException) -> tuple[str, str]:
    """(kind, message) for an error: kind is auth, payment, limit, network (any transient
    failure, see :func:`tui.api.errors.classify`), api, input or bug."""
    if isinstance(error, AuthenticationError):
        return "auth", f"Session expired and signing in again failed: {error.user_message()}"
    if isinstance(error, PaymentRequiredError):
        return "payment", error.user_message()
    if isinstance(error, RateLimitError):
        return "limit", error.user_message()
    if isinstance(error, ChallengeRejected):
        return "auth", f"Refused to sign: {error}"
    if isinstance(error, MailagentsError):
        failure = classify(error)  # the one table: temporary (try again) or not
        if failure.transient:
            return "network", f"{failure.label}: {failure.message} (temporary: try again)"
        return "api", failure.message
    if isinstance(error, WalletError | LeaseInputError | FileRefused | SettingsError):
        return "input", str(error)
    return "bug", "".join(traceback.format_exception(error))

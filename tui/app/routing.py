"""One place that turns worker failures into something the user understands."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

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
    from tui.app.app import MailagentsApp


class WorkerErrors:
    """Mixin for screens: forward failed workers to the app's router (the message does not
    bubble)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Route a failure."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            app: MailagentsApp = self.app  # type: ignore[attr-defined]
            app.route_error(event.worker.error, getattr(self, "set_status", None))


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

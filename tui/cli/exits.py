"""Exit codes, the errors a command reports as one line, and their reporting.

The bottom of the command line: no click, so the entry point's fast path (:mod:`tui.launch`)
and the TUI's launch use it too. Every command module reports its failures through
:func:`fail` and :func:`friendly_errors`.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    from tui.api.errors import MailagentsError

T = TypeVar("T")
P = ParamSpec("P")

EXIT_OK = 0
"""The command did what was asked."""
EXIT_ERROR = 1
"""It failed: the server refused, the network is down, a file or setting is unusable..."""
EXIT_USAGE = 2
"""The command line itself is wrong: an unknown option, a value out of range (click uses 2)."""
EXIT_TIMEOUT = 3
"""Nothing came in time (``wait-otp --timeout``)."""
EXIT_NOT_FOUND = 4
"""What was named does not exist: a lease, message, invoice or webhook id (HTTP 404 too)."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C)."""

EXIT_CODES_HELP = (
    "Exit codes: 0 success, 1 error, 2 usage (bad option or value), 3 timeout (wait-otp), "
    "4 not found (unknown lease, message or other id), 130 interrupted. With --json, an "
    'error is JSON on stdout too: {"error": KIND, "message": TEXT, "exit_code": N}.'
)
"""The exit codes, as ``--help`` and the README state them."""


class CommandFailed(Exception):
    """An expected failure a command reports as one line (:func:`fail` raises it)."""

    def __init__(self, message: str, code: int = EXIT_ERROR, kind: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        """The exit code."""
        self.kind = kind or KIND_OF_CODE.get(code, "error")
        """The ``error`` of the JSON form."""


KIND_OF_CODE = {
    EXIT_ERROR: "error",
    EXIT_USAGE: "usage",
    EXIT_TIMEOUT: "timeout",
    EXIT_NOT_FOUND: "not_found",
    EXIT_INTERRUPTED: "interrupted",
}


def fail(message: str, code: int = EXIT_ERROR, kind: str | None = None) -> NoReturn:
    """Stop the command with one clear line (printed by :func:`friendly_errors`)."""
    raise CommandFailed(message, code, kind)


USER_ERRORS = (
    ("tui.auth.wallet", "WalletError", "wallet", EXIT_ERROR),
    ("tui.core.settings", "SettingsError", "config", EXIT_ERROR),
    ("tui.files", "FileRefused", "file", EXIT_ERROR),
    ("tui.core.leases", "LeaseInputError", "usage", EXIT_USAGE),
    ("tui.core.billing", "BillingInputError", "usage", EXIT_USAGE),
    ("tui.core.ledger", "LedgerError", "ledger", EXIT_ERROR),
    ("tui.core.compose", "ComposeError", "compose", EXIT_ERROR),
    ("tui.core.waiter", "WaitTimeout", "timeout", EXIT_TIMEOUT),
    ("tui.core.waiter", "LeaseNotActive", "lease_not_active", EXIT_ERROR),
    ("tui.core.imapsource", "ImapUnavailable", "imap", EXIT_ERROR),
    ("tui.imap.errors", "ImapError", "imap", EXIT_ERROR),
)
"""(module, class, kind, exit code) of the errors that are the user's to fix or to know."""

API_KINDS = (
    ("NotFoundError", "not_found", EXIT_NOT_FOUND),
    ("ChallengeRejected", "challenge_rejected", EXIT_ERROR),
    ("NetworkError", "network", EXIT_ERROR),
    ("InvalidResponseError", "invalid_response", EXIT_ERROR),
    ("AuthenticationError", "unauthorized", EXIT_ERROR),
    ("ForbiddenError", "forbidden", EXIT_ERROR),
    ("PaymentRequiredError", "payment_required", EXIT_ERROR),
    ("RateLimitError", "rate_limited", EXIT_ERROR),
    ("ServerError", "server_error", EXIT_ERROR),
    ("BadRequestError", "bad_request", EXIT_ERROR),
    ("ConflictError", "conflict", EXIT_ERROR),
    ("MailagentsError", "api_error", EXIT_ERROR),
)
"""(class in :mod:`tui.api.errors`, kind, exit code), most specific first."""


def classify(exc: BaseException) -> tuple[str, str, int] | None:
    """The one mapping of exceptions to (kind, one-line message, exit code).

    None for an exception that is not an expected failure (a bug: it keeps its traceback).
    Modules that were never imported cannot have raised, so nothing is imported here.
    """
    if isinstance(exc, CommandFailed):
        return exc.kind, str(exc), exc.code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "interrupted", EXIT_INTERRUPTED
    api = sys.modules.get("tui.api.errors")
    if api is not None:
        for class_name, kind, code in API_KINDS:
            if isinstance(exc, getattr(api, class_name)):
                message = cast("MailagentsError", exc).user_message()
                if api.classify(exc).transient:
                    message += " (temporary: try again)"
                return kind, message, code
    for module_name, class_name, kind, code in USER_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return kind, str(exc) or class_name, code
    if isinstance(exc, UnicodeError):
        return "file", f"not UTF-8 text: {exc}", EXIT_ERROR
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return "file", f"{exc.strerror or type(exc).__name__}{where}", EXIT_ERROR
    return None


def report(kind: str, message: str, code: int, *, as_json: bool) -> NoReturn:
    """Print the failure (one line on stderr; with ``as_json``, JSON on stdout too) and exit."""
    from tui.core.sanitize import clean

    line = clean(message, 2000)
    if as_json:
        payload = {"error": kind, "message": line, "exit_code": code}
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()
    sys.stderr.write(f"mailagents-tui: {line}\n")
    sys.stderr.flush()
    sys.exit(code)


def friendly_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn every expected failure into one line on stderr and its exit code (JSON too when
    the command was given ``--json``); only a bug keeps its traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as exc:
            if type(exc).__module__.startswith("click"):
                raise  # click's own (usage errors, Abort, Exit): click reports them
            found = classify(exc)
            if found is None:
                raise
            report(*found, as_json=bool(kwargs.get("as_json")))

    return wrapper

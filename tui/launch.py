"""The ``mailagents-tui`` executable: opens the TUI at once, or hands over to the command line.

A plain start (no arguments, or only ``--api-base URL``) opens the TUI without importing click
and building the command line of :mod:`tui.cli` (about 10 ms of the first frame, issue 9);
anything else (commands, ``--help``, other options, shell completion) goes through
:func:`tui.cli.main`, which does the same for a plain start. What both share lives here:
the options object, the TUI launch and the one-line error reporting.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")

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


class Context:
    """Options shared by every command."""

    def __init__(
        self,
        api_base: str | None,
        keystore: Path | None,
        payment: str | None,
        profile: str | None = None,
    ) -> None:
        self.api_base = api_base
        self.keystore = keystore
        self.payment = payment
        self.profile = profile

    def settings(self) -> Any:
        """Resolved :class:`tui.core.settings.Settings`."""
        from tui.core.settings import Settings

        return Settings.load(profile=self.profile).with_overrides(
            api_base=self.api_base, keystore=self.keystore, payment=self.payment
        )


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
                message = exc.user_message()  # type: ignore[attr-defined]
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


def friendly_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Turn every expected failure into one line on stderr and its exit code (JSON too when
    the command was given ``--json``); only a bug keeps its traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
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


@friendly_errors
def launch_tui(options: Context, *, sandbox: bool) -> None:
    """Open the TUI, optionally on a sandbox started in the background of this process."""
    server = None
    if sandbox:
        server, wallet_source = start_embedded_sandbox(options)
    else:
        wallet_source = None
    try:
        from tui.app import run_app

        run_app(options.settings(), wallet_source=wallet_source, sandbox=server)
    finally:
        if server is not None:
            server.stop()


def start_embedded_sandbox(options: Context) -> tuple[Any, Any]:
    """Bind the sandbox to a free loopback port and pick a throwaway wallet (the server itself
    starts after the TUI's first frame: ``MailagentsApp.open_first_screen``).

    Files go to ``$MAILAGENTS_HOME`` (a new temporary directory unless one is given); the
    sandbox keeps its database in ``$MAILAGENTS_HOME/sandbox`` and logs to a file there,
    never to the terminal the TUI draws on. The first lease receives sample mails.
    """
    import logging
    import tempfile

    from tui.core.wallets import ENV_KEY, resolve_wallet_source, throwaway_wallet_source
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.embedded import DeferredSandbox

    os.umask(0o077)  # the sandbox's database and log hold credentials: keep them private
    if not os.environ.get("MAILAGENTS_HOME"):
        os.environ["MAILAGENTS_HOME"] = tempfile.mkdtemp(prefix="mailagents-sandbox-")
    data_dir = Path(os.environ["MAILAGENTS_HOME"]) / "sandbox"
    config = SandboxConfig.for_data_dir(
        data_dir, host="127.0.0.1", port=0, smtp_port=0, imap_port=0, demo_on_allocate=True
    )
    handler = logging.FileHandler(data_dir / "sandbox.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The port now (the API base), the server after the TUI's first frame (the app starts it).
    server = DeferredSandbox(config)
    options.api_base = server.base_url
    if os.environ.get(ENV_KEY) or options.keystore:
        source = resolve_wallet_source(options.settings())
    else:
        source = throwaway_wallet_source()
    return server, source


API_BASE = "--api-base"


def plain_launch(args: list[str], env: Any = None) -> Context | None:
    """The options of a plain start (no arguments, or only ``--api-base URL``), else None.

    The same values click would give ``tui.cli.main`` (``--api-base`` falls back to
    ``MAILAGENTS_API_BASE``); anything it might read differently (an empty or dash-led
    value, any other argument, a shell-completion request) is left to click.
    """
    env = os.environ if env is None else env
    if any(k.startswith("_") and k.endswith("_COMPLETE") and v for k, v in env.items()):
        return None  # click answers shell completion
    if not args:
        api_base = env.get("MAILAGENTS_API_BASE") or None
    elif len(args) == 2 and args[0] == API_BASE:
        api_base = args[1]
    elif len(args) == 1 and args[0].startswith(API_BASE + "="):
        api_base = args[0].removeprefix(API_BASE + "=")
    else:
        return None
    if api_base is not None and (not api_base or api_base.startswith("-")):
        return None
    return Context(api_base, None, None)


def sandbox_launch(args: list[str], env: Any = None) -> bool:
    """True for ``mailagents-tui --sandbox`` and nothing else (no shell completion asked):
    click would only open the TUI on the sandbox, so the entry point does it without click."""
    env = os.environ if env is None else env
    if any(k.startswith("_") and k.endswith("_COMPLETE") and v for k, v in env.items()):
        return False
    return args == ["--sandbox"]


def main() -> None:
    """``mailagents-tui``: the TUI straight away for a plain start, else the command line."""
    if sandbox_launch(sys.argv[1:]):
        # The API base is the sandbox's own; keystore, payment and profile as click leaves
        # them without options (the settings read their environment variables).
        launch_tui(Context(None, None, None), sandbox=True)
        return
    options = plain_launch(sys.argv[1:])
    if options is None:
        from tui.cli import main as command_line

        command_line()
        return
    launch_tui(options, sandbox=False)

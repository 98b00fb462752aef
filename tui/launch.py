"""The ``mailagents-tui`` executable: opens the TUI at once, or hands over to the command line.

A plain start (no arguments, or only ``--api-base URL``) opens the TUI without importing click
and building the command line of :mod:`tui.cli` (about 10 ms of the first frame, issue 9);
anything else (commands, ``--help``, other options, shell completion) goes through
:func:`tui.cli.main`, which does the same for a plain start. What both share lives here:
the options object, the TUI launch and the one-line error reporting.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


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


def fail(message: str, code: int = EXIT_ERROR) -> None:
    """Print one clear line on stderr and exit (never a traceback)."""
    import click

    click.echo(f"mailagents-tui: {message}", err=True)
    sys.exit(code)


USER_ERRORS = (
    ("tui.auth.wallet", "WalletError"),
    ("tui.core.settings", "SettingsError"),
    ("tui.core.leases", "LeaseInputError"),
    ("tui.core.ledger", "LedgerError"),
    ("tui.core.compose", "ComposeError"),
)
"""(module, class) of the errors that are the user's to fix: printed as one line."""


def user_error_classes() -> tuple[type[Exception], ...]:
    """The classes of :data:`USER_ERRORS` whose modules are imported.

    An error class whose module was never imported cannot have been raised, and importing
    them all up front (the lease manager, the composer) would slow down the TUI's start.
    """
    found = []
    for module_name, class_name in USER_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None:
            found.append(getattr(module, class_name))
    return tuple(found)


def friendly_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Turn the project's errors into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from tui.api.errors import MailagentsError, classify

        try:
            return func(*args, **kwargs)
        except MailagentsError as exc:
            temporary = " (temporary: try again)" if classify(exc).transient else ""
            fail(exc.user_message() + temporary)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except Exception as exc:
            if not isinstance(exc, user_error_classes()):
                raise
            fail(str(exc))
        raise AssertionError("unreachable")

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
    """Start the sandbox on a free loopback port and sign in with a throwaway wallet.

    Files go to ``$MAILAGENTS_HOME`` (a new temporary directory unless one is given); the
    sandbox keeps its database in ``$MAILAGENTS_HOME/sandbox`` and logs to a file there,
    never to the terminal the TUI draws on. The first lease receives sample mails.
    """
    import logging
    import tempfile

    from tui.core.wallets import ENV_KEY, resolve_wallet_source, throwaway_wallet_source
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.runner import SandboxServer

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
    server = SandboxServer(config)
    server.start()
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


def main() -> None:
    """``mailagents-tui``: the TUI straight away for a plain start, else the command line."""
    options = plain_launch(sys.argv[1:])
    if options is None:
        from tui.cli import main as command_line

        command_line()
        return
    launch_tui(options, sandbox=False)

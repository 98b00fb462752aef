"""The ``mailagents-tui`` executable: opens the TUI at once, or hands over to the command line.

A plain start (no arguments, only ``--api-base URL``, or only ``--sandbox``) opens the TUI
without importing click and building the command line of :mod:`tui.cli.root` (about 10 ms of
the first frame, issue 9); anything else (commands, ``--help``, other options, shell
completion) goes through :func:`tui.cli.root.main`, which does the same for a plain start.
Both use the click-free bottom of :mod:`tui.cli`: the options, the TUI's launch, the errors.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from tui.cli.opentui import launch_tui
from tui.cli.options import Context

API_BASE = "--api-base"


def plain_launch(args: list[str], env: Mapping[str, str] | None = None) -> Context | None:
    """The options of a plain start (no arguments, or only ``--api-base URL``), else None.

    The same values click would give ``tui.cli.root.main`` (``--api-base`` falls back to
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


def sandbox_launch(args: list[str], env: Mapping[str, str] | None = None) -> bool:
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
        from tui.cli.root import main as command_line

        command_line()
        return
    launch_tui(options, sandbox=False)

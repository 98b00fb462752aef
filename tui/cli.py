"""The ``mailagents-tui`` command: the TUI by default, headless commands, and the sandbox."""

from __future__ import annotations

import click

from tui import __version__


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="mailagents-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """A terminal client for mailagents agent mailboxes."""
    if ctx.invoked_subcommand is None:
        click.echo("mailagents-tui: the TUI is not built yet")

"""The ``mailagents-tui`` click root: the TUI by default, the shared options, and the registry
of command groups (the everyday ones imported here, the others by name on first use).

Heavy modules (Textual, eth-account, the sandbox) are imported inside the commands that need
them, so ``--help`` and the headless commands start fast. The executable's entry point is
:func:`tui.launch.main`: a plain start opens the TUI without this module (and click).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tui import __version__
from tui.cli import lease, messages, parse, send, wallet
from tui.cli.exits import EXIT_CODES_HELP, EXIT_USAGE, classify, fail, friendly_errors, report
from tui.cli.opentui import launch_tui
from tui.cli.options import Context


class LazyGroup(click.Group):
    """A group whose some subcommands live in other modules, imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and lazy command names."""
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the group's own options; with ``--json`` in the line, a usage error is JSON."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            if "--json" not in args:
                raise
            report("usage", exc.format_message(), exc.exit_code, as_json=True)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; with ``--json`` among its arguments, a usage error is JSON too."""
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if "--json" not in words:
                raise
            report("usage", exc.format_message(), exc.exit_code, as_json=True)
        except (Exception, KeyboardInterrupt) as exc:
            # The net under every command (and nested groups' callbacks, such as `admin`)
            # that has no friendly_errors of its own: the same one mapping, the same line.
            found = None if type(exc).__module__.startswith("click") else classify(exc)
            if found is None:
                raise
            report(*found, as_json="--json" in words)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command the first time it is asked for."""
        if cmd_name in LAZY_COMMANDS:
            import importlib

            module, _, attr = LAZY_COMMANDS[cmd_name][0].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands without importing the lazy ones."""
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, LAZY_COMMANDS[name][1]))
                continue
            cmd = super().get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=60)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="mailagents-tui")
@click.option("--api-base", envvar="MAILAGENTS_API_BASE", help="API base URL.")
@click.option(
    "--keystore",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted keystore to sign in with (password: prompt or MAILAGENTS_KEYSTORE_PASSWORD).",
)
@click.option(
    "--payment",
    type=click.Choice(["auto", "always", "never"]),
    help="Payment proofs: on 402 (auto), before every protected call, or never.",
)
@click.option(
    "--sandbox",
    is_flag=True,
    help="Start the local sandbox service and use it (throwaway wallet and state).",
)
@click.option(
    "--profile",
    metavar="NAME",
    help="Use the [profiles.NAME] settings of config.toml, with their own session and ledger "
    "(default: MAILAGENTS_PROFILE).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Log requests (status, time, request id; never a secret) to stderr, or for the TUI "
    "to debug.log in the state dir.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write that log to this file (0600) instead.",
)
@click.pass_context
@friendly_errors
def main(
    ctx: click.Context,
    api_base: str | None,
    keystore: Path | None,
    payment: str | None,
    sandbox: bool,
    profile: str | None,
    debug: bool,
    log_file: Path | None,
) -> None:
    """A terminal client for mailagents agent mailboxes.

    Without a command, opens the TUI.
    """
    ctx.obj = Context(api_base, keystore, payment, profile)
    if debug or log_file is not None:
        from tui.core.logs import start_logging

        if log_file is None and ctx.invoked_subcommand is None:  # stderr is the TUI's screen
            log_file = ctx.obj.settings().state_dir / "debug.log"
            click.echo(f"mailagents-tui: debug log in {log_file}", err=True)
        ctx.call_on_close(start_logging(debug=debug, log_file=log_file))
    if ctx.invoked_subcommand is None:
        launch_tui(ctx.obj, sandbox=sandbox)
    elif sandbox:
        fail(
            "--sandbox opens the TUI; for a headless sandbox run `mailagents-tui sandbox`",
            EXIT_USAGE,
        )


for command in (
    wallet.login,
    lease.leases,
    lease.lease,
    messages.messages,
    messages.show,
    messages.wait_otp,
    send.send,
    send.sent,
    parse.parse,
    wallet.wallet,
):
    main.add_command(command)


LAZY_COMMANDS = {
    "sandbox": ("tui.sandbox.cli:sandbox", "Run the local mailagents sandbox service."),
    "webhooks": ("tui.cli.billing:webhooks", "List webhooks and their delivery log."),
    "webhook": ("tui.cli.billing:webhook", "Create webhooks and rotate their secrets."),
    "usage": ("tui.cli.billing:usage", "A month's usage and the price of a paid call."),
    "invoices": ("tui.cli.billing:invoices", "List invoices (`invoices show ID` for one)."),
    "mcp": ("tui.mcpserver:mcp_command", "Run an MCP server on stdio (for AI agents)."),
    "profiles": ("tui.cli.profiles:profiles", "List the profiles of config.toml."),
    "accounts": ("tui.cli.accounts:accounts", "List the tenant's mailbox accounts."),
    "admin": ("tui.cli.admin:admin", "Operator console; headless admin views and actions."),
}
"""Commands imported by name on first use (``--help`` lists them from here)."""

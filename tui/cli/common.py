"""Helpers the command modules share: build the services and run a command's body, the
wallet prompt, the note about leases left behind, and printing JSON or text."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import click

from tui.cli.exits import fail
from tui.cli.options import Context

if TYPE_CHECKING:  # the services load with the first command that needs them
    from tui.core.services import Services

T = TypeVar("T")

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
"""The ``--json`` flag of the commands that print JSON as it is."""


def options_of(ctx: click.Context) -> Context:
    """The shared options the click root put on the context (every command runs under it)."""
    options = ctx.find_object(Context)
    if options is None:
        raise RuntimeError("the command runs outside the mailagents-tui root command")
    return options


def iso_z(moment: datetime | None) -> str | None:
    """:func:`tui.api.models.iso_z`, imported on first use (the TUI starts without the
    models)."""
    from tui.api.models import iso_z as api_iso_z

    return api_iso_z(moment)


def run_with_services(
    ctx: click.Context,
    body: Callable[[Services], Awaitable[T]],
    *,
    need_wallet: bool = True,
    leftovers: str = "hint",
) -> T:
    """Build the services, make sure the wallet is usable, run ``body(services)``.

    Then a note on stderr about leases left behind (see :func:`note_leftovers`):
    ``leftovers="hint"`` asks the server only when the ledger hints at some, ``"full"``
    always, ``"off"`` never (a damaged ledger is reported whatever happens).
    """
    from tui.core.services import Services

    settings = options_of(ctx).settings()
    services = Services.create(settings)
    if need_wallet:
        prepare_wallet(services)

    async def main() -> T:
        try:
            # A damaged ledger is set aside (and reported below) before the command starts.
            await asyncio.to_thread(services.ledger.intents)
            result = await body(services)
            if leftovers != "off":
                await note_leftovers(services, full=leftovers == "full")
            return result
        finally:
            for damage in services.ledger.take_damage():
                click.echo(f"mailagents-tui: {damage.message()}", err=True)
            await services.aclose()
            client = services.client
            if client.paid_calls:
                click.echo(
                    f"mailagents-tui: paid {client.paid_calls} call(s) past the free limits "
                    f"({client.paid_usdc:g} USDC)",
                    err=True,
                )

    return asyncio.run(main())


async def note_leftovers(services: Services, *, full: bool = False) -> None:
    """One line on stderr when active leases no live run owns are found (never fails).

    Leases an earlier run could not release, allocations whose answer a killed run never
    received, and (with ``full``) leases no run of this client knows. Acting on them:
    ``lease reconcile --release`` or ``--keep`` (or ``lease release ID`` one by one).
    """
    from tui.api.errors import MailagentsError

    leases = services.leases
    if not full and not await asyncio.to_thread(leases.needs_reconcile):
        return
    try:
        found = await leases.reconcile()
    except MailagentsError:
        return
    services.ledger.damage.extend(found.damage)  # reported with the others
    if found.leftovers:
        count = len(found.leftovers)
        names = ", ".join(x.lease.address for x in found.leftovers[:3])
        more = f" and {count - 3} more" if count > 3 else ""
        click.echo(
            f"mailagents-tui: {count} active lease(s) no running client owns ({names}{more}): "
            "see `mailagents-tui lease reconcile`, then `--release` or `--keep` them",
            err=True,
        )


def prepare_wallet(services: Services) -> None:
    """Load the wallet now when signing in will need it (prompting for a keystore password)."""
    source = services.session.wallet_source
    if source.kind == "none":
        if services.session.load_saved() is None:
            source.load()  # raises the clear "no wallet" message
        return
    if source.address is None:
        source.load()
        return
    if services.session.load_saved() is not None:
        return
    if source.needs_password:
        if not sys.stdin.isatty():
            fail(f"{source.description} needs a password: set MAILAGENTS_KEYSTORE_PASSWORD")
        password = click.prompt(f"Password for {source.description}", hide_input=True, err=True)
        source.load(password)


def emit(data: object, as_json: bool, text: str) -> None:
    """Print JSON or the human text (``data`` as ``json.dumps`` prints it, other values as
    their ``str``)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(text)

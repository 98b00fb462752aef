"""``mailagents-tui login`` and ``wallet new|address``: the signing wallet and its session."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tui.cli.common import JSON_OPTION, emit, options_of, run_with_services
from tui.cli.exits import fail, friendly_errors

if TYPE_CHECKING:
    from tui.core.services import Services
    from tui.core.session import SessionInfo


@click.command()
@JSON_OPTION
@click.pass_context
@friendly_errors
def login(ctx: click.Context, as_json: bool) -> None:
    """Sign in with the wallet (SIWE) and save the session."""

    async def body(services: Services) -> SessionInfo:
        await services.session.sign_in()
        return services.session.info()

    info = run_with_services(ctx, body)
    emit(
        info,
        as_json,
        "\n".join(
            [
                f"address    {info['address']}",
                f"tenant_id  {info['tenant_id']}",
                f"agent_id   {info['agent_id']}",
                f"did        {info['did']}",
            ]
        ),
    )


@click.group()
def wallet() -> None:
    """Create or inspect the signing wallet."""


@wallet.command("new")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keystore file to write (default: the config dir's keystore.json).",
)
@click.pass_context
@friendly_errors
def wallet_new(ctx: click.Context, out: Path | None) -> None:
    """Create a wallet in an encrypted keystore (0600); prints only its address."""
    from tui.auth.wallet import Wallet
    from tui.core.wallets import ENV_PASSWORD

    settings = options_of(ctx).settings()
    path = out or settings.default_keystore
    if path.exists():
        fail(f"{path} already exists: not overwriting a keystore")
    password = os.environ.get(ENV_PASSWORD)
    if not password:
        if not sys.stdin.isatty():
            fail("set MAILAGENTS_KEYSTORE_PASSWORD or run in a terminal to type a password")
        password = click.prompt(
            "New keystore password", hide_input=True, confirmation_prompt=True, err=True
        )
    new = Wallet.generate()
    new.write_keystore(path, password)
    click.echo(new.address)


@wallet.command("address")
@click.pass_context
@friendly_errors
def wallet_address(ctx: click.Context) -> None:
    """Print the configured wallet's address."""
    from tui.core.wallets import resolve_wallet_source

    source = resolve_wallet_source(options_of(ctx).settings())
    if source.address is None:
        source.load()
    click.echo(source.address)

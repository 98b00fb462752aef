"""``mailagents-tui profiles``: the ``[profiles.NAME]`` tables of ``config.toml``."""

from __future__ import annotations

import json
import os

import click

from tui.cli.common import JSON_OPTION
from tui.cli.exits import friendly_errors
from tui.cli.options import Context
from tui.jsontypes import JsonObject


def profile_rows(active: str | None) -> list[JsonObject]:
    """One row per profile: name, API base, wallet source, state folder, active."""
    from tui.core.settings import Settings, list_profiles

    rows = []
    for name in sorted(list_profiles()):
        settings = Settings.load(profile=name)
        if settings.private_key_env:
            wallet = f"${settings.private_key_env}"
        elif settings.keystore is not None:
            wallet = f"keystore {settings.keystore}"
        elif settings.default_keystore.exists():
            wallet = f"keystore {settings.default_keystore}"
        else:
            wallet = "MAILAGENTS_PRIVATE_KEY or --keystore"
        rows.append(
            {
                "name": name,
                "api_base": settings.api_base,
                "wallet": wallet,
                "state_dir": str(settings.state_dir),
                "active": name == active,
            }
        )
    return rows


@click.command()
@JSON_OPTION
@click.pass_context
@friendly_errors
def profiles(ctx: click.Context, as_json: bool) -> None:
    """List the profiles of config.toml (`[profiles.NAME]`); `*` marks the active one.

    Pick one with `--profile NAME` or MAILAGENTS_PROFILE: its settings override the file's,
    and it keeps its own session, ledger, mail cache and default keystore.
    """
    options = ctx.find_object(Context)
    active = (options.profile if options else None) or os.environ.get("MAILAGENTS_PROFILE")
    rows = profile_rows(active or None)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No profiles: add [profiles.NAME] tables to config.toml.")
        return
    for row in rows:
        mark = "*" if row["active"] else " "
        click.echo(f"{mark} {row['name']:<16}  {row['api_base']:<36}  {row['wallet']}")

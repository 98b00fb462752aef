"""``mailagents-tui accounts``: the tenant's mailbox accounts (``GET /v2/mailboxes/accounts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tui.cli.common import JSON_OPTION, emit, iso_z, run_with_services
from tui.cli.exits import friendly_errors
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    from tui.api.models import Account
    from tui.core.services import Services


def account_dict(account: Account, own: bool) -> JsonObject:
    """An account as JSON; ``credentials_stored``: the ledger holds its mailbox password."""
    return {
        "account_id": account.account_id,
        "address": account.address,
        "account_status": account.account_status,
        "lease_id": account.lease_id,
        "lease_expires_at": iso_z(account.lease_expires_at),
        "credentials_stored": own,
    }


@click.command()
@JSON_OPTION
@click.pass_context
@friendly_errors
def accounts(ctx: click.Context, as_json: bool) -> None:
    """List the tenant's mailbox accounts: leased (active), available or frozen."""

    async def body(services: Services) -> list[JsonObject]:
        found = await services.client.list_accounts()
        stored = {
            e.mailbox_id
            for e in services.ledger.entries(services.settings.api_base)
            if e.has_password
        }
        return [account_dict(a, a.account_id in stored) for a in found]

    rows = run_with_services(ctx, body)
    if as_json:
        emit(rows, True, "")
        return
    from tui.core.sanitize import clean

    if not rows:
        click.echo("No mailbox accounts.")
    for row in rows:
        lease = ""
        if row["lease_id"]:
            lease = f"lease {clean(row['lease_id'], 40)} until {row['lease_expires_at']}"
        click.echo(
            f"{clean(row['account_id'], 40)}  {clean(row['address'], 60):<40}  "
            f"{clean(row['account_status'], 12):<10}  {lease}"
        )

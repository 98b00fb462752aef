"""``mailagents-tui leases`` and ``lease new|release|reconcile|credentials``."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from tui.cli.common import JSON_OPTION, emit, iso_z, run_with_services
from tui.cli.exits import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_USAGE, fail, friendly_errors
from tui.jsontypes import JsonObject

if TYPE_CHECKING:  # the models and the lease manager load with the command
    from tui.api.models import AllocatedLease, Lease
    from tui.core.leases import Reconciliation, ReleaseResult
    from tui.core.ledger import LedgerEntry
    from tui.core.services import Services


def lease_dict(lease: Lease, entry: LedgerEntry | None = None) -> JsonObject:
    """A lease as JSON for the CLI (never the password)."""
    return {
        "lease_id": lease.lease_id,
        "mailbox_id": lease.mailbox_id,
        "account_id": lease.account_id,
        "address": lease.address,
        "purpose": lease.purpose,
        "lease_status": lease.lease_status,
        "started_at": iso_z(lease.started_at),
        "expires_at": iso_z(lease.expires_at),
        "released_at": iso_z(lease.released_at),
        "expired": lease.is_expired(),
        "credentials_stored": bool(entry and entry.has_password),
    }


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Also list leases the ledger remembers.")
@JSON_OPTION
@click.pass_context
@friendly_errors
def leases(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List active leases (with --all, also released ones this client allocated)."""

    async def body(services: Services) -> list[JsonObject]:
        views = await services.leases.list_active()
        rows = [lease_dict(v.lease, v.entry) for v in views]
        if show_all:
            seen = {r["lease_id"] for r in rows}
            session = services.session.session
            assert session is not None  # list_active signed in
            tenant = session.tenant_id
            for entry in services.ledger.entries(services.settings.api_base, tenant):
                if entry.lease_id in seen:
                    continue
                rows.append(
                    {
                        "lease_id": entry.lease_id,
                        "mailbox_id": entry.mailbox_id,
                        "account_id": entry.account_id,
                        "address": entry.address,
                        "purpose": entry.purpose,
                        "lease_status": entry.status,
                        "started_at": entry.allocated_at,
                        "expires_at": entry.expires_at,
                        "released_at": entry.released_at,
                        "expired": None,
                        "credentials_stored": entry.has_password,
                    }
                )
        return rows

    rows = run_with_services(ctx, body, leftovers="full")
    if as_json:
        emit(rows, True, "")
        return
    if not rows:
        click.echo("No active leases. Allocate one with `mailagents-tui lease new`.")
        return
    from tui.core.timefmt import time_left

    for row in rows:
        expires = row["expires_at"]
        status = row["lease_status"]
        left = "-"
        if expires and status == "active":
            left = time_left(datetime.fromisoformat(expires.replace("Z", "+00:00")))
        if status == "active" and left == "expired":
            status = "expired (still held)"
        click.echo(
            f"{row['lease_id']}  {row['address']:<40}  {status:<20}  {left:>9}  "
            f"{row['purpose'] or ''}"
        )


@click.group()
def lease() -> None:
    """Allocate, release and inspect leases."""


@lease.command("new")
@click.option("--purpose", default="signup", show_default=True, help="What the mailbox is for.")
@click.option("--ttl-hours", default=1, show_default=True, type=int, help="Lease length (1..720).")
@JSON_OPTION
@click.pass_context
@friendly_errors
def lease_new(ctx: click.Context, purpose: str, ttl_hours: int, as_json: bool) -> None:
    """Allocate a mailbox; its credentials go to the ledger (not printed)."""
    from tui.core.leases import validate_lease_input

    purpose, ttl_hours = validate_lease_input(purpose, ttl_hours)

    async def body(services: Services) -> AllocatedLease:
        return await services.leases.allocate(purpose, ttl_hours, release_on_exit=False)

    allocated = run_with_services(ctx, body)
    data = {
        "lease_id": allocated.lease.lease_id,
        "mailbox_id": allocated.lease.mailbox_id,
        "account_id": allocated.lease.account_id,
        "address": allocated.lease.address,
        "lease_status": allocated.lease.lease_status,
        "expires_at": iso_z(allocated.lease.expires_at),
        "webmail_login": allocated.credentials.webmail_login,
        "webmail_url": allocated.credentials.webmail_url,
        "credentials_stored": bool(allocated.credentials.webmail_password),
    }
    emit(
        data,
        as_json,
        f"{data['address']}  lease {data['lease_id']}  expires {data['expires_at']}\n"
        "credentials saved in the ledger (show them with `lease credentials ID`)",
    )


@lease.command("release")
@click.argument("lease_id")
@JSON_OPTION
@click.pass_context
@friendly_errors
def lease_release(ctx: click.Context, lease_id: str, as_json: bool) -> None:
    """Release a lease (only if the server still says it is active); exit 4 if the server
    does not know it."""

    async def body(services: Services) -> ReleaseResult:
        return await services.leases.release(lease_id)

    result = run_with_services(ctx, body)
    if not result.found:
        fail(f"lease {lease_id} not found on the server", EXIT_NOT_FOUND)
    emit(
        {"lease_id": lease_id, "released": result.released, "detail": result.detail},
        as_json,
        f"{lease_id}: {result.detail}",
    )


@lease.command("reconcile")
@click.option("--release", "release_all", is_flag=True, help="Release every lease listed.")
@click.option("--keep", "keep_all", is_flag=True, help="Keep them all (not offered again).")
@JSON_OPTION
@click.pass_context
@friendly_errors
def lease_reconcile(ctx: click.Context, release_all: bool, keep_all: bool, as_json: bool) -> None:
    """Leases left behind: active on the server, owned by no running client.

    Those an earlier run could not release, those whose allocation answer never reached a
    run that was killed, and those no run of this client knows. Without options they are
    listed; --release releases them, --keep remembers them as yours (no password: reset it
    with `lease credentials ID --reset`). Release some first with `lease release ID`.
    """
    if release_all and keep_all:
        fail("choose --release or --keep, not both", EXIT_USAGE)

    async def body(services: Services) -> tuple[Reconciliation, list[ReleaseResult]]:
        found = await services.leases.reconcile()
        results: list[ReleaseResult] = []
        if release_all:
            results = await services.leases.release_leftovers(
                found.leftovers, timeout=services.settings.release_timeout
            )
        elif keep_all:
            await services.leases.keep_leftovers(found.leftovers)
        services.ledger.damage.extend(found.damage)
        return found, results

    found, results = run_with_services(ctx, body, leftovers="off")
    done = {r.lease_id: r for r in results}
    rows = []
    for x in found.leftovers:
        result = done.get(x.lease.lease_id)
        action = "kept" if keep_all else "listed"
        if result is not None:
            action = "released" if result.released else f"not released: {result.detail}"
        rows.append(
            {
                "lease_id": x.lease.lease_id,
                "address": x.lease.address,
                "purpose": x.lease.purpose,
                "reason": x.reason,
                "why": x.why(),
                "credentials_stored": bool(x.entry and x.entry.has_password),
                "action": action,
            }
        )
    if as_json:
        emit(rows, True, "")
    elif not rows:
        click.echo("No leases left behind.")
    else:
        for row in rows:
            click.echo(f"{row['lease_id']}  {row['address']:<40}  {row['action']:<9}  {row['why']}")
    if any(not r.released for r in results):
        sys.exit(EXIT_ERROR)


@lease.command("credentials")
@click.argument("lease_id")
@click.option("--reset", is_flag=True, help="Rotate the password (asks for confirmation).")
@click.option("--yes", is_flag=True, help="Do not ask before --reset.")
@JSON_OPTION
@click.pass_context
@friendly_errors
def lease_credentials(
    ctx: click.Context, lease_id: str, reset: bool, yes: bool, as_json: bool
) -> None:
    """Show the stored mailbox login and password (you asked: they are printed)."""
    if reset and not yes:
        click.confirm(
            "Rotate this mailbox's password? Anything using the old one stops working",
            abort=True,
            err=True,
        )

    async def body(services: Services) -> LedgerEntry | None:
        if reset:
            lease_obj = await services.client.get_lease(lease_id)
            return await services.leases.reset_credentials(lease_obj)
        return services.leases.credentials(lease_id)

    entry = run_with_services(ctx, body, need_wallet=reset)
    if entry is None or not entry.has_password:
        fail(
            f"no stored credentials for lease {lease_id}: it was allocated elsewhere; "
            "rotate them with `lease credentials ID --reset`",
            EXIT_NOT_FOUND,
        )
    data = {
        "lease_id": entry.lease_id,
        "address": entry.address,
        "webmail_login": entry.webmail_login,
        "webmail_password": entry.webmail_password,
        "webmail_url": entry.webmail_url,
    }
    emit(
        data,
        as_json,
        f"login     {entry.webmail_login}\npassword  {entry.webmail_password}"
        + (f"\nwebmail   {entry.webmail_url}" if entry.webmail_url else ""),
    )

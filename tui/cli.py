"""The ``mailagents-tui`` command: the TUI by default, headless commands, and the sandbox.

Heavy modules (Textual, eth-account, the sandbox) are imported inside the commands that need
them, so ``--help`` and the headless commands start fast. The executable's entry point is
:func:`tui.launch.main`: a plain start opens the TUI without this module (and click).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from tui import __version__
from tui.launch import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    Context,
    classify,
    fail,
    friendly_errors,
    launch_tui,
    report,
)

T = TypeVar("T")


def iso_z(moment: datetime | None) -> str | None:
    """:func:`tui.api.models.iso_z`, imported on first use (the TUI starts without the
    models)."""
    from tui.api.models import iso_z as api_iso_z

    return api_iso_z(moment)


def run_with_services(
    ctx: click.Context,
    body: Callable[[Any], Awaitable[T]],
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

    settings = ctx.find_object(Context).settings()  # type: ignore[union-attr]
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


async def note_leftovers(services: Any, *, full: bool = False) -> None:
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


def prepare_wallet(services: Any) -> None:
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


def emit(data: Any, as_json: bool, text: str) -> None:
    """Print JSON or the human text."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(text)


# -- the group -----------------------------------------------------------------------------


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


# -- headless commands -----------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def login(ctx: click.Context, as_json: bool) -> None:
    """Sign in with the wallet (SIWE) and save the session."""

    async def body(services: Any) -> dict[str, Any]:
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


def lease_dict(lease: Any, entry: Any = None) -> dict[str, Any]:
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


@main.command()
@click.option("--all", "show_all", is_flag=True, help="Also list leases the ledger remembers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def leases(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List active leases (with --all, also released ones this client allocated)."""

    async def body(services: Any) -> list[dict[str, Any]]:
        views = await services.leases.list_active()
        rows = [lease_dict(v.lease, v.entry) for v in views]
        if show_all:
            seen = {r["lease_id"] for r in rows}
            tenant = services.session.session.tenant_id
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


@main.group()
def lease() -> None:
    """Allocate, release and inspect leases."""


@lease.command("new")
@click.option("--purpose", default="signup", show_default=True, help="What the mailbox is for.")
@click.option("--ttl-hours", default=1, show_default=True, type=int, help="Lease length (1..720).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def lease_new(ctx: click.Context, purpose: str, ttl_hours: int, as_json: bool) -> None:
    """Allocate a mailbox; its credentials go to the ledger (not printed)."""
    from tui.core.leases import validate_lease_input

    purpose, ttl_hours = validate_lease_input(purpose, ttl_hours)

    async def body(services: Any) -> Any:
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def lease_release(ctx: click.Context, lease_id: str, as_json: bool) -> None:
    """Release a lease (only if the server still says it is active); exit 4 if the server
    does not know it."""

    async def body(services: Any) -> Any:
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
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

    async def body(services: Any) -> tuple[Any, list[Any]]:
        found = await services.leases.reconcile()
        results: list[Any] = []
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
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

    async def body(services: Any) -> Any:
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


def message_dict(item: Any, source: str = "api") -> dict[str, Any]:
    """An inbox item as JSON for the CLI."""
    m = item.message
    data = {
        "message_id": m.message_id,
        "sender": m.sender,
        "subject": m.subject,
        "received_at": iso_z(m.received_at),
        "otp": item.code,
        "otp_source": item.code_source or None,
        "server_otp_code": m.otp_code,
        "verification_link": item.link,
        "parsed_status": m.parsed_status,
        "sample": item.sample,
        "before_lease": item.before_lease,
        "after_lease": item.after_lease,
        "source": source,
    }
    if source == "imap":
        imap = item.extra.get("imap")
        data["body_text"] = item.body_text
        data["attachments"] = [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in (imap.attachments if imap is not None else [])
        ]
        data["partial"] = bool(imap is not None and imap.partial)
    return data


async def lease_mail(
    services: Any, lease_id: str, *, show_all: bool, limit: int, use_imap: bool
) -> tuple[Any, list[tuple[Any, str]], list[Any], str | None]:
    """The lease, its merged (item, source) rows, the IMAP messages, and why IMAP is off."""
    from tui.core.imapsource import read_lease_mail

    return await read_lease_mail(
        services, lease_id, show_all=show_all, limit=limit, use_imap=use_imap
    )


@main.command()
@click.option("--lease", "lease_id", required=True, help="Lease id.")
@click.option("--all", "show_all", is_flag=True, help="Include other lessees' mail.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100))
@click.option("--no-imap", is_flag=True, help="Only the API (no bodies).")
@click.option(
    "--follow",
    "-f",
    is_flag=True,
    help="Print mail as it arrives, oldest first, until interrupted (--json: JSON lines).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def messages(
    ctx: click.Context,
    lease_id: str,
    show_all: bool,
    limit: int,
    no_imap: bool,
    follow: bool,
    as_json: bool,
) -> None:
    """List a lease's messages (newest first) with their codes and links.

    With the lease's credentials in the ledger, the full messages are read over IMAP too:
    codes come from the bodies and each message says its source. With --follow, the mail
    already there and then each new mail, oldest first, until interrupted.
    """
    if follow:
        follow_messages(ctx, lease_id, show_all=show_all, use_imap=not no_imap, as_json=as_json)
        return

    async def body(services: Any) -> Any:
        return await lease_mail(
            services, lease_id, show_all=show_all, limit=limit, use_imap=not no_imap
        )

    _lease, rows, _imap, reason = run_with_services(ctx, body)
    if as_json:
        emit([message_dict(item, source) for item, source in rows], True, "")
        return
    from tui.core.sanitize import clean

    if reason and not no_imap:
        click.echo(f"(IMAP off: {clean(reason, 200)}; codes from the API)", err=True)
    if not rows:
        click.echo("No messages yet.")
    for item, _source in rows:
        click.echo(message_line(item))


def message_line(item: Any) -> str:
    """One message as a line of ``messages`` (untrusted text cleaned)."""
    from tui.core.links import inspect_link
    from tui.core.sanitize import clean

    m = item.message
    code = clean(item.code or (f"({item.server_guess}?)" if item.server_guess else "-"), 20)
    flag = " [sample]" if item.sample else (" [older]" if item.before_lease else "")
    if item.after_lease:
        flag = " [after release]"
    link = f"  link: {clean(inspect_link(item.link).host, 60) or '?'}" if item.link else ""
    return (
        f"{iso_z(m.received_at)}  {clean(m.sender, 40):<40}  {code:<10}  "
        f"{clean(m.subject, 60)}{flag}{link}"
    )


def follow_messages(
    ctx: click.Context, lease_id: str, *, show_all: bool, use_imap: bool, as_json: bool
) -> None:
    """``messages --follow``: print each mail once as it arrives; Ctrl-C ends it (exit 0)."""
    from tui.core.follow import follow_mail

    async def body(services: Any) -> None:
        async for item, source in follow_mail(
            services, lease_id, show_all=show_all, use_imap=use_imap
        ):
            if as_json:
                click.echo(json.dumps(message_dict(item, source), default=str))
            else:
                click.echo(message_line(item))

    try:
        run_with_services(ctx, body)
    except KeyboardInterrupt:
        return


@main.command()
@click.option("--lease", "lease_id", required=True, help="Lease id.")
@click.argument("message_id")
@click.option("--raw", is_flag=True, help="The raw RFC 5322 message (needs IMAP).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def show(ctx: click.Context, lease_id: str, message_id: str, raw: bool, as_json: bool) -> None:
    """Print one message with its body (MESSAGE_ID from `messages`: an API id or imap:UID)."""
    from tui.core.imapsource import find_raw

    async def body(services: Any) -> Any:
        from tui.core.imapsource import fetch_message

        found = await lease_mail(services, lease_id, show_all=True, limit=100, use_imap=True)
        lease_obj, rows, imap_messages, reason = found
        if not any(item.message_id == message_id for item, _src in rows):
            older = await fetch_message(services, lease_obj, message_id)  # not among the 100
            if older is not None:
                rows = [*rows, (older, "api")]
        return lease_obj, rows, imap_messages, reason

    _lease, rows, imap_messages, reason = run_with_services(ctx, body)
    match = next(((i, src) for i, src in rows if i.message_id == message_id), None)
    if match is None:
        fail(f"no message {message_id} in lease {lease_id}", EXIT_NOT_FOUND)
    item, source = match
    if raw:
        imap = find_raw(imap_messages, rows, message_id)
        if imap is None:
            fail(f"the raw message needs IMAP ({reason or 'not found there'})")
        sys.stdout.buffer.write(imap.raw)
        return
    if as_json:
        emit(message_dict(item, source), True, "")
        return
    from tui.core.sanitize import clean, clean_block

    m = item.message
    lines = [
        f"From:     {clean(m.sender, 200)}",
        f"Subject:  {clean(m.subject, 300)}",
        f"Date:     {iso_z(m.received_at)}",
        f"Code:     {clean(item.code or '-', 40)}"
        + (f"  (server read: {clean(item.server_guess, 40)})" if item.server_guess else ""),
        f"Link:     {clean(item.link or '-', 500)}",
        f"Source:   {source}",
        "",
        clean_block(item.body_text)
        if item.body_text
        else "(no body: IMAP is off: " + clean(reason or "unknown", 200) + ")",
    ]
    click.echo("\n".join(lines))


def regex_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a regular expression that does not compile (a usage error, exit 2)."""
    from tui.core.codepick import bad_regex

    if value is not None and (why := bad_regex(value)) is not None:
        raise click.BadParameter(why)
    return value


@main.command("wait-otp")
@click.option("--lease", "lease_id", required=True, help="Lease id.")
@click.option("--timeout", default=120.0, show_default=True, type=click.FloatRange(0, 86400))
@click.option("--link", "want_link", is_flag=True, help="Wait for a verification link instead.")
@click.option(
    "--fresh", is_flag=True, help="Skip mail that was already there when this command started."
)
@click.option("--from", "sender", metavar="SUBSTR", help="Only mail whose sender contains this.")
@click.option("--subject", metavar="SUBSTR", help="Only mail whose subject contains this.")
@click.option(
    "--match",
    metavar="REGEX",
    callback=regex_option,
    help="Only mail whose subject or body matches, ignoring case (the body is read over IMAP).",
)
@click.option(
    "--pattern",
    metavar="REGEX",
    callback=regex_option,
    help="The code's shape: its first match (group 1 if any) in the subject, then the body.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the code and its mail as JSON.")
@click.pass_context
@friendly_errors
def wait_otp(
    ctx: click.Context,
    lease_id: str,
    timeout: float,
    want_link: bool,
    fresh: bool,
    sender: str | None,
    subject: str | None,
    match: str | None,
    pattern: str | None,
    as_json: bool,
) -> None:
    """Print the lease's next code (or link) and exit 0; exit 3 on timeout.

    \b
    It returns the code of the newest mail received since the lease began
    that it has not returned before. Once it has returned a code, a later
    call returns only a code from newer mail (never an older one left
    unread: a retry after a failed sign-up gets the code sent after it),
    whatever the filters. Mail is told apart by message (API id, IMAP UID, Message-ID), so a
    resent code with the same sender and subject counts as new.
    --fresh also skips mail already there when the command starts.
    --from, --subject and --match ignore case; --pattern does not. A code
    only the server read that looks like a year, a date, a price, an
    order number or a word is never returned: it is named on stderr and
    the wait goes on. --json prints code, link, message_id, sender,
    subject, received_at, source (api|imap) and doubtful (the code is the
    server's reading of a body this client could not read).
    """
    import re

    from tui.core.codepick import CodeFilter
    from tui.core.sanitize import clean
    from tui.core.waiter import LeaseNotActive, WaitTimeout, wait_for_code

    if pattern is not None and want_link:
        raise click.UsageError("--pattern shapes a code; it does not apply to --link")
    filters = CodeFilter(
        sender=sender or None,
        subject=subject or None,
        match=re.compile(match, re.IGNORECASE) if match else None,
        pattern=re.compile(pattern) if pattern else None,
    )

    def ignored(item: Any, guess: str, reason: str) -> None:
        click.echo(
            f"mailagents-tui: ignored the server's guess {clean(guess, 40)!r} "
            f"in {clean(item.message.subject, 120)!r} from {clean(item.message.sender, 120)}: "
            f"{reason}; still waiting",
            err=True,
        )

    async def body(services: Any) -> Any:
        return await wait_for_code(
            services,
            lease_id,
            timeout=timeout,
            want_link=want_link,
            fresh=fresh,
            filters=filters,
            on_ignored=ignored,
        )

    try:
        picked = run_with_services(ctx, body)
    except WaitTimeout as exc:
        fail(str(exc), EXIT_TIMEOUT)
    except LeaseNotActive as exc:
        fail(str(exc))
    if as_json:
        emit(picked.as_json(want_link), True, "")
    else:
        click.echo(clean(picked.value, 2000))


def read_named_text(path: str | None, option: str) -> str | None:
    """A UTF-8 body file the user named (``-`` is stdin), bounded; None when not given."""
    from tui.files import FileRefused, read_stream_bounded, read_text_bounded

    if path is None:
        return None
    if path != "-":
        return read_text_bounded(path, what=option)
    raw = read_stream_bounded(sys.stdin.buffer, what=f"{option} (stdin)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{option} (stdin) is not UTF-8 text (byte {exc.start})") from exc


def send_dict(result: Any) -> dict[str, Any]:
    """A send answer as JSON."""
    return {
        "send_attempt_id": result.send_attempt_id,
        "submission_status": result.submission_status,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "message_id": result.message_id,
    }


@main.command()
@click.option("--lease", "lease_id", required=True, help="The lease whose mailbox sends.")
@click.option("--to", "to", multiple=True, required=True, help="Recipient (repeatable).")
@click.option("--subject", required=True, help="Subject.")
@click.option("--text", "text", help="Text body.")
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Text body from a UTF-8 file (- reads stdin; at most 25 MiB).",
)
@click.option(
    "--html-file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="HTML body from a UTF-8 file (- reads stdin; at most 25 MiB).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def send(
    ctx: click.Context,
    lease_id: str,
    to: tuple[str, ...],
    subject: str,
    text: str | None,
    text_file: str | None,
    html_file: str | None,
    as_json: bool,
) -> None:
    """Send mail from a leased mailbox (uses the password stored in the ledger)."""
    from tui.core.compose import send_text

    if sum(x is not None for x in (text, text_file)) > 1:
        fail("give the text once: --text or --text-file", EXIT_USAGE)
    if text_file == "-" and html_file == "-":
        fail("only one of --text-file and --html-file can read stdin", EXIT_USAGE)
    body_text = text if text is not None else read_named_text(text_file, "--text-file")
    body_html = read_named_text(html_file, "--html-file")
    if not body_text and not body_html:
        fail("the message is empty: give --text, --text-file or --html-file", EXIT_USAGE)

    async def body(services: Any) -> Any:
        from tui.core.compose import MissingCredentials

        try:
            return await send_text(
                services, lease_id, list(to), subject, text=body_text, html=body_html
            )
        except MissingCredentials:
            if not sys.stdin.isatty() or not click.confirm(
                "No stored password for this lease (allocated elsewhere). Reset its "
                "credentials now? Anything using the old password stops working",
                err=True,
            ):
                raise
            lease_obj = await services.client.get_lease(lease_id)
            await services.leases.reset_credentials(lease_obj)
            return await send_text(
                services, lease_id, list(to), subject, text=body_text, html=body_html
            )

    result = run_with_services(ctx, body)
    data = send_dict(result)
    rejected = f", rejected: {', '.join(result.rejected)}" if result.rejected else ""
    emit(
        data,
        as_json,
        f"{result.submission_status}: {result.send_attempt_id} "
        f"(accepted: {', '.join(result.accepted) or '-'}{rejected})",
    )


def attempt_dict(a: Any) -> dict[str, Any]:
    """A send attempt as JSON."""
    return {
        "send_attempt_id": a.send_attempt_id,
        "mailbox_id": a.mailbox_id,
        "to": a.to,
        "subject": a.subject,
        "submission_status": a.submission_status,
        "accepted": a.accepted,
        "rejected": a.rejected,
        "error": a.error,
        "message_id": a.message_id,
        "response": a.response,
        "envelope": a.envelope,
        "created_at": iso_z(a.created_at),
        "updated_at": iso_z(a.updated_at),
    }


@main.command()
@click.argument("send_attempt_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def sent(ctx: click.Context, send_attempt_id: str | None, as_json: bool) -> None:
    """List send attempts (newest first), or show one in full (SEND_ATTEMPT_ID)."""
    from tui.core.sanitize import clean

    if send_attempt_id is not None:

        async def one(services: Any) -> Any:
            return await services.client.get_send_attempt(send_attempt_id)

        row = attempt_dict(run_with_services(ctx, one))
        if as_json:
            emit(row, True, "")
            return
        lines = [
            f"attempt   {clean(row['send_attempt_id'], 64)}",
            f"status    {clean(row['submission_status'], 20)}",
            f"created   {row['created_at'] or '-'}   updated {row['updated_at'] or '-'}",
            f"subject   {clean(row['subject'], 200)}",
            f"to        {clean(', '.join(row['to']), 500)}",
            f"accepted  {clean(', '.join(row['accepted']), 500) or '-'}",
            f"rejected  {clean(', '.join(row['rejected']), 500) or '-'}",
            f"message   {clean(row['message_id'] or '-', 200)}",
        ]
        if row["error"]:
            lines.append(f"error     {clean(row['error'], 500)}")
        for key in ("response", "envelope"):
            if row[key]:
                lines.append(f"{key:<9} {clean(json.dumps(row[key], default=str), 500)}")
        click.echo("\n".join(lines))
        return

    async def body(services: Any) -> list[Any]:
        return await services.client.list_send_attempts()

    rows = [attempt_dict(a) for a in run_with_services(ctx, body)]
    if as_json:
        emit(rows, True, "")
        return
    if not rows:
        click.echo("Nothing sent yet.")
    for row in rows:
        click.echo(
            f"{row['created_at']}  {row['submission_status']:<9}  "
            f"{clean(', '.join(row['to']), 50):<50}  {clean(row['subject'], 60)}"
        )


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def parse(path: str, as_json: bool) -> None:
    """Extract the OTP code and verification link of a .eml file (- reads stdin)."""
    from tui.extract import format_report
    from tui.extract import report as extract_report
    from tui.files import read_bounded, read_stream_bounded

    if path == "-":
        raw = read_stream_bounded(sys.stdin.buffer, what="standard input")
    else:
        raw = read_bounded(path, what="message file")
    data = extract_report(raw)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(data))


# -- wallet ------------------------------------------------------------------------------------


@main.group()
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

    settings = ctx.find_object(Context).settings()  # type: ignore[union-attr]
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

    source = resolve_wallet_source(ctx.find_object(Context).settings())  # type: ignore[union-attr]
    if source.address is None:
        source.load()
    click.echo(source.address)


# -- sandbox and parse (their own modules) -----------------------------------------------------


LAZY_COMMANDS = {
    "sandbox": ("tui.sandbox.cli:sandbox", "Run the local mailagents sandbox service."),
    "webhooks": ("tui.commands.billing:webhooks", "List webhooks and their delivery log."),
    "webhook": ("tui.commands.billing:webhook", "Create webhooks and rotate their secrets."),
    "usage": ("tui.commands.billing:usage", "A month's usage and the price of a paid call."),
    "invoices": ("tui.commands.billing:invoices", "List invoices (`invoices show ID` for one)."),
    "mcp": ("tui.mcpserver:mcp_command", "Run an MCP server on stdio (for AI agents)."),
    "profiles": ("tui.commands.profiles:profiles", "List the profiles of config.toml."),
    "accounts": ("tui.commands.accounts:accounts", "List the tenant's mailbox accounts."),
    "admin": ("tui.commands.admin:admin", "Operator console; headless admin views and actions."),
}
"""Subcommands defined in their own packages, imported only when used."""

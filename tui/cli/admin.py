"""``mailagents-tui admin``: the operator console (no subcommand) and its headless views/actions.

Views: ``admin <view> [--json] [--page N] [--page-size N] [--filter KEY=VALUE]...`` for every
:data:`tui.core.admin.VIEWS` entry. Actions: ``admin tenant set``, ``admin mailbox
freeze|release``, ``admin message reparse|replay``, ``admin webhook replay|rotate``, ``admin
invoice issue``, ``admin risk-policy set|remove``, ``admin settings set``. Destructive actions
ask on a terminal and need ``--yes`` otherwise.

The admin token comes from ``--admin-token-file`` (mode 0600), ``MAILAGENTS_ADMIN_TOKEN`` or a
prompt, never from an argument, and is never printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from tui.cli.common import options_of
from tui.cli.exits import fail, friendly_errors
from tui.core.admin import (
    ACTIONS,
    POLICY_TYPES,
    TENANT_STATUSES,
    VIEWS,
    AdminTokenError,
    ViewSpec,
    cell,
    parse_filters,
    resolve_admin_token,
)
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    from tui.api.admin import AdminClient

T = TypeVar("T")


class AdminOptions:
    """What the ``admin`` group resolved: the API base and how to get the token."""

    def __init__(self, api_base: str, token_file: Path | None) -> None:
        self.api_base = api_base
        """The service's base URL."""
        self.token_file = token_file
        """``--admin-token-file``, if given."""

    def token(self) -> str:
        """The admin token (prompting on a terminal when nothing else gives one)."""

        def prompt() -> str:
            if not interactive():
                return ""
            return str(click.prompt("Admin token", hide_input=True, err=True))

        try:
            return resolve_admin_token(self.token_file, prompt=prompt)
        except AdminTokenError as exc:
            fail(str(exc))
            raise  # unreachable: fail() exits

    def run(self, body: Callable[[AdminClient], Awaitable[T]]) -> T:
        """Run ``body(client)`` with a fresh :class:`AdminClient`."""
        from tui.api.admin import AdminClient

        token = self.token()

        async def main() -> T:
            client = AdminClient(self.api_base, token)
            try:
                return await body(client)
            finally:
                await client.aclose()

        return asyncio.run(main())


def interactive() -> bool:
    """True when stdin is a terminal (a person can answer prompts)."""
    return sys.stdin.isatty()


def _options(ctx: click.Context) -> AdminOptions:
    options = ctx.find_object(AdminOptions)
    assert options is not None
    return options


def confirm_or_yes(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, ``--yes`` is required."""
    if yes:
        return
    if not interactive():
        fail(f"{question} Not a terminal: pass --yes to confirm.", 2)
    if not click.confirm(question, default=False, err=True):
        fail("cancelled", 1)


def table(spec: ViewSpec, rows: list[JsonObject]) -> str:
    """Rows as aligned text columns (untrusted values cleaned)."""
    columns = spec.columns
    cells = [[cell(row.get(c.key), max(c.width, 8)) for c in columns] for row in rows]
    widths = [max([len(c.label), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.label.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for r in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)


@click.group(invoke_without_command=True)
@click.option(
    "--admin-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the admin token from this file (mode 0600). Default: MAILAGENTS_ADMIN_TOKEN.",
)
@click.pass_context
def admin(ctx: click.Context, admin_token_file: Path | None) -> None:
    """Operator console (no command) and headless admin views and actions."""
    settings = options_of(ctx).settings()
    ctx.obj = AdminOptions(settings.api_base, admin_token_file)
    if ctx.invoked_subcommand is None:
        options: AdminOptions = ctx.obj
        token = options.token()
        from tui.app.admin.console import run_console

        run_console(options.api_base, token)


# -- views -----------------------------------------------------------------------------------


def _view_command(spec: ViewSpec) -> click.Command:
    @click.pass_context
    @friendly_errors
    def command(
        ctx: click.Context, as_json: bool, page: int, page_size: int, filters: tuple[str, ...]
    ) -> None:
        try:
            wanted = parse_filters(filters, spec.filters)
        except ValueError as exc:
            fail(str(exc), 2)
            return
        result = _options(ctx).run(lambda client: spec.load(client, page, page_size, wanted))
        if as_json:
            if spec.loader is not None:
                data: JsonObject = {row[spec.columns[0].key]: row["value"] for row in result.items}
            else:
                data = result.as_dict()
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        click.echo(table(spec, result.items))
        if spec.loader is None:
            click.echo(
                f"page {result.page}/{result.pages} · {len(result.items)} of {result.total}",
                err=True,
            )

    command.__doc__ = f"{spec.title}: GET /v2/admin{spec.path}."
    params: list[click.Parameter] = [
        click.Option(["--json", "as_json"], is_flag=True, help="Print the server's JSON."),
        click.Option(["--page"], type=click.IntRange(min=1), default=1, show_default=True),
        click.Option(["--page-size"], type=click.IntRange(1, 200), default=50, show_default=True),
        click.Option(
            ["--filter", "-f", "filters"],
            multiple=True,
            metavar="KEY=VALUE",
            help=f"Server-side filter ({', '.join(spec.filters) or 'none'}).",
        ),
    ]
    return click.Command(
        spec.name,
        callback=command,
        params=params,
        help=command.__doc__,
        short_help=f"List {spec.title.lower()} (GET /v2/admin{spec.path}).",
    )


for _spec in VIEWS.values():
    if _spec.name != "settings":
        admin.add_command(_view_command(_spec))


@admin.group("settings", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the server's JSON.")
@click.option("--page", type=click.IntRange(min=1), default=1, hidden=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=50, hidden=True)
@click.pass_context
@friendly_errors
def settings_group(ctx: click.Context, as_json: bool, page: int, page_size: int) -> None:
    """Runtime settings (``settings set`` changes them)."""
    if ctx.invoked_subcommand is not None:
        return
    data = _options(ctx).run(lambda client: client.settings())
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(table(VIEWS["settings"], [{"setting": k, "value": v} for k, v in data.items()]))


# -- actions ----------------------------------------------------------------------------------

YES = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
JSON = click.option("--json", "as_json", is_flag=True, help="Print the server's JSON.")


def _act(
    ctx: click.Context,
    name: str,
    target: str,
    inputs: dict[str, str],
    yes: bool,
    as_json: bool,
) -> None:
    spec = ACTIONS[name]
    for item in spec.inputs:
        problem = item.check(inputs.get(item.name, ""))
        if problem:
            fail(problem, 2)
    if spec.destructive:
        confirm_or_yes(spec.confirmation(target, inputs), yes)
    result = _options(ctx).run(lambda client: spec.run(client, target, inputs))
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if spec.secret_field and spec.secret_field in result:
        click.echo(f"{spec.label} {cell(target, 80)}: done.")
        click.echo(f"new {spec.secret_field} (shown once): {cell(result[spec.secret_field], 200)}")
        return
    summary = ", ".join(f"{k}={cell(v, 60)}" for k, v in result.items() if not isinstance(v, dict))
    click.echo(f"{spec.label} {cell(target, 80)}: {summary or 'done'}".replace(" :", ":"))


@admin.group("tenant")
def tenant_group() -> None:
    """Tenant actions."""


@tenant_group.command("set")
@click.argument("tenant_id")
@click.option("--status", type=click.Choice(TENANT_STATUSES), default=None)
@click.option("--qps", type=click.IntRange(min=0), default=None, help="Requests per second.")
@click.option("--mailbox-limit", type=click.IntRange(min=0), default=None)
@YES
@JSON
@click.pass_context
@friendly_errors
def tenant_set(
    ctx: click.Context,
    tenant_id: str,
    status: str | None,
    qps: int | None,
    mailbox_limit: int | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Change a tenant's status and quotas."""
    if status is None and qps is None and mailbox_limit is None:
        fail("nothing to change: give --status, --qps or --mailbox-limit", 2)
    changes = {
        "status": status or "",
        "qps": "" if qps is None else str(qps),
        "mailbox_limit": "" if mailbox_limit is None else str(mailbox_limit),
    }
    confirm_or_yes(ACTIONS["tenant.quotas"].confirmation(tenant_id, changes), yes)

    async def run(client: AdminClient) -> JsonObject:
        return dict(
            await client.set_tenant(tenant_id, status=status, qps=qps, mailbox_limit=mailbox_limit)
        )

    result = _options(ctx).run(run)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"tenant {cell(result.get('tenant_id'))}: status={cell(result.get('status'))} "
        f"qps={cell(result.get('qps'))} mailbox_limit={cell(result.get('mailbox_limit'))}"
    )


@admin.group("mailbox")
def mailbox_group() -> None:
    """Mailbox actions."""


@mailbox_group.command("freeze")
@click.argument("mailbox_id")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@YES
@JSON
@click.pass_context
@friendly_errors
def mailbox_freeze(
    ctx: click.Context, mailbox_id: str, reason: str, yes: bool, as_json: bool
) -> None:
    """Freeze a mailbox: its lease ends and it is never allocated until released."""
    _act(ctx, "mailbox.freeze", mailbox_id, {"reason": reason}, yes, as_json)


@mailbox_group.command("release")
@click.argument("mailbox_id")
@YES
@JSON
@click.pass_context
@friendly_errors
def mailbox_release(ctx: click.Context, mailbox_id: str, yes: bool, as_json: bool) -> None:
    """End a mailbox's lease and unfreeze it."""
    _act(ctx, "mailbox.release", mailbox_id, {}, yes, as_json)


@admin.group("message")
def message_group() -> None:
    """Message actions."""


@message_group.command("reparse")
@click.argument("message_id")
@JSON
@click.pass_context
@friendly_errors
def message_reparse(ctx: click.Context, message_id: str, as_json: bool) -> None:
    """Run the parser again on a message."""
    _act(ctx, "message.reparse", message_id, {}, True, as_json)


@message_group.command("replay")
@click.argument("message_id")
@JSON
@click.pass_context
@friendly_errors
def message_replay(ctx: click.Context, message_id: str, as_json: bool) -> None:
    """Deliver a message's webhook event again."""
    _act(ctx, "message.replay", message_id, {}, True, as_json)


@admin.group("webhook")
def webhook_group() -> None:
    """Webhook actions."""


@webhook_group.command("replay")
@click.argument("webhook_id")
@click.option("--from", "start", default="", help="Window start (ISO; default 1 h ago).")
@click.option("--to", "end", default="", help="Window end (ISO; default now).")
@JSON
@click.pass_context
@friendly_errors
def webhook_replay(
    ctx: click.Context, webhook_id: str, start: str, end: str, as_json: bool
) -> None:
    """Deliver a window of events to a webhook again."""
    _act(ctx, "webhook.replay", webhook_id, {"from": start, "to": end}, True, as_json)


@webhook_group.command("rotate")
@click.argument("webhook_id")
@YES
@JSON
@click.pass_context
@friendly_errors
def webhook_rotate(ctx: click.Context, webhook_id: str, yes: bool, as_json: bool) -> None:
    """Give a webhook a new signing secret (printed once)."""
    _act(ctx, "webhook.rotate", webhook_id, {}, yes, as_json)


@admin.group("invoice")
def invoice_group() -> None:
    """Invoice actions."""


@invoice_group.command("issue")
@click.argument("invoice_id")
@YES
@JSON
@click.pass_context
@friendly_errors
def invoice_issue(ctx: click.Context, invoice_id: str, yes: bool, as_json: bool) -> None:
    """Issue a draft invoice."""
    _act(ctx, "invoice.issue", invoice_id, {}, yes, as_json)


@admin.group("risk-policy")
def policy_group() -> None:
    """Risk policies: domain deny list, tenant rate limit, tenant watch."""


@policy_group.command("set")
@click.argument("policy_type", type=click.Choice(POLICY_TYPES))
@click.argument("value")
@click.option("--update", is_flag=True, help="Record the change as an update (not an add).")
@YES
@JSON
@click.pass_context
@friendly_errors
def policy_set(
    ctx: click.Context, policy_type: str, value: str, update: bool, yes: bool, as_json: bool
) -> None:
    """Add or change a policy: VALUE is a domain, a tenant id, or TENANT_ID:QPS."""
    inputs = {"policy_type": policy_type, "value": value, "action": "update" if update else "add"}
    _act(ctx, "policy.add", "", inputs, yes, as_json)


@policy_group.command("remove")
@click.argument("policy_type", type=click.Choice(POLICY_TYPES))
@click.argument("value")
@YES
@JSON
@click.pass_context
@friendly_errors
def policy_remove(
    ctx: click.Context, policy_type: str, value: str, yes: bool, as_json: bool
) -> None:
    """Remove a policy."""
    _act(ctx, "policy.remove", f"{policy_type}:{value}", {}, yes, as_json)


@settings_group.command("set")
@click.option("--overage-usdc", type=click.FloatRange(min=0), default=None)
@click.option("--allocate-hourly-limit", type=click.IntRange(min=0), default=None)
@YES
@JSON
@click.pass_context
@friendly_errors
def settings_set(
    ctx: click.Context,
    overage_usdc: float | None,
    allocate_hourly_limit: int | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Change the overage price and the free allocations per agent-hour."""
    if overage_usdc is None and allocate_hourly_limit is None:
        fail("nothing to change: give --overage-usdc or --allocate-hourly-limit", 2)
    inputs = {
        "overage_usdc": "" if overage_usdc is None else repr(overage_usdc),
        "allocate_hourly_limit": ""
        if allocate_hourly_limit is None
        else str(allocate_hourly_limit),
    }
    _act(ctx, "settings.set", "", inputs, yes, as_json)

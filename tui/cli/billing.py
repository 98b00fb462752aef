"""Headless webhooks, usage and invoices commands (registered lazily by ``tui.cli.root``).

``webhooks`` lists webhooks or their delivery log, ``webhook new`` / ``webhook rotate``
manage them, ``usage`` shows a month's figures beside the runtime's price of a paid call,
``invoices`` lists invoices and ``invoices show ID`` details one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tui.api.models import iso_z
from tui.cli.common import JSON_OPTION, emit, run_with_services
from tui.cli.exits import EXIT_USAGE, fail, friendly_errors
from tui.core.billing import (
    EVENT_TYPES,
    GENERATED_SECRET_CHARS,
    MIN_SECRET_CHARS,
    BillingInputError,
    current_period,
    generate_secret,
    validate_period,
    validate_webhook_input,
)
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    from tui.api.models import Invoice, Runtime, UsageSummary, Webhook, WebhookDelivery
    from tui.core.services import Services


def webhook_dict(hook: Webhook) -> JsonObject:
    """A webhook as JSON (the service never returns the secret)."""
    return {
        "webhook_id": hook.webhook_id,
        "event_types": list(hook.event_types),
        "target_url": hook.target_url,
        "status": hook.status,
        "last_delivery_at": iso_z(hook.last_delivery_at),
        "last_status_code": hook.last_status_code,
    }


def delivery_dict(delivery: WebhookDelivery) -> JsonObject:
    """A webhook delivery as JSON."""
    return {
        "delivery_id": delivery.delivery_id,
        "webhook_id": delivery.webhook_id,
        "status_code": delivery.status_code,
        "attempts": delivery.attempts,
        "ok": delivery.ok,
        "error_message": delivery.error_message,
        "response_excerpt": delivery.response_excerpt,
        "delivered_at": iso_z(delivery.delivered_at),
        "request_id": delivery.request_id,
    }


def invoice_dict(invoice: Invoice) -> JsonObject:
    """An invoice as JSON (list items have ``period``, details
    ``statement_hash``; the other is null)."""
    return {
        "invoice_id": invoice.invoice_id,
        "period": invoice.period,
        "amount_usdc": invoice.amount_usdc,
        "status": invoice.status,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "statement_hash": invoice.statement_hash,
        "settlement_tx_hash": invoice.settlement_tx_hash,
    }


def checked_period(period: str | None) -> str:
    """The given period, validated, or the current UTC month (exits on a bad one)."""
    if period is None:
        return current_period()
    try:
        return validate_period(period)
    except BillingInputError as exc:
        fail(str(exc), EXIT_USAGE)
        raise AssertionError("unreachable") from exc


# -- webhooks ----------------------------------------------------------------------------------


@click.command()
@click.option(
    "--deliveries",
    "deliveries",
    is_flag=False,
    flag_value="*",
    default=None,
    metavar="[WEBHOOK_ID]",
    help="Show the delivery log instead (newest first), of every webhook or of one.",
)
@JSON_OPTION
@click.pass_context
@friendly_errors
def webhooks(ctx: click.Context, deliveries: str | None, as_json: bool) -> None:
    """List webhooks (or, with --deliveries, their delivery log)."""
    from tui.core.sanitize import clean
    from tui.core.timefmt import relative_time

    if deliveries is not None:
        webhook_id = None if deliveries == "*" else deliveries.strip()

        async def load_deliveries(services: Services) -> list[WebhookDelivery]:
            return await services.client.list_webhook_deliveries(webhook_id)

        found = run_with_services(ctx, load_deliveries)
        if as_json:
            emit([delivery_dict(d) for d in found], True, "")
            return
        if not found:
            click.echo("No deliveries yet.")
        for d in found:
            code = str(d.status_code) if d.status_code is not None else "-"
            outcome = "ok" if d.ok else "failed"
            detail = " ".join(x for x in (d.error_message, d.response_excerpt) if x)
            click.echo(
                f"{iso_z(d.delivered_at) or '-':<24}  {code:>3}  {d.attempts} attempt"
                f"{'s' if d.attempts != 1 else ' '}  {outcome:<6}  "
                f"webhook {clean(d.webhook_id, 64)}" + (f"  {clean(detail, 120)}" if detail else "")
            )
        return

    async def load_hooks(services: Services) -> list[Webhook]:
        return await services.client.list_webhooks()

    hooks = run_with_services(ctx, load_hooks)
    if as_json:
        emit([webhook_dict(h) for h in hooks], True, "")
        return
    if not hooks:
        click.echo("No webhooks. Create one with `mailagents-tui webhook new --url URL`.")
    for h in hooks:
        last = relative_time(h.last_delivery_at) if h.last_delivery_at else "never"
        code = str(h.last_status_code) if h.last_status_code is not None else "-"
        events = ",".join(h.event_types) or "(no events)"
        click.echo(
            f"{clean(h.webhook_id, 64)}  {clean(h.status, 10):<8}  {clean(events, 40):<28}  "
            f"{clean(h.target_url, 80)}  last {last} ({code})"
        )


@click.group()
def webhook() -> None:
    """Create webhooks, rotate their secrets, inspect a delivery."""


@webhook.command("delivery")
@click.argument("delivery_id")
@JSON_OPTION
@click.pass_context
@friendly_errors
def webhook_delivery(ctx: click.Context, delivery_id: str, as_json: bool) -> None:
    """One delivery of the log in full (DELIVERY_ID from `webhooks --deliveries`)."""
    from tui.core.sanitize import clean

    async def body(services: Services) -> WebhookDelivery:
        return await services.client.get_webhook_delivery(delivery_id)

    data = delivery_dict(run_with_services(ctx, body))
    code = str(data["status_code"]) if data["status_code"] is not None else "-"
    lines = [
        f"delivery  {clean(data['delivery_id'], 64)}",
        f"webhook   {clean(data['webhook_id'], 64)}",
        f"outcome   {'ok' if data['ok'] else 'failed'} (HTTP {code}, {data['attempts']} attempts)",
        f"at        {data['delivered_at'] or '-'}",
        f"request   {clean(data['request_id'] or '-', 100)}",
    ]
    if data["error_message"]:
        lines.append(f"error     {clean(data['error_message'], 500)}")
    if data["response_excerpt"]:
        lines.append(f"response  {clean(data['response_excerpt'], 500)}")
    emit(data, as_json, "\n".join(lines))


@webhook.command("new")
@click.option("--url", "url", required=True, help="Target URL (http or https) that gets the POSTs.")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(EVENT_TYPES),
    help=(
        "Event to subscribe to (repeatable; default both). The service fires one event per new "
        "message: otp.extracted when it found a code or link, mail.received only for mail "
        "without one, so subscribe to both to hear about every message."
    ),
)
@click.option(
    "--secret",
    help=(
        f"Signing secret (at least {MIN_SECRET_CHARS} characters). Default: a random "
        f"{GENERATED_SECRET_CHARS}-character one, printed once (the service never shows it again)."
    ),
)
@JSON_OPTION
@click.pass_context
@friendly_errors
def webhook_new(
    ctx: click.Context, url: str, events: tuple[str, ...], secret: str | None, as_json: bool
) -> None:
    """Create a webhook; deliveries are signed with its secret (HMAC-SHA256)."""
    generated = secret is None
    try:
        target, event_types, secret_value = validate_webhook_input(
            url, events or EVENT_TYPES, generate_secret() if secret is None else secret
        )
    except BillingInputError as exc:
        fail(str(exc), EXIT_USAGE)
        raise AssertionError("unreachable") from exc

    async def body(services: Services) -> Webhook:
        return await services.client.create_webhook(event_types, target, secret_value)

    hook = run_with_services(ctx, body)
    data = webhook_dict(hook)
    if generated:
        data["secret"] = secret_value
    from tui.core.sanitize import clean

    lines = [
        f"webhook  {clean(hook.webhook_id, 64)}",
        f"target   {clean(hook.target_url, 200)}",
        f"events   {', '.join(hook.event_types)}",
    ]
    if generated:
        lines.append(f"secret   {secret_value}")
        lines.append("(shown once: store it now; the service never shows it again)")
    emit(data, as_json, "\n".join(lines))


@webhook.command("rotate")
@click.argument("webhook_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@JSON_OPTION
@click.pass_context
@friendly_errors
def webhook_rotate(ctx: click.Context, webhook_id: str, yes: bool, as_json: bool) -> None:
    """Replace a webhook's secret with a new one from the service (printed once)."""
    if not yes:
        click.confirm(
            "Rotate this webhook's secret? Receivers checking the old one reject deliveries "
            "until they have the new one",
            abort=True,
            err=True,
        )

    async def body(services: Services) -> str:
        return await services.client.rotate_webhook_secret(webhook_id)

    new_secret = run_with_services(ctx, body)
    from tui.core.sanitize import clean

    emit(
        {"webhook_id": webhook_id, "secret": new_secret},
        as_json,
        f"secret   {clean(new_secret, 300)}\n"
        "(shown once: store it now; the service never shows it again)",
    )


# -- usage and invoices ------------------------------------------------------------------------


@click.command()
@click.option("--period", help="Month as YYYY-MM (default: the current UTC month).")
@JSON_OPTION
@click.pass_context
@friendly_errors
def usage(ctx: click.Context, period: str | None, as_json: bool) -> None:
    """A month's usage (API calls, mailboxes, parses, billable units) and the price of a
    paid call."""
    month = checked_period(period)

    async def body(services: Services) -> tuple[UsageSummary, Runtime]:
        summary = await services.client.usage_summary(month)
        runtime = await services.session.get_runtime()
        return summary, runtime

    summary, runtime = run_with_services(ctx, body)
    data = {
        "period": summary.period or month,
        "usage": {
            "api_calls": summary.api_calls,
            "active_mailboxes": summary.active_mailboxes,
            "message_parses": summary.message_parses,
            "billable_units": summary.billable_units,
        },
        "overage_charge_usdc": runtime.overage_charge_usdc,
        "payment_mode": runtime.payment_mode,
    }
    charge = (
        f"{runtime.overage_charge_usdc:g} USDC"
        if runtime.overage_charge_usdc is not None
        else "unknown"
    )
    emit(
        data,
        as_json,
        "\n".join(
            [
                f"period            {data['period']}",
                f"api calls         {summary.api_calls}",
                f"active mailboxes  {summary.active_mailboxes}  (now, whatever the period)",
                f"message parses    {summary.message_parses}",
                f"billable units    {summary.billable_units}",
                f"paid call price   {charge} per call past a free limit "
                f"(payment mode {runtime.payment_mode})",
            ]
        ),
    )


@click.group(invoke_without_command=True)
@click.option("--period", help="Only this month (YYYY-MM).")
@JSON_OPTION
@click.pass_context
@friendly_errors
def invoices(ctx: click.Context, period: str | None, as_json: bool) -> None:
    """List invoices, newest first (`invoices show ID` details one)."""
    if ctx.invoked_subcommand is not None:
        return
    month = None if period is None else checked_period(period)

    async def body(services: Services) -> list[Invoice]:
        return await services.client.list_invoices(month)

    found = run_with_services(ctx, body)
    if as_json:
        emit([invoice_dict(i) for i in found], True, "")
        return
    from tui.core.sanitize import clean

    if not found:
        click.echo("No invoices" + (f" for {month}." if month else "."))
    for i in found:
        click.echo(
            f"{clean(i.invoice_id, 64)}  {clean(i.period or '-', 10):<7}  "
            f"{i.amount_usdc:>12.6f} USDC  "
            f"{clean(i.status, 12):<8}  {clean(i.period_start or '', 12)}.."
            f"{clean(i.period_end or '', 12)}"
        )


@invoices.command("show")
@click.argument("invoice_id")
@JSON_OPTION
@click.pass_context
@friendly_errors
def invoice_show(ctx: click.Context, invoice_id: str, as_json: bool) -> None:
    """One invoice: period, amount, status, statement and settlement hashes."""

    async def body(services: Services) -> Invoice:
        return await services.client.get_invoice(invoice_id)

    found = run_with_services(ctx, body)
    data = invoice_dict(found)
    from tui.core.sanitize import clean

    emit(
        data,
        as_json,
        "\n".join(
            [
                f"invoice     {clean(found.invoice_id, 64)}",
                f"period      {clean(found.period_start or '-', 12)} .. "
                f"{clean(found.period_end or '-', 12)}",
                f"amount      {found.amount_usdc:.6f} USDC",
                f"status      {clean(found.status, 20)}",
                f"statement   {clean(found.statement_hash or '-', 100)}",
                f"settlement  {clean(found.settlement_tx_hash or '-', 100)}",
            ]
        ),
    )

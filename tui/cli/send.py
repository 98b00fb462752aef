"""``mailagents-tui send`` (mail from a leased mailbox) and ``sent`` (the send attempts)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from tui.cli.common import JSON_OPTION, emit, iso_z, run_with_services
from tui.cli.exits import EXIT_USAGE, fail, friendly_errors
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    from tui.api.models import SendAttempt, SendResult
    from tui.core.services import Services


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


def send_dict(result: SendResult) -> JsonObject:
    """A send answer as JSON."""
    return {
        "send_attempt_id": result.send_attempt_id,
        "submission_status": result.submission_status,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "message_id": result.message_id,
    }


@click.command()
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
@JSON_OPTION
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

    async def body(services: Services) -> SendResult:
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


def attempt_dict(a: SendAttempt) -> JsonObject:
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


@click.command()
@click.argument("send_attempt_id", required=False)
@JSON_OPTION
@click.pass_context
@friendly_errors
def sent(ctx: click.Context, send_attempt_id: str | None, as_json: bool) -> None:
    """List send attempts (newest first), or show one in full (SEND_ATTEMPT_ID)."""
    from tui.core.sanitize import clean

    if send_attempt_id is not None:

        async def one(services: Services) -> SendAttempt:
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

    async def body(services: Services) -> list[SendAttempt]:
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

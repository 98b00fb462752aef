"""A lease's mail: ``messages`` (``--follow`` too), ``show`` and ``wait-otp``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from tui.cli.common import JSON_OPTION, emit, iso_z, run_with_services
from tui.cli.exits import EXIT_NOT_FOUND, EXIT_TIMEOUT, fail, friendly_errors
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    from tui.api.models import Lease
    from tui.core.codepick import CodeFilter, Picked
    from tui.core.inbox import InboxItem
    from tui.core.services import Services
    from tui.imap.message import ImapMessage

LeaseMail = tuple["Lease", list[tuple["InboxItem", str]], list["ImapMessage"], str | None]
"""The lease, its merged (item, source) rows, the IMAP messages, and why IMAP is off."""


def message_dict(item: InboxItem, source: str = "api") -> JsonObject:
    """An inbox item as JSON for the CLI."""
    m = item.message
    data: JsonObject = {
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
    services: Services, lease_id: str, *, show_all: bool, limit: int, use_imap: bool
) -> LeaseMail:
    """The lease, its merged (item, source) rows, the IMAP messages, and why IMAP is off."""
    from tui.core.imapsource import read_lease_mail

    return await read_lease_mail(
        services, lease_id, show_all=show_all, limit=limit, use_imap=use_imap
    )


@click.command()
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
@JSON_OPTION
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

    async def body(services: Services) -> LeaseMail:
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


def message_line(item: InboxItem) -> str:
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

    async def body(services: Services) -> None:
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


@click.command()
@click.option("--lease", "lease_id", required=True, help="Lease id.")
@click.argument("message_id")
@click.option("--raw", is_flag=True, help="The raw RFC 5322 message (needs IMAP).")
@JSON_OPTION
@click.pass_context
@friendly_errors
def show(ctx: click.Context, lease_id: str, message_id: str, raw: bool, as_json: bool) -> None:
    """Print one message with its body (MESSAGE_ID from `messages`: an API id or imap:UID)."""
    from tui.core.imapsource import find_raw

    async def body(services: Services) -> LeaseMail:
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


def code_filter(
    sender: str | None,
    subject: str | None,
    match: str | None,
    pattern: str | None,
    *,
    want_link: bool,
) -> CodeFilter:
    """``wait-otp``'s filters (``--pattern`` with ``--link`` is a usage error)."""
    import re

    from tui.core.codepick import CodeFilter

    if pattern is not None and want_link:
        raise click.UsageError("--pattern shapes a code; it does not apply to --link")
    return CodeFilter(
        sender=sender or None,
        subject=subject or None,
        match=re.compile(match, re.IGNORECASE) if match else None,
        pattern=re.compile(pattern) if pattern else None,
    )


def note_ignored(item: InboxItem, guess: str, reason: str) -> None:
    """One line on stderr for a server guess ``wait-otp`` will not return (it keeps waiting)."""
    from tui.core.sanitize import clean

    click.echo(
        f"mailagents-tui: ignored the server's guess {clean(guess, 40)!r} "
        f"in {clean(item.message.subject, 120)!r} from {clean(item.message.sender, 120)}: "
        f"{reason}; still waiting",
        err=True,
    )


@click.command("wait-otp")
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
    from tui.core.sanitize import clean
    from tui.core.waiter import LeaseNotActive, WaitTimeout, wait_for_code

    filters = code_filter(sender, subject, match, pattern, want_link=want_link)

    async def body(services: Services) -> Picked:
        return await wait_for_code(
            services,
            lease_id,
            timeout=timeout,
            want_link=want_link,
            fresh=fresh,
            filters=filters,
            on_ignored=note_ignored,
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

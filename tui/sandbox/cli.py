"""``mailagents-tui sandbox``: run the local mailagents-compatible service, deliver mail to it."""

from __future__ import annotations

import contextlib
import shutil
import smtplib
import sys
import tempfile
from email.utils import parseaddr
from pathlib import Path

import click

from tui.sandbox.config import DB_FILE, SandboxConfig
from tui.sandbox.runner import SandboxServer, serve_forever


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=int, default=0, help="HTTP port (default: a free port).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the database and secrets here (default: a temporary dir, deleted at exit).",
)
@click.option("--smtp-port", type=int, default=0, help="SMTP inbound port (default: a free port).")
@click.option("--no-smtp", is_flag=True, help="Do not run the SMTP inbound server.")
@click.option(
    "--allocate-hourly-limit",
    type=int,
    default=5,
    show_default=True,
    help="Free allocations per agent per hour (0 = unlimited).",
)
@click.option("--demo", is_flag=True, help="Each tenant's first lease receives sample mails.")
@click.pass_context
def sandbox(
    ctx: click.Context,
    host: str,
    port: int,
    data_dir: Path | None,
    smtp_port: int,
    no_smtp: bool,
    allocate_hourly_limit: int,
    demo: bool,
) -> None:
    """Run the sandbox in the foreground (Ctrl-C stops it) and print its URL."""
    if ctx.invoked_subcommand is not None:
        return
    temp_dir = None
    if data_dir is None:
        temp_dir = tempfile.mkdtemp(prefix="mailagents-sandbox-")
        data_dir = Path(temp_dir)
    config = SandboxConfig.for_data_dir(
        data_dir,
        host=host,
        port=port,
        smtp_port=None if no_smtp else smtp_port,
        allocate_hourly_limit=allocate_hourly_limit,
        demo_on_allocate=demo,
    )

    def ready(server: SandboxServer) -> None:
        click.echo(f"mailagents sandbox: {server.base_url}")
        if server.smtp_port is not None:
            click.echo(f"  SMTP inbound: {host}:{server.smtp_port}")
        note = " (temporary)" if temp_dir else ""
        click.echo(f"  data dir: {data_dir}{note}")
        click.echo(f"  internal token: {config.internal_token}")
        click.echo(f"  use it: mailagents-tui --api-base {server.base_url}")
        if server.smtp_port is not None:
            click.echo(
                f"  send mail: mailagents-tui sandbox deliver FILE.eml --to ADDRESS "
                f"--smtp {host}:{server.smtp_port}"
            )
        click.echo("Press Ctrl-C to stop.")

    try:
        serve_forever(config, on_ready=ready)
    except OSError as exc:
        raise click.ClickException(f"cannot start the sandbox: {exc}") from exc
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    click.echo("mailagents sandbox: stopped")


def _split_hostport(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:2525", param_hint="--smtp")
    return host.strip("[]"), int(port)


@sandbox.command()
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--to", "address", required=True, help="Recipient: a leased mailbox address.")
@click.option("--smtp", "smtp", default=None, help="Send over SMTP to the sandbox at HOST:PORT.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Store directly into the sandbox database in this data dir.",
)
@click.option("--demo", is_flag=True, help="Deliver the sample verification mails.")
def deliver(
    file: Path | None, address: str, smtp: str | None, data_dir: Path | None, demo: bool
) -> None:
    """Deliver FILE.eml (or, with --demo, sample mails) to a leased sandbox address.

    With --smtp the message really goes over SMTP (the running sandbox refuses addresses that
    have no active lease); with --data-dir it is stored straight into that sandbox's database.
    """
    from tui.sandbox import mail

    if (smtp is None) == (data_dir is None):
        raise click.UsageError("give exactly one of --smtp HOST:PORT or --data-dir DIR")
    if file is None and not demo:
        raise click.UsageError("give FILE.eml or --demo")
    messages = mail.demo_messages(address) if demo else []
    if file is not None:
        messages.append(file.read_bytes())
    if smtp is not None:
        host, port = _split_hostport(smtp)
        try:
            with smtplib.SMTP(host, port, timeout=10) as client:
                for raw in messages:
                    sender = parseaddr(mail.parse_headers(raw).sender)[1] or "sandbox@localhost"
                    client.sendmail(sender, [address], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            detail = next(iter(exc.recipients.values()), (0, b""))
            reply = detail[1].decode(errors="replace") if isinstance(detail[1], bytes) else ""
            raise click.ClickException(f"refused {address}: {reply}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise click.ClickException(f"SMTP delivery to {host}:{port} failed: {exc}") from exc
    else:
        from tui.sandbox.store import Store

        assert data_dir is not None
        db = data_dir / DB_FILE
        if not db.exists():
            raise click.ClickException(f"no sandbox database in {data_dir}")
        store = Store(str(db))
        try:
            for raw in messages:
                mail.deliver(store, address, raw)
        except mail.NoActiveLeaseError as exc:
            raise click.ClickException(f"{address} has no active lease in this sandbox") from exc
        finally:
            with contextlib.suppress(Exception):
                store.close()
    click.echo(f"delivered {len(messages)} message(s) to {address}", file=sys.stderr)

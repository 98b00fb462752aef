"""``mailagents-tui sandbox``: run the local mailagents-compatible service, deliver mail to it."""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tui.sandbox.config import ADMIN_TOKEN_FILE, DB_FILE, SandboxConfig, read_token_file

if TYPE_CHECKING:  # the server stack is imported only when a command runs
    from tui.sandbox.runner import SandboxServer


def _print_ready(
    server: SandboxServer,
    *,
    config: SandboxConfig,
    data_dir: Path,
    temporary: bool,
    token_path: Path,
    no_imap: bool,
) -> None:
    """What ``sandbox`` prints once the server runs: its addresses and how to use them."""
    click.echo(f"mailagents sandbox: {server.base_url}")
    if server.smtp_port is not None:
        click.echo(f"  SMTP inbound: {config.host}:{server.smtp_port}")
    if server.imap_port is not None and server.dovecot is not None:
        click.echo(
            f"  IMAP: {server.dovecot.host}:{server.imap_port} (plaintext, loopback only; "
            "login = lease address, password = its webmail_password)"
        )
    elif not no_imap:
        click.echo(f"  {server.imap_note}")
    note = " (temporary)" if temporary else ""
    click.echo(f"  data dir: {data_dir}{note}")
    click.echo(f"  internal token: {config.internal_token}")
    click.echo(
        f"  operator console: mailagents-tui --api-base {server.base_url} admin "
        f"--admin-token-file {token_path}"
    )
    click.echo(f"  use it: mailagents-tui --api-base {server.base_url}")
    if server.smtp_port is not None:
        click.echo(
            f"  send mail: mailagents-tui sandbox deliver FILE.eml --to ADDRESS "
            f"--smtp {config.host}:{server.smtp_port}"
        )
    click.echo(
        f"  tenant without wallet (send cooldown): mailagents-tui sandbox tenant new "
        f"--url {server.base_url} --internal-token {config.internal_token}"
    )
    if config.smtp_relay:
        click.echo(f"  sends to external recipients go to SMTP {config.smtp_relay}")
    if config.demo_on_allocate:
        click.echo(
            "  demo: each tenant's first lease receives a few sample verification mails; "
            "demo tenants, traffic and operator events are seeded"
        )
    click.echo("Press Ctrl-C to stop.")


def _admin_token_override(path: Path | None) -> dict[str, str]:
    """``{"admin_token": ...}`` read from ``--admin-token-file``, or nothing."""
    if path is None:
        return {}
    try:
        return {"admin_token": read_token_file(path)}
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"--admin-token-file: {exc}") from exc


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
    "--imap-port",
    type=int,
    default=0,
    help="IMAP port of the private Dovecot (default: a free port; needs dovecot-imapd).",
)
@click.option("--no-imap", is_flag=True, help="Do not run the private IMAP server (Dovecot).")
@click.option(
    "--allocate-hourly-limit",
    type=int,
    default=5,
    show_default=True,
    help="Free allocations per agent per hour (0 = unlimited).",
)
@click.option(
    "--tenant-qps",
    type=click.IntRange(min=0),
    default=120,
    show_default=True,
    help="Free requests per tenant per second (0 = no cap), as the reference's quota.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Seed demo tenants, traffic and operator events; first leases receive sample mails.",
)
@click.option(
    "--parser",
    type=click.Choice(["ours", "reference"]),
    default="ours",
    show_default=True,
    help="What guesses otp_code: our extractor, or the reference service's simpler rules.",
)
@click.option(
    "--smtp-relay",
    metavar="HOST:PORT",
    default=None,
    help="Forward sends to external recipients to this SMTP server (default: keep them).",
)
@click.option(
    "--admin-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Operator API token from this file (mode 0600; default: DATA_DIR/admin-token).",
)
@click.pass_context
def sandbox(
    ctx: click.Context,
    host: str,
    port: int,
    data_dir: Path | None,
    smtp_port: int,
    no_smtp: bool,
    imap_port: int,
    no_imap: bool,
    allocate_hourly_limit: int,
    tenant_qps: int,
    demo: bool,
    parser: str,
    smtp_relay: str | None,
    admin_token_file: Path | None,
) -> None:
    """Run the sandbox in the foreground (Ctrl-C stops it) and print its URL."""
    if ctx.invoked_subcommand is not None:
        return
    from tui.sandbox.runner import serve_forever

    if smtp_relay is not None:
        _split_hostport(smtp_relay, "--smtp-relay")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    overrides = _admin_token_override(admin_token_file)
    temp_dir = tempfile.mkdtemp(prefix="mailagents-sandbox-") if data_dir is None else None
    data_dir = data_dir or Path(str(temp_dir))
    config = SandboxConfig.for_data_dir(
        data_dir,
        host=host,
        port=port,
        smtp_port=None if no_smtp else smtp_port,
        imap_port=None if no_imap else imap_port,
        allocate_hourly_limit=allocate_hourly_limit,
        tenant_qps=tenant_qps,
        demo_on_allocate=demo,
        parser=parser,
        smtp_relay=smtp_relay,
        **overrides,
    )
    token_path = admin_token_file or data_dir / ADMIN_TOKEN_FILE
    if demo:
        _seed_demo(config)
    ready = functools.partial(
        _print_ready,
        config=config,
        data_dir=data_dir,
        temporary=temp_dir is not None,
        token_path=token_path,
        no_imap=no_imap,
    )

    try:
        serve_forever(config, on_ready=ready)
    except OSError as exc:
        raise click.ClickException(f"cannot start the sandbox: {exc}") from exc
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    click.echo("mailagents sandbox: stopped")


def _seed_demo(config: SandboxConfig) -> None:
    """Seed the operator demo world into the database (once per data dir)."""
    from tui.sandbox.demo import seed_operator_demo
    from tui.sandbox.state.store import Store

    store = Store(config.db_path)
    try:
        seed_operator_demo(store, config.mailbox_domain)
    finally:
        store.close()


def _split_hostport(value: str, hint: str = "--smtp") -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:2525", param_hint=hint)
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
    import smtplib
    from email.utils import parseaddr

    from tui.sandbox.mail import inbound as mail

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
        from tui.sandbox.state.store import Store

        assert data_dir is not None
        db = data_dir / DB_FILE
        if not db.exists():
            raise click.ClickException(f"no sandbox database in {data_dir}")
        from tui.sandbox.mail.maildir import Maildirs

        store = Store(str(db))
        # Like the running sandbox: every inbound message also goes to the address's Maildir.
        store.add_message_listener(Maildirs.open(data_dir / "maildir").listener(store))
        try:
            for raw in messages:
                mail.deliver(store, address, raw)
        except mail.NoActiveLeaseError as exc:
            raise click.ClickException(f"{address} has no active lease in this sandbox") from exc
        finally:
            with contextlib.suppress(Exception):
                store.close()
    click.echo(f"delivered {len(messages)} message(s) to {address}", file=sys.stderr)


@sandbox.group()
def tenant() -> None:
    """Manage sandbox tenants."""


@tenant.command("new")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Create it straight in the sandbox database of this data dir.",
)
@click.option("--url", default=None, help="Base URL of a running sandbox (http://HOST:PORT).")
@click.option(
    "--internal-token",
    envvar="MAILAGENTS_SANDBOX_INTERNAL_TOKEN",
    default=None,
    help="The sandbox's internal token (printed at start; env MAILAGENTS_SANDBOX_INTERNAL_TOKEN).",
)
def tenant_new(data_dir: Path | None, url: str | None, internal_token: str | None) -> None:
    """Create a tenant WITHOUT a wallet identity and print its access token as JSON.

    Such a tenant may send 10 messages in its first 24 hours, then gets 429 cooldown_limit
    (wallet sign-ins are never limited). The JSON has access_token, tenant_id, agent_id,
    expires_in and the tenant's mailbox addresses.
    """
    import json

    if (data_dir is None) == (url is None):
        raise click.UsageError("give exactly one of --data-dir DIR or --url BASE")
    if url is not None:
        import httpx

        if not internal_token:
            raise click.UsageError("--url needs --internal-token")
        try:
            response = httpx.post(
                url.rstrip("/") + "/internal/tenants",
                headers={"x-internal-token": internal_token},
                json={},
                timeout=10,
                trust_env=False,
            )
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach the sandbox at {url}: {exc}") from exc
        if response.status_code != 201:
            raise click.ClickException(
                f"the sandbox answered {response.status_code}: {response.text[:200]}"
            )
        result = response.json()
    else:
        from tui.sandbox.http.tokens import new_unbound_tenant
        from tui.sandbox.state.store import Store

        assert data_dir is not None
        if not (data_dir / DB_FILE).exists():
            raise click.ClickException(f"no sandbox database in {data_dir}")
        config = SandboxConfig.for_data_dir(data_dir)
        store = Store(config.db_path)
        try:
            result = new_unbound_tenant(config, store)
        finally:
            with contextlib.suppress(Exception):
                store.close()
    click.echo(json.dumps(result, indent=2))

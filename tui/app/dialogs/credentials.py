"""Mailbox credentials: stored login and masked password; reveal, copy, confirmed reset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.clipboard import copy_text
from tui.app.first_resume import StyledOnce
from tui.app.routing import WorkerErrors
from tui.app.widgets.key_footer import KeyFooter
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.api.models import Lease
    from tui.app.app import MailagentsApp
    from tui.core.ledger import LedgerEntry
    from tui.core.links import LinkInfo


class CredentialsDialog(StyledOnce, WorkerErrors, ModalScreen[None]):
    """Credentials of one lease, from the ledger."""

    BINDINGS = [
        Binding("v", "toggle_reveal", "Reveal", id="creds.reveal", tooltip="Show/hide password"),
        Binding("c", "copy_password", "Copy pw", id="creds.copy", tooltip="Copy the password"),
        Binding("l", "copy_login", "Copy login", id="creds.login", tooltip="Copy the login"),
        Binding("R", "reset", "Reset", id="creds.reset", tooltip="Rotate the password (confirm)"),
        Binding(
            "o",
            "open_webmail",
            "Webmail",
            id="creds.webmail",
            tooltip="Open the webmail URL in the browser (shows its host first)",
        ),
        Binding("escape", "close", "Close", id="creds.close", tooltip="Close"),
    ]

    app: MailagentsApp  # type: ignore[assignment]

    def __init__(self, lease: Lease) -> None:
        super().__init__()
        self.lease = lease
        """:class:`tui.api.models.Lease`."""
        self.revealed = False
        """Whether the password is shown."""

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(classes="dialog"):
            yield Static(Text("Mailbox credentials", style="bold"))
            yield Static(id="creds-body")
            yield Static(id="creds-status", classes="dialog-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show what the ledger has."""
        self.render_body()

    @property
    def entry(self) -> LedgerEntry | None:
        """The ledger entry, if any."""
        return self.app.services.leases.credentials(self.lease.lease_id)

    def render_body(self) -> None:
        """Redraw."""
        entry = self.entry
        text = Text()
        text.append("Address   ")
        text.append(clean(self.lease.address), style="bold")
        if entry is None or not entry.has_password:
            text.append(
                "\n\nNo stored credentials: this lease was allocated elsewhere.\n"
                "Press R to reset them (the old password stops working).",
                style="yellow",
            )
        else:
            text.append("\nLogin     ")
            text.append(clean(entry.webmail_login or ""))
            text.append("\nPassword  ")
            if self.revealed:
                text.append(clean(entry.webmail_password or ""), style="bold")
            else:
                text.append("•" * 12, style="dim")
                text.append("  (v reveals)", style="dim")
            if entry.webmail_url:
                text.append("\nWebmail   ")
                text.append(clean(entry.webmail_url))
        self.query_one("#creds-body", Static).update(text)

    def action_toggle_reveal(self) -> None:
        """Show or hide the password."""
        self.revealed = not self.revealed
        self.render_body()

    def _copy(self, value: str | None, what: str) -> None:
        if not value:
            self.notify(f"No {what} stored", severity="warning")
            return
        where = copy_text(self.app, value)
        self.notify(f"Copied the {what} to the {where}", markup=False)

    def action_copy_password(self) -> None:
        """Copy the password."""
        entry = self.entry
        self._copy(entry.webmail_password if entry else None, "password")

    def action_copy_login(self) -> None:
        """Copy the login."""
        entry = self.entry
        self._copy(entry.webmail_login if entry else None, "login")

    def action_reset(self) -> None:
        """Confirm, then rotate the password."""
        from tui.app.dialogs.confirm import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.working("resetting…", self.reset())

        self.app.push_screen(
            ConfirmDialog(
                "Reset this mailbox's password?\nAnything using the old one stops working.",
                yes="Reset",
            ),
            done,
        )

    @work(exclusive=True, group="creds-reset", exit_on_error=False)
    async def reset(self) -> None:
        """Rotate and store the new password."""
        from tui.api.errors import MailagentsError

        try:
            await self.app.services.leases.reset_credentials(self.lease)
        except MailagentsError as exc:
            self.set_status(f"Reset failed: {exc.user_message()}", error=True)
            return
        self.query_one("#creds-status", Static).update(Text("New password stored.", style="green"))
        self.render_body()

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The dialog's status line (also the error router's)."""
        self.query_one("#creds-status", Static).update(
            Text(clean(message, 300), style="bold red" if error else "")
        )

    def status_line(self) -> str:
        """What the dialog's status line says."""
        return str(self.query_one("#creds-status", Static).content)

    def action_open_webmail(self) -> None:
        """Open the webmail URL after showing its host (as a mail's link)."""
        entry = self.entry
        url = entry.webmail_url if entry is not None else None
        if not url:
            self.notify("No webmail URL stored for this lease", severity="warning")
            return
        from tui.app.dialogs.open_link import OpenLinkDialog
        from tui.core.links import inspect_link

        info = inspect_link(url)

        def done(yes: bool | None) -> None:
            if yes and info.openable:
                self.open_webmail(info)

        self.app.push_screen(OpenLinkDialog(info), done)

    @work(exclusive=True, group="creds-open", exit_on_error=False)
    async def open_webmail(self, info: LinkInfo) -> None:
        """Open the webmail and say what really happened (no browser: how to get there)."""
        from tui.app.browser import open_and_report

        await open_and_report(
            self.app, info, what="webmail", copy_hint=f"Go to {clean(info.url, 300)} yourself."
        )

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

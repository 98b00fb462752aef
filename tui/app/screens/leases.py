"""Lease list: address, purpose, status and a live countdown; allocate, release, credentials."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.widgets import Static

from tui.app.clipboard import copy_text
from tui.app.messages import LeaseAllocated, LeaseReleased, LeasesLoaded
from tui.app.resource_screen import ResourceScreen
from tui.app.widgets.paid_calls import paid_calls_text
from tui.core.leases import LeaseView
from tui.core.resources import Column, TableSpec
from tui.core.sanitize import clean
from tui.core.timefmt import time_left

REFRESH_SECONDS = 30.0
"""How often the list is fetched again while the screen is shown."""


def status_text(view: LeaseView) -> Text:
    """``active``, ``releases on quit`` (this run's, active) or ``expired (still held)``."""
    lease = view.lease
    if lease.is_active and lease.is_expired():
        text = Text("expired (still held)", style="red")
    elif lease.is_active and view.release_on_exit:
        text = Text("releases on quit", style="green")  # active; this run let it go at q
    elif lease.is_active:
        text = Text("active", style="green")
    else:
        text = Text(clean(lease.lease_status, 20), style="dim")
        if view.release_on_exit:
            text.append(" · releases on quit", style="dim")
    return text


def cells(view: LeaseView, now: datetime) -> Sequence[Text]:
    """Address, purpose, status, time left."""
    lease = view.lease
    return (
        Text(clean(lease.address, 80)),
        Text(clean(lease.purpose or "", 40)),
        status_text(view),
        Text(time_left(lease.expires_at, now)),
    )


def matches(view: LeaseView, needle: str) -> bool:
    """The filter: address or purpose contains ``needle``."""
    return needle in view.lease.address.lower() or needle in (view.lease.purpose or "").lower()


SPEC: TableSpec[LeaseView] = TableSpec(
    "leases",
    (
        Column("address", "Address"),
        Column("purpose", "Purpose"),
        Column("status", "Status"),
        Column("left", "Time left"),
    ),
    key=lambda view: view.lease.lease_id,
    cells=cells,
    noun="lease",
    matches=matches,
    filter_hint="filter by address or purpose",
    empty="No active leases. Press n to allocate a mailbox.",
)


class LeaseListScreen(ResourceScreen[LeaseView]):
    """The tenant's active leases."""

    BINDINGS = [
        Binding("enter", "open_inbox", "Inbox", id="leases.open", tooltip="Open the lease's inbox"),
        Binding("n", "allocate", "New", id="leases.new", tooltip="Allocate a mailbox"),
        Binding("d", "release", "Release", id="leases.release", tooltip="Release the lease"),
        Binding(
            "p",
            "credentials",
            "Creds",
            show=False,
            id="leases.creds",
            tooltip="Mailbox credentials",
        ),
        Binding("c", "copy_address", "Copy", id="leases.copy", tooltip="Copy the address"),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            id="leases.refresh",
            tooltip="Fetch the list again",
        ),
        Binding("m", "compose", "Compose", id="leases.compose", tooltip="Write from this mailbox"),
        Binding("s", "open('sent')", "Sent", id="leases.sent", tooltip="Send attempts"),
        Binding(
            "w",
            "open('webhooks')",
            "Hooks",
            id="leases.webhooks",
            tooltip="Webhooks and deliveries",
        ),
        Binding(
            "U", "open('usage')", "Usage", id="leases.usage", tooltip="Usage, paid calls, invoices"
        ),
        Binding("slash", "filter", "Filter", id="leases.filter", tooltip="Filter the list"),
        Binding(
            "A",
            "live_feed",
            "Live feed",
            show=False,
            id="leases.feed",
            tooltip="Codes and links arriving in every active lease, in one list",
        ),
        Binding(
            "T",
            "copy_token",
            "Copy token",
            show=False,
            id="leases.token",
            tooltip="Copy this session's API access token (asks first)",
        ),
        Binding("j", "cursor_down", "Down", show=False, id="leases.down", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="leases.up", tooltip="Previous row"),
        Binding("g", "cursor_top", "Top", show=False, id="leases.top", tooltip="First row"),
        Binding("G", "cursor_bottom", "Bottom", show=False, id="leases.bottom", tooltip="Last row"),
        Binding(
            "escape",
            "clear_filter",
            "Clear",
            show=False,
            id="leases.clear",
            tooltip="Clear the filter",
        ),
    ]

    spec = SPEC

    @property
    def views(self) -> list[LeaseView]:
        """Leases as last loaded."""
        return self.all_rows

    def on_mount(self) -> None:
        """Start refreshing (and replay keys typed while signing in)."""
        self.update_header()
        self.set_status("loading leases…")
        self.refresh_leases()
        self.set_interval(1.0, self.tick)
        self.set_interval(REFRESH_SECONDS, self.refresh_if_shown)
        if self.app.type_ahead:
            self.call_after_refresh(self.replay_type_ahead)

    def replay_type_ahead(self) -> None:
        """Keys typed while signing in (``n`` right after enter) run here, in order, once
        the table has the focus (not the hidden filter field)."""
        from textual import events

        table = self.table
        if not table.has_focus:
            table.focus()
            self.call_after_refresh(self.replay_type_ahead)
            return
        keys, self.app.type_ahead = list(self.app.type_ahead), []
        for key, character in keys:
            event = events.Key(key, character)
            event.set_sender(self.app)  # as from the terminal (a screen's own is ignored)
            self.app.post_message(event)

    def update_header(self) -> None:
        """Who is signed in, where."""
        info = self.app.services.session.info()
        text = Text()
        text.append("Leases", style="bold")
        if info:
            text.append(f"   {info['address']}", style="dim")
            text.append(f"   tenant {str(info['tenant_id'])[:8]}", style="dim")
        text.append(f"   {clean(self.app.services.settings.api_base)}", style="dim")
        if self.app.services.settings.profile:
            text.append(f"   profile {self.app.services.settings.profile}", style="dim")
        self.query_one("#leases-header", Static).update(text, layout=False)  # one fixed line

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The status line: leases count, paid calls, message."""
        text = Text()
        if error:
            text.append(message, style="bold red")
        else:
            text.append(message)
        run = len(self.app.services.leases.run_leases())
        text.append(f"   · {len(self.views)} active", style="dim")
        if run:
            text.append(f" · releases on quit: {run}", style="dim")
        text.append_text(paid_calls_text(self.app.services))
        self.query_one("#status-bar", Static).update(text, layout=False)  # one fixed line

    def refresh_if_shown(self) -> None:
        """The periodic refresh, skipped while another screen covers this one."""
        if self.app.screen is self:  # (is_current also counts the screen right below)
            self.refresh_leases()

    def tick(self) -> None:
        """Live countdown (not while another screen covers the list: nobody sees it)."""
        if self.app.screen is self:
            self.table.update_cells(("left", "status"), datetime.now(UTC))

    # -- data ------------------------------------------------------------------------------

    @work(exclusive=True, group="leases-refresh", exit_on_error=False)
    async def refresh_leases(self) -> None:
        """Fetch the active leases."""
        views = await self.app.services.leases.list_active()
        self.post_message(LeasesLoaded(views))

    @on(LeasesLoaded)
    def leases_loaded(self, event: LeasesLoaded) -> None:
        """Redraw the table, keeping the cursor on the same lease."""
        self.show(event.views)
        self.set_status(f"updated {datetime.now().strftime('%H:%M:%S')}")

    # -- actions ---------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Fetch again now."""
        self.working("refreshing…", self.refresh_leases())

    def open_row(self) -> None:
        """Enter on a row opens the inbox."""
        self.action_open_inbox()

    def action_open_inbox(self) -> None:
        """Open the selected lease's inbox."""
        view = self.target()
        if view is not None:
            self.app.open_screen("inbox", view=view)

    def action_copy_address(self) -> None:
        """Copy the selected address."""
        view = self.target()
        if view is not None:
            where = copy_text(self.app, view.lease.address)
            self.notify(f"Copied {clean(view.lease.address)} to the {where}", markup=False)

    def action_live_feed(self) -> None:
        """One live list of the codes and links of every active lease."""
        if not self.views:
            self.notify("No active leases to follow", severity="warning")
            return
        self.app.open_screen("feed", views=self.views)

    def action_copy_token(self) -> None:
        """Copy the access token, after saying what it allows and until when."""
        current = self.app.services.session.session
        token = current.access_token if current is not None and current.is_valid() else None
        if not token:
            self.notify("Not signed in: no access token", severity="warning")
            return

        def copy() -> None:
            where = copy_text(self.app, token)
            self.notify(f"Copied the access token to the {where}", markup=False)

        self.confirm_then(
            "Copy the API access token?\nWhoever has it can allocate, read and send as "
            "this tenant until it expires. Paste it only where you mean to.",
            copy,
            yes="Copy",
        )

    def action_allocate(self) -> None:
        """Ask for purpose and ttl, then allocate."""
        from tui.app.dialogs.allocate import AllocateDialog

        def done(result: tuple[str, int] | None) -> None:
            if result is not None:
                self.working("allocating…", self.allocate(*result))

        self.app.push_screen(AllocateDialog(), done)

    @work(exclusive=True, group="leases-allocate", exit_on_error=False)
    async def allocate(self, purpose: str, ttl_hours: int) -> None:
        """Allocate (released on quit)."""
        allocated = await self.app.services.leases.allocate(
            purpose, ttl_hours, release_on_exit=True
        )
        self.post_message(LeaseAllocated(allocated))

    @on(LeaseAllocated)
    def lease_allocated(self, event: LeaseAllocated) -> None:
        """Toast and refresh."""
        self.notify(f"Allocated {clean(event.allocated.lease.address)}", markup=False)
        self.refresh_leases()

    def action_release(self) -> None:
        """Confirm, then release."""
        view = self.target()
        if view is None:
            return

        def release() -> None:
            self.working("releasing…", self.release(view.lease.lease_id))

        self.confirm_then(
            f"Release {clean(view.lease.address)}?\n"
            "The mailbox goes back to the pool and its credentials stop being yours.",
            release,
        )

    @work(group="leases-release", exit_on_error=False)
    async def release(self, lease_id: str) -> None:
        """Release one lease."""
        result = await self.app.services.leases.release(lease_id)
        self.post_message(LeaseReleased(result))

    @on(LeaseReleased)
    def lease_released(self, event: LeaseReleased) -> None:
        """Toast and refresh."""
        self.notify(f"Lease {event.result.detail}", markup=False)
        self.refresh_leases()

    def action_credentials(self) -> None:
        """Show the credentials dialog."""
        view = self.target()
        if view is not None:
            from tui.app.dialogs.credentials import CredentialsDialog

            self.app.push_screen(CredentialsDialog(view.lease))

    def action_compose(self) -> None:
        """Write a message from the selected lease."""
        view = self.target()
        if view is not None:
            self.app.open_screen("compose", lease=view.lease)

    def action_open(self, name: str) -> None:
        """Another screen by its name in the App's registry (sent, webhooks, usage)."""
        self.app.open_screen(name)

"""Lease list: address, purpose, status and a live countdown; allocate, release, credentials."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from tui.app.clipboard import copy_text
from tui.app.messages import LeaseAllocated, LeaseReleased, LeasesLoaded
from tui.app.routing import WorkerErrors
from tui.app.widgets.key_footer import KeyFooter
from tui.app.widgets.paid_calls import paid_calls_text
from tui.core.leases import LeaseView
from tui.core.sanitize import clean
from tui.core.timefmt import time_left

if TYPE_CHECKING:
    from tui.app.app import MailagentsApp

REFRESH_SECONDS = 30.0
"""How often the list is fetched again while the screen is shown."""


class LeaseListScreen(WorkerErrors, Screen[None]):
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
        Binding("s", "sent", "Sent", id="leases.sent", tooltip="Send attempts"),
        Binding("w", "webhooks", "Hooks", id="leases.webhooks", tooltip="Webhooks and deliveries"),
        Binding("U", "usage", "Usage", id="leases.usage", tooltip="Usage, paid calls, invoices"),
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

    app: MailagentsApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.views: list[LeaseView] = []
        """Leases as last loaded."""
        self.filter_text = ""
        """Current filter (address or purpose substring)."""

    def compose(self) -> ComposeResult:
        """Layout."""
        yield Static(id="leases-header")
        yield Input(placeholder="filter by address or purpose", id="leases-filter")
        table: DataTable[Text] = DataTable(id="leases-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="leases-empty")
        yield Static(id="status-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Set up the table and start refreshing."""
        table = self.query_one(DataTable)
        table.add_column("Address", key="address")
        table.add_column("Purpose", key="purpose")
        table.add_column("Status", key="status")
        table.add_column("Time left", key="left")
        self.query_one("#leases-filter", Input).display = False
        self.update_header()
        self.set_status("loading leases…")
        self.refresh_leases()
        self.set_interval(1.0, self.tick)
        self.set_interval(REFRESH_SECONDS, self.refresh_if_shown)
        table.focus()
        if self.app.type_ahead:
            self.call_after_refresh(self.replay_type_ahead)

    def replay_type_ahead(self) -> None:
        """Keys typed while signing in (``n`` right after enter) run here, in order, once
        the table has the focus (not the hidden filter field)."""
        from textual import events

        table = self.query_one(DataTable)
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

    # -- data ------------------------------------------------------------------------------

    @work(exclusive=True, group="leases-refresh", exit_on_error=False)
    async def refresh_leases(self) -> None:
        """Fetch the active leases."""
        views = await self.app.services.leases.list_active()
        self.post_message(LeasesLoaded(views))

    @on(LeasesLoaded)
    def leases_loaded(self, event: LeasesLoaded) -> None:
        """Redraw the table, keeping the cursor on the same lease."""
        self.views = event.views
        self.render_rows()
        stamp = datetime.now().strftime("%H:%M:%S")
        self.set_status(f"updated {stamp}")

    def visible_views(self) -> list[LeaseView]:
        """Views that pass the filter."""
        needle = self.filter_text.lower()
        if not needle:
            return self.views
        return [
            v
            for v in self.views
            if needle in v.lease.address.lower() or needle in (v.lease.purpose or "").lower()
        ]

    def status_text(self, view: LeaseView) -> Text:
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

    def render_rows(self) -> None:
        """Fill the table from :attr:`views`."""
        table = self.query_one(DataTable)
        selected = self.selected_view()
        table.clear()
        for view in self.visible_views():
            lease = view.lease
            table.add_row(
                Text(clean(lease.address, 80)),
                Text(clean(lease.purpose or "", 40)),
                self.status_text(view),
                Text(time_left(lease.expires_at)),
                key=lease.lease_id,
            )
        if selected is not None:
            with contextlib.suppress(RowDoesNotExist):  # the lease may be gone
                table.move_cursor(row=table.get_row_index(selected.lease.lease_id))
        empty = self.query_one("#leases-empty", Static)
        if not self.views:
            empty.update(Text("No active leases. Press n to allocate a mailbox.", style="dim"))
            empty.display = True
        else:
            empty.display = False

    def tick(self) -> None:
        """Live countdown (not while another screen covers the list: nobody sees it)."""
        if self.app.screen is not self:
            return
        table = self.query_one(DataTable)
        now = datetime.now(UTC)
        for view in self.visible_views():
            key = view.lease.lease_id
            with contextlib.suppress(CellDoesNotExist, RowDoesNotExist):
                table.update_cell(key, "left", Text(time_left(view.lease.expires_at, now)))
                table.update_cell(key, "status", self.status_text(view))

    def selected_view(self) -> LeaseView | None:
        """The lease under the cursor."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        return next((v for v in self.views if v.lease.lease_id == key), None)

    # -- actions ---------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Fetch again now."""
        self.set_status("refreshing…")
        self.refresh_leases()

    def action_cursor_down(self) -> None:
        """vim j."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """vim k."""
        self.query_one(DataTable).action_cursor_up()

    def action_cursor_top(self) -> None:
        """vim g."""
        self.query_one(DataTable).move_cursor(row=0)

    def action_cursor_bottom(self) -> None:
        """vim G."""
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.row_count - 1))

    def action_filter(self) -> None:
        """Show and focus the filter input."""
        box = self.query_one("#leases-filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        """Hide the filter (escape)."""
        box = self.query_one("#leases-filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.render_rows()
            self.query_one(DataTable).focus()

    @on(Input.Changed, "#leases-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Filter as you type."""
        self.filter_text = event.value.strip()
        self.render_rows()

    @on(Input.Submitted, "#leases-filter")
    def filter_submitted(self) -> None:
        """Enter returns to the table, keeping the filter."""
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def row_selected(self) -> None:
        """Enter on a row opens the inbox."""
        self.action_open_inbox()

    def action_open_inbox(self) -> None:
        """Open the selected lease's inbox."""
        view = self.selected_view()
        if view is None:
            self.notify("No lease selected", severity="warning")
            return
        self.app.open_screen("inbox", view=view)

    def action_copy_address(self) -> None:
        """Copy the selected address."""
        view = self.selected_view()
        if view is None:
            self.notify("No lease selected", severity="warning")
            return
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
        from tui.app.dialogs.confirm import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                where = copy_text(self.app, token)
                self.notify(f"Copied the access token to the {where}", markup=False)

        self.app.push_screen(
            ConfirmDialog(
                "Copy the API access token?\nWhoever has it can allocate, read and send as "
                "this tenant until it expires. Paste it only where you mean to.",
                yes="Copy",
            ),
            done,
        )

    def action_allocate(self) -> None:
        """Ask for purpose and ttl, then allocate."""
        from tui.app.dialogs.allocate import AllocateDialog

        def done(result: tuple[str, int] | None) -> None:
            if result is not None:
                self.set_status("allocating…")
                self.allocate(*result)

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
        view = self.selected_view()
        if view is None:
            self.notify("No lease selected", severity="warning")
            return
        from tui.app.dialogs.confirm import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.set_status("releasing…")
                self.release(view.lease.lease_id)

        self.app.push_screen(
            ConfirmDialog(
                f"Release {clean(view.lease.address)}?\n"
                "The mailbox goes back to the pool and its credentials stop being yours."
            ),
            done,
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
        view = self.selected_view()
        if view is None:
            self.notify("No lease selected", severity="warning")
            return
        from tui.app.dialogs.credentials import CredentialsDialog

        self.app.push_screen(CredentialsDialog(view.lease))

    def action_compose(self) -> None:
        """Write a message from the selected lease."""
        view = self.selected_view()
        if view is None:
            self.notify("No lease selected", severity="warning")
            return
        self.app.open_screen("compose", lease=view.lease)

    def action_sent(self) -> None:
        """The send attempts."""
        self.app.open_screen("sent")

    def action_webhooks(self) -> None:
        """The webhooks screen."""
        self.app.open_screen("webhooks")

    def action_usage(self) -> None:
        """The usage and billing screen."""
        self.app.open_screen("usage")

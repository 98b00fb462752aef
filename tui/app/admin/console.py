"""``mailagents-tui admin``: the operator console, one tab per admin view.

Tabs: Overview (metrics, inbound chart, live feed) and one :class:`ResourceTable` per
:data:`tui.core.admin.VIEWS` entry (Tenants ... Settings). ``<`` / ``>`` or ``1``-``9`` switch
tabs, ``:`` jumps to a tab by name, ``?`` lists the keys, ``q`` quits.
"""

from __future__ import annotations

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane, Tabs

from tui.api.admin import AdminClient
from tui.app.admin.overview import Overview
from tui.app.admin.resource_table import ResourceTable, make_table
from tui.core.admin import VIEWS

TAB_VIEWS = tuple(name for name, spec in VIEWS.items() if spec.tab)
"""The list tabs, in order (after Overview)."""
TABS = ("overview", *TAB_VIEWS)
"""Every tab id (tab ``tab-<view>``)."""


def tab_id(view: str) -> str:
    """The TabPane id of a view."""
    return f"tab-{view}"


class AdminConsole(App[None]):
    """The operator console."""

    CSS = """
    #jump { dock: bottom; display: none; }
    #jump.-shown { display: block; }
    .dialog { width: 72; max-width: 100%; height: auto; max-height: 90%; padding: 1 2;
        border: thick $primary; background: $surface; }
    .json-dialog { width: 100; height: 90%; }
    .json-scroll { height: 1fr; }
    .dialog-body { margin-bottom: 1; }
    .dialog-error { height: auto; min-height: 1; }
    .dialog-buttons { height: auto; align-horizontal: right; }
    .dialog-buttons Button { margin-left: 1; }
    .dialog Input { margin-bottom: 1; }
    ModalScreen { align: center middle; }
    #webhook-secret-dialog { width: 84; }
    """
    TITLE = "mailagents operator console"

    BINDINGS = [
        Binding("greater_than_sign", "tab(1)", "Next tab", id="console.next", tooltip="Next tab"),
        Binding("less_than_sign", "tab(-1)", "Prev tab", id="console.prev", tooltip="Prev tab"),
        Binding("colon", "jump", "Go to", id="console.jump", tooltip="Jump to a tab by name"),
        Binding("q", "quit", "Quit", id="console.quit", tooltip="Quit"),
        Binding("question_mark", "help", "Keys", id="console.help", tooltip="Show all keys"),
        *(
            Binding(
                str((i + 1) % 10),
                f"go('{name}')",
                show=False,
                id=f"console.go{i + 1}",
                tooltip=f"Go to {name}",
            )
            for i, name in enumerate(TABS[:10])
        ),
    ]

    def __init__(self, client: AdminClient) -> None:
        super().__init__()
        self.client = client
        """The admin API."""
        self.sub_title = client.base_url

    def compose(self) -> ComposeResult:
        """Header, the tabs, the jump input, the footer."""
        yield Header()
        with TabbedContent(id="tabs", initial=tab_id("overview")):
            with TabPane("Overview", id=tab_id("overview")):
                yield Overview(self.client)
            for name in TAB_VIEWS:
                spec = VIEWS[name]
                with TabPane(spec.title, id=tab_id(name)):
                    yield make_table(spec, self.client)
        yield Input(placeholder="go to tab: type a name, enter", id="jump", disabled=True)
        yield Footer()

    # -- tabs -----------------------------------------------------------------------------

    def table(self, view: str) -> ResourceTable:
        """The table of a view's tab."""
        return self.query_one(f"#{tab_id(view)} ResourceTable", ResourceTable)

    def show(self, view: str) -> None:
        """Activate a view's tab (loading it the first time)."""
        self.query_one(TabbedContent).active = tab_id(view)

    @on(TabbedContent.TabActivated)
    def _activated(self, event: TabbedContent.TabActivated) -> None:
        pane_id = event.pane.id or ""
        view = pane_id.removeprefix("tab-")
        overview = self.query_one(Overview)
        overview.active = view == "overview"
        if overview.active:
            overview.reload()
        if view in TAB_VIEWS:
            table = self.table(view)
            table.load()
            table.focus_table()

    def action_tab(self, delta: int) -> None:
        """Next / previous tab."""
        current = (self.query_one(TabbedContent).active or "").removeprefix("tab-")
        index = TABS.index(current) if current in TABS else 0
        self.show(TABS[(index + delta) % len(TABS)])

    def action_go(self, view: str) -> None:
        """Go to a tab."""
        self.show(view)

    def action_jump(self) -> None:
        """Show the jump input."""
        field = self.query_one("#jump", Input)
        field.disabled = False
        field.add_class("-shown")
        field.value = ""
        field.focus()

    @on(Input.Submitted, "#jump")
    def _jump(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#jump", Input)
        field.remove_class("-shown")
        field.disabled = True
        wanted = event.value.strip().lower()
        if not wanted:
            return
        for name in TABS:
            title = "overview" if name == "overview" else VIEWS[name].title.lower()
            if title.startswith(wanted) or name.startswith(wanted):
                self.show(name)
                return
        self.notify(f"no tab named {wanted!r}", severity="warning", markup=False)

    def on_key(self, event: events.Key) -> None:
        """Escape in the jump input hides it."""
        field = self.query_one("#jump", Input)
        if event.key == "escape" and field.has_focus:
            event.stop()
            field.remove_class("-shown")
            field.disabled = True

    def on_mount(self) -> None:
        """Keys go to the tab bar until a list is opened."""
        self.query_one(Tabs).focus()
        self.call_after_refresh(self._freeze_heap)

    def _freeze_heap(self) -> None:
        """Move the start-up objects (14 tabs of widgets, styles, imports) out of the
        collector's reach: a full collection then scans only what browsing allocates, so it no
        longer stalls a page flip (see benchmarks/bench_admin_audit.py)."""
        import gc

        gc.collect()
        gc.freeze()

    def action_help(self) -> None:
        """Show the keys panel."""
        if self.screen.query("KeyPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    async def on_unmount(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


def make_console(client: AdminClient) -> AdminConsole:
    """The console App (used by the CLI and the tests)."""
    return AdminConsole(client)


def run_console(api_base: str, token: str) -> None:
    """Open the console on ``api_base`` with the admin token."""
    make_console(AdminClient(api_base, token)).run()

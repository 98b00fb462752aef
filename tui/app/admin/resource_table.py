"""The one resource-table widget every console tab is an instance of.

A :class:`ResourceTable` is driven by a :class:`tui.core.admin.ViewSpec`: it fetches pages from
the server (``[`` / ``]`` previous / next, ``{`` / ``}`` first / last), filters (``/``: words
``key=value`` go to the server, other words match the page's rows), sorts the page (``s``
cycles the column, ``S`` reverses), shows the selected row in a detail pane, its raw JSON on
``v``, copies its id on ``c``, and runs the view's actions (each confirmed, each with its
result shown). Network calls run in exclusive workers; results arrive as messages.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState

from tui.api.admin import AdminClient, AdminPage
from tui.api.errors import MailagentsError
from tui.app.clipboard import copy_text
from tui.app.widgets.row_table import RowTable
from tui.core.admin import ACTIONS, ActionSpec, ViewSpec, cell
from tui.core.resources import TableSpec
from tui.core.sanitize import clean
from tui.jsontypes import JsonObject

PAGE_SIZE = 50
"""Rows fetched per page."""


class PageLoaded(Message):
    """A page of a view arrived (or failed: ``error`` set)."""

    def __init__(self, view: str, page: AdminPage | None, error: str = "") -> None:
        super().__init__()
        self.view = view
        """The view's name."""
        self.page = page
        """The page, None on failure."""
        self.error = error
        """One line on failure."""


class ActionDone(Message):
    """An action finished (``error`` set when it failed)."""

    def __init__(
        self, action: ActionSpec, target: str, result: JsonObject | None, error: str = ""
    ) -> None:
        super().__init__()
        self.action = action
        """What ran."""
        self.target = target
        """On what."""
        self.result = result
        """The server's answer."""
        self.error = error
        """One line on failure."""


def table_spec(spec: ViewSpec) -> TableSpec[JsonObject]:
    """The :class:`RowTable` spec of an admin view: JSON rows, each value one safe cell."""
    return TableSpec(
        spec.name,
        spec.columns,
        key=lambda row: str(row.get(spec.id_key, id(row))),
        cells=lambda row, now: [Text(cell(row.get(c.key), max(c.width, 8))) for c in spec.columns],
        noun="row",
    )


class ResourceTable(Widget):
    """Server-paged, filterable, sortable table of one admin view with a detail pane."""

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    ResourceTable > .rt-status { height: 1; padding: 0 1; background: $panel; }
    ResourceTable > DataTable { height: 1fr; }
    ResourceTable > .rt-detail { height: 7; padding: 0 1; border-top: solid $primary; }
    ResourceTable .rt-detail-body { height: 6; }
    ResourceTable > Input { display: none; }
    ResourceTable > Input.-shown { display: block; }
    """

    BINDINGS = [
        Binding("right_square_bracket", "page(1)", "Next page", id="rt.next", tooltip="Next page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="rt.prev", tooltip="Previous"),
        Binding(
            "left_curly_bracket",
            "first_page",
            "First",
            show=False,
            id="rt.first",
            tooltip="First page",
        ),
        Binding(
            "right_curly_bracket",
            "last_page",
            "Last",
            show=False,
            id="rt.last",
            tooltip="Last page",
        ),
        Binding("slash", "filter", "Filter", id="rt.filter", tooltip="Filter (key=value, text)"),
        Binding("s", "sort", "Sort", id="rt.sort", tooltip="Sort the page by the next column"),
        Binding("S", "reverse", "Reverse", show=False, id="rt.reverse", tooltip="Reverse sort"),
        Binding("v", "raw", "JSON", id="rt.raw", tooltip="Raw JSON of the row"),
        Binding("c", "copy_id", "Copy id", id="rt.copy", tooltip="Copy the row's id"),
        Binding(
            "f5,ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            id="rt.refresh",
            tooltip="Fetch the page again",
        ),
    ]

    def __init__(self, spec: ViewSpec, client: AdminClient, *, id: str | None = None) -> None:
        super().__init__(id=id or f"rt-{spec.name}")
        self.spec = spec
        """What this table shows."""
        self.client = client
        """The admin API."""
        self.page_no = 1
        """Current page (1-based)."""
        self.page: AdminPage | None = None
        """The last page loaded."""
        self.server_filters: dict[str, str] = {}
        """Filters sent to the server."""
        self.text_filter = ""
        """Words every shown row must contain."""
        self.sort_index: int | None = None
        """Column the page is sorted by (None: the server's order)."""
        self.sort_reverse = False
        """Descending sort."""
        self.rows: list[JsonObject] = []
        """The rows shown (filtered, sorted)."""
        self.error = ""
        """The last load error."""
        self.loaded = False
        """True once a page arrived."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Status line, table, filter input, detail pane."""
        yield Static("", classes="rt-status")
        yield RowTable(table_spec(self.spec), id=f"rt-{self.spec.name}-table")
        yield Input(
            placeholder="filter: key=value or text, enter applies, escape clears", disabled=True
        )
        with Vertical(classes="rt-detail"):
            yield Static("", classes="rt-detail-body")

    @property
    def table(self) -> RowTable[JsonObject]:
        """The data table."""
        return self.query_one(RowTable)

    def focus_table(self) -> None:
        """Put the keyboard on the table."""
        self.table.focus()

    # -- loading --------------------------------------------------------------------------

    def load(self, page: int | None = None) -> None:
        """Fetch a page (the current one by default)."""
        if page is not None:
            self.page_no = max(1, page)
        self._status("loading…")
        self._fetch(self.page_no, dict(self.server_filters))

    @work(exclusive=True, group="rt-load", exit_on_error=False)
    async def _fetch(self, page: int, filters: dict[str, str]) -> None:
        try:
            result = await self.spec.load(self.client, page, PAGE_SIZE, filters)
        except MailagentsError as exc:
            self.post_message(PageLoaded(self.spec.name, None, exc.user_message()))
            return
        self.post_message(PageLoaded(self.spec.name, result))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A fetch or an action that ends without its answer (cancelled with none newer under
        way, or failed outside the API's errors) leaves no "loading…" behind (issue 16)."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            error = worker.error
            self._status(f"error: {type(error).__name__}: {error}", error=True)
        elif event.state == WorkerState.CANCELLED:
            busy = (WorkerState.PENDING, WorkerState.RUNNING)
            if not any(w.node is self and w.state in busy for w in self.app.workers):
                self._status()

    @on(PageLoaded)
    def _loaded(self, event: PageLoaded) -> None:
        event.stop()
        if event.page is None:
            self.error = event.error
            self._status(f"error: {event.error}", error=True)
            return
        self.error = ""
        self.loaded = True
        self.page = event.page
        if event.page.page > event.page.pages and event.page.total:
            self.load(event.page.pages)  # the list shrank under us
            return
        self._render_rows()

    def _render_rows(self) -> None:
        assert self.page is not None
        rows = list(self.page.items)
        if self.text_filter:
            words = self.text_filter.lower().split()
            rows = [r for r in rows if all(w in json.dumps(r).lower() for w in words)]
        if self.sort_index is not None:
            key = self.spec.columns[self.sort_index].key
            rows.sort(
                key=lambda r: (r.get(key) is None, str(r.get(key))), reverse=self.sort_reverse
            )
        self.rows = rows
        self.table.show(rows)  # the cursor stays on the same row id
        self._status()
        self._show_detail()

    def _status(self, note: str = "", *, error: bool = False) -> None:
        text = Text()
        text.append(self.spec.title, style="bold")
        if self.page is not None and self.spec.loader is None:
            page = self.page
            text.append(f"  page {page.page}/{page.pages} · {page.total} rows")
        if self.server_filters or self.text_filter:
            shown = " ".join(f"{k}={v}" for k, v in self.server_filters.items())
            text.append(f"  filter: {clean((shown + ' ' + self.text_filter).strip(), 60)}")
        if self.sort_index is not None:
            arrow = "↓" if self.sort_reverse else "↑"
            text.append(f"  sort: {self.spec.columns[self.sort_index].label} {arrow}")
        if note:
            text.append(f"  {clean(note, 120)}", style="bold red" if error else "dim")
        self.query_one(".rt-status", Static).update(text, layout=False)

    # -- selection and detail -------------------------------------------------------------

    def selected(self) -> JsonObject | None:
        """The row under the cursor."""
        return self.table.selected()

    def selected_id(self) -> str | None:
        """The id of the row under the cursor."""
        row = self.selected()
        return None if row is None else str(row.get(self.spec.id_key))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.selected()
        body = Text()
        if row is None:
            body.append("no rows" if self.loaded else "", style="dim")
        else:
            for key, value in row.items():
                body.append(f"{key}: ", style="bold")
                if isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                body.append(cell(value, 200) + "\n")
            body.rstrip()
        self.query_one(".rt-detail-body", Static).update(body, layout=False)

    # -- keys -----------------------------------------------------------------------------

    def action_page(self, delta: int) -> None:
        """Previous / next page."""
        if self.page is None:
            return
        target = min(max(1, self.page_no + delta), self.page.pages)
        if target != self.page_no:
            self.load(target)

    def action_first_page(self) -> None:
        """First page."""
        self.load(1)

    def action_last_page(self) -> None:
        """Last page."""
        if self.page is not None:
            self.load(self.page.pages)

    def action_refresh(self) -> None:
        """Fetch the current page again."""
        self.load()

    def action_filter(self) -> None:
        """Show the filter input."""
        field = self.query_one(Input)
        field.disabled = False
        field.add_class("-shown")
        words = [f"{k}={v}" for k, v in self.server_filters.items()]
        field.value = " ".join([*words, self.text_filter]).strip()
        field.focus()

    @on(Input.Submitted)
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value)

    def apply_filter(self, value: str) -> None:
        """Split ``value`` into server filters (known ``key=value``) and text; reload."""
        server: dict[str, str] = {}
        words: list[str] = []
        for word in value.split():
            key, sep, rest = word.partition("=")
            if sep and key in self.spec.filters and rest:
                server[key] = rest
            else:
                words.append(word)
        text = " ".join(words)
        field = self.query_one(Input)
        field.remove_class("-shown")
        field.disabled = True
        self.focus_table()
        if server != self.server_filters:
            self.server_filters, self.text_filter = server, text
            self.load(1)
        else:
            self.text_filter = text
            if self.page is not None:
                self._render_rows()

    def on_key(self, event: events.Key) -> None:
        """Escape in the filter input clears the filter."""
        field = self.query_one(Input)
        if event.key == "escape" and field.has_focus:
            event.stop()
            event.prevent_default()
            self.apply_filter("")

    def action_sort(self) -> None:
        """Sort the page by the next column (then back to the server's order)."""
        count = len(self.spec.columns)
        self.sort_index = 0 if self.sort_index is None else self.sort_index + 1
        if self.sort_index >= count:
            self.sort_index = None
        if self.page is not None:
            self._render_rows()

    def action_reverse(self) -> None:
        """Reverse the sort."""
        self.sort_reverse = not self.sort_reverse
        if self.page is not None:
            self._render_rows()

    def action_raw(self) -> None:
        """The selected row's JSON in a dialog."""
        from tui.app.admin.json_dialog import JsonDialog

        row = self.selected()
        if row is not None:
            self.app.push_screen(JsonDialog(self.spec.title, row))

    def action_copy_id(self) -> None:
        """Copy the selected row's id."""
        ident = self.selected_id()
        if ident:
            where = copy_text(self.app, ident)
            self.notify(f"Copied {self.spec.id_key} to the {where}", markup=False)

    # -- actions --------------------------------------------------------------------------

    def start_action(self, action: ActionSpec) -> None:
        """Ask for inputs and confirmation as the action needs, then run it."""
        target = ""
        if action.needs_row:
            row = self.selected()
            if row is None:
                self.notify("Select a row first", severity="warning")
                return
            target = str(row.get(action.target_key or self.spec.id_key) or "")
            if not target:
                self.notify("This row has nothing to act on", severity="warning")
                return
        if action.inputs:
            from tui.app.admin.action_dialog import ActionDialog

            def inputs_given(values: dict[str, str] | None) -> None:
                if values is not None:
                    self._run_action(action, target, values)

            self.app.push_screen(ActionDialog(action, target), inputs_given)
            return
        if action.destructive:
            from tui.app.dialogs.confirm import ConfirmDialog

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._run_action(action, target, {})

            self.app.push_screen(ConfirmDialog(action.confirmation(target, {})), confirmed)
            return
        self._run_action(action, target, {})

    def _run_action(self, action: ActionSpec, target: str, inputs: dict[str, str]) -> None:
        self._status(f"{action.label}…")
        self._act(action, target, inputs)

    @work(exclusive=True, group="rt-action", exit_on_error=False)
    async def _act(self, action: ActionSpec, target: str, inputs: dict[str, str]) -> None:
        try:
            result = await action.run(self.client, target, inputs)
        except MailagentsError as exc:
            self.post_message(ActionDone(action, target, None, exc.user_message()))
            return
        self.post_message(ActionDone(action, target, result))

    def action_act(self, name: str) -> None:
        """Run the named action of this view (keys made by :func:`make_table`)."""
        if name in self.spec.actions:
            self.start_action(ACTIONS[name])

    @on(ActionDone)
    def _action_done(self, event: ActionDone) -> None:
        event.stop()
        action, result = event.action, event.result
        if result is None:
            self._status(f"{action.label} failed: {event.error}", error=True)
            self.notify(f"{action.label} failed: {event.error}", severity="error", markup=False)
            return
        if action.secret_field and action.secret_field in result:
            from tui.app.dialogs.webhook_secret import WebhookSecretDialog

            secret = str(result[action.secret_field])
            self.app.push_screen(WebhookSecretDialog(secret, "New secret", event.target))
            summary = "new secret shown once"
        else:
            summary = ", ".join(
                f"{k}={cell(v, 40)}" for k, v in result.items() if not isinstance(v, dict | list)
            )
        self.notify(f"{action.label}: {summary or 'done'}", markup=False)
        self.load()


def make_table(spec: ViewSpec, client: AdminClient) -> ResourceTable:
    """A :class:`ResourceTable` for ``spec`` with a key binding per action of the view."""
    bindings = [
        Binding(
            a.key,
            f"act('{a.name}')",
            a.label.removesuffix(" of").strip(),
            id=f"rt.{a.name}",
            tooltip=a.label,
        )
        for a in spec.action_specs()
    ]
    cls = type(f"{spec.title.replace(' ', '')}Table", (ResourceTable,), {"BINDINGS": bindings})
    return cls(spec, client)

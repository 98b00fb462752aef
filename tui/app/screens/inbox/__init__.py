"""Inbox of one lease: live message list, detail pane, OTP and link highlighted.

The state and its rules (both sources merged, news, doubtful rows, the filter) are
:class:`tui.core.inbox_model.InboxModel`; this screen lays out the widgets, maps keys and
runs the workers that feed the model (:mod:`tui.app.screens.inbox.sources`). The actions on
the selected message are in :mod:`tui.app.screens.inbox.actions`.
"""

from __future__ import annotations

import gc
import itertools
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input, Static

from tui.app.routing import WorkerErrors
from tui.app.screens.inbox.sources import (
    FIRST_BODIES,
    MAX_LISTED,
    ImapUpdated,
    InboxUpdated,
    MailSources,
)
from tui.app.widgets.inbox_body import InboxBody, Pane, pane_toast
from tui.app.widgets.inbox_list import InboxList
from tui.app.widgets.inbox_status import InboxStatusBar, header_text, status_notes
from tui.app.widgets.key_footer import KeyFooter
from tui.app.widgets.message_detail import MessageDetail
from tui.app.widgets.paid_calls import paid_calls_text
from tui.core.inbox import InboxItem
from tui.core.inbox_model import Applied, Arrivals, InboxModel

__all__ = ["FIRST_BODIES", "MAX_LISTED", "ImapUpdated", "InboxScreen", "InboxUpdated"]

if TYPE_CHECKING:
    from tui.api.models import Lease
    from tui.core.leases import LeaseView


DETAIL_DELAY = 0.1
"""Seconds the cursor rests before the detail pane follows it."""
WARM_SLICE = 0.003
"""Seconds of building a big inbox's items between two turns of the event loop."""
WARM_QUIET = 0.3
"""Seconds without input after which building a big inbox's items resumes."""
WARM_OLDEST = 100
"""The oldest rows whose items are built first (a page at the bottom, for ``G``)."""


INBOX_KEYS: list[BindingType] = [
    Binding("escape", "back", "Back", id="inbox.back", tooltip="Back to the leases"),
    Binding("c", "copy_code", "Code", id="inbox.copy_code", tooltip="Copy the OTP"),
    Binding("y", "copy_link", "Link", id="inbox.copy_link", tooltip="Copy the link"),
    Binding(
        "o",
        "open_link",
        "Open",
        id="inbox.open_link",
        tooltip="Open the verification link (shows its host first)",
    ),
    Binding("m", "compose", "Compose", id="inbox.compose", tooltip="Write from this mailbox"),
    Binding(
        "r",
        "reply",
        "Reply",
        id="inbox.reply",
        tooltip="Reply to the message (retry checking when it stopped)",
    ),
    Binding(
        "H",
        "source",
        "Source",
        show=False,
        id="inbox.source",
        tooltip="Headers and source of the message; e there saves it as .eml",
    ),
    Binding(
        "f",
        "forward",
        "Forward",
        show=False,
        id="inbox.forward",
        tooltip="Forward the message (its text quoted below)",
    ),
    Binding("u", "poll_now", "Check", show=False, id="inbox.poll", tooltip="Check for mail now"),
    Binding(
        "p",
        "credentials",
        "Creds",
        show=False,
        id="inbox.creds",
        tooltip="Mailbox credentials (a confirmed reset lets IMAP read full messages)",
    ),
    Binding(
        "a",
        "toggle_older",
        "Older",
        show=False,
        id="inbox.older",
        tooltip="Show or hide mail from before this lease",
    ),
    Binding(
        "s",
        "save_attachment",
        "Save",
        show=False,
        id="inbox.save",
        tooltip="Save an attachment (asks which one and where first)",
    ),
    Binding("slash", "filter", "Filter", id="inbox.filter", tooltip="Filter messages"),
    Binding(
        "v",
        "cycle_pane",
        "Pane",
        id="inbox.pane",
        tooltip="Preview pane: beside the list, below it, or hidden",
    ),
    Binding(
        "enter",
        "open_message",
        "Open",
        show=False,
        id="inbox.open",
        tooltip="Focus the message",
    ),
    Binding("j", "cursor_down", "Down", show=False, id="inbox.down", tooltip="Next"),
    Binding("k", "cursor_up", "Up", show=False, id="inbox.up", tooltip="Previous"),
    Binding("g", "cursor_top", "Top", show=False, id="inbox.top", tooltip="Newest"),
    Binding("G", "cursor_bottom", "Bottom", show=False, id="inbox.bottom", tooltip="Oldest"),
]


class InboxScreen(WorkerErrors, MailSources):
    """Messages of one lease, polled in the background (and read over IMAP when it can)."""

    BINDINGS = INBOX_KEYS

    WIDE = 120
    """From this many columns the preview opens beside the list; below it on narrower ones."""

    def __init__(self, view: LeaseView) -> None:
        # What is alive when the inbox opens (the App, the lease list, the modules) stays:
        # out of the cyclic collector's reach, the full collection that building and
        # mounting the screen triggers scans only what is new (issue 16: opening stalled
        # 65-78 ms on a quiet machine, most of it one gen-2 collection). As after a big load
        # (InboxModel.freeze_heap): cyclic garbage left at this moment is not collected.
        gc.freeze()
        super().__init__()
        self.view = view
        """The lease (and its ledger entry) whose mail is shown."""
        self.model = InboxModel(view.lease.started_at, view.lease.mailbox_id, freeze=True)
        """The inbox's state and rules."""
        self._detail_timer: Timer | None = None
        self._shown_key: tuple[str, int] | None = None

    @property
    def lease(self) -> Lease:
        """The lease."""
        return self.view.lease

    @property
    def pane(self) -> str:
        """Where the preview is: right, below or off (chosen by width when mounted)."""
        return self.query_one(InboxBody).pane

    def compose(self) -> ComposeResult:
        """Layout."""
        yield Static(id="inbox-header")
        box = Input(placeholder="filter by sender, subject or code", id="inbox-filter")
        box.display = False  # until / (hidden from the start: no restyle once mounted)
        yield box
        with InboxBody(self.fitting_pane(), id="inbox-body"):
            yield InboxList(self.model.item, id="inbox-list")
            yield MessageDetail(id="inbox-detail")
        yield InboxStatusBar(id="status-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Pane, header, the poller and IMAP."""
        self.render_header()
        self.render_detail(None)
        self.start_poller()
        self.run_imap()
        self.set_interval(1.0, self.tick)
        self.set_interval(30.0, self.refresh_times)
        self.query_one(InboxList).focus()

    def tick(self) -> None:
        """Every second: the lease countdown and the poll state."""
        self.render_header()
        self.render_status()

    def render_header(self) -> None:
        """Address, lease time left, older-mail mode."""
        text = header_text(self.lease, show_older=self.model.show_older)
        self.query_one("#inbox-header", Static).update(text, layout=False)  # one fixed line

    # -- what changed -----------------------------------------------------------------------

    def show_applied(self, applied: Applied) -> None:
        """Render what a report changed: the rows, and a toast for new mail."""
        if applied.rows:
            self.query_one(InboxList).clock = datetime.now(UTC)  # every row's time anew
            self.render_rows(all_changed=True)
            if self.model.needs_warm():
                self.warm_items()
        if applied.arrivals:
            self.announce(applied.arrivals)

    @work(exclusive=True, group="inbox-warm", exit_on_error=False)
    async def warm_items(self) -> None:
        """Build the items of a big inbox in the background without delaying a key: slices
        of at most :data:`WARM_SLICE` seconds, none while input arrives (from a key's arrival
        until :data:`WARM_QUIET` seconds without input). Issue 15: slices of 100 items, run
        between every two steps of a key's handling, made ``j``/``k`` 2-2.5x slower while a
        10,000 inbox warmed on a busy CPU. The oldest rows come first: ``G`` lands there
        (the newest are built when first shown). A filter typed meanwhile is applied again
        once every row's code is known (an older message's is read from its subject then)."""
        import asyncio

        model = self.model
        oldest = (model.get(key) for key in model.order[-WARM_OLDEST:])
        pending = itertools.chain(oldest, model.warm(1))
        while True:
            while (rest := self.app.input_quiet_for(WARM_QUIET)) > 0:
                await asyncio.sleep(rest)
            end = time.perf_counter() + WARM_SLICE
            for _ in pending:
                if time.perf_counter() >= end:
                    break
            else:
                if model.filter_text:  # filtered before every code was known: again
                    self.render_rows()
                return
            await asyncio.sleep(0)  # a key that came meanwhile is the App's next message

    def announce(self, arrivals: Arrivals) -> None:
        """One toast per kind of new mail; the bell for codes."""
        for text, title in arrivals.toasts():
            self.notify(text, title=title, markup=False)
        if arrivals.codes and self.app.services.settings.bell:
            self.app.bell()

    # -- status -----------------------------------------------------------------------------

    def help_notes(self) -> list[Text]:
        """What ``?`` shows above the keys: the checking and IMAP states in full."""
        return status_notes(self.poller, self.model.imap_status)

    def render_status(self) -> None:
        """The status bar: checking, pace, calls, messages shown, IMAP, paid calls."""
        if self.poller is not None:
            self.query_one(InboxStatusBar).show(
                self.poller,
                shown=len(self.model.visible),
                imap_status=self.model.imap_status,
                imap_live=self.model.imap_live,
                paid=paid_calls_text(self.app.services),
            )

    def set_status(self, message: str, *, error: bool = False) -> None:
        """A message in the status bar (the error router's, a fetch's)."""
        self.query_one(InboxStatusBar).say(message, error=error)

    # -- rows -------------------------------------------------------------------------------

    def render_rows(self, *, all_changed: bool = False) -> None:
        """Show the visible items, keeping the selected message selected."""
        keys = self.model.refresh_visible()
        self.query_one(InboxList).set_rows(keys, changed=None if all_changed else set())
        self.render_detail(self.selected_item())

    def refresh_times(self) -> None:
        """Update the relative times (one clock for all rows)."""
        self.query_one(InboxList).clock = datetime.now(UTC)

    def selected_item(self) -> InboxItem | None:
        """The message under the cursor."""
        return self.model.get(self.query_one(InboxList).cursor_key)

    @on(InboxList.Selected, "#inbox-list")
    def row_selected(self) -> None:
        """Enter on a message focuses its detail."""
        self.action_open_message()

    @on(InboxList.Highlighted, "#inbox-list")
    def row_highlighted(self) -> None:
        """Show the highlighted message once the cursor rests (keys stay one frame each)."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._show_selected)

    def _show_selected(self) -> None:
        self._detail_timer = None
        item = self.selected_item()
        if (None if item is None else (item.message_id, id(item))) != self._shown_key:
            self.render_detail(item)

    def render_detail(self, item: InboxItem | None) -> None:
        """The detail pane shows ``item`` (fetched whole first when only part was read)."""
        self._shown_key = (item.message_id, id(item)) if item is not None else None
        self.query_one(MessageDetail).show(item, self.lease.address)
        imap = self.model.needs_whole(item) if item is not None else None
        if imap is not None:
            self.load_whole(imap)

    # -- keys -------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Clear the filter first, else go back (the poller stops with the screen)."""
        box = self.query_one("#inbox-filter", Input)
        if box.display or self.model.filter_text:
            box.value = ""
            box.display = False
            self.model.filter_text = ""
            self.render_rows()
            self.query_one(InboxList).focus()
            return
        self.app.pop_screen()

    def action_poll_now(self) -> None:
        """Check now (and start checking again when it had stopped)."""
        if self.poller is None:
            return
        if self.poller.stopped:
            self.resume_poller()
        else:
            # Say so in this frame: the answer may take a while (issue 16: a key that starts
            # network work shows that it started); cleared by the check's own report.
            self.query_one(InboxStatusBar).check_asked(self.poller)
            self.poller.wake()
            self.render_status()

    def action_toggle_older(self) -> None:
        """Show or hide mail from before the lease."""
        self.model.show_older = not self.model.show_older
        self.render_header()
        if self.model.show_older:
            self.start_poller()  # fetch from the beginning
        else:
            self.render_rows()

    def action_open_message(self) -> None:
        """Focus the detail pane (scroll the body); shown first when it was hidden."""
        if self.pane == "off":
            self.set_pane(self.fitting_pane())
        self.query_one(MessageDetail).focus()

    def fitting_pane(self) -> Pane:
        """Beside the list on a wide terminal, below it on a narrow one."""
        return "right" if self.app.size.width >= self.WIDE else "below"

    def set_pane(self, pane: Pane) -> None:
        """Put the preview beside the list, below it, or hide it."""
        self.query_one(InboxBody).pane = pane
        if pane == "off" and self.focused is self.query_one(MessageDetail):
            self.query_one(InboxList).focus()

    def action_cycle_pane(self) -> None:
        """``v``: beside, below, hidden, beside..."""
        following = self.query_one(InboxBody).following()
        self.set_pane(following)
        self.notify(pane_toast(following), timeout=2)

    def action_filter(self) -> None:
        """Show the filter."""
        box = self.query_one("#inbox-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#inbox-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Filter as you type."""
        self.model.filter_text = event.value.strip()
        self.render_rows()

    @on(Input.Submitted, "#inbox-filter")
    def filter_submitted(self) -> None:
        """Back to the list."""
        self.query_one(InboxList).focus()

    def action_cursor_down(self) -> None:
        """vim j."""
        self.query_one(InboxList).action_cursor_down()

    def action_cursor_up(self) -> None:
        """vim k."""
        self.query_one(InboxList).action_cursor_up()

    def action_cursor_top(self) -> None:
        """vim g."""
        self.query_one(InboxList).action_first()

    def action_cursor_bottom(self) -> None:
        """vim G."""
        self.query_one(InboxList).action_last()

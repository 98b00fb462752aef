"""Inbox of one lease: live message list, detail pane, OTP and link highlighted."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.api.models import iso_z
from tui.app.clipboard import copy_text
from tui.app.routing import WorkerErrors
from tui.app.widgets.key_footer import KeyFooter
from tui.app.widgets.message_list import Column, MessageList
from tui.app.widgets.paid_calls import paid_calls_text
from tui.core.inbox import InboxItem, build_item, lease_bounds
from tui.core.links import LinkInfo, inspect_link
from tui.core.poller import MailboxPoller, PollUpdate
from tui.core.sanitize import clean, clean_block
from tui.core.timefmt import relative_time

if TYPE_CHECKING:
    from pathlib import Path

    from tui.app.app import MailagentsApp
    from tui.imap.message import ImapMessage


FIRST_BODIES = 200
"""Messages read whole on the first IMAP sync of a mailbox (the newest)."""
MAX_LISTED = 20_000
"""Messages of a mailbox the inbox lists over IMAP (the newest 200 whole, the rest by their
headers until shown)."""
DETAIL_DELAY = 0.1
"""Seconds the cursor rests before the detail pane follows it."""
FREEZE_AFTER = 2000
"""Messages loaded at once (since the last freeze) that make the inbox freeze its heap."""


@dataclass
class ImapUpdated(Message):
    """The IMAP reader's latest report (coalesced: it holds the whole list)."""

    update: Any
    """A :class:`tui.imap.reader.ImapUpdate`."""

    def can_replace(self, message: Message) -> bool:
        """A newer report replaces an older unhandled one, unless it carries new mail."""
        return isinstance(message, ImapUpdated) and not message.update.new


@dataclass
class InboxUpdated(Message):
    """The poller's latest snapshot (coalesced: only the newest matters)."""

    update: PollUpdate
    """Everything seen so far, plus the poll status."""

    def can_replace(self, message: Message) -> bool:
        """A newer snapshot replaces an older one that was not handled yet."""
        return isinstance(message, InboxUpdated)


def code_badge(item: InboxItem) -> Text:
    """The list's code column."""
    if item.sample:
        return Text("sample", style="dim italic")
    if item.code:
        return Text(clean(item.code, 16), style="bold black on yellow")
    if item.link:
        return Text("link", style="bold cyan")
    if item.server_guess:
        return Text(f"{clean(item.server_guess, 12)}?", style="dim")
    return Text("")


class InboxScreen(WorkerErrors, Screen[None]):
    """Messages of one lease, polled in the background."""

    BINDINGS = [
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
        Binding(
            "u", "poll_now", "Check", show=False, id="inbox.poll", tooltip="Check for mail now"
        ),
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

    app: MailagentsApp  # type: ignore[assignment]

    PANES = ("right", "below", "off")
    """Where the preview pane sits (``v`` cycles)."""
    WIDE = 120
    """From this many columns the preview opens beside the list; below it on narrower ones."""

    def __init__(self, view: Any) -> None:
        super().__init__()
        self.clock = datetime.now(UTC)
        """The one "now" every row's relative time is measured from (so times read in
        order); moved on when mail arrives and every 30 seconds."""
        self.pane = ""
        """Where the preview is: one of :attr:`PANES` (chosen by width when mounted)."""
        self.view = view
        """The :class:`tui.core.leases.LeaseView` whose mail is shown."""
        self.order: list[str] = []
        """Message ids, newest first."""
        self.show_older = False
        """Also show mail from before the lease started."""
        self.filter_text = ""
        """Substring filter on sender/subject/code."""
        self.poller: MailboxPoller | None = None
        """The running poller."""
        self._hay: dict[str, tuple[str | None, str]] = {}
        """Message id -> (its code, the lowercased text the filter searches)."""
        self._frozen_at = 0
        """How many messages the inbox held at its last ``gc.freeze()``."""
        self._check_asked: tuple[float | None] | None = None
        """``u`` asked a check while the last one was at this time (the status line says
        "checking…" until a newer check reports)."""
        self._messages: dict[str, Any] = {}
        self._api: dict[str, Any] = {}
        self._api_order: list[str] = []
        self._imap: dict[int, ImapMessage] = {}
        self._imap_of: dict[str, Any] = {}
        """Row key -> the IMAP message of that mail, for every row IMAP has."""
        self.imap_status: str = "IMAP: starting"
        """What the status bar says about the IMAP source."""
        self.imap_live = False
        """IMAP is connected and watching the mailbox."""
        self._imap_synced = False
        """IMAP has gone live once (its first sync is what was there, not news)."""
        self._asked_api: set[int] = set()
        """IMAP UIDs the API was asked about (see :meth:`settle_doubtful`)."""
        self.save_folder: Path | None = None
        """The folder the last attachment was saved in (offered next time)."""
        self._cache: dict[str, InboxItem] = {}
        self._visible_count = 0
        self._detail_timer: Any = None
        self._shown_key: Any = None
        self._seen_codes: set[str] = set()
        self._first_update = True
        self._doubt_warned: tuple[str, str] | None = None
        """(row key, guess) of the doubtful guess ``c`` last warned about: a second ``c``
        copies it."""

    @property
    def lease(self) -> Any:
        """The lease."""
        return self.view.lease

    def compose(self) -> ComposeResult:
        """Layout."""
        yield Static(id="inbox-header")
        yield Input(placeholder="filter by sender, subject or code", id="inbox-filter")
        with Horizontal(id="inbox-body"):
            yield MessageList(
                [
                    Column("When", 8),
                    Column("From", 22, min_width=12),
                    Column("Code", 10, min_width=8),
                    Column("Subject", None),
                ],
                self.row_cells,
                id="inbox-list",
            )
            with VerticalScroll(id="inbox-detail"):
                yield Static(id="detail-meta")
                yield Static(id="detail-code")
                yield Static(id="detail-link")
                yield Static(id="detail-body")
        yield Static(id="status-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns, header, and the poller."""
        table = self.query_one("#inbox-list", MessageList)
        self.query_one("#inbox-filter", Input).display = False
        self.set_pane("right" if self.app.size.width >= self.WIDE else "below")
        self.render_header()
        self.render_detail(None)
        self.start_poller()
        self.run_imap()
        self.set_interval(1.0, self.tick)
        self.set_interval(30.0, self.refresh_times)
        table.focus()

    def tick(self) -> None:
        """Every second: the lease countdown and the poll state."""
        self.render_header()
        self.render_status()

    def render_header(self) -> None:
        """Address, lease time left, older-mail mode."""
        from tui.core.timefmt import time_left

        text = Text("Inbox  ", style="bold")
        text.append(clean(self.lease.address, 80), style="bold cyan")
        text.append(f"   lease {time_left(self.lease.expires_at)} left", style="dim")
        if self.show_older:
            text.append("   including mail from before this lease", style="yellow")
        self.query_one("#inbox-header", Static).update(text, layout=False)  # one fixed line

    # -- polling ----------------------------------------------------------------------------

    def start_poller(self) -> None:
        """(Re)start the poller for the current mode."""
        since = None if self.show_older else iso_z(self.lease.started_at)
        self.poller = MailboxPoller(
            self.app.services.client,
            self.lease.mailbox_id,
            since=since,
            lease_started=self.lease.started_at,
            settings=self.app.services.settings.poll,
        )
        self._first_update = True  # (the first poll is at once; opening is not "acting")
        self.run_poller(self.poller)

    @work(exclusive=True, group="inbox-poll", exit_on_error=False)
    async def run_poller(self, poller: MailboxPoller) -> None:
        """The background loop; every snapshot is posted (and coalesced)."""
        await poller.run(lambda update: self.post_message(InboxUpdated(update)))

    @on(InboxUpdated)
    def inbox_updated(self, event: InboxUpdated) -> None:
        """Rebuild rows when mail arrived; announce new codes."""
        update = event.update
        changed = False
        for message in update.messages:
            if message.message_id not in self._api:
                changed = True
            self._api[message.message_id] = message
        if changed or self._first_update:
            self._api_order = [m.message_id for m in update.messages]
            self.rebuild(imap_changed=False)
        if not self._first_update:
            self.announce([self.item(m.message_id) for m in update.new])
        else:
            self._seen_codes |= set(self.order)
        self._first_update = False
        if update.status.state == "stopped" and update.status.permanent:
            self.notify(
                f"Stopped checking mail: {clean(update.status.error or '', 120)}. "
                "Press r to retry.",
                severity="error",
                markup=False,
            )
        self.render_status()

    def rebuild(self, *, imap_changed: bool) -> None:
        """Merge the API's and IMAP's messages into one list (one row per mail)."""
        from tui.core.inbox import imap_message_id, merge_sources, newest_first

        api_messages = [self._api[mid] for mid in self._api_order]
        merged, imap_of = merge_sources(api_messages, list(self._imap.values()))
        if imap_changed or imap_of.keys() != self._imap_of.keys():
            self._cache.clear()
        self._imap_of = imap_of
        if merged.keys() != self._messages.keys():
            self._hay = {k: v for k, v in self._hay.items() if k in merged}
        grown = len(merged) - self._frozen_at
        self._messages = merged
        self.order = newest_first(list(merged.values()))
        self.settle_doubtful()
        for key, imap in imap_of.items():  # the same mail under both keys: announce it once
            twin = imap_message_id(imap.uid)
            if key in self._seen_codes or twin in self._seen_codes:
                self._seen_codes |= {key, twin}
        self.clock = datetime.now(UTC)
        self.render_rows(all_changed=True)  # every row's time against the new clock
        if len(self.order) - len(self._cache) > 200:
            self.warm_items()
        if grown >= FREEZE_AFTER:
            self.freeze_heap()

    def freeze_heap(self) -> None:
        """After a big load, move what is loaded out of the cyclic collector's reach: a full
        collection then scans only what browsing and filtering allocate, so it no longer
        stalls a key (issue 16: the 10,000-row filter's 79 ms were a gen-2 collection).
        Freed objects are still freed (reference counts); only cycles among them stay."""
        import gc

        self._frozen_at = len(self._messages)
        gc.freeze()

    def settle_doubtful(self) -> None:
        """IMAP mail from the second the lease began: ask the API now which lease it is
        (rare; it stays hidden as an earlier lessee's until then)."""
        from tui.core.inbox import doubtful_start, imap_message_id

        doubtful = {
            imap.uid
            for key, imap in self._imap_of.items()
            if key == imap_message_id(imap.uid)  # not listed by the API (yet)
            and doubtful_start(imap, self.lease.started_at)
        }
        if doubtful - self._asked_api and self.poller is not None:
            self.poller.wake()
        self._asked_api |= doubtful

    # -- IMAP -------------------------------------------------------------------------------

    @work(exclusive=True, group="inbox-imap", exit_on_error=False)
    async def run_imap(self) -> None:
        """Read the mailbox over IMAP with the lease's credentials (IDLE push), if possible."""
        from tui.api.errors import MailagentsError
        from tui.core.imapsource import ImapUnavailable, reader_for, restore_cached

        services = self.app.services
        try:
            runtime = await services.session.get_runtime()
            reader = reader_for(
                services,
                services.ledger.get(self.lease.lease_id),
                runtime,
                max_initial=FIRST_BODIES,
                headers_for_older=True,  # a big mailbox is listed whole
                keep=MAX_LISTED,
            )
            await restore_cached(services, self.lease.lease_id, reader)
        except ImapUnavailable as exc:
            hint = " (p, then R, resets them)" if "credentials" in str(exc) else ""
            self.set_imap_status(f"IMAP off: {exc}{hint}")
            return
        except MailagentsError as exc:
            self.set_imap_status(f"IMAP off: {exc.user_message()}")
            return
        await reader.run(lambda update: self.post_message(ImapUpdated(update)))

    def set_imap_status(self, text: str, *, live: bool = False) -> None:
        """Remember the IMAP state; the API is polled far less while IMAP is live."""
        self.imap_status = text
        if live != self.imap_live and self.poller is not None:
            from tui.core.poller import imap_live_settings

            base = self.app.services.settings.poll
            self.poller.use_settings(imap_live_settings(base) if live else base)
        self.imap_live = live
        self.render_status()

    @on(ImapUpdated)
    def imap_updated(self, event: ImapUpdated) -> None:
        """New mail over IMAP, or a new connection state."""
        from tui.core.inbox import imap_message_id

        update = event.update
        self.set_imap_status(f"IMAP {update.status.text}", live=update.status.live)
        known = set(self._imap)
        if update.reset:
            self._imap.clear()
        fresh = {imap.uid: imap for imap in update.messages}
        if update.status.live and (update.new or update.reset or not self._imap_synced):
            self.remember_imap(update)
        first = not self._imap_synced  # what was there when the inbox opened is not news
        self._imap_synced = self._imap_synced or update.status.live
        if fresh.keys() != known or update.reset:
            for uid, message in fresh.items():
                mine = self._imap.get(uid)
                cut = message.headers_only or message.lazy
                if not (cut and mine is not None and not (mine.headers_only or mine.lazy)):
                    self._imap[uid] = message  # (a message fetched whole stays whole)
            self.rebuild(imap_changed=True)
            key_of = {imap.uid: key for key, imap in self._imap_of.items()}
            keys = [key_of.get(imap.uid, imap_message_id(imap.uid)) for imap in update.new]
            if first:
                self._seen_codes |= set(self.order)
            else:
                self.announce([self.item(k) for k in keys if k in self._messages])

    @work(group="inbox-cache", exit_on_error=False)
    async def remember_imap(self, update: Any) -> None:
        """Keep what IMAP read (mail cache), so the next open fetches only newer mail."""
        from tui.core.imapsource import save_cached

        await save_cached(self.app.services, self.lease.lease_id, update.state, update.messages)

    def announce(self, new: list[InboxItem]) -> None:
        """One toast (and bell) per batch of new mail: the code itself for one mail,
        "6 new codes (newest 482913)" for a batch, so toasts never pile up over the list."""
        codes: list[InboxItem] = []
        others: list[InboxItem] = []
        for item in new:
            if item.message_id in self._seen_codes:
                continue
            self._seen_codes.add(item.message_id)
            if item.sample or (self.show_older is False and item.before_lease):
                continue
            (codes if item.code else others).append(item)
        if len(codes) == 1:
            item = codes[0]
            self.notify(
                f"New code {clean(item.code, 16)} from {clean(item.message.sender, 60)}",
                title="New code",
                markup=False,
            )
        elif codes:
            newest = codes[0]
            self.notify(
                f"{len(codes)} new codes (newest {clean(newest.code, 16)} from "
                f"{clean(newest.message.sender, 60)})",
                title="New codes",
                markup=False,
            )
        if codes and self.app.services.settings.bell:
            self.app.bell()
        if len(others) == 1:
            self.notify(f"New mail: {clean(others[0].message.subject, 80)}", markup=False)
        elif others:
            self.notify(f"{len(others)} new mails", markup=False)

    def help_notes(self) -> list[Text]:
        """What ``?`` shows above the keys: the checking and IMAP states in full (the status
        bar cuts long reasons)."""
        notes = [Text(clean(self.imap_status, 2000))]
        status = self.poller.status if self.poller is not None else None
        if status is not None and (status.reason or status.error):
            line = Text(f"Checking: {clean(status.state, 30)}")
            if status.reason:
                line.append(f" · {clean(status.reason, 500)}")
            if status.error:
                line.append(f" · {clean(status.error, 2000)}")
            notes.append(line)
        return notes

    def render_status(self) -> None:
        """Poll state: last checked, next check, backing off."""
        poller = self.poller
        text = Text()
        if poller is None:
            return
        status = poller.status
        now = time.time()
        if status.state == "stopped":
            reason = clean(status.reason or "not checking", 60)
            text.append(f"stopped: {reason}", style="bold red")
            text.append(" · r to retry", style="bold")
            if status.error:
                text.append(f" · {clean(status.error, 100)}", style="dim")
        elif status.state == "starting":
            text.append("checking…")
        elif status.state in ("backing_off", "payment", "limited"):
            reason = clean(status.reason or "offline", 60)
            text.append(f"{reason}: {clean(status.error or '', 120)} · retrying", style="bold red")
        elif self._check_asked is not None and self._check_asked == (status.last_checked,):
            text.append("checking…")  # ``u`` pressed, its check not back yet
        else:
            self._check_asked = None
            checked = datetime.fromtimestamp(status.last_checked or now).strftime("%H:%M:%S")
            text.append(f"checked {checked}")
        if status.next_check is not None:
            wait = max(1, math.ceil(status.next_check - now))
            text.append(f" · next in {wait}s", style="dim")
        text.append(f" · {poller.calls_last_minute()} calls/min", style="dim")
        shown = self._visible_count
        text.append(f" · {shown} message{'s' if shown != 1 else ''}", style="dim")
        text.append(" · ", style="dim")
        imap = clean(self.imap_status, 90)
        if len(imap) > 50:  # cut on one line at 80 columns: ? shows it whole
            imap = clean(self.imap_status, 40) + " (? all)"
        text.append(
            imap,
            style="green"
            if self.imap_live
            else ("dim" if self.imap_status.startswith("IMAP off") else "yellow"),
        )
        if status.truncated:
            text.append(" · older mail may be missing (over 100 at once)", style="yellow")
        text.append_text(paid_calls_text(self.app.services))
        self.query_one("#status-bar", Static).update(text, layout=False)  # one fixed line

    def set_status(self, message: str, *, error: bool = False) -> None:
        """Used by the error router."""
        self.query_one("#status-bar", Static).update(
            Text(message, style="bold red" if error else "")
        )

    # -- rows -------------------------------------------------------------------------------

    def item(self, message_id: str) -> InboxItem:
        """The presentation of a message, built when first needed (big inboxes stay fast)."""
        item = self._cache.get(message_id)
        if item is None:
            from tui.core.inbox import with_body

            imap = self._imap_of.get(message_id)
            # With the message read over IMAP, its code comes from there (with_body).
            item = build_item(
                self._messages[message_id], self.lease.started_at, read_subject=imap is None
            )
            if imap is not None:
                item = with_body(item, imap)
            self._cache[message_id] = item
        return item

    @work(exclusive=True, group="inbox-warm", exit_on_error=False)
    async def warm_items(self) -> None:
        """Build the items of a big inbox in small slices, between frames."""
        import asyncio

        pending = [mid for mid in self.order if mid not in self._cache]
        for start in range(0, len(pending), 100):
            for mid in pending[start : start + 100]:
                if mid in self._messages:
                    self.item(mid)
            await asyncio.sleep(0)

    @property
    def items(self) -> list[InboxItem]:
        """Every item, newest first (builds them all: not for hot paths)."""
        return [self.item(mid) for mid in self.order]

    def visible_keys(self) -> list[str]:
        """Ids shown: this lease's mail (or all), matching the filter."""
        needle = self.filter_text.lower()
        started = self.lease.started_at
        out = []
        for mid in self.order:
            m = self._messages[mid]
            if not self.show_older and lease_bounds(m, started, None)[0]:
                continue
            if needle:
                built = self._cache.get(mid)  # codes are warmed in the background
                code = built.code if built is not None else m.otp_code
                known = self._hay.get(mid)
                if known is None or known[0] != code:  # each message's text made once, not
                    known = (code, f"{m.sender} {m.subject} {code or ''}".lower())  # per key
                    self._hay[mid] = known
                if needle not in known[1]:
                    continue
            out.append(mid)
        return out

    def visible_items(self) -> list[InboxItem]:
        """Items shown (builds them: not for hot paths)."""
        return [self.item(mid) for mid in self.visible_keys()]

    def row_cells(self, key: str) -> list[Text]:
        """The list's cells for one message (rendered on demand, only when visible)."""
        item = self.item(key)
        m = item.message
        subject = Text(clean(m.subject, 200), style="dim" if item.sample else "")
        badge = code_badge(item)
        if item.foreign:
            # Mail from before this lease: said in the code column (its code is an earlier
            # lessee's, not one to use), the subject keeps its room.
            subject.stylize("dim")
            badge = Text("older", style="yellow")
        return [
            Text(relative_time(m.received_at, self.clock), style="dim"),
            Text(clean(m.sender, 60), style="dim" if item.foreign else ""),
            badge,
            subject,
        ]

    def render_rows(self, *, all_changed: bool = False) -> None:
        """Show the visible items, keeping the selected message selected."""
        table = self.query_one("#inbox-list", MessageList)
        keys = self.visible_keys()
        self._visible_count = len(keys)
        table.set_rows(keys, changed=None if all_changed else set())
        self.render_detail(self.selected_item())

    def refresh_times(self) -> None:
        """Update the relative times (one clock for all rows)."""
        self.clock = datetime.now(UTC)
        self.query_one("#inbox-list", MessageList).refresh_rows()

    def selected_item(self) -> InboxItem | None:
        """The message under the cursor."""
        key = self.query_one("#inbox-list", MessageList).cursor_key
        return self.item(key) if key is not None and key in self._messages else None

    @on(MessageList.Selected, "#inbox-list")
    def row_selected(self) -> None:
        """Enter on a message focuses its detail."""
        self.action_open_message()

    @on(MessageList.Highlighted, "#inbox-list")
    def row_highlighted(self) -> None:
        """Show the highlighted message once the cursor rests (keys stay one frame each)."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._show_selected)

    def _show_selected(self) -> None:
        self._detail_timer = None
        item = self.selected_item()
        key = (item.message_id, id(item)) if item is not None else None
        if key != self._shown_key:
            self.render_detail(item)

    def render_detail(self, item: InboxItem | None) -> None:
        """The detail pane: headers, the code large, the link with its host emphasised."""
        self._shown_key = (item.message_id, id(item)) if item is not None else None
        meta = self.query_one("#detail-meta", Static)
        code = self.query_one("#detail-code", Static)
        link = self.query_one("#detail-link", Static)
        body = self.query_one("#detail-body", Static)
        if item is None:
            meta.update(
                Text(
                    "Waiting for mail… new messages appear here by themselves.\n"
                    f"Send something to {clean(self.lease.address, 80)}",
                    style="dim",
                )
            )
            for widget in (code, link, body):
                widget.update("")
            code.display = False
            return
        m = item.message
        text = Text()
        for label, value in (
            ("From", m.sender),
            ("To", self.lease.address),
            (
                "Date",
                m.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if m.received_at else "-",
            ),
            ("Subject", m.subject),
        ):
            text.append(f"{label:<8} ", style="bold")
            text.append(clean(value, 300))
            text.append("\n")
        if item.sample:
            text.append(
                "\nThis is the service's sample message inserted on allocation: "
                "its code is not real.\n",
                style="yellow",
            )
        if item.before_lease:
            text.append(
                "\nReceived before this lease started (an earlier lessee's mail).\n", style="yellow"
            )
        meta.update(text)
        if item.code:
            big = Text(f" {clean(item.code, 16)} ", style="bold black on yellow")
            source = {
                "server": "server parse",
                "subject": "from the subject",
                "body": "from the body",
            }
            big.append(f"  {source.get(item.code_source, '')}", style="dim")
            if item.server_guess:
                big.append(f"\nserver read: {clean(item.server_guess, 16)}", style="dim")
            code.update(big)
            code.display = True
        elif item.server_guess:
            why = clean(item.guess_doubt, 80) if item.guess_doubt else "not a reliable code"
            code.update(
                Text(
                    f"server's guess: {clean(item.server_guess, 16)}? (doubtful: {why})",
                    style="dim",
                )
            )
            code.display = True
        else:
            code.update("")
            code.display = False
        if item.link:
            info = inspect_link(item.link)
            from tui.app.dialogs.open_link import link_text

            line = Text("Link     ", style="bold")
            line.append_text(link_text(info))
            line.append(f"\n         host {info.display_host or '-'}", style="bold green")
            for warning in info.warnings:
                line.append(f"\n         ! {warning}", style="yellow")
            link.update(line)
        else:
            link.update("")
        link.display = bool(item.link)  # an empty auto-height Static kept the layout busy
        if item.body_text:
            content = Text()
            imap = item.extra.get("imap")
            if imap is not None and imap.notice:
                content.append(clean(imap.notice, 300) + "\n", style="yellow")
            if imap is not None and imap.attachments:
                from tui.imap.message import size_text

                content.append("Attachments\n", style="bold")
                for att in imap.attachments[:50]:
                    content.append(
                        f"  {clean(att.filename or '(unnamed)', 80)}  "
                        f"{clean(att.content_type, 60)}  {size_text(att.size)}\n",
                        style="dim",
                    )
                content.append("  s saves one\n", style="dim italic")
                content.append("\n")
            content.append(clean_block(item.body_text, 200_000))
            body.update(content)
        elif item.extra.get("imap") is not None and item.extra["imap"].headers_only:
            body.update(Text("(fetching this older message over IMAP…)", style="dim"))
        else:
            body.update(Text("(the API returns no message body)", style="dim"))
        imap = item.extra.get("imap")
        if imap is not None and (imap.headers_only or imap.lazy):
            self.load_whole(imap)

    @work(exclusive=True, group="inbox-whole", exit_on_error=False)
    async def load_whole(self, imap: ImapMessage) -> None:
        """Fetch a message of which a sync read only the headers (an older message of a big
        mailbox) or the start (a big message, ``lazy``), and show it."""
        import asyncio

        from tui.imap.message import parse_message
        from tui.imap.reader import DEFAULT_SIZE_LIMIT

        raw = await self.fetch_whole(imap.uid, limit=DEFAULT_SIZE_LIMIT, doing="Fetching")
        if raw is None or self._imap.get(imap.uid) is not imap:
            return
        whole = await asyncio.to_thread(
            parse_message,
            imap.uid,
            raw,
            size=imap.size,
            partial=len(raw) < imap.size,
            internaldate=imap.received,
        )
        if self._imap.get(imap.uid) is imap:
            self._imap[imap.uid] = whole
            self.rebuild(imap_changed=True)

    # -- actions ----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Clear the filter first, else go back (the poller stops with the screen)."""
        box = self.query_one("#inbox-filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.render_rows()
            self.query_one("#inbox-list", MessageList).focus()
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
            self._check_asked = (self.poller.status.last_checked,)
            self.poller.wake()
            self.render_status()

    def resume_poller(self) -> None:
        """Start the stopped poller again, where it stopped (what it saw is kept)."""
        if self.poller is not None:
            self.poller.touch()
            self.run_poller(self.poller)
            self.render_status()

    def action_toggle_older(self) -> None:
        """Show or hide mail from before the lease."""
        self.show_older = not self.show_older
        self.render_header()
        if self.show_older:
            self.start_poller()  # fetch from the beginning
        else:
            self.render_rows()

    def _target(self) -> InboxItem | None:
        item = self.selected_item()
        if item is None:
            self.notify("No message selected", severity="warning")
        if self.poller is not None:
            self.poller.touch()
        return item

    def action_copy_code(self) -> None:
        """Copy the OTP."""
        item = self._target()
        if item is None:
            return
        if not item.code and item.server_guess and item.guess_doubt and not item.sample:
            guess = item.server_guess
            if self._doubt_warned != (item.message_id, guess):
                self._doubt_warned = (item.message_id, guess)
                self.notify(
                    f"Doubtful code {clean(guess, 16)} ({clean(item.guess_doubt, 80)}): "
                    "press c again to copy it",
                    severity="warning",
                    markup=False,
                )
                return
            self._doubt_warned = None
            where = copy_text(self.app, guess)
            self.notify(
                f"Copied doubtful code {clean(guess, 16)} to the {where}",
                severity="warning",
                markup=False,
            )
            return
        self._doubt_warned = None
        if not item.code:
            extra = " (sample message)" if item.sample else ""
            self.notify(f"This message has no reliable code{extra}", severity="warning")
            return
        where = copy_text(self.app, item.code)
        self.notify(f"Copied code {clean(item.code, 16)} to the {where}", markup=False)

    def _target_link(self) -> LinkInfo | None:
        """The selected message's link, inspected (or a warning toast)."""
        item = self._target()
        if item is None:
            return None
        if not item.link:
            self.notify("This message has no verification link", severity="warning")
            return None
        return inspect_link(item.link)

    def action_copy_link(self) -> None:
        """Copy the verification link."""
        info = self._target_link()
        if info is None:
            return
        where = copy_text(self.app, info.url)
        self.notify(f"Copied link to {info.host or '?'} to the {where}", markup=False)

    def action_open_link(self) -> None:
        """Show the host, then open on confirmation."""
        info = self._target_link()
        if info is None:
            return
        from tui.app.dialogs.open_link import OpenLinkDialog

        def done(yes: bool | None) -> None:
            if yes and info.openable:
                self.open_in_browser(info)

        self.app.push_screen(OpenLinkDialog(info), done)

    @work(exclusive=True, group="inbox-open", exit_on_error=False)
    async def open_in_browser(self, info: LinkInfo) -> None:
        """Open the link and say what really happened; without a browser, offer the copy."""
        from tui.app.browser import open_and_report

        await open_and_report(
            self.app, info, what="the link", copy_hint="Press y to copy the link instead."
        )

    def action_save_attachment(self) -> None:
        """Save one of the selected message's attachments, after asking which and where."""
        item = self._target()
        if item is None:
            return
        imap = item.extra.get("imap")
        if imap is None:
            why = "the API returns no attachments; " + (
                "IMAP is reading this mailbox, this mail is not there"
                if self.imap_live
                else "IMAP is off for this lease (p shows the credentials)"
            )
            self.notify(f"Nothing to save: {why}", severity="warning", markup=False)
            return
        if not imap.extraction.attachments and not imap.headers_only:
            self.notify("This message has no attachments", severity="warning")
            return
        self.save_attachment(imap)

    @work(exclusive=True, group="inbox-save", exit_on_error=False)
    async def save_attachment(self, imap: Any) -> None:
        """Fetch the whole message if only its start was read, then ask and save."""
        import asyncio

        from tui.app.dialogs.save_attachment import SaveAttachmentDialog
        from tui.core.attachments import default_folder
        from tui.extract import attachment_parts

        raw = imap.raw
        if imap.partial:
            raw = await self.fetch_whole(imap.uid, doing="Fetching the whole message to save")
            if raw is None:
                return
        parts = await asyncio.to_thread(attachment_parts, raw)
        if not parts:
            self.notify("This message has no attachments", severity="warning")
            return
        folder = self.save_folder or default_folder(self.app.services.settings.download_dir)
        path = await self.app.push_screen_wait(SaveAttachmentDialog(parts, folder))
        if path is not None:
            self.save_folder = path.parent
            from tui.core.attachments import tilde

            self.notify(f"Saved {clean(tilde(path), 200)}", markup=False)

    async def fetch_whole(
        self, uid: int, *, limit: int | None = None, doing: str = "Fetching the whole message"
    ) -> bytes | None:
        """The message (its first ``limit`` bytes) over a second IMAP connection (the first
        one is idling); None, with the reason in the status bar, when it cannot."""
        import contextlib

        from tui.core.imapsource import ImapUnavailable, open_reader
        from tui.imap.errors import ImapError

        self.set_status(f"{doing} over IMAP…")
        try:
            reader = await open_reader(self.app.services, self.lease)
        except ImapUnavailable as exc:
            self.set_status(f"Cannot fetch the whole message: {exc}", error=True)
            return None
        try:
            raw = await reader.fetch_raw(uid, limit=limit)
        except ImapError as exc:
            self.set_status(f"Cannot fetch the whole message: {exc.user_message()}", error=True)
            return None
        finally:
            with contextlib.suppress(Exception):
                await reader.close()
        if raw is None:
            self.set_status("The message is no longer in the mailbox", error=True)
            return None
        self.render_status()
        return raw

    def action_open_message(self) -> None:
        """Focus the detail pane (scroll the body); shown first when it was hidden."""
        if self.pane == "off":
            self.set_pane("right" if self.app.size.width >= self.WIDE else "below")
        self.query_one("#inbox-detail").focus()

    def set_pane(self, pane: str) -> None:
        """Put the preview beside the list, below it, or hide it."""
        self.pane = pane
        body = self.query_one("#inbox-body")
        for name in self.PANES:
            body.set_class(name == pane, f"-pane-{name}")
        if pane == "off" and self.focused is self.query_one("#inbox-detail"):
            self.query_one("#inbox-list", MessageList).focus()

    def action_cycle_pane(self) -> None:
        """``v``: beside, below, hidden, beside..."""
        following = self.PANES[(self.PANES.index(self.pane) + 1) % len(self.PANES)]
        self.set_pane(following)
        self.notify(
            {"right": "Preview beside the list", "below": "Preview below the list"}.get(
                following, "Preview hidden (enter or v shows it)"
            ),
            timeout=2,
        )

    def action_filter(self) -> None:
        """Show the filter."""
        box = self.query_one("#inbox-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#inbox-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Filter as you type."""
        self.filter_text = event.value.strip()
        self.render_rows()

    @on(Input.Submitted, "#inbox-filter")
    def filter_submitted(self) -> None:
        """Back to the list."""
        self.query_one("#inbox-list", MessageList).focus()

    def action_cursor_down(self) -> None:
        """vim j."""
        self.query_one("#inbox-list", MessageList).action_cursor_down()

    def action_cursor_up(self) -> None:
        """vim k."""
        self.query_one("#inbox-list", MessageList).action_cursor_up()

    def action_cursor_top(self) -> None:
        """vim g."""
        self.query_one("#inbox-list", MessageList).action_first()

    def action_cursor_bottom(self) -> None:
        """vim G."""
        self.query_one("#inbox-list", MessageList).action_last()

    def action_credentials(self) -> None:
        """The credentials dialog; IMAP starts again when it closes (e.g. after a reset)."""
        from tui.app.dialogs.credentials import CredentialsDialog

        def done(_result: object) -> None:
            if not self.imap_live:
                self.run_imap()

        self.app.push_screen(CredentialsDialog(self.lease), done)

    def action_compose(self) -> None:
        """Write a new message from this lease."""
        self.app.open_screen("compose", lease=self.lease)

    def action_reply(self) -> None:
        """Reply to the selected message (To and Re: subject filled); while checking has
        stopped (the status bar says so), retry instead."""
        if self.poller is not None and self.poller.stopped:
            self.resume_poller()
            return
        item = self._target()
        if item is None:
            return
        from tui.core.compose import quote_reply, reply_subject

        m = item.message
        body = quote_reply(item.body_text, m.sender, m.received_at)
        prefill = (m.sender, reply_subject(m.subject), body)
        self.app.open_screen("compose", lease=self.lease, reply_to=m, prefill=prefill)

    def action_source(self) -> None:
        """Headers and source (read over IMAP; the API has none)."""
        item = self._target()
        if item is not None:
            self.show_source(item)

    @work(exclusive=True, group="inbox-source", exit_on_error=False)
    async def show_source(self, item: InboxItem) -> None:
        """Fetch the whole message when only its start was read, then show it."""
        from tui.app.dialogs.message_source import MessageSourceDialog
        from tui.core.attachments import default_folder

        imap = item.extra.get("imap")
        raw: bytes | None = None
        note = ""
        if imap is None:
            note = "No source: the API returns no message body" + (
                "" if self.imap_live else " and IMAP is off for this lease (? says why)"
            )
        else:
            raw = imap.raw
            if imap.partial or imap.headers_only:
                raw = await self.fetch_whole(imap.uid, doing="Fetching the whole message")
                if raw is None:
                    raw, note = imap.raw, "Only the start of this message could be read"
        folder = self.save_folder or default_folder(self.app.services.settings.download_dir)
        await self.app.push_screen(MessageSourceDialog(item.message.subject, raw, folder, note))

    def action_forward(self) -> None:
        """Forward the selected message: Fwd: subject, its headers and text below, To empty."""
        item = self._target()
        if item is None:
            return
        from tui.core.compose import forward_body, forward_subject

        m = item.message
        body = forward_body(item.body_text, m.sender, self.lease.address, m.subject, m.received_at)
        self.app.open_screen(
            "compose", lease=self.lease, prefill=("", forward_subject(m.subject), body)
        )

"""The inbox of one lease as state and rules, for any face (the TUI's inbox screen today).

:class:`InboxModel` holds what the API listed and what IMAP read, merges them into one row per
mail (:func:`tui.core.inbox.merge_sources`), builds each row's :class:`InboxItem` when first
needed, decides which new mail is news (every mail announced once, whichever source reported
it first, under either of its keys), asks the API about IMAP mail stamped in the second the
lease began (whose lease is it?), filters the rows and answers what a ``c`` copies. The screen
renders it; nothing here knows about Textual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from tui.api.models import Message, iso_z
from tui.core.inbox import (
    InboxItem,
    build_item,
    doubtful_start,
    imap_as_message,
    imap_message_id,
    lease_bounds,
    merge_sources,
    newest_first,
    with_body,
)
from tui.core.poller import MailboxPoller, PollSettings, PollUpdate, imap_live_settings
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.api.client import MailagentsClient
    from tui.imap.message import ImapMessage
    from tui.imap.reader import ImapUpdate

FREEZE_AFTER = 2000
"""Messages loaded at once (since the last freeze) that make the inbox freeze its heap."""
WARM_AFTER = 200
"""Rows without a built item past which the items are built in the background."""


@dataclass
class Arrivals:
    """New mail worth a toast: each mail once, neither a sample nor (unless older mail is
    shown) another lessee's; newest first."""

    codes: list[InboxItem] = field(default_factory=list)
    """Mail with a code."""
    others: list[InboxItem] = field(default_factory=list)
    """Mail without one."""

    def __bool__(self) -> bool:
        return bool(self.codes or self.others)

    def toasts(self) -> list[tuple[str, str]]:
        """(text, title) of the toasts to show: one per kind, so toasts never pile up over
        the list (the code itself for one mail, "6 new codes (newest 482913 ...)" for more)."""
        out: list[tuple[str, str]] = []
        if self.codes:
            newest = self.codes[0]
            code, sender = clean(newest.code, 16), clean(newest.message.sender, 60)
            if len(self.codes) == 1:
                out.append((f"New code {code} from {sender}", "New code"))
            else:
                count = len(self.codes)
                out.append((f"{count} new codes (newest {code} from {sender})", "New codes"))
        if len(self.others) == 1:
            out.append((f"New mail: {clean(self.others[0].message.subject, 80)}", ""))
        elif self.others:
            out.append((f"{len(self.others)} new mails", ""))
        return out


@dataclass
class Applied:
    """What one report (a poll or an IMAP update) changed."""

    rows: bool = False
    """The rows were rebuilt (render them)."""
    arrivals: Arrivals = field(default_factory=Arrivals)
    """New mail to announce."""
    save: bool = False
    """IMAP read something worth keeping in the mail cache."""
    asked: bool = False
    """The API was asked (the poller woken) to place IMAP mail from the lease's first
    second (see :meth:`InboxModel.settle_doubtful`)."""


@dataclass(frozen=True)
class Merged:
    """Rows merged from both sources (:meth:`InboxModel.merge_for`)."""

    messages: dict[str, Message]
    """Every row's message, by row key."""
    imap_of: dict[str, ImapMessage]
    """Row key -> its IMAP message."""
    order: list[str]
    """Row keys, newest first."""
    version: int
    """The model's version it was made from (stale once the model changed)."""


CopyKind = Literal["code", "warn", "doubtful", "none"]
"""What ``c`` does: copy the code; warn about a doubtful guess; copy it (asked twice); nothing."""


class InboxModel:
    """One lease's inbox: both sources merged, one row per mail, newest first."""

    _version = 0
    """Counts changes to what the rows are merged from (see :class:`Merged`)."""

    def __init__(
        self,
        lease_started: datetime | None,
        mailbox_id: str = "",
        *,
        lease_ended: datetime | None = None,
        freeze: bool = False,
    ) -> None:
        self.lease_started = lease_started
        """When the lease began (mail before it is an earlier lessee's)."""
        self.lease_ended = lease_ended
        """When the lease was released (mail after it is a later lessee's); None: it holds."""
        self.freeze = freeze
        """Freeze the heap after a big load (a long-lived UI; see :meth:`freeze_heap`)."""
        self.mailbox_id = mailbox_id
        """The lease's mailbox."""
        self.settings = PollSettings()
        """The poll pace while IMAP is not live (the one :meth:`new_poller` was given)."""
        self.poller: MailboxPoller | None = None
        """The API poller (see :meth:`new_poller`)."""
        self.show_older = False
        """Also show mail from before the lease started."""
        self.filter_text = ""
        """Substring filter on sender, subject and code."""
        self.api: dict[str, Message] = {}
        """What the API listed, by message id."""
        self.api_order: list[str] = []
        """The API's ids in its last list's order."""
        self.imap: dict[int, ImapMessage] = {}
        """What IMAP read, by UID."""
        self.imap_of: dict[str, ImapMessage] = {}
        """Row key -> the IMAP message of that mail, for every row IMAP has."""
        self.messages: dict[str, Message] = {}
        """Every row's message, by row key (the API's id or ``imap:<uid>``)."""
        self.order: list[str] = []
        """Row keys, newest first."""
        self.visible: list[str] = []
        """Row keys shown (see :meth:`refresh_visible`)."""
        self.imap_status = "IMAP: starting"
        """What the status bar says about the IMAP source."""
        self.imap_live = False
        """IMAP is connected and watching the mailbox."""
        self.first_update = True
        """No poll has reported since the poller started (what it lists first is not news)."""
        self.imap_synced = False
        """IMAP has gone live once (its first sync is what was there, not news)."""
        self.seen: set[str] = set()
        """Row keys announced (or there when the inbox opened): never announced again."""
        self.asked_api: set[int] = set()
        """IMAP UIDs the API was asked about (see :meth:`settle_doubtful`)."""
        self._items: dict[str, InboxItem] = {}
        self._hay: dict[str, tuple[str | None, str]] = {}
        """Row key -> (its code, the lowercased text the filter searches)."""
        self._rows_of: dict[int, tuple[ImapMessage, Message]] = {}
        """UID -> (the IMAP message, its row), made once per message read (see :meth:`_row_of`)."""
        self._frozen_at = 0
        """How many messages the inbox held at its last ``gc.freeze()``."""
        self._doubt_warned: tuple[str, str] | None = None
        """(row key, guess) of the doubtful guess ``c`` last warned about."""

    # -- the API ----------------------------------------------------------------------------

    def new_poller(self, client: MailagentsClient, settings: PollSettings) -> MailboxPoller:
        """A poller for the current mode (from the lease's start, or from the beginning with
        :attr:`show_older`) at the pace of ``settings`` (slower while IMAP is live); its first
        report is what was there, not news."""
        self.first_update = True
        self.settings = settings
        self.poller = MailboxPoller(
            client,
            self.mailbox_id,
            since=None if self.show_older else iso_z(self.lease_started),
            lease_started=self.lease_started,
            settings=imap_live_settings(self.settings) if self.imap_live else self.settings,
        )
        return self.poller

    def apply_poll(self, update: PollUpdate) -> Applied:
        """Take a poll's snapshot: rows rebuilt when mail arrived, new mail to announce."""
        changed = False
        for message in update.messages:
            if message.message_id not in self.api:
                changed = True
            self.api[message.message_id] = message
        self._version += 1
        applied = Applied()
        if changed or self.first_update:
            self.api_order = [m.message_id for m in update.messages]
            applied = self._rebuild(imap_changed=False)
        if self.first_update:
            self.seen |= set(self.order)
        else:
            applied.arrivals = self.arrivals([self.item(m.message_id) for m in update.new])
        self.first_update = False
        return applied

    # -- IMAP -------------------------------------------------------------------------------

    def set_imap_status(self, text: str, *, live: bool = False) -> None:
        """Remember the IMAP state; the API is polled far less while IMAP is live."""
        self.imap_status = text
        if live != self.imap_live and self.poller is not None:
            self.poller.use_settings(imap_live_settings(self.settings) if live else self.settings)
        self.imap_live = live

    def _imap_after(self, update: ImapUpdate) -> dict[int, ImapMessage]:
        """What IMAP holds once ``update`` is taken (a message fetched whole stays whole)."""
        held = {} if update.reset else dict(self.imap)
        for message in update.messages:
            mine = held.get(message.uid)
            cut = message.headers_only or message.lazy
            if not (cut and mine is not None and not (mine.headers_only or mine.lazy)):
                held[message.uid] = message
        return held

    def merge_for(self, update: ImapUpdate) -> Merged:
        """The rows taking ``update`` would make, for :meth:`apply_imap` (changes nothing: a
        caller may run it in a thread, e.g. a big mailbox's first sync, 10,000 rows, off the
        UI's time; if the model changes meanwhile, ``apply_imap`` merges again)."""
        return self._merge(self._imap_after(update))

    def apply_imap(self, update: ImapUpdate, merged: Merged | None = None) -> Applied:
        """Take the IMAP reader's report: its state, and the rows when its list changed
        (``merged``: what :meth:`merge_for` made of it, used while still current)."""
        self.set_imap_status(f"IMAP {update.status.text}", live=update.status.live)
        known = set(self.imap)
        save = update.status.live and bool(update.new or update.reset or not self.imap_synced)
        first = not self.imap_synced  # what was there when the inbox opened is not news
        self.imap_synced = self.imap_synced or update.status.live
        if {m.uid for m in update.messages} == known and not update.reset:
            return Applied(save=save)
        self.imap = self._imap_after(update)
        current = merged is not None and merged.version == self._version
        self._version += 1
        applied = self._rebuild(imap_changed=True, merged=merged if current else None)
        applied.save = save
        if first:
            self.seen |= set(self.order)
            return applied
        key_of = {imap.uid: key for key, imap in self.imap_of.items()}
        keys = [key_of.get(imap.uid, imap_message_id(imap.uid)) for imap in update.new]
        applied.arrivals = self.arrivals([self.item(k) for k in keys if k in self.messages])
        return applied

    def needs_whole(self, item: InboxItem) -> ImapMessage | None:
        """The IMAP message to fetch whole for showing ``item`` (only its headers or its start
        were read), or None."""
        imap: ImapMessage | None = item.extra.get("imap")
        return imap if imap is not None and (imap.headers_only or imap.lazy) else None

    def is_current(self, imap: ImapMessage) -> bool:
        """``imap`` is still the message held for its UID (not replaced or reset since)."""
        return self.imap.get(imap.uid) is imap

    def replace_whole(self, imap: ImapMessage, whole: ImapMessage) -> Applied | None:
        """Put the message read whole in place of the one read in part (None when that one
        is no longer held)."""
        if not self.is_current(imap):
            return None
        self.imap[imap.uid] = whole
        self._version += 1
        return self._rebuild(imap_changed=True)

    # -- a headless reader's view ---------------------------------------------------------

    def load(self, api_messages: list[Message], imap_messages: list[ImapMessage]) -> Applied:
        """Both sources as they are now, whole (what a poller has listed and what a reader
        has read), merged into the rows."""
        self.api = {m.message_id: m for m in api_messages}
        self.api_order = [m.message_id for m in api_messages]
        self.imap = {m.uid: m for m in imap_messages}
        self._version += 1
        return self._rebuild(imap_changed=True)

    def source(self, key: str) -> str:
        """Where a row's detail comes from: ``imap`` (read there) or ``api``."""
        return "imap" if key in self.imap_of else "api"

    def rows(self) -> list[tuple[InboxItem, str]]:
        """Every row with its source, newest first."""
        return [(self.item(key), self.source(key)) for key in self.order]

    def unseen(self, *, show_all: bool = False) -> list[tuple[InboxItem, str]]:
        """The rows not handed out before, oldest first, now marked seen: each mail once,
        under either of its keys (an IMAP-only row takes the API's id once the API lists
        it). Without ``show_all``, another lessee's mail is left out (for good)."""
        out: list[tuple[InboxItem, str]] = []
        for key in reversed(self.order):
            if key in self.seen:
                continue
            imap = self.imap_of.get(key)
            self.seen |= {key} if imap is None else {key, imap_message_id(imap.uid)}
            item = self.item(key)
            if show_all or not item.foreign:
                out.append((item, self.source(key)))
        return out

    # -- rows -------------------------------------------------------------------------------

    def _merge(self, imap: dict[int, ImapMessage]) -> Merged:
        """The rows of the API's messages and ``imap`` merged (reads the model, changes
        nothing but the memory of rows made)."""
        version = self._version
        api_messages = [self.api[mid] for mid in self.api_order]
        merged, imap_of = merge_sources(api_messages, list(imap.values()), self._row_of)
        return Merged(merged, imap_of, newest_first(list(merged.values())), version)

    def _rebuild(self, *, imap_changed: bool, merged: Merged | None = None) -> Applied:
        """Merge the API's and IMAP's messages into one list (one row per mail)."""
        if len(self._rows_of) > len(self.imap):  # (a copy of the items first: merge_for may
            rows_of = list(self._rows_of.items())  # be adding to them in its thread)
            self._rows_of = {u: row for u, row in rows_of if u in self.imap}
        rows = merged or self._merge(self.imap)
        merged_rows, imap_of = rows.messages, rows.imap_of
        if imap_changed or imap_of.keys() != self.imap_of.keys():
            self._items.clear()
        self.imap_of = imap_of
        if merged_rows.keys() != self.messages.keys():
            self._hay = {k: v for k, v in self._hay.items() if k in merged_rows}
        grown = len(merged_rows) - self._frozen_at
        self.messages = merged_rows
        self.order = rows.order
        asked = self.settle_doubtful()
        for key, imap in imap_of.items():  # the same mail under both keys: announce it once
            if key not in self.api:
                continue  # a row only IMAP has: its key is its twin
            twin = imap_message_id(imap.uid)
            if key in self.seen or twin in self.seen:
                self.seen |= {key, twin}
        if self.freeze and grown >= FREEZE_AFTER:
            self.freeze_heap()
        return Applied(rows=True, asked=asked)

    def _row_of(self, imap: ImapMessage) -> Message:
        """The row of a mail only IMAP has, made once per message read: a big mailbox's rows
        are not made again at every new mail."""
        known = self._rows_of.get(imap.uid)
        if known is None or known[0] is not imap:
            known = (imap, imap_as_message(imap))
            self._rows_of[imap.uid] = known
        return known[1]

    def freeze_heap(self) -> None:
        """After a big load, move what is loaded out of the cyclic collector's reach: a full
        collection then scans only what browsing and filtering allocate, so it no longer
        stalls a key (issue 16: the 10,000-row filter's 79 ms were a gen-2 collection).
        Freed objects are still freed (reference counts); only cycles among them stay."""
        self._frozen_at = len(self.messages)
        gc.freeze()

    def settle_doubtful(self) -> bool:
        """IMAP mail from the second the lease began: ask the API now which lease it is
        (rare; it stays hidden as an earlier lessee's until then). True when there is such
        mail not asked about yet (the poller, when there is one, is woken: once per mail)."""
        doubtful = {
            imap.uid
            for key, imap in self.imap_of.items()
            if doubtful_start(imap, self.lease_started)
            and key == imap_message_id(imap.uid)  # not listed by the API (yet)
        }
        ask = bool(doubtful - self.asked_api)
        if ask and self.poller is not None:
            self.poller.wake()
        self.asked_api |= doubtful
        return ask

    def item(self, key: str) -> InboxItem:
        """The presentation of a row, built when first needed (big inboxes stay fast)."""
        item = self._items.get(key)
        if item is None:
            imap = self.imap_of.get(key)
            # With the message read over IMAP, its code comes from there (with_body).
            item = build_item(
                self.messages[key],
                self.lease_started,
                self.lease_ended,
                read_subject=imap is None,
            )
            if imap is not None:
                item = with_body(item, imap)
            self._items[key] = item
        return item

    def get(self, key: str | None) -> InboxItem | None:
        """The item of a row key, or None when there is no such row."""
        return self.item(key) if key is not None and key in self.messages else None

    @property
    def built(self) -> int:
        """How many rows have their item built (see :meth:`warm`)."""
        return len(self._items)

    def needs_warm(self) -> bool:
        """Many rows have no item yet: build them in the background (:meth:`warm`)."""
        return len(self.order) - len(self._items) > WARM_AFTER

    def warm(self, batch: int = 100) -> Iterator[int]:
        """Build the items not built yet, ``batch`` at a time (yields after each batch, so a
        caller can let frames through)."""
        pending = [key for key in self.order if key not in self._items]
        for start in range(0, len(pending), batch):
            for key in pending[start : start + batch]:
                if key in self.messages:
                    self.item(key)
            yield start

    @property
    def items(self) -> list[InboxItem]:
        """Every item, newest first (builds them all: not for hot paths)."""
        return [self.item(key) for key in self.order]

    def visible_keys(self) -> list[str]:
        """Row keys shown: this lease's mail (or all), matching the filter."""
        needle = self.filter_text.lower()
        out = []
        for key in self.order:
            m = self.messages[key]
            if not self.show_older and lease_bounds(m, self.lease_started, None)[0]:
                continue
            if needle and needle not in self._haystack(key, m):
                continue
            out.append(key)
        return out

    def _haystack(self, key: str, m: Message) -> str:
        """The lowercased text the filter searches (made once per message and code)."""
        built = self._items.get(key)  # codes are warmed in the background
        code = built.code if built is not None else m.otp_code
        known = self._hay.get(key)
        if known is None or known[0] != code:
            known = (code, f"{m.sender} {m.subject} {code or ''}".lower())
            self._hay[key] = known
        return known[1]

    def refresh_visible(self) -> list[str]:
        """Recompute :attr:`visible` (after a rebuild, a filter or a mode change)."""
        self.visible = self.visible_keys()
        return self.visible

    # -- news and copies --------------------------------------------------------------------

    def arrivals(self, new: list[InboxItem]) -> Arrivals:
        """Which of ``new`` to announce: each mail once (under either of its keys), neither a
        sample nor, unless older mail is shown, mail from before the lease."""
        out = Arrivals()
        for item in new:
            if item.message_id in self.seen:
                continue
            self.seen.add(item.message_id)
            if item.sample or (not self.show_older and item.before_lease):
                continue
            (out.codes if item.code else out.others).append(item)
        return out

    def copy_choice(self, item: InboxItem) -> tuple[CopyKind, str]:
        """What ``c`` copies from ``item``: its code; for a doubtful server guess, a warning
        first and the guess on a second ``c``; or nothing."""
        if not item.code and item.server_guess and item.guess_doubt and not item.sample:
            guess = item.server_guess
            if self._doubt_warned != (item.message_id, guess):
                self._doubt_warned = (item.message_id, guess)
                return "warn", guess
            self._doubt_warned = None
            return "doubtful", guess
        self._doubt_warned = None
        return ("code", item.code) if item.code else ("none", "")

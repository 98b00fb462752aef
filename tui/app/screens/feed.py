"""Live feed (``A`` on the lease list): codes and links arriving across every active lease."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from tui.app.clipboard import copy_text
from tui.app.resource_screen import ResourceScreen
from tui.core.feed import FeedEntry, LiveFeed
from tui.core.resources import Column, TableSpec
from tui.core.sanitize import clean
from tui.core.timefmt import relative_time

if TYPE_CHECKING:
    from tui.core.leases import LeaseView


@dataclass
class FeedUpdated(Message):
    """The feed's entries after one request (coalesced unless it brought news)."""

    entries: list[FeedEntry]
    """Every entry, newest first."""
    new: list[FeedEntry]
    """Those that just arrived."""

    def can_replace(self, message: Message) -> bool:
        """A newer report replaces an older one without news."""
        return isinstance(message, FeedUpdated) and not message.new


def cells(entry: FeedEntry, now: datetime) -> Sequence[Text]:
    """When, the code (or "link"), the mailbox, the subject."""
    item = entry.item
    badge = (
        Text(clean(item.code, 16), style="bold black on yellow")
        if item.code
        else Text("link", style="bold cyan")
    )
    return (
        Text(relative_time(item.message.received_at, now), style="dim"),
        badge,
        Text(clean(entry.lease.address, 80)),
        Text(clean(item.message.subject, 200)),
    )


SPEC: TableSpec[FeedEntry] = TableSpec(
    "feed",
    (
        Column("when", "When", 8),
        Column("code", "Code", 10),
        Column("mailbox", "Mailbox", 22),
        Column("subject", "Subject"),  # the sender is in the lease's inbox
    ),
    key=lambda entry: f"{entry.lease.lease_id}/{entry.item.message.message_id}",
    cells=cells,
    nothing="Nothing here yet",
)


class LiveFeedScreen(ResourceScreen[FeedEntry]):
    """One list of the codes and links of every active lease, newest first."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="feed.back", tooltip="Back to the leases"),
        Binding("c", "copy_code", "Code", id="feed.copy_code", tooltip="Copy the code"),
        Binding("y", "copy_link", "Link", id="feed.copy_link", tooltip="Copy the link"),
        Binding("enter", "open_inbox", "Inbox", id="feed.open", tooltip="That lease's inbox"),
        Binding("u", "poll_now", "Check", id="feed.poll", tooltip="Ask the next mailbox now"),
        Binding("j", "cursor_down", "Down", show=False, id="feed.down", tooltip="Next"),
        Binding("k", "cursor_up", "Up", show=False, id="feed.up", tooltip="Previous"),
    ]

    spec = SPEC

    def __init__(self, views: list[LeaseView]) -> None:
        super().__init__()
        self.views = [v for v in views if v.lease.is_active]
        """The lease views followed (the active ones)."""
        self.feed: LiveFeed | None = None
        """The running feed."""

    @property
    def entries(self) -> list[FeedEntry]:
        """Shown, newest first."""
        return self.all_rows

    def header(self) -> Text:
        """Title and how many leases are followed."""
        header = Text("Live feed", style="bold")
        count = len(self.views)
        header.append(
            f"   codes and links of {count} active lease{'s' if count != 1 else ''}", style="dim"
        )
        return header

    def on_mount(self) -> None:
        """Start following."""
        self.query_one("#status-bar", Static).update(Text("checking…", style="dim"))
        leases = [v.lease for v in self.views]
        self.feed = LiveFeed(self.app.services.client, leases, self.app.services.settings.poll)
        if leases:
            self.follow(self.feed)

    @work(exclusive=True, group="feed", exit_on_error=False)
    async def follow(self, feed: LiveFeed) -> None:
        """The feed's loop (ends with the screen)."""
        await feed.run(lambda entries, new: self.post_message(FeedUpdated(entries, new)))

    @on(FeedUpdated)
    def updated(self, event: FeedUpdated) -> None:
        """Redraw; one toast for what just arrived."""
        self.show(event.entries)
        if len(event.new) == 1:
            entry = event.new[0]
            what = entry.item.code or "a link"
            self.notify(
                f"New {'code ' if entry.item.code else ''}{clean(what, 16)} in "
                f"{clean(entry.lease.address, 60)}",
                markup=False,
            )
        elif event.new:
            self.notify(f"{len(event.new)} new codes and links", markup=False)
        feed = self.feed
        if feed is not None:
            count = len(feed.pollers)
            text = Text(f"{len(self.entries)} code(s) and link(s)")
            text.append(
                f" · {count} mailbox{'es' if count != 1 else ''} asked in turn, "
                f"one request at a time · {feed.calls} request(s)",
                style="dim",
            )
            self.query_one("#status-bar", Static).update(text)

    def action_copy_code(self) -> None:
        """Copy the selected code."""
        entry = self.target()
        if entry is None:
            return
        if not entry.item.code:
            self.notify("This one has a link, no code (y copies it)", severity="warning")
            return
        where = copy_text(self.app, entry.item.code)
        self.notify(f"Copied code {clean(entry.item.code, 16)} to the {where}", markup=False)

    def action_copy_link(self) -> None:
        """Copy the selected link."""
        entry = self.target()
        if entry is None:
            return
        if not entry.item.link:
            self.notify("This one has a code, no link", severity="warning")
            return
        from tui.core.links import inspect_link

        info = inspect_link(entry.item.link)
        where = copy_text(self.app, info.url)
        self.notify(f"Copied link to {info.host or '?'} to the {where}", markup=False)

    def open_row(self) -> None:
        """Enter on a row."""
        self.action_open_inbox()

    def action_open_inbox(self) -> None:
        """The selected entry's lease inbox."""
        entry = self.target()
        if entry is None:
            return
        view = next((v for v in self.views if v.lease.lease_id == entry.lease.lease_id), None)
        if view is not None:
            self.app.open_screen("inbox", view=view)

    def action_poll_now(self) -> None:
        """Ask the next mailbox now ("checking…" in this frame, until the feed reports)."""
        if self.feed is not None and self.feed.leases:
            self.set_status("checking…")
            self.feed.wake()

    def action_back(self) -> None:
        """Back (the feed stops with the screen)."""
        self.app.pop_screen()

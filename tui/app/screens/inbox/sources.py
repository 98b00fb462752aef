"""Where the inbox's mail comes from: the API poller and the IMAP reader, each run by a worker
that posts its reports, which the inbox model takes (:class:`MailSources`, the inbox screen's
base above its message actions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.message import Message

from tui.app.screens.inbox.actions import MessageActions
from tui.core.poller import MailboxPoller, PollUpdate
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.core.inbox_model import Applied
    from tui.imap.message import ImapMessage
    from tui.imap.reader import ImapUpdate

FIRST_BODIES = 200
"""Messages read whole on the first IMAP sync of a mailbox (the newest)."""
MAX_LISTED = 20_000
"""Messages of a mailbox the inbox lists over IMAP (the newest 200 whole, the rest by their
headers until shown)."""


MERGE_IN_THREAD = 2000
"""New IMAP messages in one report from which the rows are merged in a thread."""


@dataclass
class ImapUpdated(Message):
    """The IMAP reader's latest report (coalesced: it holds the whole list)."""

    update: ImapUpdate
    """What the reader has read, and its connection state."""

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


class MailSources(MessageActions):
    """The workers that feed the inbox model: the API poller and the IMAP reader."""

    @property
    def poller(self) -> MailboxPoller | None:
        """The running poller."""
        return self.model.poller

    def show_applied(self, applied: Applied) -> None:
        """Render what a report changed (the screen does)."""
        raise NotImplementedError

    # -- the API ----------------------------------------------------------------------------

    def start_poller(self) -> None:
        """(Re)start the poller for the current mode."""
        services = self.app.services
        self.run_poller(self.model.new_poller(services.client, services.settings.poll))

    @work(exclusive=True, group="inbox-poll", exit_on_error=False)
    async def run_poller(self, poller: MailboxPoller) -> None:
        """The background loop; every snapshot is posted (and coalesced)."""
        await poller.run(lambda update: self.post_message(InboxUpdated(update)))

    @on(InboxUpdated)
    def inbox_updated(self, event: InboxUpdated) -> None:
        """Rows rebuilt when mail arrived; new codes announced."""
        self.show_applied(self.model.apply_poll(event.update))
        status = event.update.status
        if status.state == "stopped" and status.permanent:
            self.notify(
                f"Stopped checking mail: {clean(status.error or '', 120)}. Press r to retry.",
                severity="error",
                markup=False,
            )
        self.render_status()

    def resume_poller(self) -> None:
        """Start the stopped poller again, where it stopped (what it saw is kept)."""
        if self.poller is not None:
            self.poller.touch()
            self.run_poller(self.poller)
            self.set_status("checking…")  # this frame; the poller's own line once it reports

    # -- IMAP -------------------------------------------------------------------------------

    @work(exclusive=True, group="inbox-imap", exit_on_error=False)
    async def run_imap(self) -> None:
        """Read the mailbox over IMAP with the lease's credentials (IDLE push), if possible."""
        from tui.api.errors import MailagentsError
        from tui.core.imapsource import ImapUnavailable, open_watcher

        try:
            reader = await open_watcher(
                self.app.services, self.lease, first_bodies=FIRST_BODIES, keep=MAX_LISTED
            )
        except ImapUnavailable as exc:
            hint = " (p, then R, resets them)" if "credentials" in str(exc) else ""
            self.set_imap_status(f"IMAP off: {exc}{hint}")
            return
        except MailagentsError as exc:
            self.set_imap_status(f"IMAP off: {exc.user_message()}")
            return
        await reader.run(self.post_imap)

    def post_imap(self, update: ImapUpdate) -> None:
        """Hand the IMAP reader's report to the screen (coalesced)."""
        self.post_message(ImapUpdated(update))

    def set_imap_status(self, text: str, *, live: bool = False) -> None:
        """Remember the IMAP state (the API is polled far less while IMAP is live)."""
        self.model.set_imap_status(text, live=live)
        self.render_status()

    @on(ImapUpdated)
    async def imap_updated(self, event: ImapUpdated) -> None:
        """New mail over IMAP, or a new connection state. A big list (a big mailbox's first
        sync) is merged into rows in a thread: the screen takes its next message once this
        one is applied, and the UI keeps drawing and taking keys meanwhile."""
        import asyncio

        update = event.update
        merged = None
        if len(update.messages) - len(self.model.imap) >= MERGE_IN_THREAD:
            merged = await asyncio.to_thread(self.model.merge_for, update)
        applied = self.model.apply_imap(update, merged)
        if applied.save:
            self.remember_imap(event.update)
        self.show_applied(applied)
        self.render_status()

    @work(group="inbox-cache", exit_on_error=False)
    async def remember_imap(self, update: ImapUpdate) -> None:
        """Keep what IMAP read (mail cache), so the next open fetches only newer mail."""
        from tui.core.imapsource import save_cached

        await save_cached(self.app.services, self.lease.lease_id, update.state, update.messages)

    @work(exclusive=True, group="inbox-whole", exit_on_error=False)
    async def load_whole(self, imap: ImapMessage) -> None:
        """Fetch a message of which a sync read only the headers (an older message of a big
        mailbox) or the start (a big message, ``lazy``), and show it."""
        from tui.core.imapsource import parse_whole
        from tui.imap.reader import DEFAULT_SIZE_LIMIT

        raw = await self.fetch_whole(imap.uid, limit=DEFAULT_SIZE_LIMIT, doing="Fetching")
        if raw is not None and self.model.is_current(imap):
            applied = self.model.replace_whole(imap, await parse_whole(imap, raw))
            if applied is not None:
                self.show_applied(applied)

"""What the inbox does with the selected message: copy its code or link, open the link, save an
attachment, show its source, reply, forward; and compose, the credentials.

:class:`MessageActions` is the inbox screen's base: the keys are bound in
:mod:`tui.app.screens.inbox`, which supplies the model, the lease and the status line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from tui.app.clipboard import copy_text
from tui.app.first_resume import StyledOnce
from tui.core.inbox import InboxItem
from tui.core.links import LinkInfo, inspect_link
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.api.models import Lease
    from tui.app.app import MailagentsApp
    from tui.core.inbox_model import InboxModel
    from tui.imap.message import ImapMessage


class MessageActions(StyledOnce, Screen[None]):
    """The actions on the selected message (the inbox screen supplies what is abstract)."""

    app: MailagentsApp  # type: ignore[assignment]
    model: InboxModel
    """The inbox's state (see :class:`tui.core.inbox_model.InboxModel`)."""
    save_folder: Path | None = None
    """The folder the last attachment was saved in (offered next time)."""

    @property
    def lease(self) -> Lease:
        """The lease whose mail is shown."""
        raise NotImplementedError

    def selected_item(self) -> InboxItem | None:
        """The message under the cursor."""
        raise NotImplementedError

    def set_status(self, message: str, *, error: bool = False) -> None:
        """A message in the status bar."""
        raise NotImplementedError

    def render_status(self) -> None:
        """The status bar's own line again."""
        raise NotImplementedError

    def resume_poller(self) -> None:
        """Start checking again where it stopped."""
        raise NotImplementedError

    def _target(self) -> InboxItem | None:
        item = self.selected_item()
        if item is None:
            self.notify("No message selected", severity="warning")
        if self.model.poller is not None:
            self.model.poller.touch()
        return item

    def action_copy_code(self) -> None:
        """Copy the OTP (a doubtful guess only when ``c`` is pressed twice)."""
        item = self._target()
        if item is None:
            return
        kind, code = self.model.copy_choice(item)
        if kind == "warn":
            why = clean(item.guess_doubt, 80)
            self.notify(
                f"Doubtful code {clean(code, 16)} ({why}): press c again to copy it",
                severity="warning",
                markup=False,
            )
        elif kind == "doubtful":
            where = copy_text(self.app, code)
            self.notify(
                f"Copied doubtful code {clean(code, 16)} to the {where}",
                severity="warning",
                markup=False,
            )
        elif kind == "none":
            extra = " (sample message)" if item.sample else ""
            self.notify(f"This message has no reliable code{extra}", severity="warning")
        else:
            where = copy_text(self.app, code)
            self.notify(f"Copied code {clean(code, 16)} to the {where}", markup=False)

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
        imap: ImapMessage | None = item.extra.get("imap")
        if imap is None:
            why = "the API returns no attachments; " + (
                "IMAP is reading this mailbox, this mail is not there"
                if self.model.imap_live
                else "IMAP is off for this lease (p shows the credentials)"
            )
            self.notify(f"Nothing to save: {why}", severity="warning", markup=False)
            return
        if not imap.extraction.attachments and not imap.headers_only:
            self.notify("This message has no attachments", severity="warning")
            return
        self.save_attachment(imap)

    @work(exclusive=True, group="inbox-save", exit_on_error=False)
    async def save_attachment(self, imap: ImapMessage) -> None:
        """Fetch the whole message if only its start was read, then ask and save."""
        import asyncio

        from tui.app.dialogs.save_attachment import SaveAttachmentDialog
        from tui.core.attachments import default_folder, tilde
        from tui.extract import attachment_parts

        raw = imap.raw
        if imap.partial:
            whole = await self.fetch_whole(imap.uid, doing="Fetching the whole message to save")
            if whole is None:
                return
            raw = whole
        parts = await asyncio.to_thread(attachment_parts, raw)
        if not parts:
            self.notify("This message has no attachments", severity="warning")
            return
        folder = self.save_folder or default_folder(self.app.services.settings.download_dir)
        path = await self.app.push_screen_wait(SaveAttachmentDialog(parts, folder))
        if path is not None:
            self.save_folder = path.parent
            self.notify(f"Saved {clean(tilde(path), 200)}", markup=False)

    async def fetch_whole(
        self, uid: int, *, limit: int | None = None, doing: str = "Fetching the whole message"
    ) -> bytes | None:
        """The message (its first ``limit`` bytes) over a second IMAP connection (the first
        one is idling); None, with the reason in the status bar, when it cannot."""
        from tui.core.imapsource import WholeUnavailable, fetch_whole

        self.set_status(f"{doing} over IMAP…")
        try:
            raw = await fetch_whole(self.app.services, self.lease, uid, limit=limit)
        except WholeUnavailable as exc:
            self.set_status(str(exc), error=True)
            return None
        self.render_status()
        return raw

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

        imap: ImapMessage | None = item.extra.get("imap")
        raw: bytes | None = None
        note = ""
        if imap is None:
            note = "No source: the API returns no message body" + (
                "" if self.model.imap_live else " and IMAP is off for this lease (? says why)"
            )
        else:
            raw = imap.raw
            if imap.partial or imap.headers_only:
                raw = await self.fetch_whole(imap.uid, doing="Fetching the whole message")
                if raw is None:
                    raw, note = imap.raw, "Only the start of this message could be read"
        folder = self.save_folder or default_folder(self.app.services.settings.download_dir)
        await self.app.push_screen(MessageSourceDialog(item.message.subject, raw, folder, note))

    def action_compose(self) -> None:
        """Write a new message from this lease."""
        self.app.open_screen("compose", lease=self.lease)

    def action_reply(self) -> None:
        """Reply to the selected message (To and Re: subject filled); while checking has
        stopped (the status bar says so), retry instead."""
        if self.model.poller is not None and self.model.poller.stopped:
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

    def action_credentials(self) -> None:
        """The credentials dialog; IMAP starts again when it closes (e.g. after a reset)."""
        from tui.app.dialogs.credentials import CredentialsDialog

        def done(_result: object) -> None:
            if not self.model.imap_live:
                self.run_imap()

        self.app.push_screen(CredentialsDialog(self.lease), done)

    def run_imap(self) -> object:
        """Start reading the mailbox over IMAP."""
        raise NotImplementedError

"""Compose: From (the lease), To, Subject, body; drafts saved as you type; ctrl+s sends."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from tui.app.first_resume import StyledOnce
from tui.app.routing import WorkerErrors
from tui.app.widgets.key_footer import KeyFooter
from tui.core.compose import (
    NO_CC_NOTE,
    ComposeError,
    Draft,
    DraftStore,
    MissingCredentials,
    check_draft,
    parse_recipients,
    reply_subject,
)
from tui.core.sanitize import clean
from tui.files import ensure_private_dir

if TYPE_CHECKING:
    from textual.timer import Timer

    from tui.api.models import Lease, Message
    from tui.app.app import MailagentsApp

SAVE_DELAY = 0.4
"""Seconds of quiet typing before the draft is written."""


class ComposeScreen(StyledOnce, WorkerErrors, Screen[None]):
    """Write and send one message from a leased mailbox."""

    BINDINGS = [
        Binding(
            "ctrl+s", "send", "Send", id="compose.send", tooltip="Send the message", priority=True
        ),
        Binding(
            "ctrl+e",
            "editor",
            "$EDITOR",
            id="compose.editor",
            tooltip="Edit the body in your editor",
            priority=True,
        ),
        Binding(
            "escape",
            "close",
            "Close",
            id="compose.close",
            tooltip="Close (asks before discarding the draft)",
            priority=True,
        ),
    ]

    app: MailagentsApp  # type: ignore[assignment]

    def __init__(
        self,
        lease: Lease,
        *,
        reply_to: Message | None = None,
        prefill: tuple[str, str, str] | None = None,
    ) -> None:
        super().__init__()
        self.lease = lease
        """The :class:`tui.api.models.Lease` that sends."""
        self.reply_to = reply_to
        """The :class:`tui.api.models.Message` answered, if any."""
        self.prefill = prefill
        """(to, subject, body) to start from (a reply quoting the original, a forward)."""
        self.draft = Draft(lease_id=lease.lease_id)
        """The draft being edited."""
        self.sending = False
        self.sent = False
        """True once the mail went out: its draft is gone and is never written again."""
        """A send is in flight."""
        self._save_timer: Timer | None = None
        self._loading = True
        self._initial: tuple[str, str, str] = ("", "", "")
        self._restored = False

    @property
    def store(self) -> DraftStore:
        """Where drafts live."""
        return DraftStore(self.app.services.settings.state_dir / "drafts")

    def compose(self) -> ComposeResult:
        """Layout."""
        with Vertical(id="compose-box"):
            yield Static(id="compose-header")
            yield Label("To")
            yield Input(placeholder="name@example.com, other@example.org", id="compose-to")
            yield Static(id="compose-to-check")
            yield Static(Text(NO_CC_NOTE, style="dim"), id="compose-cc-note")
            yield Label("Subject")
            yield Input(id="compose-subject", max_length=998)
            yield TextArea(id="compose-body", soft_wrap=True, tab_behavior="indent")
            yield Static(id="compose-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Restore a saved draft, or prefill a reply."""
        header = Text("Compose  ", style="bold")
        header.append("from ", style="dim")
        header.append(clean(self.lease.address, 80), style="bold cyan")
        self.query_one("#compose-header", Static).update(header)
        saved = self.store.load(self.lease.lease_id)
        if saved is not None and not saved.empty:
            self.draft = saved
            note = "Draft restored."
            if saved.last_error:
                note += f" Last send failed: {saved.last_error}"
            self.set_status(note, warning=bool(saved.last_error))
        else:
            if self.reply_to is not None:
                self.draft.to = self.reply_to.sender
                self.draft.subject = reply_subject(self.reply_to.subject)
                self.draft.in_reply_to = self.reply_to.message_id
            if self.prefill is not None:
                self.draft.to, self.draft.subject, self.draft.body = self.prefill
        self.query_one("#compose-to", Input).value = self.draft.to
        self.query_one("#compose-subject", Input).value = self.draft.subject
        self.query_one("#compose-body", TextArea).text = self.draft.body
        self._initial = (self.draft.to, self.draft.subject, self.draft.body)
        self._restored = saved is not None and not saved.empty
        self._loading = False
        self.check_recipients()
        target = "#compose-body" if self.draft.to and self.draft.subject else "#compose-to"
        self.query_one(target).focus()
        self.query_one("#compose-body", TextArea).cursor_location = (0, 0)  # above a quote

    def keep_copy(self, attempt_id: str, to: list[str], subject: str, body: str) -> None:
        """Keep this app's copy of the sent text (the service never returns it)."""
        import contextlib

        from tui.core.sentcopies import SentCopies

        copies = SentCopies(self.app.services.settings.state_dir / "sent")
        with contextlib.suppress(OSError):  # a copy is a convenience: never fail the send
            copies.save(attempt_id, self.lease.address, to, subject, body)

    def set_status(self, message: str, *, error: bool = False, warning: bool = False) -> None:
        """The line under the body."""
        style = "bold red" if error else ("yellow" if warning else "green")
        self.query_one("#compose-status", Static).update(Text(message, style=style))

    # -- drafts ----------------------------------------------------------------------------

    def collect(self) -> Draft:
        """The draft from the widgets."""
        self.draft.to = self.query_one("#compose-to", Input).value
        self.draft.subject = self.query_one("#compose-subject", Input).value
        self.draft.body = self.query_one("#compose-body", TextArea).text
        return self.draft

    def schedule_save(self) -> None:
        """Save shortly after typing stops."""
        if self._loading or self.sending or self.sent:
            return
        self.cancel_save()
        self._save_timer = self.set_timer(SAVE_DELAY, self.save_now)

    def cancel_save(self) -> None:
        """Drop a save still waiting for typing to stop."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None

    def save_now(self) -> None:
        """Write the draft (kept even if empty-ish, unless it is entirely empty)."""
        if self.sent:  # a late timer must not bring a sent mail's draft back
            return
        draft = self.collect()
        if draft.empty:
            self.store.delete(draft.lease_id)
        else:
            self.store.save(draft)

    @on(Input.Changed)
    @on(TextArea.Changed)
    def changed(self) -> None:
        """Typing: save soon, re-check addresses."""
        self.schedule_save()
        self.check_recipients()

    def check_recipients(self) -> None:
        """Show which recipients are valid as they are typed."""
        value = self.query_one("#compose-to", Input).value
        valid, invalid = parse_recipients(value)
        text = Text()
        if invalid:
            text.append(
                "not an address: " + ", ".join(clean(x, 60) for x in invalid[:5]), style="bold red"
            )
        elif valid:
            text.append(f"{len(valid)} recipient{'s' if len(valid) != 1 else ''}", style="dim")
        self.query_one("#compose-to-check", Static).update(text)

    # -- actions ---------------------------------------------------------------------------

    def action_send(self) -> None:
        """Validate, then send in a worker."""
        if self.sending:
            return
        draft = self.collect()
        self.cancel_save()
        self.save_now()
        try:
            to, subject, body = check_draft(draft)
        except ComposeError as exc:
            self.set_status(str(exc), error=True)
            return
        self.sending = True
        self.set_status("Sending…", warning=True)
        for widget in self.query("Input, TextArea"):
            widget.disabled = True
        self.send(to, subject, body)

    @work(exclusive=True, group="compose-send", exit_on_error=False)
    async def send(self, to: list[str], subject: str, body: str) -> None:
        """Send; keep the draft and say why when it fails."""
        from tui.api.errors import MailagentsError
        from tui.core.compose import send_text

        try:
            result = await send_text(self.app.services, self.lease.lease_id, to, subject, text=body)
        except MissingCredentials as exc:
            self.finish_sending()
            self.set_status(str(exc), error=True)
            self.offer_reset()
            return
        except (MailagentsError, ComposeError) as exc:
            message = exc.user_message() if isinstance(exc, MailagentsError) else str(exc)
            self.draft.last_error = message
            self.store.save(self.collect())
            self.finish_sending()
            self.set_status(f"Not sent: {message}. The draft is kept.", error=True)
            return
        self.sent = True
        self.cancel_save()
        self.store.delete(self.lease.lease_id)
        self.keep_copy(result.send_attempt_id, to, subject, body)
        self.finish_sending()
        rejected = f"; rejected: {', '.join(result.rejected)}" if result.rejected else ""
        self.app.notify(
            f"Sent to {', '.join(result.accepted) or 'nobody'}{rejected}",
            title=result.submission_status,
            severity="warning" if result.rejected else "information",
            markup=False,
        )
        self.draft = Draft(lease_id=self.lease.lease_id)
        self.app.pop_screen()

    def offer_reset(self) -> None:
        """No stored password: offer a confirmed credentials reset, then send again."""
        from tui.app.dialogs.confirm import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.reset_and_send()

        self.app.push_screen(
            ConfirmDialog(
                "This lease was allocated elsewhere: its mailbox password is unknown here.\n"
                "Reset the credentials and send? Anything using the old password stops working.",
                yes="Reset and send",
                no="Cancel",
            ),
            done,
        )

    @work(exclusive=True, group="compose-reset", exit_on_error=False)
    async def reset_and_send(self) -> None:
        """Rotate the password (stored in the ledger), then send."""
        from tui.api.errors import MailagentsError

        self.set_status("Resetting the mailbox credentials…", warning=True)
        try:
            await self.app.services.leases.reset_credentials(self.lease)
        except MailagentsError as exc:
            self.set_status(f"Reset failed: {exc.user_message()}", error=True)
            return
        self.action_send()

    @on(Worker.StateChanged)
    def send_ended(self, event: Worker.StateChanged) -> None:
        """A send that ends without its own ending (cancelled, or a failure the router shows)
        gives the form back and says it was not sent (issue 16: never stuck on "Sending…")."""
        ended = event.state in (WorkerState.CANCELLED, WorkerState.ERROR)
        if ended and event.worker.group == "compose-send" and self.sending:
            self.finish_sending()
            self.set_status("Not sent: the send did not finish. The draft is kept.", error=True)

    def finish_sending(self) -> None:
        """Re-enable the form."""
        self.sending = False
        for widget in self.query("Input, TextArea"):
            widget.disabled = False

    def action_editor(self) -> None:
        """Edit the body in ``$VISUAL``/``$EDITOR`` (the app suspends meanwhile)."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        draft = self.collect()
        folder = ensure_private_dir(self.app.services.settings.state_dir / "drafts")
        fd, path = tempfile.mkstemp(prefix="body-", suffix=".txt", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(draft.body)
            try:
                with self.app.suspend():
                    subprocess.run([*shlex.split(editor), path], check=False)
            except Exception as exc:  # no terminal to suspend (tests, headless)
                self.set_status(f"Cannot run the editor: {exc}", error=True)
                return
            with open(path, encoding="utf-8", errors="replace") as fh:
                self.query_one("#compose-body", TextArea).text = fh.read()
            self.save_now()
        finally:
            os.unlink(path)

    def action_close(self) -> None:
        """Ask before discarding what was typed; keeping closes with the draft saved."""
        if self.sending:
            return
        draft = self.collect()
        untouched = (draft.to, draft.subject, draft.body) == self._initial
        if draft.empty or (untouched and not self._restored):
            # Nothing typed (an empty form, or a reply left as prefilled): nothing to lose.
            if self._save_timer is not None:
                self._save_timer.stop()
            self.store.delete(draft.lease_id)
            self.app.pop_screen()
            return
        self.save_now()
        from tui.app.dialogs.confirm import ConfirmDialog

        def done(discard: bool | None) -> None:
            if discard:
                self.store.delete(draft.lease_id)
                self.app.notify("Draft discarded")
            else:
                self.app.notify("Draft kept: it comes back when you compose from this lease")
            self.app.pop_screen()

        self.app.push_screen(
            ConfirmDialog("Discard this draft?", yes="Discard", no="Keep draft"), done
        )

"""The inbox's header (address, time left) and status bar (checking state, pace, calls,
messages shown, IMAP, paid calls)."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tui.core.poller import MailboxPoller, PollStatus
from tui.core.sanitize import clean
from tui.core.timefmt import time_left

if TYPE_CHECKING:
    from tui.api.models import Lease

BUSY = ("stopped", "starting", "backing_off", "payment", "limited")
"""Poll states the bar names instead of the last check."""


def header_text(lease: Lease, *, show_older: bool) -> Text:
    """Address, lease time left, older-mail mode."""
    text = Text("Inbox  ", style="bold")
    text.append(clean(lease.address, 80), style="bold cyan")
    text.append(f"   lease {time_left(lease.expires_at)} left", style="dim")
    if show_older:
        text.append("   including mail from before this lease", style="yellow")
    return text


def checking_text(status: PollStatus, asked: bool, now: float) -> Text:
    """Where checking stands: stopped, starting, failing, asked by ``u``, or last checked."""
    text = Text()
    if status.state == "stopped":
        reason = clean(status.reason or "not checking", 60)
        text.append(f"stopped: {reason}", style="bold red")
        text.append(" · r to retry", style="bold")
        if status.error:
            text.append(f" · {clean(status.error, 100)}", style="dim")
    elif status.state == "starting":
        text.append("checking…")
    elif status.state in BUSY:
        reason = clean(status.reason or "offline", 60)
        text.append(f"{reason}: {clean(status.error or '', 120)} · retrying", style="bold red")
    elif asked:
        text.append("checking…")  # ``u`` pressed, its check not back yet
    else:
        checked = datetime.fromtimestamp(status.last_checked or now).strftime("%H:%M:%S")
        text.append(f"checked {checked}")
    if status.next_check is not None:
        wait = max(1, math.ceil(status.next_check - now))
        text.append(f" · next in {wait}s", style="dim")
    return text


def imap_text(imap_status: str, live: bool) -> Text:
    """The IMAP state, cut to fit one line at 80 columns (``?`` shows it whole)."""
    imap = clean(imap_status, 90)
    if len(imap) > 50:
        imap = clean(imap_status, 40) + " (? all)"
    style = "green" if live else ("dim" if imap_status.startswith("IMAP off") else "yellow")
    return Text(imap, style=style)


def status_notes(poller: MailboxPoller | None, imap_status: str) -> list[Text]:
    """The checking and IMAP states in full (what ``?`` shows above the keys: the status bar
    cuts long reasons)."""
    notes = [Text(clean(imap_status, 2000))]
    status = poller.status if poller is not None else None
    if status is not None and (status.reason or status.error):
        line = Text(f"Checking: {clean(status.state, 30)}")
        if status.reason:
            line.append(f" · {clean(status.reason, 500)}")
        if status.error:
            line.append(f" · {clean(status.error, 2000)}")
        notes.append(line)
    return notes


class InboxStatusBar(Static):
    """One fixed line under the inbox (or a message from the error router)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._check_asked: tuple[float | None] | None = None
        """``u`` asked a check while the last one was at this time (the bar says
        "checking…" until a newer check reports)."""

    def check_asked(self, poller: MailboxPoller) -> None:
        """``u`` was pressed: say "checking…" until the poller's next check reports."""
        self._check_asked = (poller.status.last_checked,)

    def show(
        self,
        poller: MailboxPoller,
        *,
        shown: int,
        imap_status: str,
        imap_live: bool,
        paid: Text,
    ) -> None:
        """The whole line: checking, calls this minute, messages shown, IMAP, paid calls."""
        status = poller.status
        asked = self._check_asked is not None and self._check_asked == (status.last_checked,)
        if not asked and status.state not in BUSY:
            self._check_asked = None  # its check reported
        text = checking_text(status, asked, time.time())
        text.append(f" · {poller.calls_last_minute()} calls/min", style="dim")
        text.append(f" · {shown} message{'s' if shown != 1 else ''}", style="dim")
        text.append(" · ", style="dim")
        text.append_text(imap_text(imap_status, imap_live))
        if status.truncated:
            text.append(" · older mail may be missing (over 100 at once)", style="yellow")
        text.append_text(paid)
        self.update(text, layout=False)  # one fixed line

    def say(self, message: str, *, error: bool = False) -> None:
        """A message in place of the line (until the next :meth:`show`)."""
        self.update(Text(message, style="bold red" if error else ""))

"""The inbox's detail pane: headers, the code large, the link with its host, the body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Static

from tui.core.inbox import InboxItem
from tui.core.links import LinkInfo, inspect_link
from tui.core.sanitize import clean, clean_block

if TYPE_CHECKING:
    from tui.imap.message import ImapMessage

CODE_SOURCES = {"server": "server parse", "subject": "from the subject", "body": "from the body"}
"""How the detail pane names where the code was read."""


def link_text(info: LinkInfo) -> Text:
    """The URL with its host emphasised."""
    text = Text()
    url = info.url
    host = info.host
    index = url.lower().find(host) if host else -1
    if index < 0:
        text.append(url)
        return text
    text.append(url[:index], style="dim")
    text.append(url[index : index + len(host)], style="bold underline")
    text.append(url[index + len(host) :], style="dim")
    return text


def waiting_text(address: str) -> Text:
    """What the pane says while the inbox is empty."""
    return Text(
        "Waiting for mail… new messages appear here by themselves.\n"
        f"Send something to {clean(address, 80)}",
        style="dim",
    )


def meta_text(item: InboxItem, address: str) -> Text:
    """From, To, Date and Subject, and what makes the mail special (sample, older)."""
    m = item.message
    when = m.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if m.received_at else "-"
    text = Text()
    for label, value in (
        ("From", m.sender),
        ("To", address),
        ("Date", when),
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
    return text


def code_text(item: InboxItem) -> Text | None:
    """The code large with where it was read, or the server's doubtful guess; None: none."""
    if item.code:
        big = Text(f" {clean(item.code, 16)} ", style="bold black on yellow")
        big.append(f"  {CODE_SOURCES.get(item.code_source, '')}", style="dim")
        if item.server_guess:
            big.append(f"\nserver read: {clean(item.server_guess, 16)}", style="dim")
        return big
    if item.server_guess:
        why = clean(item.guess_doubt, 80) if item.guess_doubt else "not a reliable code"
        return Text(
            f"server's guess: {clean(item.server_guess, 16)}? (doubtful: {why})", style="dim"
        )
    return None


def link_line(url: str) -> Text:
    """The verification link, its host, and what looks wrong with it."""
    info = inspect_link(url)
    line = Text("Link     ", style="bold")
    line.append_text(link_text(info))
    line.append(f"\n         host {info.display_host or '-'}", style="bold green")
    for warning in info.warnings:
        line.append(f"\n         ! {warning}", style="yellow")
    return line


def attachments_text(imap: ImapMessage) -> Text:
    """The attachments IMAP found (the first 50)."""
    from tui.imap.message import size_text

    text = Text("Attachments\n", style="bold")
    for att in imap.attachments[:50]:
        text.append(
            f"  {clean(att.filename or '(unnamed)', 80)}  "
            f"{clean(att.content_type, 60)}  {size_text(att.size)}\n",
            style="dim",
        )
    text.append("  s saves one\n", style="dim italic")
    text.append("\n")
    return text


def body_text(item: InboxItem) -> Text:
    """The body (with IMAP's notice and attachments), or why there is none yet."""
    imap: ImapMessage | None = item.extra.get("imap")
    if not item.body_text:
        if imap is not None and imap.headers_only:
            return Text("(fetching this older message over IMAP…)", style="dim")
        return Text("(the API returns no message body)", style="dim")
    content = Text()
    if imap is not None and imap.notice:
        content.append(clean(imap.notice, 300) + "\n", style="yellow")
    if imap is not None and imap.attachments:
        content.append_text(attachments_text(imap))
    content.append(clean_block(item.body_text, 200_000))
    return content


class MessageDetail(VerticalScroll):
    """The detail of one message (or what the empty inbox waits for)."""

    def compose(self) -> ComposeResult:
        """Headers, code, link, body."""
        yield Static(id="detail-meta")
        yield Static(id="detail-code")
        yield Static(id="detail-link")
        yield Static(id="detail-body")

    _pending: tuple[InboxItem | None, str] | None = None
    """What to show once composed (asked before that: see :meth:`show`)."""

    def on_mount(self) -> None:
        """Show what was asked for before the parts were there."""
        if self._pending is not None:
            self.show(*self._pending)

    def show(self, item: InboxItem | None, address: str) -> None:
        """Show ``item`` (None: the inbox waits for mail to ``address``).

        Asked before its parts are composed (the screen mounting it, seen once in a loaded
        CI run), it shows ``item`` when they are, rather than fail."""
        try:
            meta = self.query_one("#detail-meta", Static)
            code = self.query_one("#detail-code", Static)
            link = self.query_one("#detail-link", Static)
            body = self.query_one("#detail-body", Static)
        except NoMatches:
            self._pending = (item, address)
            return
        self._pending = None
        if item is None:
            meta.update(waiting_text(address))
            for widget in (code, link, body):
                widget.update("")
            code.display = False
            return
        meta.update(meta_text(item, address))
        big = code_text(item)
        code.update(big or "")
        code.display = big is not None
        link.update(link_line(item.link) if item.link else "")
        link.display = bool(item.link)  # an empty auto-height Static kept the layout busy
        body.update(body_text(item))

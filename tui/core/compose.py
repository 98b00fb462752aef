"""Compose and send: recipients, drafts that survive anything, the send use case."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING

from tui.files import read_json, write_json

if TYPE_CHECKING:
    from tui.api.models import SendResult
    from tui.core.ledger import LedgerEntry
    from tui.core.services import Services

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
_ADDR_RE = re.compile(rf"^{_LOCAL}@{_LABEL}(?:\.{_LABEL})+$")
MAX_SUBJECT = 998


class ComposeError(ValueError):
    """Something the user must fix before sending; the message says what."""


class MissingCredentials(ComposeError):
    """The ledger has no password for the lease (allocated elsewhere)."""


def is_address(text: str) -> bool:
    """A plain ``local@domain.tld`` address (no display name, no IP literal)."""
    return bool(_ADDR_RE.match(text)) and len(text) <= 254


def parse_recipients(values: str | list[str]) -> tuple[list[str], list[str]]:
    """Split recipient text on commas, semicolons and whitespace; return (valid, invalid).

    Accepts ``Name <addr>`` forms. Duplicates are removed, order kept.
    """
    raw = values if isinstance(values, list) else [values]
    pieces: list[str] = []
    for value in raw:
        for part in re.split(r"[;,\n]", value):
            part = part.strip()
            if not part:
                continue
            if "<" in part:
                found = [addr for _name, addr in getaddresses([part]) if addr]
                pieces.extend(found or [part])
            else:
                pieces.extend(part.split())
    valid: list[str] = []
    invalid: list[str] = []
    for piece in pieces:
        target = valid if is_address(piece) else invalid
        if piece not in target:
            target.append(piece)
    return valid, invalid


@dataclass
class Draft:
    """What the user typed, saved as they type."""

    lease_id: str
    """The sending lease."""
    to: str = ""
    """Recipients as typed."""
    subject: str = ""
    """Subject."""
    body: str = ""
    """Text body."""
    in_reply_to: str | None = None
    """Message id replied to, if any."""
    updated_at: float = field(default_factory=time.time)
    """Last change."""
    last_error: str | None = None
    """Why the last send failed."""

    @property
    def empty(self) -> bool:
        """Nothing worth keeping."""
        return not (self.to.strip() or self.subject.strip() or self.body.strip())


class DraftStore:
    """One JSON file per lease under ``<state>/drafts`` (0600)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        """Directory of drafts."""

    def _path(self, lease_id: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", lease_id)[:100] or "lease"
        return self.root / f"{safe}.json"

    def load(self, lease_id: str) -> Draft | None:
        """The saved draft of a lease."""
        data = read_json(self._path(lease_id), None)
        if not isinstance(data, dict):
            return None
        try:
            return Draft(**{k: data[k] for k in data if k in Draft.__dataclass_fields__})
        except TypeError:
            return None

    def save(self, draft: Draft) -> None:
        """Write atomically (a crash never leaves half a draft)."""
        draft.updated_at = time.time()
        write_json(self._path(draft.lease_id), asdict(draft))

    def delete(self, lease_id: str) -> None:
        """Forget a sent draft."""
        self._path(lease_id).unlink(missing_ok=True)


def check_draft(draft: Draft) -> tuple[list[str], str, str]:
    """Validate before sending: (recipients, subject, body) or :class:`ComposeError`."""
    valid, invalid = parse_recipients(draft.to)
    if invalid:
        raise ComposeError(f"not an email address: {', '.join(invalid[:5])}")
    if not valid:
        raise ComposeError("add at least one recipient")
    subject = " ".join(draft.subject.split())
    if not subject:
        raise ComposeError("the subject is empty")
    if len(subject) > MAX_SUBJECT:
        raise ComposeError(f"the subject is too long ({MAX_SUBJECT} characters at most)")
    if not draft.body.strip():
        raise ComposeError("the message is empty")
    return valid, subject, draft.body


def sending_credentials(services: Services, lease_id: str) -> LedgerEntry:
    """The ledger entry with the mailbox password, or :class:`MissingCredentials`."""
    entry = services.ledger.get(lease_id)
    if entry is None or not entry.webmail_password:
        raise MissingCredentials(
            "no stored password for this lease (allocated elsewhere): reset its credentials "
            f"first (`mailagents-tui lease credentials {lease_id} --reset --yes`, or p then R "
            "in the TUI)"
        )
    return entry


async def send_text(
    services: Services,
    lease_id: str,
    to: list[str],
    subject: str,
    *,
    text: str | None = None,
    html: str | None = None,
) -> SendResult:
    """Send from a lease's mailbox with its stored password."""
    entry = sending_credentials(services, lease_id)
    valid, invalid = parse_recipients(to)
    if invalid:
        raise ComposeError(f"not an email address: {', '.join(invalid[:5])}")
    if not valid:
        raise ComposeError("add at least one recipient")
    if not subject.strip():
        raise ComposeError("the subject is empty")
    if not (text or html):
        raise ComposeError("the message is empty")
    return await services.client.send_message(
        entry.mailbox_id,
        entry.webmail_password or "",
        valid,
        subject.strip(),
        text=text,
        html=html,
    )


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` without piling up prefixes."""
    text = subject.strip()
    if re.match(r"^(re|aw|sv|antw)\s*:", text, re.IGNORECASE):
        return text
    return f"Re: {text}" if text else "Re:"


NO_CC_NOTE = "No Cc or Bcc: the send API has neither; every address is a To recipient."
"""What compose says instead of offering Cc/Bcc fields it could not honour."""

QUOTE_LIMIT = 20_000
"""Characters of the original quoted in a reply or forward (a huge mail stays usable)."""


def _when(moment: datetime | None) -> str:
    return (
        moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment is not None else "(unknown date)"
    )


def quote_reply(body: str | None, sender: str, received: datetime | None) -> str:
    """The reply's body: two blank lines to write in, then ``On <date>, <sender> wrote:`` and
    the original with each line prefixed ``> `` (``>`` alone on a blank line)."""
    head = f"\n\nOn {_when(received)}, {sender} wrote:\n"
    if not body:
        return head + "> (the original's text is not available: the API returns no body)\n"
    text = body.replace("\r\n", "\n").replace("\r", "\n")[:QUOTE_LIMIT].rstrip("\n")
    lines = [f"> {line}" if line.strip() else ">" for line in text.split("\n")]
    return head + "\n".join(lines) + "\n"


def forward_subject(subject: str) -> str:
    """``Fwd: <subject>`` without piling up prefixes."""
    text = subject.strip()
    if re.match(r"^(fwd?|wg|tr)\s*:", text, re.IGNORECASE):
        return text
    return f"Fwd: {text}" if text else "Fwd:"


def forward_body(
    body: str | None, sender: str, to: str, subject: str, received: datetime | None
) -> str:
    """The forward's body: room to write, then the original's headers and text."""
    original = body or "(the original's text is not available: the API returns no body)"
    original = original.replace("\r\n", "\n").replace("\r", "\n")[:QUOTE_LIMIT]
    return (
        "\n\n---------- Forwarded message ----------\n"
        f"From: {sender}\nDate: {_when(received)}\nSubject: {subject}\nTo: {to}\n\n"
        f"{original.rstrip()}\n"
    )

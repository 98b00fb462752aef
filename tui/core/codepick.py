"""What ``wait-otp`` may return: mail identity, what was returned before, filters, doubtful guesses.

Pure decisions over inbox items (no I/O but the small ``returned.json`` ledger); the waiting loop
lives in :mod:`tui.core.waiter`.

Semantics (per lease, separately for codes and links):

- A mail is known by its message: its IMAP UID (with UIDVALIDITY), the API's message id and its
  ``Message-ID``, paired as the inbox pairs the API's list with IMAP's (never by sender, subject
  or minute: a resent mail has the same three).
- ``wait-otp`` returns the value of the newest mail received since the lease began that it has
  not returned before; once it returned one, a later call returns only mail newer than that one
  (never an older, unreturned mail: a retrying agent must not get a stale code).
- ``--fresh`` also skips every mail that was already there when the call started.
- A code only the server read (no body to check) that our rules doubt (a year, a word...: see
  :func:`tui.extract.judge_server_guess`) is never returned; the caller is told which guess
  was ignored and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeAlias

from tui.api.models import iso_z, parse_timestamp
from tui.core.inbox import InboxItem, arrival_slack
from tui.core.sanitize import clean
from tui.files import locked, read_json, write_json
from tui.jsontypes import JsonObject, JsonValue

KEEP = 500
"""Returned mails remembered per lease and kind."""


@dataclass(frozen=True)
class MailIdentity:
    """One mail as both sources know it, and when it arrived."""

    api_id: str | None = None
    """The API's ``message_id`` (None for mail only IMAP has listed so far)."""
    uid: tuple[int, int] | None = None
    """(UIDVALIDITY, UID) in the lease's IMAP INBOX."""
    header_id: str | None = None
    """The ``Message-ID`` header (read over IMAP)."""
    received_at: datetime | None = None
    """Arrival time (the API's milliseconds, or IMAP's whole seconds)."""
    slack_s: float = 0.0
    """How much later than ``received_at`` it may have arrived (IMAP's times are cut)."""

    def same(self, other: MailIdentity) -> bool:
        """The same mail? The UID decides when both have one of the same UIDVALIDITY (a code
        read over IMAP came from that message's body, whichever API row it was paired with),
        else the API id, else the ``Message-ID``."""
        if self.uid and other.uid and self.uid[0] == other.uid[0]:
            return self.uid == other.uid
        if self.api_id and other.api_id:
            return self.api_id == other.api_id
        if self.header_id and other.header_id:
            return self.header_id == other.header_id
        return False

    def newer_than(self, other: MailIdentity) -> bool:
        """Arrived after ``other`` (another mail): UIDs of one UIDVALIDITY grow with arrival;
        otherwise times, giving the benefit of IMAP's cut seconds to the newer side."""
        if self.uid and other.uid and self.uid[0] == other.uid[0]:
            return self.uid[1] > other.uid[1]
        if self.received_at is None or other.received_at is None:
            return self.received_at is not None or other.received_at is None
        return self.received_at + timedelta(seconds=self.slack_s) > other.received_at

    def to_json(self) -> JsonObject:
        """As stored in ``returned.json``."""
        return {
            "api_id": self.api_id,
            "uid": list(self.uid) if self.uid else None,
            "header_id": self.header_id,
            "received_at": iso_z(self.received_at),
            "slack_s": self.slack_s,
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> MailIdentity | None:
        """Back from ``returned.json`` (None for anything unreadable or an old entry)."""
        if not isinstance(data, dict):
            return None

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        raw_uid = data.get("uid")
        uid = None
        if (
            isinstance(raw_uid, list)
            and len(raw_uid) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in raw_uid)
        ):
            uid = (raw_uid[0], raw_uid[1])
        received = text("received_at")
        slack = data.get("slack_s")
        identity = cls(
            api_id=text("api_id"),
            uid=uid,
            header_id=text("header_id"),
            received_at=parse_timestamp(received),
            slack_s=float(slack) if isinstance(slack, int | float) else 0.0,
        )
        return identity if identity.api_id or identity.uid or identity.header_id else None


IdentityKey: TypeAlias = tuple[str, str | tuple[int, int]]
"""One way to find a mail: ``("api", id)``, ``("uid", (uidvalidity, uid))`` or
``("header", Message-ID)``."""


class IdentitySet:
    """Mail identities, found by any of their keys (then checked with :meth:`MailIdentity.same`):
    a look-up costs the same for ten mails or ten thousand."""

    def __init__(self, identities: list[MailIdentity] | None = None) -> None:
        self._by_key: dict[IdentityKey, list[MailIdentity]] = {}
        for identity in identities or []:
            self.add(identity)

    @staticmethod
    def _keys(identity: MailIdentity) -> list[IdentityKey]:
        keys: list[IdentityKey] = []
        if identity.api_id:
            keys.append(("api", identity.api_id))
        if identity.uid:
            keys.append(("uid", identity.uid))
        if identity.header_id:
            keys.append(("header", identity.header_id))
        return keys

    def add(self, identity: MailIdentity) -> None:
        """Remember one more mail."""
        for key in self._keys(identity):
            self._by_key.setdefault(key, []).append(identity)

    def __contains__(self, identity: object) -> bool:
        if not isinstance(identity, MailIdentity):
            return False
        return any(
            identity.same(known)
            for key in self._keys(identity)
            for known in self._by_key.get(key, ())
        )


def identity_of(item: InboxItem, uidvalidity: int | None = None) -> MailIdentity:
    """The identity of an inbox item (an API row, an IMAP-only row or a pair of both)."""
    imap = item.extra.get("imap")
    uid = getattr(imap, "uid", None)
    header_id = getattr(imap, "message_id", None)
    return MailIdentity(
        api_id=None if item.message.parsed_status == "imap" else item.message_id,
        uid=(uidvalidity, uid) if uidvalidity is not None and isinstance(uid, int) else None,
        header_id=header_id.strip() if isinstance(header_id, str) and header_id.strip() else None,
        received_at=item.received_at,
        slack_s=arrival_slack(item.message).total_seconds(),
    )


@dataclass
class ReturnedCodes:
    """The mails whose code or link an earlier ``wait-otp`` printed (per lease and kind).

    The last one is the high-water mark: a later call returns only newer mail.
    """

    path: Path
    """``returned.json`` in the state dir (0600)."""

    def get(self, lease_id: str, kind: str) -> list[MailIdentity]:
        """Returned mails for this lease and kind (``otp`` or ``link``), oldest first."""
        data = read_json(self.path, {})
        value = data.get(f"{lease_id}:{kind}") if isinstance(data, dict) else None
        if not isinstance(value, list):
            return []
        found = (
            legacy_identity(v) if isinstance(v, str) else MailIdentity.from_json(v) for v in value
        )
        return [i for i in found if i is not None]

    def add(self, lease_id: str, kind: str, identity: MailIdentity) -> None:
        """Remember that this mail's value was returned."""
        with locked(self.path):
            data = read_json(self.path, {})
            if not isinstance(data, dict):
                data = {}
            key = f"{lease_id}:{kind}"
            kept = data.get(key)
            kept = kept if isinstance(kept, list) else []
            data[key] = [*kept, identity.to_json()][-KEEP:]
            write_json(self.path, data)


def legacy_identity(entry: str) -> MailIdentity | None:
    """An entry of an older ``returned.json``: an API message id, or ``sender|subject|minute``
    (then the mark is the end of that minute: nothing of it or before is returned again)."""
    if "|" not in entry:
        return MailIdentity(api_id=entry) if 0 < len(entry) <= 200 else None
    minute = entry.rpartition("|")[2]
    if not minute.isdigit() or len(minute) > 12:
        return None
    end = datetime.fromtimestamp(int(minute) * 60 + 60, UTC) - timedelta(milliseconds=1)
    return MailIdentity(header_id=f"legacy:{entry[:300]}", received_at=end)


def bad_regex(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used (None when it compiles and cannot match nothing)."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    if compiled.fullmatch(""):
        return "the pattern matches an empty string"
    return None


@dataclass(frozen=True)
class CodeFilter:
    """Which mail counts, and (``pattern``) what a code looks like."""

    sender: str | None = None
    """A case-insensitive part of the sender (address or display name)."""
    subject: str | None = None
    """A case-insensitive part of the subject."""
    match: re.Pattern[str] | None = None
    """Searched in the subject, then the body (the body is read over IMAP only)."""
    pattern: re.Pattern[str] | None = None
    """A custom code shape: its first match (group 1 when it has groups) in the subject, then
    the body, is the code; without a body, the server's code if it is exactly of that shape."""

    def selects(self, item: InboxItem) -> bool:
        """Whether the item passes the sender, subject and match filters."""
        m = item.message
        if self.sender:
            imap = item.extra.get("imap")
            names = f"{m.sender}\n{getattr(imap, 'sender', '')}\n{getattr(imap, 'sender_name', '')}"
            if self.sender.casefold() not in names.casefold():
                return False
        if self.subject and self.subject.casefold() not in m.subject.casefold():
            return False
        return not self.match or any(self.match.search(text) for text in _texts(item))

    def custom_code(self, item: InboxItem) -> str | None:
        """The code of :attr:`pattern` in the item (None without a pattern or a match)."""
        if self.pattern is None:
            return None
        for text in _texts(item):
            for found in self.pattern.finditer(text):
                value = found.group(1) if self.pattern.groups else found.group(0)
                if value and value.strip():
                    return value.strip()
        guess = item.message.otp_code
        if item.body_text is None and guess and self.pattern.fullmatch(guess):
            return guess  # the server read the body the client has not
        return None


def _texts(item: InboxItem) -> list[str]:
    """Subject, then body (when a source read it)."""
    return [item.message.subject, *([item.body_text] if item.body_text else [])]


@dataclass(frozen=True)
class Picked:
    """What ``wait-otp`` returns."""

    value: str
    """The code (or link) to print."""
    item: InboxItem
    """The mail it came from."""
    source: str
    """``api`` or ``imap``."""
    identity: MailIdentity
    """The mail's identity (remembered as returned)."""

    def as_json(self, want_link: bool) -> JsonObject:
        """``wait-otp --json`` (and the Python API's result): ``code`` (None with ``--link``),
        ``link``, ``message_id``, ``sender``, ``subject``, ``received_at``, ``source`` and
        ``doubtful``: the code is the service's reading of a body this client could not read
        (it passed our checks, but nothing confirms it). Untrusted text is cleaned."""
        m = self.item.message
        return {
            "code": None if want_link else clean(self.value, 200),
            "link": clean(self.value if want_link else (self.item.link or ""), 2000) or None,
            "message_id": self.item.message_id,
            "sender": clean(m.sender, 200),
            "subject": clean(m.subject, 300),
            "received_at": iso_z(self.item.received_at),
            "source": self.source,
            "doubtful": self.item.code_source == "server" and not want_link,
        }


@dataclass
class CodePicker:
    """Chooses the value to return from the lease's items (newest first)."""

    want_link: bool = False
    """A verification link instead of a code."""
    filters: CodeFilter = field(default_factory=CodeFilter)
    """Which mail counts."""
    returned: list[MailIdentity] = field(default_factory=list)
    """Mails returned by earlier calls (oldest first; the last one is the high-water mark)."""
    fresh: bool = False
    """Skip the mail of the first snapshot (there before the call started)."""
    on_ignored: Callable[[InboxItem, str, str], None] | None = None
    """Told once per mail about a server guess it ignored: ``(item, guess, reason)``."""
    _before: IdentitySet | None = None
    _told: set[str] = field(default_factory=set)
    _ids: dict[tuple[str, int | None, int | None], MailIdentity] = field(default_factory=dict)

    def _identity(self, item: InboxItem, uidvalidity: int | None) -> MailIdentity:
        """:func:`identity_of`, remembered per row key and UID (a big mailbox is re-read on
        every look)."""
        key = (item.message_id, getattr(item.extra.get("imap"), "uid", None), uidvalidity)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = identity_of(item, uidvalidity)
        return found

    def pick(
        self, entries: list[tuple[InboxItem, str]], uidvalidity: int | None = None
    ) -> Picked | None:
        """The newest eligible value of ``entries`` ((item, source), newest first), or None."""
        if self.fresh and self._before is None:
            self._before = IdentitySet([self._identity(item, uidvalidity) for item, _ in entries])
            return None
        mark = self.returned[-1] if self.returned else None
        returned = IdentitySet(self.returned)
        for item, source in entries:
            if item.sample or item.foreign or not self.filters.selects(item):
                continue
            identity = self._identity(item, uidvalidity)
            if mark is not None and not identity.newer_than(mark):
                continue
            if identity in returned or (self._before is not None and identity in self._before):
                continue
            value = self._value(item)
            if value is not None:
                return Picked(value, item, source, identity)
            doubt = doubtful_guess(item)
            if doubt is not None:
                self._tell(item, *doubt)
        return None

    def _value(self, item: InboxItem) -> str | None:
        if self.want_link:
            return item.link
        if self.filters.pattern is not None:
            custom = self.filters.custom_code(item)
            doubted = _doubted(item)
            if custom is not None and custom == doubted and doubted not in _texts(item)[0]:
                return None  # only the server's guess, and a doubtful one
            return custom
        return item.code

    def _tell(self, item: InboxItem, guess: str, reason: str) -> None:
        if self.on_ignored is not None and item.message_id not in self._told:
            self._told.add(item.message_id)
            self.on_ignored(item, guess, reason)


def doubtful_guess(item: InboxItem) -> tuple[str, str] | None:
    """(guess, why) when the item's only code is the server's guess, judged doubtful without
    a body (:func:`tui.extract.judge_server_guess`, see :func:`tui.core.inbox.build_item`)."""
    guess = _doubted(item)
    return (guess, item.guess_doubt) if guess else None


def _doubted(item: InboxItem) -> str | None:
    if item.code or item.sample or item.body_text is not None or not item.guess_doubt:
        return None
    return item.server_guess

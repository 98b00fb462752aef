"""Inbox items: what the UI and the CLI show for one message, whatever its source.

The API's own parser is often wrong (it returns words such as ``WITHIN`` or ``NULL`` as codes,
and years as codes); the reference server also inserts a fake sample message with code
``123456`` on every allocation. This module decides what to present as *the* code, what is only
the server's guess, and what is a sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tui.api.models import Message
from tui.escapes import strip_escapes

if TYPE_CHECKING:
    from tui.imap.message import ImapMessage

SAMPLE_SENDER = "noreply@example.com"
SAMPLE_LINK = "https://example.com/verify?token=test-token"

IMAP_SLACK = timedelta(seconds=1)
"""IMAP's INTERNALDATE has whole seconds (cut, not rounded): a mail arrived up to 1 s after
the time it shows."""


def arrival_slack(message: Message) -> timedelta:
    """How much later than its time a message may have arrived: IMAP times have whole seconds
    (an IMAP-only row); the API's have milliseconds."""
    received = message.received_at
    whole = received is not None and received.microsecond == 0
    return IMAP_SLACK if message.parsed_status == "imap" or whole else timedelta(0)


def lease_bounds(
    message: Message, lease_started: datetime | None, lease_ended: datetime | None
) -> tuple[bool, bool]:
    """(before the lease began, after it ended), counting a doubtful time as another lessee's.

    A time cut to the second that could be either side of the start or the end of the lease
    (the same second) counts as outside it: an earlier lessee's code must never look like
    this lease's. The API's millisecond times settle it once it lists the mail.
    """
    received = message.received_at
    if received is None:
        return False, False
    before = bool(lease_started and received < lease_started)
    after = bool(lease_ended and received + arrival_slack(message) > lease_ended)
    return before, after


def is_sample(message: Message) -> bool:
    """The reference server's fake message inserted on allocation (never a real code)."""
    return (
        message.sender.lower() == SAMPLE_SENDER and (message.verification_link or "") == SAMPLE_LINK
    )


@dataclass
class InboxItem:
    """One row of an inbox, merged from the API (and, later, IMAP)."""

    message: Message
    """The API's message (subject, sender, server parse)."""
    code: str | None = None
    """The code the client trusts enough to show as the code (None: no code)."""
    code_source: str = ""
    """``body`` (our extractor on the full message), ``subject`` or ``server``."""
    server_guess: str | None = None
    """The server's ``otp_code`` when it differs from :attr:`code` (shown as its guess)."""
    guess_doubt: str = ""
    """Why the server's guess is not the code, when the client judged it without a body
    (``looks like a year``; see :func:`tui.extract.judge_server_guess`)."""
    link: str | None = None
    """The verification link to offer."""
    sample: bool = False
    """The fake sample message of the reference server."""
    before_lease: bool = False
    """Received before the current lease started (an earlier lessee's mail)."""
    after_lease: bool = False
    """Received after the lease was released (a later lessee's mail)."""

    @property
    def foreign(self) -> bool:
        """Another lessee's mail (before the lease started or after it ended)."""
        return self.before_lease or self.after_lease

    body_text: str | None = None
    """The text body, when a source provided one."""
    extra: dict[str, ImapMessage] = field(default_factory=dict)
    """Source-specific details: ``imap``, the IMAP message read (uid, body, attachments...)."""

    @property
    def message_id(self) -> str:
        """The API message id."""
        return self.message.message_id

    @property
    def received_at(self) -> datetime | None:
        """When it arrived."""
        return self.message.received_at


def build_item(
    message: Message,
    lease_started: datetime | None = None,
    lease_ended: datetime | None = None,
    *,
    read_subject: bool = True,
) -> InboxItem:
    """Decide code, guess, link and flags for an API message.

    Our own extractor on the subject wins when it finds a code (the subject is the only text
    the API returns). Otherwise the server's code is judged by our rules over what the API
    gives (:func:`tui.extract.judge_server_guess`): shown as the code only when nothing makes
    it doubtful; a year, a date, a price, an order number or a word such as ``WITHIN`` is only
    the server's guess, with the reason in :attr:`InboxItem.guess_doubt`.
    ``read_subject=False`` skips our reading of the subject and the judging of the server's
    guess (the caller has the message read over IMAP, and :func:`with_body` decides code and
    guess from it: the subject is already read there, once).
    """
    from tui.extract import analyze_parts, judge_server_guess

    sample = is_sample(message)
    ours = analyze_parts(subject=message.subject) if message.subject and read_subject else None
    server_code = message.otp_code
    code: str | None = None
    source = ""
    doubt = ""
    if ours is not None and ours.otp:
        code, source = ours.otp, "subject"
    elif server_code and read_subject:
        verdict = judge_server_guess(server_code, subject=message.subject, sender=message.sender)
        if verdict.doubtful:
            doubt = verdict.reason
        else:
            # Found in the body, which the client cannot see: the server's word for it.
            code, source = server_code, "server"
    guess = server_code if server_code and server_code != code else None
    before, after = lease_bounds(message, lease_started, lease_ended)
    return InboxItem(
        message=message,
        code=None if sample else code,
        code_source=source,
        server_guess=server_code if sample else guess,
        guess_doubt="" if sample else doubt,
        link=message.verification_link,
        sample=sample,
        before_lease=before,
        after_lease=after,
    )


MATCH_WINDOW_S = 60.0
"""An API message and an IMAP message within this many seconds (same sender and subject) are
the same mail: the API never returns a Message-ID to match on."""


def doubtful_start(imap: ImapMessage, lease_started: datetime | None) -> bool:
    """An IMAP time in the very second the lease began: this lease's mail or the last one's?
    (Shown as the earlier lessee's until the API lists it with its milliseconds.)"""
    received = getattr(imap, "received", None)
    if received is None or lease_started is None:
        return False
    return received < lease_started < received + IMAP_SLACK


def imap_message_id(uid: int) -> str:
    """The row key of a message known only over IMAP."""
    return f"imap:{uid}"


_MESSAGE_FIELDS = {f.name: None if f.default is MISSING else f.default for f in fields(Message)}
"""Every field of a :class:`Message` in order, with its default (None for the others)."""


def imap_as_message(imap: ImapMessage) -> Message:
    """A :class:`Message` for a mail the API has not listed (yet).

    Made as the dataclass's ``__init__`` makes it, without a frozen dataclass's
    ``object.__setattr__`` per field: a big mailbox's first sync makes 10,000 of them at once
    on the UI's time (``Message`` has neither slots nor ``__post_init__``: a test holds it)."""
    message: Message = object.__new__(Message)
    message.__dict__.update(_MESSAGE_FIELDS)  # (the fields' order, as __init__ sets them)
    message.__dict__.update(
        message_id=imap_message_id(imap.uid),
        sender=imap.sender,
        subject=imap.subject,
        received_at=imap.when,
        otp_code=None,
        verification_link=None,
        parsed_status="imap",
    )
    return message


def match_key(text: str) -> str:
    """A subject or sender as both sources can agree on it: encoded words decoded, case
    folded, without white space or control characters (one source squeezes a control to a
    space, another drops it); the API's ``(no subject)`` counts as no subject."""
    if "=?" in text:
        from tui.extract.decode import decode_header_value

        text = decode_header_value(text)
    text = strip_escapes(text)  # one source may keep an escape's text, the other drops it whole
    if text.isprintable():  # the usual case: only white space to drop (split drops exactly
        key = "".join(text.split()).casefold()  # what isspace() names), without a loop
    else:
        key = "".join(ch for ch in text if ch.isprintable() and not ch.isspace()).casefold()
    return "" if key == "(nosubject)" else key


def _apart(message: Message, imap: ImapMessage) -> float:
    """Seconds between the API's arrival time and the closer of IMAP's two times.

    The live service takes ``received_at`` from the Date header, IMAP's INTERNALDATE is the
    arrival: either may be the one the API used. Both have whole seconds (cut): a time
    ``t`` stands for the second ``[t, t + 1)``, so 12:00:18.578 is 0 s from 12:00:18 and
    0.422 s from 12:00:19 (a resend the next second must not take the first mail's place).
    """
    if message.received_at is None:
        return 0.0
    times = [t for t in (imap.received, imap.date) if t is not None]
    if not times:
        return 0.0
    gaps = []
    for t in times:
        late = (message.received_at - t).total_seconds()
        whole = t.microsecond == 0
        gaps.append(max(0.0, -late, late - 1.0) if whole else abs(late))
    return min(gaps)


def _near(messages: list[Message]) -> Callable[[ImapMessage], bool]:
    """Whether an IMAP message could pair with one of ``messages`` by time (:func:`_apart`
    within :data:`MATCH_WINDOW_S`): a time of it between the API's earliest and latest, with
    the window and IMAP's whole second to spare, or no time at all. Only those need their
    subject keyed (a big mailbox's older mail is far from the newest hundred the API lists)."""
    times = [m.received_at for m in messages]
    if not times:
        return lambda imap: False
    if any(t is None for t in times):
        return lambda imap: True  # an API message without a time pairs at any time
    spare = timedelta(seconds=MATCH_WINDOW_S + 2)
    low = min(t for t in times if t is not None) - spare
    high = max(t for t in times if t is not None) + spare

    def near(imap: ImapMessage) -> bool:
        received = imap.received
        if received is not None and low <= received <= high:
            return True
        date = imap.date
        return (received is None and date is None) or (date is not None and low <= date <= high)

    return near


def match_imap(messages: list[Message], imap_messages: list[ImapMessage]) -> dict[str, ImapMessage]:
    """Pair API messages with IMAP ones: message_id -> ImapMessage.

    The API returns no Message-ID, so a pair is the same subject within
    :data:`MATCH_WINDOW_S`, the closest in time first; the same sender too in a first pass,
    then, for what is left, any sender (the API may give the envelope sender, IMAP the
    ``From`` or nothing). Ties (a resend in the same second as the first mail: IMAP's times
    have whole seconds) go in arrival order: the older API message takes the lower UID, so a
    pair never changes when the newer twin shows up.
    """
    near = _near(messages)
    by_subject: dict[str, list[ImapMessage]] = {}
    for imap in sorted(imap_messages, key=lambda m: m.uid):
        if near(imap):
            by_subject.setdefault(match_key(imap.subject), []).append(imap)
    oldest_first = sorted(
        messages,
        key=lambda m: (m.received_at.timestamp() if m.received_at else 0.0, m.message_id),
    )
    pairs: dict[str, ImapMessage] = {}
    used: set[int] = set()
    for same_sender in (True, False):
        for message in oldest_first:
            if message.message_id in pairs:
                continue
            sender = match_key(message.sender)
            best: tuple[float, ImapMessage] | None = None
            for imap in by_subject.get(match_key(message.subject), []):
                if imap.uid in used or (same_sender and match_key(imap.sender) != sender):
                    continue
                apart = _apart(message, imap)
                if apart <= MATCH_WINDOW_S and (best is None or apart < best[0]):
                    best = (apart, imap)
            if best is not None:
                pairs[message.message_id] = best[1]
                used.add(best[1].uid)
    return pairs


def arrived(message: Message, imap: ImapMessage) -> Message:
    """The API's message with IMAP's arrival time (INTERNALDATE), when the two differ by more
    than IMAP's whole seconds (otherwise the API's milliseconds are kept).

    The live service takes ``received_at`` from the sender's Date header, which may be off by
    minutes (or claim a time before the lease began); the mail server's arrival time is what
    places a mail in a lease, and orders the list.
    """
    received = getattr(imap, "received", None)
    if received is None or received == message.received_at:
        return message
    if message.received_at is not None and abs(message.received_at - received) <= 2 * IMAP_SLACK:
        return message  # the same moment: the API's milliseconds are the more precise
    from dataclasses import replace

    return replace(message, received_at=received)


def merge_sources(
    messages: list[Message],
    imap_messages: list[ImapMessage],
    as_message: Callable[[ImapMessage], Message] = imap_as_message,
) -> tuple[dict[str, Message], dict[str, ImapMessage]]:
    """One message per mail, by row key (the API's id, or ``imap:<uid>`` for mail only IMAP
    has), and the IMAP message of every key that has one.

    A paired API message takes IMAP's arrival time (:func:`arrived`); ``as_message`` makes
    the row of a mail only IMAP has (:func:`imap_as_message`, or a memory of it).
    """
    pairs = match_imap(messages, imap_messages) if imap_messages else {}
    merged: dict[str, Message] = {}
    for message in messages:
        imap = pairs.get(message.message_id)
        merged[message.message_id] = message if imap is None else arrived(message, imap)
    imap_of = dict(pairs)
    paired = {imap.uid for imap in pairs.values()}
    for imap in imap_messages:
        if imap.uid not in paired:
            key = imap_message_id(imap.uid)
            merged[key] = as_message(imap)
            imap_of[key] = imap
    return merged, imap_of


def newest_first(messages: list[Message]) -> list[str]:
    """Row keys, newest first (ties by key, so the order is stable)."""
    return [
        m.message_id
        for m in sorted(
            messages,
            key=lambda m: (m.received_at.timestamp() if m.received_at else 0.0, m.message_id),
            reverse=True,
        )
    ]


def with_body(item: InboxItem, imap: ImapMessage) -> InboxItem:
    """An item completed with what IMAP read: our code from the body, the body, attachments.

    The server's code stays beside ours as its guess when it differs.
    """
    server_code = item.message.otp_code
    code = imap.otp if not item.sample else None
    return InboxItem(
        message=item.message,
        code=code,
        code_source=("subject" if getattr(imap, "headers_only", False) else "body") if code else "",
        server_guess=server_code if server_code and server_code != code else None,
        link=imap.link or item.link,
        sample=item.sample,
        before_lease=item.before_lease,
        after_lease=item.after_lease,
        body_text=imap.text,
        extra={"imap": imap},
    )

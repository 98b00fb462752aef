"""Judge the server's code guess when the client has no body to read (API-only mail).

The service's parser returns the first ``code <word>`` or the first 4-8 digit number of a
message (:mod:`tui.extract.baseline`): a year in a copyright footer, an order number or a word
such as ``WITHIN``. Without the body, the client can only weigh the guess against what the API
gives: the guess itself, the subject and the sender. :func:`judge_server_guess` runs the
extractor's own rules over those and says whether the guess is doubtful, and why.

>>> judge_server_guess("2026", subject="Your Shopify login code").reason
'looks like a year'
>>> judge_server_guess("482913", subject="Your Shopify login code").doubtful
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.extract.core import subject_otp
from tui.extract.otp import _MEETING, _labels, _mask

_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"[A-Za-z]+")
_WORD_PLUS_NUMBER = re.compile(r"[A-Za-z]{3,}\d{1,4}|\d{1,4}[A-Za-z]{3,}")
# What a number masked in the subject was read as: (what, text before it, text after it).
_CONTEXT = (
    ("a price", re.compile(r"[$€£¥₹₩]\s?[\d,. ]*$"),
     re.compile(r"^[\d,.]*\s?(?:€|円|元|usd|eur|gbp|jpy|cny|rmb|chf|kr)", re.I)),
    ("a percentage", None, re.compile(r"^\s?%")),
    ("a time", re.compile(r"\d:$"), re.compile(r"^:\d|^\s?[ap]\.?m\.?(?![a-z])", re.I)),
    ("a date", re.compile(r"\d\s?[-/.]\s?$|[年月]\s?$"),
     re.compile(r"^\s?[-/.]\s?\d|^\s?[年月日]")),
    ("a phone number", re.compile(r"(?:\+|\(|\d[\s.)-])[\d\s().-]*$"), re.compile(r"^[\s.-]\d")),
)  # fmt: skip
_ORDERISH = re.compile(
    r"^(?:orders?|order-?update|billing|invoices?|receipts?|shipping|shipment|delivery|"
    r"tracking|sales|store|shop|support|help|helpdesk|tickets?|service|care|bookings?|"
    r"reservations?|newsletter|news|digest|marketing|promo|offers|deals)(?:[._+-]|$)",
    re.I,
)


_INVITATION = re.compile(
    r"(?:updated\s+|new\s+event\s*:\s*|accepted\s*:\s*)?invitation\s*:|einladung\s*:|"
    r"invitation\s+mise\s+à\s+jour|invitación\s*:",
    re.I,
)


@dataclass(frozen=True)
class GuessVerdict:
    """What the client makes of the server's code guess for a mail it cannot read."""

    value: str
    """The guess as the server gave it."""
    kind: str
    """Its shape: ``digits``, ``letters``, ``letters and digits`` or ``other``."""
    doubtful: bool
    """True when the guess should not be presented (or returned) as the code."""
    reason: str = ""
    """Why it is doubtful, in a few words (``looks like a year``); empty when it is not."""


def _kind(value: str) -> str:
    if value.isdigit():
        return "digits"
    if value.isalpha():
        return "letters"
    if value.isalnum():
        return "letters and digits"
    return "other"


def _year(value: str) -> bool:
    return len(value) == 4 and value.isdigit() and 1900 <= int(value) <= 2099


def _date(value: str) -> bool:
    """An 8-digit YYYYMMDD, DDMMYYYY or MMDDYYYY with a plausible year, month and day."""
    if len(value) != 8 or not value.isdigit():
        return False
    for y, m, d in ((value[:4], value[4:6], value[6:]), (value[4:], value[2:4], value[:2])):
        if 1990 <= int(y) <= 2099 and 1 <= int(m) <= 12 and 1 <= int(d) <= 31:
            return True
    y, m, d = value[4:], value[:2], value[2:4]
    return 1990 <= int(y) <= 2099 and 1 <= int(m) <= 12 and 1 <= int(d) <= 31


def _in_subject(value: str, subject: str) -> str | None:
    """Why the subject's own occurrence of ``value`` is not a code (None: it may be one)."""
    lower, needle = subject.lower(), value.lower()
    at = lower.find(needle)
    while at >= 0:
        before_ok = at == 0 or not subject[at - 1].isalnum()
        after = at + len(needle)
        after_ok = after >= len(subject) or not subject[after].isalnum()
        if before_ok and after_ok:
            break
        at = lower.find(needle, at + 1)
    if at < 0:
        return None
    chosen, cands = subject_otp(subject)  # usually already read by analyze_parts
    if chosen is not None and chosen.lower() == needle:
        return None
    if chosen is not None:
        return f"the subject's code is {chosen}"
    if _mask(subject)[at : at + len(needle)] != subject[at : at + len(needle)]:
        head, tail = subject[max(0, at - 12) : at], subject[at + len(needle) : at + len(needle) + 8]
        for what, head_rx, tail_rx in _CONTEXT:
            if (head_rx and head_rx.search(head)) or tail_rx.search(tail):
                return f"looks like {what} in the subject"
        return "in the subject, not as a code"
    for cand in cands:
        if cand.value.lower() == needle:
            m = re.search(r"after decoy label '([^']+)'", cand.reason)
            if m:
                return f"looks like an order or ticket number (after '{m.group(1)}')"
            if "quantity" in cand.reason:
                return "looks like a quantity in the subject"
            if "address or footer line" in cand.reason:
                return "looks like part of an address in the subject"
            break
    return "in the subject, not as a code"


def _decoy_subject(subject: str) -> str | None:
    """The decoy word of a subject about an order, invoice, ticket... that names no code."""
    decoy = None
    for _, _, kind, word in _labels(subject):
        if kind in ("strong", "generic"):
            return None
        if kind == "decoy" and decoy is None and len(word) > 2 and word not in ("©", "(c)"):
            decoy = " ".join(word.split())
    return decoy


def judge_server_guess(guess: str, *, subject: str = "", sender: str = "") -> GuessVerdict:
    """Judge the server's ``otp_code`` for a mail whose body the client has not read.

    Doubtful (with a reason): a word (``WITHIN``, ``NULL``), a word plus a number (a promo
    code), fewer than 4 characters, a year, a date, a number the subject shows as a price,
    date, time, phone number or after an order/ticket label, a number in a subject whose code
    is another one, any guess in a meeting invitation (a meeting ID or passcode), and a
    number in a mail whose subject (or sender) is about an order,
    invoice, ticket or newsletter and names no code. Anything else is not doubtful: the server
    read it in a body the client cannot see.

    Pure and cheap (reads only the subject); never raises. The signature is stable: the inbox
    (:func:`tui.core.inbox.build_item`) and ``wait-otp`` both call it.
    """
    value = (guess or "").strip()
    kind = _kind(value)
    try:
        reason = _judge(value, kind, subject or "", sender or "")
    except Exception:  # pragma: no cover - defensive: a guess we cannot judge is doubtful
        reason = "could not be checked"
    return GuessVerdict(value=value, kind=kind, doubtful=bool(reason), reason=reason or "")


def _judge(value: str, kind: str, subject: str, sender: str) -> str | None:
    if not value:
        return "empty"
    if kind == "other":
        return "not a code's shape"
    if kind == "letters":
        return "looks like a word"
    if len(value) < 4:
        return "too short for a code"
    if kind == "letters and digits" and _WORD_PLUS_NUMBER.fullmatch(value):
        return "looks like a word plus a number (a promo code?)"
    if _year(value):
        return "looks like a year"
    if _date(value):
        return "looks like a date"
    subject = " ".join(subject.split())[:2000]
    in_subject = _in_subject(value, subject) if subject else None
    if in_subject:
        return in_subject
    if subject and (_INVITATION.match(subject) or _MEETING.search(subject)):
        return "looks like a meeting ID or passcode (the subject is a meeting invitation)"
    if kind == "digits":
        decoy = _decoy_subject(subject) if subject else None
        if decoy:
            return f"looks like an order or ticket number (the subject is about '{decoy}')"
        local = sender.rsplit("@", 1)[0].strip().strip("<\"'") if "@" in sender else ""
        local = local.rsplit("<", 1)[-1]
        if local and _ORDERISH.match(local) and not _names_a_code(subject):
            return f"looks like an order or ticket number (sent by {local}@)"
    return None


def _names_a_code(subject: str) -> bool:
    return any(kind in ("strong", "generic") for _, _, kind, _ in _labels(subject))

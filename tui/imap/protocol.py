"""Pure parsing of the IMAP responses the reader needs (as aioimaplib hands them over).

aioimaplib gives a command's untagged lines without their ``* `` prefix, as ``bytes``, with
each literal as a separate ``bytearray`` right after the line that announced it (``{N}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_FETCH_START = re.compile(rb"^(\d+) FETCH \(")
_LITERAL = re.compile(rb"\{(\d+)\}$")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]*)"')
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_CODE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]")
_EXISTS = re.compile(rb"^(\d+) EXISTS\b")


@dataclass(slots=True)
class FetchItem:
    """One ``n FETCH (...)`` response: its text (literals left out) and its literal, if any."""

    seq: int
    """Message sequence number."""
    text: bytes = b""
    """The response with literals removed (``UID 5 RFC822.SIZE 120 BODY[] ...)``)."""
    literal: bytes | None = None
    """The (last) literal: the body bytes for ``BODY.PEEK[]``."""
    literals: list[bytes] = field(default_factory=list)
    """Every literal of the response, in order."""

    @property
    def uid(self) -> int | None:
        """``UID n``, if present."""
        match = _UID.search(self.text)
        return int(match.group(1)) if match else None

    @property
    def size(self) -> int | None:
        """``RFC822.SIZE n``, if present."""
        match = _SIZE.search(self.text)
        return int(match.group(1)) if match else None

    @property
    def internaldate(self) -> str | None:
        """The ``INTERNALDATE`` string, if present."""
        match = _INTERNALDATE.search(self.text)
        return match.group(1).decode("ascii", "replace") if match else None

    @property
    def flags(self) -> list[str] | None:
        """The ``FLAGS`` list, if present."""
        match = _FLAGS.search(self.text)
        return match.group(1).decode("ascii", "replace").split() if match else None


def parse_fetch(lines: Sequence[bytes | bytearray]) -> list[FetchItem]:
    """Split a FETCH command's response lines into :class:`FetchItem` objects."""
    items: list[FetchItem] = []
    current: FetchItem | None = None
    expect_literal = False
    for line in lines:
        if isinstance(line, bytearray):
            if current is not None and expect_literal:
                data = bytes(line)
                current.literals.append(data)
                current.literal = data
            expect_literal = False
            continue
        start = _FETCH_START.match(line)
        if start:
            current = FetchItem(seq=int(start.group(1)), text=line)
            items.append(current)
        elif current is not None and not line.startswith((b"OK ", b"NO ", b"BAD ")):
            current.text += line
        expect_literal = bool(_LITERAL.search(line))
        if expect_literal and current is not None:
            current.text = _LITERAL.sub(b"", current.text)
    return items


@dataclass(frozen=True)
class SelectInfo:
    """What SELECT said about the mailbox."""

    uidvalidity: int | None
    """``UIDVALIDITY``: UIDs are only comparable while it stays the same."""
    uidnext: int | None
    """``UIDNEXT``: the UID the next message will get."""
    exists: int | None
    """How many messages there are."""


def parse_select(lines: Iterable[bytes | bytearray]) -> SelectInfo:
    """UIDVALIDITY, UIDNEXT and EXISTS from a SELECT response."""
    codes: dict[bytes, int] = {}
    exists = None
    for line in lines:
        if isinstance(line, bytearray):
            continue
        for name, value in _CODE.findall(line):
            codes[name] = int(value)
        match = _EXISTS.match(line)
        if match:
            exists = int(match.group(1))
    return SelectInfo(codes.get(b"UIDVALIDITY"), codes.get(b"UIDNEXT"), exists)


def signals_new_mail(lines: Iterable[bytes | bytearray]) -> bool:
    """True when untagged responses announce a change (EXISTS, RECENT or EXPUNGE)."""
    for line in lines:
        if isinstance(line, bytearray):
            continue
        parts = line.split()
        if (
            len(parts) >= 2
            and parts[0].isdigit()
            and parts[1].upper()
            in (
                b"EXISTS",
                b"RECENT",
                b"EXPUNGE",
            )
        ):
            return True
    return False


def bye_text(lines: Iterable[bytes | bytearray]) -> str | None:
    """The text of a ``BYE`` response among ``lines``, if any."""
    for line in lines:
        if isinstance(line, bytes) and line.upper().startswith(b"BYE"):
            return line[3:].strip().decode("utf-8", "replace") or "BYE"
    return None


def uid_set(uids: Sequence[int]) -> str:
    """A compact UID set: ``[1, 2, 3, 7]`` -> ``1:3,7``."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_search(lines: Sequence[Any]) -> list[int]:
    """The numbers of a ``SEARCH`` response, sorted ([] for none).

    Accepts ``* SEARCH 3 5 9`` as well as ``3 5 9`` (aioimaplib strips the response name);
    the completion line (``Search completed ...``) is not numbers and is skipped.
    """
    found: set[int] = set()
    for line in lines:
        raw = line if isinstance(line, bytes | bytearray) else str(line).encode()
        words = bytes(raw).decode("ascii", "replace").split()
        if words[:1] == ["*"]:
            words = words[1:]
        if words[:1] and words[0].upper() == "SEARCH":
            words = words[1:]
        if words and all(w.isdigit() for w in words):
            found.update(int(w) for w in words)
    return sorted(found)

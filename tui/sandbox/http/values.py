"""Values on the wire: times, money, and the loose fields of request bodies."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from tui.auth import siwe
from tui.jsontypes import JsonValue

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def has_lone_surrogate(value: JsonValue) -> bool:
    """True when a string (or key) anywhere in a parsed JSON value holds a lone surrogate.

    Iterative: the value's depth is already bounded, but no recursion is needed anyway.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def iso(ms: int | None) -> str | None:
    """ISO-8601 UTC with milliseconds, or None."""
    if ms is None:
        return None
    return _iso_ms(ms)


@functools.lru_cache(maxsize=16384)
def _iso_ms(ms: int) -> str:
    # every listing formats the same receipt times again: remembered
    return siwe.iso_millis(datetime.fromtimestamp(ms / 1000, UTC))


def usdc(micro: int) -> int | float:
    """Micro-USDC as a JSON number rounded to 6 decimals (integral values as integers)."""
    value = round(micro / 1_000_000, 6)
    return int(value) if value.is_integer() else value


def parse_iso(text: str) -> int | None:
    """Milliseconds of an ISO-8601 date or date-time (naive = UTC), or None if unparseable."""
    value = text.strip()
    # An unencoded "+" in a query string arrives as a space: "...T01:02:00 01:00".
    value = re.sub(r"(?<=\d) (\d\d:?\d\d)$", r"+\1", value)
    if not value or not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def text_of(value: JsonValue) -> str:
    """A body field as trimmed text ("" unless a string)."""
    return value.strip() if isinstance(value, str) else ""


def recipients(value: JsonValue) -> list[str]:
    """``to`` as one string (never split on commas) or a list (trimmed, blanks dropped)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [x.strip() for x in value if isinstance(x, str) and x.strip()]
    return []

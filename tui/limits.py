"""Bounds on untrusted input that every layer shares: JSON nesting and eth-account's import.

Why: eth-account's dependency ``py_ecc`` raises the interpreter's recursion limit to 100,000
when it is imported. After that, ``json`` (and ``email``) no longer stop at a
``RecursionError``: a deeply nested document overflows the C stack and the process dies with
SIGSEGV. So :func:`import_eth_account` puts the limit back right after the import (the one
place eth-account is imported), and :func:`loads` checks JSON nesting with a flat scan
*before* parsing. MIME nesting is bounded in :mod:`tui.extract.decode`.

Standard library only, so every layer (client, sandbox, tests) may import it.
"""

from __future__ import annotations

import json
import operator
import sys
import threading
from itertools import accumulate, repeat
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tui.jsontypes import JsonValue

if TYPE_CHECKING:  # eth-account loads on first use (see import_eth_account)
    from eth_account import Account
    from eth_account.messages import SignableMessage

MAX_JSON_DEPTH = 64
"""Deepest JSON nesting (arrays and objects) accepted; the contract's documents need 4."""

_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
# '[' and '{' -> 2, ']' and '}' -> 0; minus 1 gives the +1 / -1 step of the depth.
_STEP = bytes.maketrans(_BRACKETS, b"\x02\x00\x02\x00")


class JsonTooDeepError(ValueError):
    """A JSON document nests arrays/objects deeper than allowed (refused before parsing)."""


def json_depth(data: bytes | str) -> int:
    """The deepest array/object nesting of a JSON text, without parsing or recursion.

    Linear, in C: escaped backslashes and escaped quotes are dropped, the text between quotes
    (the strings, whose brackets do not count) is cut out, then the running sum of +1 per
    ``[``/``{`` and -1 per ``]``/``}`` is taken. Exact for valid JSON; on broken text it
    agrees with the parser up to the point where the parser stops, so it never under-counts
    what ``json`` would descend into.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if b"\\" in raw:  # left to right, as JSON reads escapes: \\ first, then \"
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(raw.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    steps = map(operator.sub, brackets.translate(_STEP), repeat(1))
    return max(0, max(accumulate(steps)))


def check_json_depth(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`JsonTooDeepError` when ``data`` nests deeper than ``limit``."""
    if isinstance(data, str):
        opens = data.count("[") + data.count("{")
    else:
        opens = data.count(b"[") + data.count(b"{")
    if opens <= limit:  # fast path: cannot nest deeper than the number of openers
        return
    depth = json_depth(data)
    if depth > limit:
        raise JsonTooDeepError(f"JSON nested {depth} levels deep (at most {limit} accepted)")


def loads(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, **kwargs: Any) -> JsonValue:
    """``json.loads`` that refuses deep nesting first (:class:`JsonTooDeepError`, a
    ``ValueError``), so hostile JSON can never overflow the stack."""
    check_json_depth(data, max_depth)
    return json.loads(data, **kwargs)


_eth_lock = threading.Lock()


def import_eth_account() -> ModuleType:
    """Import ``eth_account`` (and ``eth_account.messages``) keeping the recursion limit.

    The only place the project imports eth-account: ``py_ecc`` raises the limit to 100,000
    on import, which turns a deep JSON or MIME document into a segfault instead of a
    ``RecursionError``. The previous limit is restored at once. Thread-safe; cheap after the
    first call.
    """
    with _eth_lock:
        limit = sys.getrecursionlimit()
        try:
            import eth_account
            import eth_account.messages
        finally:
            if sys.getrecursionlimit() != limit:
                sys.setrecursionlimit(limit)
    return eth_account


def eth_account_class() -> type[Account]:
    """``eth_account.Account`` (create, from_key, sign_message, recover_message, encrypt...)."""
    return import_eth_account().Account


def encode_defunct(text: str) -> SignableMessage:
    """``eth_account.messages.encode_defunct(text=...)``: an EIP-191 ``personal_sign`` message."""
    return import_eth_account().messages.encode_defunct(text=text)

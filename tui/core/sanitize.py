"""Make untrusted strings safe to show in a terminal.

Subjects, senders, addresses and links come from strangers. Before display they lose every
escape sequence (CSI, OSC, DCS...), every C0/C1 control character and bidi override, and are
capped in length. Widgets must still render them as ``rich.text.Text`` (never as markup).
"""

from __future__ import annotations

import unicodedata

from tui.escapes import strip_escapes

_BIDI = {
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
}


def strip_controls(text: str, *, keep_newlines: bool = False) -> str:
    """Remove escape sequences, control characters and bidi overrides."""
    text = strip_escapes(text)
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch == "\t":
            out.append("    " if keep_newlines else " ")
        elif ch in _BIDI:
            continue
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in ("\u200d",):
            if ch in ("\r", "\n", "\x0b", "\x0c"):
                out.append("\n" if keep_newlines and ch != "\r" else " ")
            continue
        else:
            out.append(ch)
    return "".join(out)


def clean(value: object, limit: int = 200) -> str:
    """One line of untrusted text: no controls, whitespace collapsed, at most ``limit`` chars."""
    if value is None:
        return ""
    text = strip_controls(str(value))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def clean_block(value: object, limit: int = 100_000) -> str:
    """Multi-line untrusted text (a body): controls removed, newlines kept, length capped."""
    if value is None:
        return ""
    text = strip_controls(str(value), keep_newlines=True)
    if len(text) > limit:
        text = text[:limit] + "\n… (truncated)"
    return text

"""Terminal escape sequences in untrusted text: removed whole, never only their ESC byte.

Dropping just the ESC of ``ESC ] 0 ; pwned BEL`` leaves ``]0;pwned`` on screen, and dropping
only the ESC of an OSC 8 hyperlink leaves its hidden target as visible text. Every cleaner
(subjects and senders read over IMAP, bodies, what the TUI and MCP show) uses this one rule.
Light on purpose: the first screen imports it.
"""

from __future__ import annotations

import re

ESCAPE_SEQUENCES = re.compile(
    # CSI (7- and 8-bit) up to its final byte; OSC/DCS/SOS/PM/APC strings up to their
    # terminator (BEL, ST, 8-bit ST) or the end of the line; then any other ESC with its
    # intermediate bytes and final byte (ESC ( B, ESC 7, ESC c...).
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_STARTS = re.compile("[\x1b\x90\x98\x9b\x9d\x9e\x9f]")


def strip_escapes(text: str) -> str:
    """``text`` without any escape sequence (the rest of the text is left as it is)."""
    if not _STARTS.search(text):
        return text
    return ESCAPE_SEQUENCES.sub("", text)

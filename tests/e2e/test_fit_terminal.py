"""Issue 17 in a real 80x24 terminal (tmux): the installed ``mailagents-tui --sandbox`` walks
leases, inbox, compose, webhooks and usage; each footer shows ``?`` and ``q`` (compose, where
they type, shows ``f1`` help)."""

from __future__ import annotations

import shutil

import pytest
from test_sandbox_terminal import lease_statuses, sign_in_and_allocate, start

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def last_line(screen: str) -> str:
    lines = screen.rstrip("\n").split("\n")
    return lines[-1] if lines else ""


def footer_has(*keys: str):
    """A predicate: the bottom line shows every one of ``keys``."""
    return lambda screen: all(key in last_line(screen) for key in keys)


def test_walk_every_screen_at_80x24(tmp_path):
    term = start(tmp_path, width=80, height=24)
    try:
        sign_in_and_allocate(term)
        term.wait_for(footer_has("? Help", "q Quit", "n New", "U Usage", "/ Filter"))
        term.send("Enter")
        term.wait_for("Inbox ")
        term.wait_for(footer_has("? Help", "q Quit", "esc Back", "r Reply", "v Pane"))
        term.send("?")
        term.wait_for("This screen")
        term.send("Escape")
        term.wait_for(footer_has("? Help", "q Quit"))
        term.send("m")
        term.wait_for("Compose ")
        term.wait_for(footer_has("^s Send", "esc Close", "f1 Help"))
        term.send("Escape")
        term.wait_for(footer_has("? Help", "q Quit", "esc Back"))
        term.send("Escape")
        term.wait_for(footer_has("n New"))
        term.send("w")
        term.wait_for("Webhooks")
        term.wait_for(footer_has("? Help", "q Quit", "n New"))
        term.send("n")
        # The buttons fit at 80x24 (below the fields, which scroll).
        term.wait_for(lambda s: "New webhook" in s and "Create" in s and "Cancel" in s)
        term.send("Escape")
        term.send("Escape")
        term.wait_for(footer_has("U Usage"))
        term.send("U")
        term.wait_for("Usage & billing")
        term.wait_for(footer_has("? Help", "q Quit"))
        term.send("Escape")
        term.wait_for(footer_has("U Usage"))
        term.send("q")
        term.wait_until(lambda: lease_statuses(tmp_path) == ["released"], timeout=20)
        term.wait_for("EXITED:0", timeout=30)  # and the app ends (closing tmux is not its way out)
    finally:
        term.close()

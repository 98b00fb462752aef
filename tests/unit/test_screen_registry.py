"""The App's screen registry: one typed factory per name, and every name the code opens."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tui.app import registry

ROOT = Path(__file__).resolve().parents[2]

OPENED = re.compile(r"""(?:open_screen|switch_to)\(\s*["'](\w+)["']|"open\('(\w+)'\)\"""")
"""``app.open_screen("x", ...)``, ``app.switch_to("x")`` and a binding's ``"open('x')"``."""


def test_every_screen_the_code_opens_is_registered():
    opened = set()
    for path in (ROOT / "tui" / "app").rglob("*.py"):
        for match in OPENED.finditer(path.read_text(encoding="utf-8")):
            opened.add(match.group(1) or match.group(2))
    assert {"inbox", "compose", "sent", "webhooks", "usage", "feed", "leases"} <= opened
    assert opened <= set(registry.SCREENS), opened - set(registry.SCREENS)


def test_factories_are_typed_and_build_their_screen():
    for name, factory in registry.SCREENS.items():
        signature = inspect.signature(factory)
        assert signature.return_annotation == "Screen[None]", name
        assert all(
            p.annotation is not inspect.Parameter.empty for p in signature.parameters.values()
        )
    assert type(registry.make_screen("sent")).__name__ == "SentScreen"
    assert type(registry.make_screen("usage")).__name__ == "UsageScreen"


def test_a_wrong_name_or_argument_is_refused():
    with pytest.raises(KeyError):
        registry.make_screen("nowhere")
    with pytest.raises(TypeError):
        registry.make_screen("sent", view=None)

"""The TUI's first frame stays light: what its start must not import (issue 9, first frame).

Each check runs in a fresh interpreter (the test process has imported everything already).
These are not timings: they fail when a heavy module slips back onto the start-up path.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = [
    "httpx",  # the API client's transport: loads on the first request
    "eth_account",  # the wallet: loaded in a thread after the first frame
    "tui.api.models",
    "tui.api.client",
    "tui.core.services",
    "tui.core.session",
    "tui.core.leases",
    "tui.core.ledger",
    "tui.core.poller",
    "tui.core.compose",
    "tui.extract",
    "tui.imap",
    "tui.sandbox",
    "tomllib",  # only when a config file exists
]
"""Not needed to paint the login screen."""

OTHER_SCREENS = [
    "tui.app.screens.leases",
    "tui.app.screens.inbox",
    "tui.app.screens.compose",
    "tui.app.screens.sent",
    "tui.app.screens.usage",
    "tui.app.screens.webhooks",
    "tui.app.dialogs",
]


def run_python(code: str, tmp_path: Path) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON object as its last line."""
    env = {
        **os.environ,
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_PRIVATE_KEY": "0x" + secrets.token_hex(32),
        "MAILAGENTS_API_BASE": "http://127.0.0.1:9",
    }
    env.pop("MAILAGENTS_KEYSTORE", None)
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def loaded(modules: list[str], names: list[str]) -> list[str]:
    """The names (or packages of names) among ``modules``."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_importing_the_cli_stays_light(tmp_path):
    result = run_python(
        """
        import json, sys
        import tui.cli
        print(json.dumps({"modules": sorted(sys.modules)}))
        """,
        tmp_path,
    )
    assert loaded(result["modules"], [*HEAVY, "textual", "tui.app"]) == []


def test_login_screen_first_frame_imports_nothing_heavy(tmp_path):
    """Start as ``mailagents-tui`` does (settings, ``make_app``), headless; at the login
    screen's first frame, list what is imported. The services then build on first use."""
    result = run_python(
        """
        import asyncio, json, sys

        import tui.cli
        from textual.app import App
        from tui.app import make_app
        from tui.app.screens.login import LoginScreen
        from tui.core.settings import Settings

        seen = {}
        display = App._display

        def probe(self, screen, renderable):
            display(self, screen, renderable)
            if isinstance(screen, LoginScreen) and "modules" not in seen:
                seen["modules"] = sorted(sys.modules)
                seen["built"] = self.services_built

        App._display = probe

        async def main():
            app = make_app(Settings.load())
            async with app.run_test() as pilot:
                for _ in range(200):
                    if "modules" in seen and app.services_built:
                        break
                    await pilot.pause(0.01)
                seen["same_source"] = app.services.session.wallet_source is app.wallet_source
                seen["same_settings"] = app.services.settings is app.settings

        asyncio.run(main())
        print(json.dumps(seen))
        """,
        tmp_path,
    )
    assert "modules" in result, "the login screen never painted"
    assert result["built"] is False
    assert loaded(result["modules"], HEAVY) == []
    assert loaded(result["modules"], OTHER_SCREENS) == []
    assert result["same_source"] and result["same_settings"]

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
    "mcp",  # the optional MCP SDK: only `mailagents-tui mcp` imports it
    "tui.mcpserver",
    "tui.sdk",
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
        import tui.cli.root
        print(json.dumps({"modules": sorted(sys.modules)}))
        """,
        tmp_path,
    )
    assert loaded(result["modules"], [*HEAVY, "textual", "tui.app"]) == []


def test_plain_start_reaches_the_login_screen_without_click_or_heavy_modules(tmp_path):
    """``mailagents-tui --api-base URL`` through the real entry point (headless): the login
    screen's first frame is whole (not dropped inside Textual's start-up batch) and by then
    neither click nor the services and what they import are loaded."""
    result = run_python(
        """
        import json, os, sys

        from textual.app import App

        def probe(self, screen, renderable):
            batched = self._batch_count  # Textual drops a frame displayed inside a batch
            display(self, screen, renderable)
            if type(screen).__name__ == "LoginScreen" and renderable is not None:
                print(json.dumps({
                    "modules": sorted(sys.modules),
                    "built": self.services_built,
                    "dropped": bool(batched),
                    "update": type(renderable).__name__,
                }))
                sys.stdout.flush()
                os._exit(0)

        display = App._display
        App._display = probe
        run = App.run
        App.run = lambda self, **kw: run(self, headless=True, size=(110, 30))

        sys.argv = ["mailagents-tui", "--api-base", "http://127.0.0.1:9"]
        from tui.launch import main

        main()
        """,
        tmp_path,
    )
    assert (result["dropped"], result["update"]) == (False, "LayoutUpdate")
    assert result["built"] is False
    assert loaded(result["modules"], ["click", "tui.cli.root", *HEAVY]) == []
    assert loaded(result["modules"], OTHER_SCREENS) == []


def test_the_start_runs_without_the_cyclic_collector_until_the_first_frame(tmp_path):
    """The launcher turns the garbage collector off for the start (scanning the start's
    ~45,000 long-lived objects again and again was ~10% of the first frame's CPU); the app
    turns it back on after the first frame, with those objects frozen."""
    result = run_python(
        """
        import gc, json, os, sys

        from textual.app import App

        seen = {}

        def probe(self, screen, renderable):
            display(self, screen, renderable)
            if type(screen).__name__ == "LoginScreen" and renderable is not None and not seen:
                seen["at_first_frame"] = gc.isenabled()
                self.set_interval(0.05, report)
                self.set_timer(20, lambda: report(timeout=True))

        def report(timeout=False):
            if gc.isenabled() or timeout:
                seen["after"] = gc.isenabled()
                seen["frozen"] = gc.get_freeze_count()
                print(json.dumps(seen))
                sys.stdout.flush()
                os._exit(0)

        display = App._display
        App._display = probe
        run = App.run
        App.run = lambda self, **kw: run(self, headless=True, size=(110, 30))

        sys.argv = ["mailagents-tui", "--api-base", "http://127.0.0.1:9"]
        sys.stdout = sys.__stdout__
        from tui.launch import main

        main()
        """,
        tmp_path,
    )
    assert result["at_first_frame"] is False
    assert result["after"] is True
    assert result["frozen"] > 10_000


async def test_services_are_built_on_first_use_with_the_apps_settings_and_wallet(tmp_path):
    from tui.app import make_app
    from tui.core.settings import Settings
    from tui.core.wallets import WalletSource

    settings = Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9")
    source = WalletSource(kind="generate", description="test")
    app = make_app(settings, wallet_source=source, run_id="run-1")
    assert not app.services_built
    assert app.wallet_source is source and app.settings is settings
    services = app.services
    assert app.services_built and app.services is services
    assert services.settings is settings
    assert services.session.wallet_source is source
    assert services.leases.run_id == "run-1"


def test_plain_launch_recognises_only_what_click_would_read_the_same():
    from tui.launch import plain_launch

    env = {"MAILAGENTS_API_BASE": "http://env.example"}
    assert plain_launch([], env).api_base == "http://env.example"
    assert plain_launch([], {}).api_base is None
    assert plain_launch([], {"MAILAGENTS_API_BASE": ""}).api_base is None
    options = plain_launch(["--api-base", "http://x.example"], env)
    assert (options.api_base, options.keystore, options.payment) == ("http://x.example", None, None)
    assert plain_launch(["--api-base=http://y.example"], env).api_base == "http://y.example"
    for args in (
        ["--help"],
        ["-h"],
        ["--version"],
        ["--sandbox"],
        ["leases"],
        ["--api-base"],
        ["--api-base", ""],
        ["--api-base="],
        ["--api-base", "--sandbox"],
        ["--api-base", "http://x.example", "leases"],
        ["--keystore", "k.json"],
        ["--payment", "never"],
    ):
        assert plain_launch(args, env) is None, args
    assert plain_launch([], {"_MAILAGENTS_TUI_COMPLETE": "bash_complete"}) is None


def test_entry_point_launches_or_hands_over_to_click(monkeypatch):
    import tui.cli.root
    import tui.launch

    launched = []
    monkeypatch.setattr(
        tui.launch, "launch_tui", lambda options, sandbox: launched.append((options, sandbox))
    )
    monkeypatch.setattr(tui.cli.root, "main", lambda: launched.append("click"))
    monkeypatch.setattr("sys.argv", ["mailagents-tui", "--api-base", "http://x.example"])
    tui.launch.main()
    monkeypatch.setattr("sys.argv", ["mailagents-tui", "leases", "--json"])
    tui.launch.main()
    monkeypatch.setattr("sys.argv", ["mailagents-tui", "--sandbox"])
    tui.launch.main()  # without click too (issue 16: --sandbox's first frame)
    monkeypatch.setattr("sys.argv", ["mailagents-tui", "--sandbox", "--debug"])
    tui.launch.main()
    (options, sandbox), handed_over, (sb_options, sb_sandbox), sb_handed_over = launched
    assert options.api_base == "http://x.example" and sandbox is False
    assert handed_over == "click"
    assert sb_sandbox is True
    assert (sb_options.api_base, sb_options.keystore, sb_options.payment) == (None, None, None)
    assert sb_handed_over == "click"


def test_sandbox_launch_is_only_the_bare_flag():
    from tui.launch import sandbox_launch

    assert sandbox_launch(["--sandbox"], {})
    for args in ([], ["--sandbox", "--debug"], ["--sandbox", "leases"], ["--sandbox=1"], ["-h"]):
        assert not sandbox_launch(args, {}), args
    assert not sandbox_launch(["--sandbox"], {"_MAILAGENTS_TUI_COMPLETE": "bash_complete"})


def test_the_client_imports_without_posix_only_modules(tmp_path):
    """Windows has no fcntl, termios, pwd or grp: the client (not the sandbox, which runs a
    Dovecot) must import without them; they are imported where they are used."""
    result = run_python(
        """
        import importlib, json, sys

        for name in ("fcntl", "termios", "pwd", "grp", "resource", "tty", "pty"):
            sys.modules[name] = None  # importing it now raises ImportError
        failed = {}
        for module in (
            "tui.cli.root", "tui.core.services", "tui.core.ledger", "tui.core.session",
            "tui.core.waiter", "tui.core.follow", "tui.core.compose", "tui.sdk",
            "tui.mcpserver", "tui.cli.billing", "tui.cli.profiles",
            "tui.imap.reader", "tui.app.app", "tui.app.screens.inbox",
        ):
            try:
                importlib.import_module(module)
            except Exception as exc:
                failed[module] = repr(exc)
        print(json.dumps({"failed": failed}))
        """,
        tmp_path,
    )
    assert result["failed"] == {}

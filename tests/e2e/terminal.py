"""Drive the installed ``mailagents-tui`` in a real terminal: tmux, a fixed size, its own server."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

COMMAND = shutil.which("mailagents-tui") or str(Path(os.sys.executable).with_name("mailagents-tui"))


def app_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment a test runs the installed command in: its own home, a known terminal,
    no display (no browser, no system clipboard), plus ``extra`` (``MAILAGENTS_API_BASE=...``)."""
    return {
        "MAILAGENTS_HOME": str(home),
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
        "DISPLAY": "",
        "WAYLAND_DISPLAY": "",
        **extra,
    }


class Terminal:
    """A tmux session running one command in a private tmux server."""

    def __init__(self, command: list[str], env: dict[str, str], width: int = 110, height: int = 30):
        self.socket = f"mt-{uuid.uuid4().hex[:8]}"
        self.name = "e2e"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"env {exports} {shlex.join(command)}; echo EXITED:$?; sleep 600"
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), line)
        # Let OSC 52 clipboard writes from the app land in tmux's paste buffer.
        self.tmux("set-option", "-s", "set-clipboard", "on")

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        """The visible text."""
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def send(self, *keys: str) -> None:
        """Type keys (tmux key names: Enter, Escape, q...)."""
        for key in keys:
            self.tmux("send-keys", "-t", self.name, key)
            time.sleep(0.15)

    def wait_for(self, predicate: Callable[[str], bool] | str, timeout: float = 20.0) -> str:
        """Wait until the screen satisfies ``predicate`` (or contains the string)."""
        check = (lambda s: predicate in s) if isinstance(predicate, str) else predicate
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting; screen was:\n{text}")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait for any condition about the terminal."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.1)

    def paste_buffer(self) -> str:
        """tmux's newest paste buffer (where OSC 52 copies land); empty if none."""
        result = subprocess.run(
            ["tmux", "-L", self.socket, "show-buffer"], capture_output=True, text=True
        )
        return result.stdout if result.returncode == 0 else ""

    def close(self) -> None:
        """Kill the tmux server."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

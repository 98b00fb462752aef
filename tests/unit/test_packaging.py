"""What a user installing the package relies on: the licence, the changelog, the metadata,
shell completion as the README documents it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = str(Path(sys.executable).parent / "mailagents-tui")


def test_license_changelog_and_metadata_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "License :: OSI Approved :: MIT License" in project["classifiers"]
    assert "Typing :: Typed" in project["classifiers"] and (ROOT / "tui" / "py.typed").exists()
    assert project["urls"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "tui" / "__init__.py").read_text())
    assert f"## [{version.group(1)}]" in changelog and "## [Unreleased]" in changelog
    assert project["optional-dependencies"]["mcp"][0].startswith("mcp")


def test_shell_completion_as_documented():
    readme = (ROOT / "README.md").read_text()
    assert "_MAILAGENTS_TUI_COMPLETE=bash_source mailagents-tui" in readme
    env = {**os.environ, "_MAILAGENTS_TUI_COMPLETE": "bash_source"}
    script = subprocess.run([COMMAND], env=env, capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_mailagents_tui_completion" in script.stdout
    env = {
        **os.environ,
        "_MAILAGENTS_TUI_COMPLETE": "bash_complete",
        "COMP_WORDS": "mailagents-tui pro",
        "COMP_CWORD": "1",
    }
    found = subprocess.run([COMMAND], env=env, capture_output=True, text=True, timeout=60)
    assert "plain,profiles" in found.stdout.splitlines()

"""The import-linter contracts cover every package and top-level module of ``tui``."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> list[dict]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["tool"]["importlinter"]["contracts"]


def layered(contract: dict) -> set[str]:
    """Every module a layers contract names (siblings split on ``|`` or ``:``)."""
    prefix = [c + "." for c in contract.get("containers", [])] or [""]
    names = set()
    for layer in contract["layers"]:
        for part in layer.replace(":", "|").split("|"):
            names.update(p + part.strip() for p in prefix)
    return names


def top_level(package: Path, dotted: str) -> set[str]:
    """The modules and packages directly inside ``package`` (``__init__`` aside)."""
    found = set()
    for child in package.iterdir():
        if child.is_dir() and (child / "__init__.py").exists():
            found.add(f"{dotted}.{child.name}")
        elif child.suffix == ".py" and child.stem != "__init__":
            found.add(f"{dotted}.{child.stem}")
    return found


def test_the_layers_contract_names_every_top_level_module_and_package():
    names = set().union(*(layered(c) for c in contracts() if c["type"] == "layers"))
    missing = sorted(top_level(ROOT / "tui", "tui") - names)
    assert not missing, f"add these to a layers contract in pyproject.toml: {missing}"


def test_the_app_contract_names_every_module_of_the_tui():
    names = set().union(*(layered(c) for c in contracts() if c["type"] == "layers"))
    missing = sorted(top_level(ROOT / "tui" / "app", "tui.app") - names)
    assert not missing, f"add these to the tui.app layers contract in pyproject.toml: {missing}"


def test_the_cli_contract_names_every_module_of_the_command_line():
    names = set().union(*(layered(c) for c in contracts() if c["type"] == "layers"))
    missing = sorted(top_level(ROOT / "tui" / "cli", "tui.cli") - names)
    assert not missing, f"add these to the tui.cli layers contract in pyproject.toml: {missing}"


def test_the_sandbox_contract_names_every_module_of_the_sandbox():
    names = set().union(*(layered(c) for c in contracts() if c["type"] == "layers"))
    missing = sorted(top_level(ROOT / "tui" / "sandbox", "tui.sandbox") - names)
    assert not missing, f"add these to the tui.sandbox layers contract in pyproject.toml: {missing}"

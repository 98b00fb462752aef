"""Headless commands and leases left behind (issue 13): one line on stderr and a way to act
(``lease reconcile``), a damaged ledger moved aside and reported, never silently overwritten."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support import cli_env, kill_during_allocate, run_cli


@pytest.fixture
def env(sandbox, wallet, tmp_path):
    return cli_env(sandbox.base_url, wallet, tmp_path / "home")


def ledger_path(env) -> Path:
    return Path(env["MAILAGENTS_HOME"]) / "state" / "ledger.json"


def test_truncated_ledger_is_moved_aside_reported_and_rebuilt(env):
    first = json.loads(run_cli(env, "lease", "new", "--purpose", "one", "--json").stdout)
    second = json.loads(run_cli(env, "lease", "new", "--purpose", "two", "--json").stdout)
    path = ledger_path(env)
    raw = path.read_bytes()
    cut = raw[: raw.index(second["lease_id"].encode())]  # the second entry is cut short
    path.write_bytes(cut)

    listed = run_cli(env, "leases")
    assert listed.exit_code == 0, listed.output
    damaged = [line for line in listed.stderr.splitlines() if "ledger was damaged" in line]
    assert len(damaged) == 1 and "ledger.json.damaged-" in damaged[0]
    (aside,) = path.parent.glob("ledger.json.damaged-*")
    assert aside.read_bytes() == cut  # the damaged file is kept as it was
    # The first entry (with its password) was salvaged; the second lease is offered.
    creds = run_cli(env, "lease", "credentials", first["lease_id"], "--json")
    assert creds.exit_code == 0 and json.loads(creds.stdout)["webmail_password"]
    assert "1 active lease(s) no running client owns" in listed.stderr
    assert second["address"] in listed.stderr

    kept = run_cli(env, "lease", "reconcile", "--keep", "--json")
    assert kept.exit_code == 0, kept.output
    assert [(r["lease_id"], r["action"]) for r in json.loads(kept.stdout)] == [
        (second["lease_id"], "kept")
    ]
    again = run_cli(env, "leases")
    assert again.stderr == ""


def test_killed_lease_new_is_noted_and_released(env, sandbox, wallet):
    home = Path(env["MAILAGENTS_HOME"])
    asyncio.run(kill_during_allocate(sandbox.base_url, home, wallet, "cli"))
    note = run_cli(env, "login")
    assert note.exit_code == 0
    (line,) = note.stderr.splitlines()
    assert "1 active lease(s) no running client owns" in line
    assert "lease reconcile" in line

    listed = run_cli(env, "lease", "reconcile", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["reason"] == "interrupted" and row["action"] == "listed"
    assert row["credentials_stored"] is False

    released = run_cli(env, "lease", "reconcile", "--release")
    assert released.exit_code == 0, released.output
    assert f"{row['lease_id']}  {row['address']}" in released.stdout
    assert "released" in released.stdout
    assert json.loads(run_cli(env, "leases", "--json").stdout) == []
    assert run_cli(env, "login").stderr == ""


def test_reconcile_with_nothing_left(env):
    result = run_cli(env, "lease", "reconcile")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No leases left behind."
    both = run_cli(env, "lease", "reconcile", "--release", "--keep")
    assert both.exit_code == 2 and "not both" in both.stderr


def test_damage_is_reported_even_without_the_server(env):
    first = json.loads(run_cli(env, "lease", "new", "--purpose", "one", "--json").stdout)
    path = ledger_path(env)
    raw = path.read_bytes()
    path.write_bytes(raw[:-20])  # cut after the entry's closing brace
    down = {**env, "MAILAGENTS_API_BASE": "http://127.0.0.1:9"}
    result = run_cli(down, "leases")
    assert result.exit_code != 0
    assert "ledger was damaged (truncated or not JSON)" in result.stderr
    assert "1 entry recovered" in result.stderr
    creds = run_cli(env, "lease", "credentials", first["lease_id"], "--json")
    assert json.loads(creds.stdout)["webmail_password"]

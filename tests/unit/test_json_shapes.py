"""docs/json.md is a contract: every ``--json`` output checked against the shape documented there
(the shapes are parsed from the document), and every ``--json`` command documented."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sandbox_helpers import Session, WebhookReceiver
from support import cli_env, read_line, send_mail

from tui.cli.root import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "json.md"
COMMAND = str(Path(sys.executable).parent / "mailagents-tui")
TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "any": lambda v: True,
}


def documented_shapes() -> dict[str, Any]:
    """``json-shape NAME`` blocks of docs/json.md: name -> parsed shape."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```json-shape ([^\n]+)\n(.*?)```", text, re.DOTALL)
    shapes = {name.strip(): json.loads(body) for name, body in blocks}
    assert len(shapes) == len(blocks), "a shape is documented twice"
    return shapes


def mismatches(value: Any, shape: Any, where: str = "$") -> list[str]:
    """How ``value`` differs from ``shape`` (empty when it conforms)."""
    if isinstance(shape, str):
        names = shape.split("|")
        unknown = [n for n in names if n not in TYPES]
        assert not unknown, f"{where}: unknown type {unknown} in docs/json.md"
        if any(TYPES[n](value) for n in names):
            return []
        return [f"{where}: {json.dumps(value)[:80]} is not {shape}"]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [
            p for i, item in enumerate(value) for p in mismatches(item, shape[0], f"{where}[{i}]")
        ]
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    keys = {k.rstrip("?"): k.endswith("?") for k in shape}
    problems = [f"{where}: undocumented key {k!r}" for k in value if k not in keys]
    problems += [
        f"{where}: missing key {k!r}" for k, opt in keys.items() if not opt and k not in value
    ]
    for key, sub in shape.items():
        name = key.rstrip("?")
        if name in value:
            problems += mismatches(value[name], sub, f"{where}.{name}")
    return problems


def json_commands() -> set[str]:
    """Every command (path of names) that takes ``--json``, the operator console's aside."""
    found: set[str] = set()
    ctx = click.Context(main)

    def walk(cmd: click.Command, path: list[str]) -> None:
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    walk(sub, [*path, name])
        if any("--json" in getattr(p, "opts", []) for p in cmd.params):
            found.add(" ".join(path))

    walk(main, [])
    return {c for c in found if c.split()[0] != "admin"}


def test_the_shape_checker_catches_differences():
    shape = {"a": "string", "b?": ["integer"], "c": {"d": "number|null"}}
    assert mismatches({"a": "x", "c": {"d": None}}, shape) == []
    assert mismatches({"a": "x", "b": [1, 2], "c": {"d": 1.5}}, shape) == []
    assert mismatches({"a": 1, "b": [True], "c": {"d": "x"}, "e": 0}, shape) == [
        "$: undocumented key 'e'",
        "$.a: 1 is not string",
        "$.b[0]: true is not integer",
        '$.c.d: "x" is not number|null',
    ]
    assert mismatches({"c": {}}, shape) == ["$: missing key 'a'", "$.c: missing key 'd'"]


def test_every_json_command_is_documented():
    shapes = documented_shapes()
    missing = sorted(c for c in json_commands() if c not in shapes)
    assert not missing, f"document these in docs/json.md: {missing}"
    assert "admin ... --json" in DOC.read_text(encoding="utf-8")


def test_every_json_output_has_its_documented_shape(imap_sandbox, wallet, tmp_path):
    shapes = documented_shapes()
    env = cli_env(imap_sandbox.base_url, wallet, tmp_path / "home", home=tmp_path)
    checked: set[str] = set()

    def check(name: str, *args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, f"{args}: {result.output}{result.stderr}"
        value = json.loads(result.stdout)
        problems = mismatches(value, shapes[name])
        assert not problems, f"{' '.join(args)}:\n" + "\n".join(problems)
        checked.add(name)
        return value

    check("login", "login", "--json")
    lease = check("lease new", "lease", "new", "--json")
    other = check("lease new", "lease", "new", "--purpose", "to release", "--json")
    with WebhookReceiver() as receiver:
        hook = check("webhook new", "webhook", "new", "--url", receiver.url, "--json")
        assert "secret" in hook
        send_mail(imap_sandbox.smtp_port, lease["address"], "Your code", "Code: 246810\n")
        assert imap_sandbox.wait_webhooks_idle(10)
        deliveries = check("webhooks --deliveries", "webhooks", "--deliveries", "--json")
        assert deliveries
        one = check(
            "webhook delivery", "webhook", "delivery", deliveries[0]["delivery_id"], "--json"
        )
        assert one == deliveries[0]
    check("webhooks", "webhooks", "--json")
    check("webhook rotate", "webhook", "rotate", hook["webhook_id"], "--yes", "--json")

    found = check("wait-otp", "wait-otp", "--lease", lease["lease_id"], "--timeout", "20", "--json")
    assert found["code"] == "246810"
    rows = check("messages", "messages", "--lease", lease["lease_id"], "--json")
    assert rows and rows[0]["source"] == "imap"
    rows = check("messages", "messages", "--lease", lease["lease_id"], "--no-imap", "--json")
    assert rows and rows[0]["source"] == "api"
    check("show", "show", "--lease", lease["lease_id"], rows[0]["message_id"], "--json")
    check("lease credentials", "lease", "credentials", lease["lease_id"], "--json")
    accounts = check("accounts", "accounts", "--json")
    mine = {a["account_id"]: a for a in accounts}[lease["mailbox_id"]]
    assert (mine["account_status"], mine["lease_id"]) == ("active", lease["lease_id"])
    assert mine["credentials_stored"] is True

    sent = check(
        "send",
        "send",
        "--lease",
        lease["lease_id"],
        "--to",
        other["address"],
        "--subject",
        "Hello",
        "--text",
        "Hi there",
        "--json",
    )
    assert sent["submission_status"] == "accepted"
    attempts = check("sent", "sent", "--json")
    assert check("sent ID", "sent", sent["send_attempt_id"], "--json") == attempts[0]

    check("lease release", "lease", "release", other["lease_id"], "--json")
    rows = check("leases", "leases", "--json")
    assert [r["lease_id"] for r in rows] == [lease["lease_id"]]
    rows = check("leases", "leases", "--all", "--json")
    assert {r["lease_id"] for r in rows} == {lease["lease_id"], other["lease_id"]}
    assert check("lease reconcile", "lease", "reconcile", "--json") == []

    elsewhere = Session(imap_sandbox.base_url, wallet)  # a lease this client never saw
    try:
        assert elsewhere.allocate("elsewhere").status_code == 201
    finally:
        elsewhere.close()
    left = check("lease reconcile", "lease", "reconcile", "--json")
    assert [r["action"] for r in left] == ["listed"]

    check(
        "parse", "parse", str(ROOT / "tests" / "corpus" / "okta_magic_link_and_code.eml"), "--json"
    )
    check("usage", "usage", "--json")
    config = tmp_path / "home" / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[profiles.demo]\napi_base = "http://127.0.0.1:9"\n')
    assert check("profiles", "profiles", "--json")[0]["name"] == "demo"
    invoices = check("invoices", "invoices", "--json")
    assert invoices
    check("invoices show", "invoices", "show", invoices[0]["invoice_id"], "--json")

    # A failure under --json is JSON too, with the documented exit code.
    for args, code in (
        (["show", "--lease", lease["lease_id"], "no-such-id", "--json"], 4),
        (["wait-otp", "--lease", lease["lease_id"], "--timeout", "0", "--json"], 3),
        (["lease", "new", "--ttl-hours", "0", "--json"], 2),
    ):
        failed = CliRunner().invoke(main, args, env=env)
        assert failed.exit_code == code, (args, failed.output)
        error = json.loads(failed.stdout)
        assert not mismatches(error, shapes["error"]), error
        assert error["exit_code"] == code
    checked.add("error")

    # messages --follow --json: JSON lines (the installed command, interrupted).
    proc = subprocess.Popen(
        [COMMAND, "messages", "--lease", lease["lease_id"], "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = json.loads(read_line(proc))
        problems = mismatches(line, shapes["messages --follow"])
        assert not problems, problems
        checked.add("messages --follow")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0

    assert set(shapes) - checked == set(), "documented but never checked"


@pytest.mark.parametrize(
    ("one", "listed"),
    [
        ("show", "messages"),
        ("messages --follow", "messages"),
        ("sent ID", "sent"),
        ("webhook delivery", "webhooks --deliveries"),
    ],
)
def test_one_shape_for_an_item_and_its_list(one, listed):
    """What a detail command prints is an item of its list, in one documented shape."""
    shapes = documented_shapes()
    assert shapes[one] == shapes[listed][0]

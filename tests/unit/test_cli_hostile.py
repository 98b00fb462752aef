"""Hostile command lines: every expected failure is one line and an honest exit code.

Exit codes (README, ``--help``): 0 success, 1 error, 2 usage, 3 timeout, 4 not found. With
``--json`` an error is also ``{"error", "message", "exit_code"}`` on stdout. Commands that read
forever on today's code run in a subprocess with a timeout, so a regression fails, not hangs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stub_http import StubServer, json_reply
from support import cli_env, run_cli


@pytest.fixture
def env(sandbox, wallet, tmp_path):
    return cli_env(sandbox.base_url, wallet, tmp_path / "home")


def one_line(result, code: int, needle: str) -> None:
    """Exit ``code``, exactly one line on stderr naming ``needle``, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output)
    err = result.stderr
    assert err.startswith("mailagents-tui: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert "Traceback" not in result.output


def json_error(result, kind: str, code: int) -> dict:
    data = json.loads(result.stdout)
    assert data == {"error": kind, "message": data["message"], "exit_code": code}
    assert result.exit_code == code
    return data


def cap_memory() -> None:
    """In the child: at most 2 GiB of address space (a read without end dies, not the host)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def spawn(env: dict, *args: str, timeout: float = 30, stdin=None) -> subprocess.CompletedProcess:
    """The real command in a subprocess (a read that never ends fails by timeout)."""
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        check=False,
        preexec_fn=cap_memory,
    )


def seed_session(home: Path, api_base: str, address: str) -> None:
    """A saved, unexpired session for ``api_base`` (so no sign-in is needed)."""
    state = home / "state"
    state.mkdir(parents=True, exist_ok=True)
    session = {
        "api_base": api_base,
        "address": address,
        "access_token": "x.eyJleHAiOjQxMDI0NDQ4MDB9.y",
        "agent_id": "agt_1",
        "tenant_id": "ten_1",
        "did": "did:pkh:eip155:84532:" + address,
        "expires_at": time.time() + 3600,
    }
    (state / "sessions.json").write_text(json.dumps({f"{api_base} {address.lower()}": session}))


# -- not found, usage, json --------------------------------------------------------------------


def test_release_of_an_unknown_lease_exits_4(env):
    unknown = "00000000-0000-4000-8000-000000000000"
    one_line(run_cli(env, "lease", "release", unknown), 4, "not found")
    json_error(run_cli(env, "lease", "release", unknown, "--json"), "not_found", 4)


def test_show_of_an_unknown_message_exits_4(env):
    lease = json.loads(run_cli(env, "lease", "new", "--json").stdout)
    result = run_cli(env, "show", "--lease", lease["lease_id"], "nope")
    one_line(result, 4, "no message nope")
    one_line(run_cli(env, "messages", "--lease", "lease_missing"), 4, "Lease not found")


def test_usage_errors_exit_2_and_are_json_with_json(env):
    result = run_cli(env, "leases", "--json", "--bogus")
    data = json_error(result, "usage", 2)
    assert "--bogus" in data["message"]
    bad_range = run_cli(env, "messages", "--lease", "x", "--limit", "0", "--json")
    json_error(bad_range, "usage", 2)
    one_line(run_cli(env, "lease", "new", "--ttl-hours", "0"), 2, "ttl hours")
    top = json_error(run_cli(env, "--bogus", "leases", "--json"), "usage", 2)
    assert "--bogus" in top["message"]


def test_help_documents_the_exit_codes(env):
    result = run_cli(env, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for phrase in ("0 success", "1 error", "2 usage", "3 timeout", "4 not found", '"exit_code"'):
        assert phrase in text


# -- wrong answers presented as right -----------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        ((302, {"location": "https://login.example/"}, b""), "redirect to https://login.example/"),
        (json_reply(200, {"period": "2026-11"}), "lacks its usage object"),
        (json_reply(200, {"period": "2026-11", "usage": {"api_calls": "9"}}), "api_calls"),
        (json_reply(200, [1, 2]), "not a JSON object"),
    ],
)
def test_usage_with_a_wrong_answer_is_an_error_not_zeros(env, wallet, tmp_path, reply, needle):
    with StubServer({("GET", "/v2/usage/summary"): reply}) as stub:
        env = {**env, "MAILAGENTS_API_BASE": stub.base_url}
        seed_session(tmp_path / "home", stub.base_url, wallet.address)
        result = run_cli(env, "usage")
        one_line(result, 1, needle)
        assert "api calls" not in result.stdout
        data = json_error(run_cli(env, "usage", "--json"), "invalid_response", 1)
        assert needle in data["message"]


# -- tracebacks instead of one line -------------------------------------------------------------


def test_send_of_a_binary_text_file_is_one_line(env, tmp_path):
    binary = tmp_path / "ls"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe" * 10)
    args = ["send", "--lease", "x", "--to", "a@b.test", "--subject", "s"]
    one_line(run_cli(env, *args, "--text-file", str(binary)), 1, "is not UTF-8 text")
    one_line(run_cli(env, *args, "--html-file", "/bin/ls"), 1, "is not UTF-8 text")
    one_line(run_cli(env, *args, "--text-file", "-", input=b"\xff\xfe"), 1, "is not UTF-8 text")


def test_a_keystore_without_its_kdf_is_one_line(env, tmp_path):
    from eth_account import Account

    data = Account.encrypt(b"\x11" * 32, "pw")
    del data["crypto"]["kdf"]
    path = tmp_path / "keystore.json"
    path.write_text(json.dumps(data))
    env = {**env, "MAILAGENTS_PRIVATE_KEY": "", "MAILAGENTS_KEYSTORE_PASSWORD": "pw"}
    one_line(run_cli(env, "--keystore", str(path), "login"), 1, "crypto.kdf is missing")


def test_a_keystore_eth_account_cannot_decrypt_is_one_line(env, tmp_path):
    from eth_account import Account

    data = Account.encrypt(b"\x11" * 32, "pw")
    data["crypto"]["kdf"] = "argon2"
    path = tmp_path / "keystore.json"
    path.write_text(json.dumps(data))
    env = {**env, "MAILAGENTS_PRIVATE_KEY": "", "MAILAGENTS_KEYSTORE_PASSWORD": "pw"}
    one_line(run_cli(env, "--keystore", str(path), "login"), 1, "keystore is damaged")


def test_a_non_utf8_config_is_one_line(env, tmp_path):
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_bytes(b'api_base = "http://h\xe9.test"\n')
    one_line(run_cli(env, "leases"), 1, "not UTF-8")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("api_base = 5", "api_base must be a string"),
        ('bell = "yes"', "bell must be true or false"),
        ("mail_cache = 1", "mail_cache must be true or false"),
        ("timeout = true", "timeout must be a number"),
        ('keymap = "q"', "keymap must be a table"),
        ("[keymap]\n'inbox.open' = 5", "keymap 'inbox.open' must be a string"),
        ("bel = true", "unknown setting 'bel'"),
    ],
)
def test_wrong_typed_config_values_name_the_key(env, tmp_path, text, needle):
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(text + "\n")
    one_line(run_cli(env, "leases"), 1, needle)
    json_error(run_cli(env, "leases", "--json"), "config", 1)


def test_an_odd_mailagents_home_is_one_line(env, tmp_path):
    one_line(run_cli({**env, "MAILAGENTS_HOME": "/proc"}, "login"), 1, "/proc/state")
    a_file = tmp_path / "file"
    a_file.write_text("")
    one_line(run_cli({**env, "MAILAGENTS_HOME": str(a_file)}, "login"), 1, str(a_file))


# -- reads that never end -----------------------------------------------------------------------


def test_parse_refuses_special_files_and_oversized_input(env, tmp_path):
    done = spawn(env, "parse", "/dev/zero")
    assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = spawn(env, "parse", str(fifo))  # nobody writes: open() must not wait
    assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr
    with open("/dev/zero", "rb") as zero:
        done = spawn(env, "parse", "-", stdin=zero)
    assert done.returncode == 1 and "larger than 25 MiB" in done.stderr, done.stderr


def test_keystore_dev_zero_is_refused(env):
    env = {**env, "MAILAGENTS_PRIVATE_KEY": "", "MAILAGENTS_KEYSTORE_PASSWORD": "pw"}
    done = spawn(env, "--keystore", "/dev/zero", "wallet", "address")
    assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_oversized_named_files_are_refused(env, tmp_path):
    big = tmp_path / "big.eml"
    with big.open("wb") as fh:
        fh.truncate(25 * 1024 * 1024 + 1)  # sparse: cheap to make
    one_line(run_cli(env, "parse", str(big)), 1, "larger than 25 MiB")
    args = ["send", "--lease", "x", "--to", "a@b.test", "--subject", "s", "--text-file"]
    one_line(run_cli(env, *args, str(big)), 1, "larger than 25 MiB")

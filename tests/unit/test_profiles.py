"""Profiles: ``[profiles.NAME]`` of config.toml, ``--profile`` / ``MAILAGENTS_PROFILE``, each with
its own API base, wallet, session, ledger and mail cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tui.cli.root import main
from tui.core.settings import Settings, SettingsError
from tui.core.wallets import resolve_wallet_source


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text)


def test_a_profile_overrides_the_file_and_has_its_own_state(tmp_path):
    write_config(
        tmp_path,
        'api_base = "http://127.0.0.1:1"\npayment = "never"\ntimeout = 5\n'
        '[profiles.work]\napi_base = "http://127.0.0.1:2"\nprivate_key_env = "WORK_KEY"\n'
        "[profiles.work.poll]\nidle = 30\n"
        '[profiles.play]\npayment = "auto"\n',
    )
    env = {"MAILAGENTS_HOME": str(tmp_path)}
    plain = Settings.load(env)
    work = Settings.load(env, profile="work")
    play = Settings.load({**env, "MAILAGENTS_PROFILE": "play"})
    assert (plain.api_base, plain.payment, plain.profile) == ("http://127.0.0.1:1", "never", None)
    assert (work.api_base, work.payment, work.timeout) == ("http://127.0.0.1:2", "never", 5.0)
    assert work.poll.idle == 30 and work.private_key_env == "WORK_KEY"
    assert (play.api_base, play.payment, play.profile) == ("http://127.0.0.1:1", "auto", "play")
    states = {plain.state_dir, work.state_dir, play.state_dir}
    assert len(states) == 3 and work.state_dir == tmp_path / "state" / "profiles" / "work"
    assert work.sessions_path.parent == work.state_dir
    assert work.default_keystore != plain.default_keystore
    # The environment still wins over the profile.
    assert Settings.load({**env, "MAILAGENTS_API_BASE": "http://127.0.0.1:3"}, "work").api_base == (
        "http://127.0.0.1:3"
    )


def test_a_profiles_key_variable_is_the_only_key_it_uses(tmp_path):
    write_config(tmp_path, '[profiles.work]\nprivate_key_env = "WORK_KEY"\n')
    work = Settings.load({"MAILAGENTS_HOME": str(tmp_path)}, profile="work")
    key = "0x" + "11" * 32
    source = resolve_wallet_source(
        work, {"WORK_KEY": key, "MAILAGENTS_PRIVATE_KEY": "0x" + "22" * 32}
    )
    assert source.kind == "env" and "$WORK_KEY" in source.description
    unset = resolve_wallet_source(work, {"MAILAGENTS_PRIVATE_KEY": "0x" + "22" * 32})
    assert unset.kind == "none"
    with pytest.raises(Exception, match=r"\$WORK_KEY is not set"):
        unset.load()


@pytest.mark.parametrize(
    ("config", "name", "needle"),
    [
        ("", "work", "add a [profiles.work] table"),
        ('[profiles.play]\npayment = "auto"\n', "work", "(profiles: play)"),
        ('[profiles."../x"]\npayment = "auto"\n', "../x", "no profile"),
        ('[profiles.work]\nprivate_key_env = "not a name"\n', "work", "private_key_env"),
    ],
)
def test_a_bad_profile_is_named(tmp_path, config, name, needle):
    write_config(tmp_path, config)
    with pytest.raises(SettingsError) as caught:
        Settings.load({"MAILAGENTS_HOME": str(tmp_path)}, profile=name)
    assert needle in str(caught.value)


def test_two_profiles_keep_their_sessions_and_leases_apart(sandbox, tmp_path):
    from eth_account import Account

    a, b = Account.create(), Account.create()
    home = tmp_path / "home"
    write_config(
        home,
        f'api_base = "{sandbox.base_url}"\n'
        '[profiles.alice]\nprivate_key_env = "ALICE_KEY"\n'
        '[profiles.bob]\nprivate_key_env = "BOB_KEY"\n',
    )
    env = {"MAILAGENTS_HOME": str(home), "ALICE_KEY": a.key.hex(), "BOB_KEY": b.key.hex()}

    def run(*args, **extra):
        result = CliRunner().invoke(main, list(args), env={**env, **extra}, catch_exceptions=False)
        assert result.exit_code == 0, result.output + result.stderr
        return json.loads(result.stdout) if "--json" in args else result.stdout

    alice = run("--profile", "alice", "login", "--json")
    bob = run("login", "--json", MAILAGENTS_PROFILE="bob")
    assert alice["address"] == a.address and bob["address"] == b.address
    assert alice["tenant_id"] != bob["tenant_id"]
    sessions = {
        name: json.loads((home / "state" / "profiles" / name / "sessions.json").read_text())
        for name in ("alice", "bob")
    }
    assert [k.split()[1] for k in sessions["alice"]] == [a.address.lower()]
    assert [k.split()[1] for k in sessions["bob"]] == [b.address.lower()]
    assert not (home / "state" / "sessions.json").exists()

    lease = run("--profile", "alice", "lease", "new", "--json")
    assert [r["lease_id"] for r in run("--profile", "alice", "leases", "--all", "--json")] == [
        lease["lease_id"]
    ]
    assert run("--profile", "bob", "leases", "--all", "--json") == []
    assert (home / "state" / "profiles" / "alice" / "ledger.json").exists()
    assert not (home / "state" / "profiles" / "bob" / "ledger.json").exists()

    rows = run("profiles", "--json", MAILAGENTS_PROFILE="bob")
    assert [(r["name"], r["active"], r["wallet"]) for r in rows] == [
        ("alice", False, "$ALICE_KEY"),
        ("bob", True, "$BOB_KEY"),
    ]
    assert "* bob" in run("--profile", "bob", "profiles")
    unknown = CliRunner().invoke(main, ["--profile", "carol", "leases"], env=env)
    assert unknown.exit_code != 0 and "no profile 'carol'" in unknown.stderr


async def test_the_tui_shows_the_active_profile(tmp_path):
    from tui.app import make_app
    from tui.core.wallets import WalletSource

    write_config(tmp_path, '[profiles.work]\napi_base = "http://127.0.0.1:9"\n')
    settings = Settings.load({"MAILAGENTS_HOME": str(tmp_path)}, profile="work")
    app = make_app(settings, wallet_source=WalletSource(kind="generate", description="test"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        from support import text_of

        assert "profile work" in text_of(app, "#login-title")


def test_the_example_config_loads_with_each_profile(tmp_path):
    example = Path(__file__).resolve().parents[2] / "docs" / "config.example.toml"
    write_config(tmp_path, example.read_text())
    env = {"MAILAGENTS_HOME": str(tmp_path)}
    assert Settings.load(env).api_base == "https://api.mailagents.net"
    assert Settings.load(env, "sandbox").private_key_env == "SANDBOX_KEY"
    assert Settings.load(env, "work").payment == "never"

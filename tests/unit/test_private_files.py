"""The client's own files: folders 0700 at every level it creates, files 0600, a state folder of
another user refused, no symbolic link followed for a lock or state file (issue 13)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

from tui import files
from tui.cli.root import main
from tui.files import FileRefused, ensure_private_dir, locked, read_json, write_json


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def env(sandbox, wallet, tmp_path):
    return {
        "MAILAGENTS_HOME": str(tmp_path / "new" / "home"),
        "MAILAGENTS_API_BASE": sandbox.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_every_folder_the_client_creates_is_0700_and_files_0600(env, tmp_path, loose_umask):
    assert run(env, "lease", "new").exit_code == 0
    home = tmp_path / "new" / "home"
    for folder in (tmp_path / "new", home, home / "state"):
        assert mode(folder) == 0o700, folder
    made = [p for p in home.rglob("*") if p.is_file()]
    assert {p.name for p in made} >= {"sessions.json", "ledger.json", "ledger.json.lock"}
    for path in made:
        assert mode(path) == 0o600, path


def test_an_existing_loose_state_folder_is_tightened(tmp_path, loose_umask):
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    write_json(state / "ledger.json", {"a": 1})
    assert mode(state) == 0o700 and mode(state / "ledger.json") == 0o600


@pytest.fixture
def foreign_uid(monkeypatch):
    """Files appear to belong to another user (as root, chown them for real instead)."""
    if os.getuid() == 0:
        return 65534
    real = os.getuid()
    monkeypatch.setattr(files.os, "getuid", lambda: real + 1)
    return None


def test_a_state_folder_of_another_user_is_refused(env, tmp_path, foreign_uid):
    state = tmp_path / "new" / "home" / "state"
    state.mkdir(parents=True, mode=0o700)
    if foreign_uid is not None:
        os.chown(state, foreign_uid, foreign_uid)
    with pytest.raises(FileRefused, match="belongs to another user"):
        ensure_private_dir(state)
    result = run(env, "lease", "new")
    assert result.exit_code == 1, result.output
    assert "belongs to another user" in result.stderr and "Traceback" not in result.output


def test_a_state_file_of_another_user_is_not_read(tmp_path, foreign_uid):
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps({"planted": True}))
    if foreign_uid is not None:
        os.chown(path, foreign_uid, foreign_uid)
    else:
        pytest.skip("needs root to give a file to another user")
    with pytest.raises(FileRefused, match="belongs to another user"):
        read_json(path, {})


def test_a_lock_symlink_is_never_followed(env, tmp_path):
    state = tmp_path / "new" / "home" / "state"
    state.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.chmod(victim, 0o644)
    (state / "sessions.json.lock").symlink_to(victim)
    with pytest.raises(FileRefused, match="symbolic link"), locked(state / "sessions.json"):
        pass
    result = run(env, "login")
    assert result.exit_code == 1 and "symbolic link" in result.stderr, result.output
    assert victim.read_text() == "precious" and mode(victim) == 0o644


def test_a_state_file_symlink_is_never_followed(tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text(json.dumps({"secret": "theirs"}))
    link = tmp_path / "state" / "ledger.json"
    link.parent.mkdir()
    link.symlink_to(victim)
    with pytest.raises(FileRefused, match="symbolic link"):
        read_json(link, {})
    write_json(link, {"mine": 1})  # replaces the link itself
    assert not link.is_symlink() and json.loads(link.read_text()) == {"mine": 1}
    assert json.loads(victim.read_text()) == {"secret": "theirs"}


def test_wallet_new_writes_a_private_keystore_in_new_folders(tmp_path, loose_umask):
    out = tmp_path / "a" / "b" / "keystore.json"
    env = {"MAILAGENTS_HOME": str(tmp_path / "home"), "MAILAGENTS_KEYSTORE_PASSWORD": "pw"}
    result = run(env, "wallet", "new", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700
    assert mode(out) == 0o600


def test_the_tui_shows_a_refused_file_as_input_not_a_bug():
    from tui.app.routing import describe
    from tui.core.settings import SettingsError

    assert describe(FileRefused("x is a symbolic link")) == ("input", "x is a symbolic link")
    assert describe(SettingsError("bell must be true or false"))[0] == "input"


def test_the_mail_cache_never_follows_a_link(tmp_path):
    from tui.core.mailcache import MailCache
    from tui.imap.message import parse_message
    from tui.imap.reader import MailboxState

    raws = {
        uid: f"From: a@b.io\r\nSubject: m{uid}\r\n\r\nbody {uid}\r\n".encode() for uid in (1, 2)
    }
    msgs = [parse_message(uid, raw, size=len(raw)) for uid, raw in raws.items()]
    root = tmp_path / "mail"
    root.mkdir(mode=0o700)
    planted = tmp_path / "planted.sqlite3"
    planted.write_bytes(b"")
    (root / "cache.sqlite3").symlink_to(planted)
    cache = MailCache(root)
    assert cache.load("l") == (MailboxState(), [])  # ignored, no crash
    cache.save("l", MailboxState(uidvalidity=1, last_uid=2), msgs)  # logged, no crash
    assert planted.read_bytes() == b""  # never written through the link
    assert (root / "cache.sqlite3").is_symlink()


def test_a_folder_the_user_names_is_left_as_it_is(tmp_path, loose_umask):
    theirs = tmp_path / "shared"
    theirs.mkdir()
    os.chmod(theirs, 0o755)
    env = {"MAILAGENTS_HOME": str(tmp_path / "home"), "MAILAGENTS_KEYSTORE_PASSWORD": "pw"}
    result = run(env, "wallet", "new", "--out", str(theirs / "keystore.json"))
    assert result.exit_code == 0, result.output
    assert mode(theirs) == 0o755 and mode(theirs / "keystore.json") == 0o600


def test_an_admin_token_fifo_is_refused_not_waited_on(tmp_path):
    from tui.core.admin import AdminTokenError, read_admin_token_file

    fifo = tmp_path / "token"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(AdminTokenError, match="not a regular file"):
        read_admin_token_file(fifo)


def test_a_loose_state_file_is_made_private_when_read(tmp_path):
    path = tmp_path / "state" / "sessions.json"
    path.parent.mkdir()
    path.write_text("{}")
    os.chmod(path, 0o644)
    assert read_json(path, None) == {}
    assert mode(path) == 0o600

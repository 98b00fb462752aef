"""Sandbox files are private (issue 13): folders it creates 0700, files 0600, also in an
existing ``--data-dir`` and whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.sandbox.config import ADMIN_TOKEN_FILE, DB_FILE, SECRETS_FILE, SandboxConfig
from tui.sandbox.mail.inbound import build_mime
from tui.sandbox.runner import SandboxServer


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022 umask, under which plain creation gives 0755 folders and 0644 files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def run_sandbox(data: Path, **overrides) -> bool:
    """Start a sandbox on ``data``, lease an address, deliver one mail to it, stop; True when
    its Dovecot ran (and its files were checked)."""
    from sandbox_helpers import Session

    from tui.limits import eth_account_class

    config = SandboxConfig.for_data_dir(data, port=0, allocate_hourly_limit=0, **overrides)
    with SandboxServer(config) as server:
        session = Session(server.base_url, eth_account_class().create())
        lease = session.allocate().json()
        address = lease["address"]
        server.deliver(address, build_mime(sender="a@example.com", to=address, subject="hi"))
        db = data / "sandbox.sqlite3"
        # while it runs: the database and its WAL and shared-memory files
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert path.exists() and mode(path) == 0o600, (path, oct(mode(path)))
        dovecot = server.dovecot is not None
        if dovecot:
            work = Path(server.dovecot.work)
            for name in ("dovecot.conf", "passdb.conf", "users.dict", "dovecot.stderr"):
                assert mode(work / name) == 0o600, (name, oct(mode(work / name)))
        session.close()
    return dovecot


def test_files_in_an_existing_data_dir_are_private(tmp_path, loose_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    run_sandbox(data)
    assert mode(data) == 0o755  # the user's folder is left as it was
    for name in (DB_FILE, SECRETS_FILE, ADMIN_TOKEN_FILE):
        assert mode(data / name) == 0o600, name
    maildirs = [p for p in (data / "maildir").rglob("*")]
    assert maildirs, "no Maildir written"
    for path in [data / "maildir", *maildirs]:
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) == expected, (path, oct(mode(path)))


def test_folders_the_sandbox_creates_are_private_at_every_level(tmp_path, loose_umask):
    data = tmp_path / "a" / "b" / "data"
    run_sandbox(data)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", data):
        assert mode(folder) == 0o700, (folder, oct(mode(folder)))


def test_an_existing_loose_database_is_tightened(tmp_path, loose_umask):
    data = tmp_path / "data"
    run_sandbox(data)
    db = data / "sandbox.sqlite3"
    os.chmod(db, 0o644)
    os.chmod(data / "secrets.json", 0o644)
    run_sandbox(data)
    assert mode(db) == 0o600
    assert mode(data / "secrets.json") == 0o600


def test_dovecot_files_are_private(tmp_path, loose_umask):
    from tui.sandbox.mail.dovecot import find_dovecot

    if find_dovecot() is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    if not run_sandbox(data, imap_port=0):  # checks the Dovecot files while it runs
        pytest.skip("the sandbox could not start Dovecot")
    for folder in (data / "imap", data / "imap" / "state"):
        assert mode(folder) == 0o700, (folder, oct(mode(folder)))

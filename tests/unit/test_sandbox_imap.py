"""Sandbox: every inbound message lands in a Maildir; a private Dovecot serves it over IMAP.

The Dovecot tests skip (with the reason) when ``dovecot-imapd`` is not installed.
"""

from __future__ import annotations

import imaplib
import os
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_helpers import Session

from tui.sandbox.mail import dovecot as dovecot_module
from tui.sandbox.mail.dovecot import group_processes
from tui.sandbox.mail.maildir import InvalidAddressError, Maildirs

EML = (
    b"From: Robot <robot@service.example>\r\n"
    b"Subject: Your verification code\r\n"
    b"Message-ID: <m1@service.example>\r\n"
    b"\r\n"
    b"Your verification code is 482913.\r\n"
)


def lease_for(server: Any, wallet: Any) -> tuple[Session, dict[str, Any]]:
    session = Session(server.base_url, wallet)
    response = session.allocate()
    assert response.status_code == 201, response.text
    return session, response.json()


def smtp_deliver(server: Any, address: str, raw: bytes = EML) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as client:
        client.sendmail("robot@service.example", [address], raw)


def imap_login(server: Any, login: str, password: str) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=10)
    try:
        client.login(login, password)
    except imaplib.IMAP4.error:
        client.shutdown()
        raise
    return client


def login_refused(server: Any, login: str, password: str) -> bool:
    try:
        imap_login(server, login, password).logout()
    except imaplib.IMAP4.error as exc:
        assert b"AUTHENTICATIONFAILED" in str(exc).encode() or "Authentication" in str(exc)
        return True
    return False


def sandbox_dovecots() -> set[str]:
    """Command lines of the live processes of sandbox Dovecots (any test's)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
                state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            except (OSError, IndexError):
                continue
            if b"mailagents-dovecot-" in cmdline and state != "Z":
                found.add(f"{proc.name} {cmdline!r}")
    return found


def parent_of(dovecot: str) -> int | None:
    """The parent pid of a process listed by :func:`sandbox_dovecots`."""
    try:
        stat = Path(f"/proc/{dovecot.split()[0]}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[-1].split()[1])


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# -- Maildir (no Dovecot needed) -----------------------------------------------------------------


def test_maildir_delivery_is_tmp_then_new(tmp_path):
    boxes = Maildirs.open(tmp_path / "mail")
    path = boxes.deliver("A-1@Sandbox.Test", EML, received_s=1_700_000_000)
    box = tmp_path / "mail" / "a-1@sandbox.test"
    assert path.parent == box / "new"
    assert path.read_bytes() == EML
    assert list((box / "tmp").iterdir()) == []
    assert (box / "cur").is_dir()
    assert int(path.stat().st_mtime) == 1_700_000_000  # IMAP INTERNALDATE = received time
    assert boxes.messages("a-1@sandbox.test") == [path]
    second = boxes.deliver("a-1@sandbox.test", b"Subject: 2\r\n\r\nx\r\n")
    assert second != path and len(boxes.messages("a-1@sandbox.test")) == 2
    for bad in ("../x@y", "a/b@c", "", "x@y/../../etc", ".hidden@x"):
        with pytest.raises(InvalidAddressError):
            boxes.deliver(bad, EML)


def test_every_inbound_path_writes_the_maildir(sandbox_factory, wallet):
    server = sandbox_factory(smtp_port=0, allocate_hourly_limit=0)
    session, lease = lease_for(server, wallet)
    address = lease["address"]
    smtp_deliver(server, address)  # SMTP
    server.deliver(address, b"Subject: in-process\r\n\r\nhello\r\n")  # in-process
    response = httpx.post(  # the internal inbound endpoint
        f"{server.base_url}/internal/inbound/events",
        headers={"x-internal-token": server.config.internal_token},
        json={"address": address, "sender_domain": "x.example", "subject": "internal"},
    )
    assert response.status_code == 202, response.text
    assert server.maildirs is not None
    files = server.maildirs.messages(address)
    assert len(files) == 3
    assert files[0].read_bytes() == EML
    assert all(f.parent.name == "new" for f in files)
    session.close()


def test_cli_deliver_into_data_dir_writes_the_maildir(tmp_path, wallet):
    from click.testing import CliRunner

    from tui.sandbox.cli import sandbox as sandbox_cli
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.runner import SandboxServer

    eml = tmp_path / "m.eml"
    eml.write_bytes(EML)
    data = tmp_path / "data"
    with SandboxServer(SandboxConfig.for_data_dir(data)) as server:
        session, lease = lease_for(server, wallet)
        result = CliRunner().invoke(
            sandbox_cli, ["deliver", str(eml), "--to", lease["address"], "--data-dir", str(data)]
        )
        assert result.exit_code == 0, result.output
        assert server.maildirs is not None and server.maildirs.root == data / "maildir"
        assert [p.read_bytes() for p in server.maildirs.messages(lease["address"])] == [EML]
        session.close()


def test_without_dovecot_imap_is_off_and_the_rest_works(sandbox_factory, wallet, monkeypatch):
    monkeypatch.setattr(dovecot_module, "find_dovecot", lambda: None)
    server = sandbox_factory(smtp_port=0, imap_port=0, allocate_hourly_limit=0)
    assert server.imap_port is None and server.dovecot is None
    assert "IMAP off" in server.imap_note and "not installed" in server.imap_note
    assert "imap" not in httpx.get(f"{server.base_url}/v2/meta/runtime").json()
    session, lease = lease_for(server, wallet)
    smtp_deliver(server, lease["address"])
    items = session.get("/v2/messages", params={"mailbox_id": lease["mailbox_id"]}).json()
    assert [i["otp_code"] for i in items["items"]] == ["482913"]
    session.close()


# -- Dovecot ---------------------------------------------------------------------------------------


def test_runtime_hint_and_login_sees_the_message(imap_sandbox, wallet):
    server = imap_sandbox
    runtime = httpx.get(f"{server.base_url}/v2/meta/runtime").json()
    assert runtime["imap"] == {"host": "127.0.0.1", "port": server.imap_port, "security": "plain"}
    session, lease = lease_for(server, wallet)
    assert lease["webmail_url"] is None  # unchanged: the config's value
    assert lease["webmail_login"] == lease["address"]
    smtp_deliver(server, lease["address"])
    client = imap_login(server, lease["webmail_login"], lease["webmail_password"])
    try:
        typ, data = client.select("INBOX")
        assert typ == "OK" and data == [b"1"]
        typ, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        assert typ == "OK"
        assert data[0][1] == EML
        typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
        assert b"\\Seen" not in data[0]
    finally:
        client.logout()
    session.close()


def test_wrong_password_is_refused(imap_sandbox, wallet):
    session, lease = lease_for(imap_sandbox, wallet)
    assert login_refused(imap_sandbox, lease["address"], lease["webmail_password"] + "x")
    assert login_refused(imap_sandbox, "nobody@sandbox.mailagents.test", "whatever")
    session.close()


def test_credentials_reset_changes_the_imap_password_at_once(imap_sandbox, wallet):
    server = imap_sandbox
    session, lease = lease_for(server, wallet)
    old = lease["webmail_password"]
    imap_login(server, lease["address"], old).logout()  # Dovecot has just read the users
    reset = session.post(f"/v2/mailboxes/accounts/{lease['account_id']}/credentials/reset")
    assert reset.status_code == 200
    new = reset.json()["webmail_password"]
    assert reset.json()["webmail_url"] is None
    # within the same second: the new password works, the old one no longer does
    imap_login(server, lease["address"], new).logout()
    assert login_refused(server, lease["address"], old)
    session.close()


def test_release_removes_the_login_and_ends_open_sessions(imap_sandbox, wallet):
    server = imap_sandbox
    session, lease = lease_for(server, wallet)
    client = imap_login(server, lease["address"], lease["webmail_password"])
    client.select("INBOX")
    released = session.post(f"/v2/mailboxes/leases/{lease['lease_id']}/release")
    assert released.status_code == 202
    assert login_refused(server, lease["address"], lease["webmail_password"])

    def session_ended() -> bool:
        try:
            client.noop()
        except (imaplib.IMAP4.abort, OSError):
            return True
        return False

    assert wait_until(session_ended, 5.0)  # kicked by doveadm
    session.close()


def test_expiry_removes_the_login(imap_sandbox_factory, wallet):
    server = imap_sandbox_factory(ttl_unit_s=0.5)  # ttl_hours=1 lasts half a second
    session, lease = lease_for(server, wallet)
    imap_login(server, lease["address"], lease["webmail_password"]).logout()
    assert wait_until(
        lambda: login_refused(server, lease["address"], lease["webmail_password"]), 5.0
    )
    session.close()


def test_data_dir_sandbox_serves_old_and_new_mail_after_a_restart(tmp_path, wallet):
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.mail.dovecot import find_dovecot
    from tui.sandbox.runner import SandboxServer

    if find_dovecot() is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    # As root, pytest's 0700 tmp folders are closed to the dovecot user: the sandbox then
    # serves a temporary Maildir replica rebuilt from its database (as a user: the data dir).
    data = tmp_path / "closed" / "data"
    (tmp_path / "closed").mkdir(mode=0o700)

    def config() -> SandboxConfig:
        return SandboxConfig.for_data_dir(data, smtp_port=0, imap_port=0)

    with SandboxServer(config()) as server:
        assert server.imap_port is not None, server.imap_note
        session, lease = lease_for(server, wallet)
        smtp_deliver(server, lease["address"])
        session.close()
    with SandboxServer(config()) as server:
        assert server.imap_port is not None, server.imap_note
        smtp_deliver(server, lease["address"], b"Subject: second\r\n\r\ncode 777888\r\n")
        client = imap_login(server, lease["address"], lease["webmail_password"])
        try:
            client.select("INBOX")
            _typ, data_ = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
            bodies = [part[1] for part in data_ if isinstance(part, tuple)]
            assert bodies == [EML, b"Subject: second\r\n\r\ncode 777888\r\n"]
        finally:
            client.logout()
        if os.geteuid() != 0:
            assert server.maildirs is not None and server.maildirs.root == data / "maildir"


def test_stop_leaves_no_dovecot_process(imap_sandbox_factory, wallet):
    server = imap_sandbox_factory()
    session, lease = lease_for(server, wallet)
    client = imap_login(server, lease["address"], lease["webmail_password"])
    client.select("INBOX")
    assert server.dovecot is not None
    pgid = server.dovecot.pid
    work = server.dovecot.work
    assert pgid is not None and group_processes(pgid)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    assert group_processes(pgid) == []
    assert work is not None and not work.exists()
    leftovers = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if str(work).encode() in cmdline:
                leftovers.append(proc.name)
    assert leftovers == []
    session.close()


ABRUPT_EXIT = r"""
import os, sys
from tui.sandbox.config import SandboxConfig
from tui.sandbox.runner import SandboxServer

server = SandboxServer(SandboxConfig(smtp_port=None, imap_port=0)).start()
print(server.dovecot.pid, server.dovecot.work, server.maildirs.root, flush=True)
os._exit(0)  # as the TUI does on SIGHUP: no stop(), no atexit
"""


def test_an_abrupt_exit_leaves_no_dovecot_behind():
    from tui.sandbox.mail.dovecot import find_dovecot

    if find_dovecot() is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    result = subprocess.run(
        [sys.executable, "-c", ABRUPT_EXIT], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    pgid, work, maildir = result.stdout.split()
    assert wait_until(lambda: group_processes(int(pgid)) == [], 5.0)  # the watchdog's SIGTERM
    assert wait_until(lambda: not Path(work).exists() and not Path(maildir).exists(), 5.0)


def test_cli_shows_imap_and_stops_dovecot(tmp_path):
    from tui.sandbox.mail.dovecot import find_dovecot

    before = sandbox_dovecots()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tui.sandbox.cli import sandbox; sandbox()", "--no-smtp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    ours: set[str] = set()
    try:
        while True:
            line = proc.stdout.readline()
            if not line or line.startswith("Press Ctrl-C"):
                break
            lines.append(line)
        imap = [line for line in lines if "IMAP" in line]
        if find_dovecot() is not None:
            assert imap and imap[0].strip().startswith("IMAP: 127.0.0.1:"), lines
            port = int(imap[0].split("127.0.0.1:")[1].split()[0])
            with imaplib.IMAP4("127.0.0.1", port, timeout=5) as client:
                assert client.welcome.startswith(b"* OK")
            # This CLI's own Dovecot: a child of it (other runs' Dovecots may come and go).
            ours = {d for d in sandbox_dovecots() - before if parent_of(d) == proc.pid}
            assert ours
        else:
            assert imap and "IMAP off" in imap[0], lines
        proc.send_signal(2)  # SIGINT
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in out
    assert not ours & sandbox_dovecots()  # the CLI's own Dovecot is gone


def test_cli_has_imap_options():
    from click.testing import CliRunner

    from tui.sandbox.cli import sandbox as sandbox_cli

    result = CliRunner().invoke(sandbox_cli, ["--help"])
    assert "--imap-port" in result.output and "--no-imap" in result.output

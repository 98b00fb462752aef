"""A private Dovecot IMAP server for the sandbox, on loopback, without TLS.

The sandbox writes inbound mail into one Maildir per address (:mod:`tui.sandbox.mail.maildir`);
this module runs its own ``dovecot -F -c <config>`` over those Maildirs, with a users file
whose users are the active leases' current credentials (login = address, password = the
lease's webmail password). The file is rewritten atomically (temp file + rename) on every
change; logins that disappear (release, expiry) are kicked off with ``doveadm kick``.

The users file is a ``passdb dict`` over a ``file:`` dict (pairs of lines: key, JSON value)
rather than a ``passwd-file``: Dovecot 2.3 looks at a passwd-file at most once a second
(``last_sync_time == ioloop_time``), so a login, a credentials reset and a login with the new
password within one second would be refused, whereas the file dict re-reads the file whenever
its inode changes (every rename).

The config, the users file, ``base_dir`` (UNIX sockets, whose paths are limited to about
100 bytes) and a ``mail`` symlink to the Maildir root live in a short temporary folder;
``state_dir`` and the log go to ``state_root`` (the sandbox data dir's ``imap/``) when given.
As root the login processes run as ``dovenull`` and the internal ones as ``dovecot``, and mail
is accessed as the ``dovecot`` uid; as an ordinary user every identity is that user (see
``notes/dovecot.md`` in the shared notes).
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import ipaddress
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tui.sandbox.files import make_private_dir, open_private, write_private

log = logging.getLogger("tui.sandbox.dovecot")

START_TIMEOUT_S = 10.0
"""How long :meth:`DovecotServer.start` waits for the IMAP greeting."""
STOP_TIMEOUT_S = 1.0
"""How long :meth:`DovecotServer.stop` waits after SIGTERM before SIGKILL (an idle auth
worker may ignore SIGTERM, and the master waits for it)."""
SYNC_INTERVAL_S = 1.0
"""How often the users file is checked against the store (catches lease expiry)."""

_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"]
)


class DovecotError(RuntimeError):
    """Dovecot could not be started (the message carries the end of its log)."""


def find_dovecot() -> str | None:
    """Path of the ``dovecot`` binary, or None when Dovecot is not installed."""
    return shutil.which("dovecot", path=_SEARCH_PATH)


def find_doveadm() -> str | None:
    """Path of ``doveadm`` (used to kick the sessions of removed logins), or None."""
    return shutil.which("doveadm", path=_SEARCH_PATH)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Identity:
    """Which system users Dovecot's processes and mail files use."""

    login_user: str
    """User of the login processes (``dovenull`` as root)."""
    internal_user: str
    """User of the internal processes (``dovecot`` as root)."""
    internal_group: str | None
    """``default_internal_group`` (set when not root)."""
    mail_uid: int
    """Owner of the Maildirs; the IMAP processes run as this uid."""
    mail_gid: int
    """Group of the Maildirs."""
    privileged: bool
    """True when running as root (chroots and privilege separation stay on)."""

    @classmethod
    def detect(cls) -> Identity:
        """Root: ``dovenull``/``dovecot`` from the package; otherwise the current user."""
        if os.geteuid() == 0:
            try:
                dovecot = pwd.getpwnam("dovecot")
                pwd.getpwnam("dovenull")
            except KeyError as exc:
                raise DovecotError(
                    "the dovecot and dovenull system users are missing (install dovecot-imapd)"
                ) from exc
            return cls("dovenull", "dovecot", None, dovecot.pw_uid, dovecot.pw_gid, True)
        uid, gid = os.geteuid(), os.getegid()
        user = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
        return cls(user, user, group, uid, gid, False)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(
    *, work: Path, state: Path, host: str, port: int, identity: Identity, maildir_link: Path
) -> str:
    """The ``dovecot.conf`` of a private instance (plaintext auth; loopback only)."""
    ident = identity
    chroot = "" if ident.privileged else "  chroot =\n"
    group = (
        "" if ident.internal_group is None else f"default_internal_group = {ident.internal_group}\n"
    )
    return f"""# Written by the mailagents sandbox: a private IMAP server on loopback, no TLS.
base_dir = {_quote(str(work / "run"))}
state_dir = {_quote(str(state / "state"))}
log_path = {_quote(str(state / "dovecot.log"))}
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_username_format = %Lu
default_login_user = {ident.login_user}
default_internal_user = {ident.internal_user}
{group}first_valid_uid = {ident.mail_uid}
last_valid_uid = 0
first_valid_gid = {ident.mail_gid}
mail_location = maildir:{maildir_link}/%u
passdb {{
  driver = dict
  args = {work / "passdb.conf"}
}}
userdb {{
  driver = static
  args = uid={ident.mail_uid} gid={ident.mail_gid} home={maildir_link}/%u
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{chroot}}}
service anvil {{
  # No socket: the auth process then skips its per-IP failure penalty (up to 15 s per login
  # after a wrong password), which only slows tests and local use down.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
{chroot}}}
"""


def unreachable_folder(maildir_root: str | os.PathLike[str], identity: Identity) -> Path | None:
    """As root: the first folder above ``maildir_root``'s parent (the sandbox's own folder,
    which :meth:`DovecotServer.start` opens) that the mail uid cannot traverse; else None."""
    if not identity.privileged:
        return None
    root = Path(maildir_root).resolve()
    return _first_blocked(root.parent, identity.mail_uid, identity.mail_gid)


def _first_blocked(path: Path, uid: int, gid: int) -> Path | None:
    """The first folder above ``path`` that ``uid``/``gid`` may not traverse, or None."""
    for parent in reversed(path.parents):
        try:
            st = parent.stat()
        except OSError:
            return parent
        mode = st.st_mode
        if (
            mode & 0o001
            or (st.st_uid == uid and mode & 0o100)
            or (st.st_gid == gid and mode & 0o010)
        ):
            continue
        return parent
    return None


def render_passdb(work: Path) -> str:
    """The ``passdb dict`` settings: a ``file:`` dict of ``shared/passdb/<login>`` keys."""
    return f"""uri = file:{work / "users.dict"}
password_key = passdb/%u
iterate_disable = yes
default_pass_scheme = PLAIN
"""


def render_users(users: dict[str, str]) -> str:
    """The users file: a ``shared/passdb/<login>`` line, then ``{"password": ...}``, per user."""
    return "".join(
        f"shared/passdb/{login}\n{json.dumps({'password': password})}\n"
        for login, password in users.items()
    )


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _greeting(host: str, port: int, timeout: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        data = b""
        while b"\n" not in data and len(data) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        with contextlib.suppress(OSError):
            sock.sendall(b"x LOGOUT\r\n")
        return data


def group_processes(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes of process group ``pgid`` (Linux /proc)."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - other systems: best effort
        try:
            os.killpg(pgid, 0)
        except OSError:
            return []
        return [pgid]
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            found.append(int(entry.name))
    return found


_LIVE: set[DovecotServer] = set()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - only when a caller forgot stop()
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop(timeout=1.0)


class DovecotServer:
    """One private Dovecot instance serving the Maildirs under ``maildir_root``.

    ``users`` returns the current ``(login, password)`` pairs; :meth:`sync` (called by the
    store's lease listener, and every second by a background thread) rewrites the users file
    when they changed.
    """

    def __init__(
        self,
        *,
        maildir_root: str | os.PathLike[str],
        users: Callable[[], Iterable[tuple[str, str]]],
        host: str = "127.0.0.1",
        port: int = 0,
        state_root: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        identity: Identity | None = None,
        extra_config: str = "",
    ) -> None:
        self.maildir_root = Path(maildir_root)
        """The folder holding one Maildir per address."""
        self.state_root = Path(state_root) if state_root is not None else None
        """Where ``state/`` and ``dovecot.log`` go (None: the temporary folder)."""
        self.users = users
        """Source of the current ``(login, password)`` pairs."""
        self.host = host if is_loopback(host) else "127.0.0.1"
        """The loopback address Dovecot listens on (never a public one: no TLS here)."""
        self.requested_port = port
        """The port asked for (0 = a free one)."""
        self.port: int | None = None
        """The IMAP port, once started."""
        self.binary = binary or find_dovecot()
        """The ``dovecot`` binary."""
        self.identity = identity
        """System users (detected at start when None)."""
        self.extra_config = extra_config
        """Appended to the generated config (tests: a TLS listener with a test certificate)."""
        self.work: Path | None = None
        """The temporary folder with the config, users file, sockets and log."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._written: dict[str, str] | None = None
        self._kick: set[str] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self._reaper_pipe: int | None = None
        self.cleanup_paths: list[Path] = []
        """Extra folders the watchdog removes when this process dies without :meth:`stop`."""

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The master's pid (also its process group id), once started."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """Dovecot's log file (gone after :meth:`stop` unless ``state_root`` was given)."""
        state = self.state_root or self.work
        return state / "dovecot.log" if state is not None else None

    def start(self) -> int:
        """Write the config and users, start Dovecot, wait for its greeting; return the port."""
        if self.binary is None:
            raise DovecotError("dovecot is not installed")
        if self._proc is not None:
            raise RuntimeError("dovecot is already started")
        identity = self.identity = self.identity or Identity.detect()
        self._prepare_dirs(identity)
        attempts = 3 if self.requested_port == 0 else 1
        for attempt in range(attempts):
            port = self.requested_port or _free_port(self.host)
            try:
                self._launch(identity, port)
            except DovecotError as exc:
                if attempt + 1 < attempts and "in use" in str(exc):
                    continue
                self._cleanup_dirs()
                raise
            self.port = port
            break
        self._start_reaper()
        _LIVE.add(self)
        self._thread = threading.Thread(
            target=self._background, name="mailagents-sandbox-dovecot", daemon=True
        )
        self._thread.start()
        return self.port or 0

    def _prepare_dirs(self, identity: Identity) -> None:
        base = tempfile.gettempdir()
        if len(base) > 40 and os.path.isdir("/tmp"):  # noqa: S108 - short socket paths
            base = "/tmp"  # noqa: S108
        self.work = Path(tempfile.mkdtemp(prefix="mailagents-dovecot-", dir=base))
        state = self.state_root or self.work
        make_private_dir(state / "state")
        make_private_dir(self.maildir_root)
        root = self.maildir_root.resolve()
        if identity.privileged:
            # The dovecot user must traverse (not list) the folders above the Maildirs: open
            # the sandbox's own folder (the data dir or its temporary dir) and check the rest.
            os.chmod(self.work, 0o711)  # noqa: S103 - traverse only
            parent = root.parent
            parent.chmod(parent.stat().st_mode & 0o7777 | 0o001)
            blocked = _first_blocked(root, identity.mail_uid, identity.mail_gid)
            if blocked is not None:
                self._cleanup_dirs()
                raise DovecotError(
                    f"the {identity.internal_user} user cannot reach {root} ({blocked} is "
                    "closed to it); use a data dir under /tmp or /srv"
                )
            for path in [root, *root.rglob("*")]:
                with contextlib.suppress(OSError):
                    os.lchown(path, identity.mail_uid, identity.mail_gid)
        (self.work / "mail").symlink_to(root, target_is_directory=True)
        passdb = self.work / "passdb.conf"
        write_private(passdb, render_passdb(self.work))
        if identity.privileged:  # the auth process reads it as the internal user
            os.chown(passdb, pwd.getpwnam(identity.internal_user).pw_uid, -1)
        self._write_users(self._current_users(), kick=False)

    def _launch(self, identity: Identity, port: int) -> None:
        assert self.work is not None and self.binary is not None
        work = self.work
        shutil.rmtree(work / "run", ignore_errors=True)
        (work / "dovecot.stderr").unlink(missing_ok=True)
        conf = work / "dovecot.conf"
        write_private(
            conf,
            render_config(
                work=work,
                state=self.state_root or work,
                host=self.host,
                port=port,
                identity=identity,
                maildir_link=work / "mail",
            )
            + self.extra_config,
        )
        with os.fdopen(open_private(work / "dovecot.stderr"), "wb") as err:
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                self._reap()
                raise DovecotError(f"dovecot exited at start: {self._log_tail()}")
            try:
                if _greeting(self.host, port, 1.0).startswith(b"* OK"):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._terminate(1.0)
                raise DovecotError(f"dovecot did not answer on {self.host}:{port}")
            time.sleep(0.02)

    def _start_reaper(self) -> None:
        """A watchdog for when this process ends without :meth:`stop` (``os._exit``, SIGKILL):
        it reads a pipe whose write end only this process holds; at EOF it sends SIGTERM, then
        SIGKILL, to Dovecot's process group and removes the temporary folders."""
        if self._proc is None or self.work is None:
            return
        read_end, write_end = os.pipe()  # not inheritable: only the watchdog gets read_end
        script = (
            'read _ignored; kill -TERM "-$1" 2>/dev/null; sleep 1; '
            'kill -KILL "-$1" 2>/dev/null; shift; rm -rf -- "$@"'
        )
        paths = [str(self.work), *(str(p) for p in self.cleanup_paths)]
        try:
            self._reaper = subprocess.Popen(
                [
                    "/bin/sh",
                    "-c",
                    script,
                    "mailagents-dovecot-watchdog",
                    str(self._proc.pid),
                    *paths,
                ],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        except OSError:
            os.close(write_end)
            log.warning("sandbox imap: no watchdog; an abrupt exit may leave dovecot running")
        else:
            self._reaper_pipe = write_end
        finally:
            os.close(read_end)

    def _stop_reaper(self) -> None:
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.kill()  # before closing the pipe: it must never signal a reused group id
            with contextlib.suppress(subprocess.TimeoutExpired):
                reaper.wait(2.0)
        if self._reaper_pipe is not None:
            with contextlib.suppress(OSError):
                os.close(self._reaper_pipe)
            self._reaper_pipe = None

    def _log_tail(self, lines: int = 5) -> str:
        if self.work is None:
            return ""
        text = ""
        for path in (self.work / "dovecot.stderr", self.log_path):
            if path is not None:
                with contextlib.suppress(OSError):
                    text += path.read_text(encoding="utf-8", errors="replace")
        tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) or "no log output"

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM Dovecot's process group, then SIGKILL whatever is left after ``timeout``."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self._terminate(timeout)
        self._stop_reaper()
        _LIVE.discard(self)
        self._cleanup_dirs()

    def _terminate(self, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid
        if proc.poll() is None:
            # SIGTERM to the whole group (as systemd does): every process shuts down cleanly at
            # once, where the master alone would wait about a second for its children.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                proc.wait(2.0)
        deadline = time.monotonic() + 1.0
        while group_processes(pgid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                break
            time.sleep(0.02)

    def _reap(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)

    def _cleanup_dirs(self) -> None:
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None

    # -- users ----------------------------------------------------------------------------------

    def _current_users(self) -> dict[str, str]:
        users: dict[str, str] = {}
        for login, password in self.users():
            login = login.strip().lower()
            bad = any(c in login + password for c in "\r\n\0") or not login or not password
            bad = bad or any(c.isspace() or c in "/%" for c in login)
            if bad:
                log.warning("sandbox imap: skipping a login that cannot be written (%s)", login)
                continue
            users[login] = password
        return users

    def sync(self) -> None:
        """Rewrite the users file if the users changed; kick removed logins (thread-safe)."""
        with self._lock:
            if self.work is None:
                return
            users = self._current_users()
            if users != self._written:
                self._write_users(users, kick=True)

    def _write_users(self, users: dict[str, str], *, kick: bool) -> None:
        assert self.work is not None and self.identity is not None
        removed = set(self._written or {}) - set(users)
        path = self.work / "users.dict"
        tmp = self.work / f"users.dict.{os.getpid()}.tmp"
        with os.fdopen(open_private(tmp), "w", encoding="utf-8") as fh:
            fh.write(render_users(users))
        if self.identity.privileged:
            # The auth process runs as the internal user and reads this file.
            os.chown(tmp, pwd.getpwnam(self.identity.internal_user).pw_uid, -1)
        os.replace(tmp, path)  # a new inode: Dovecot's file dict re-reads it at the next login
        self._written = users
        if kick and removed:
            self._kick |= removed
            self._wake.set()

    def _background(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(SYNC_INTERVAL_S)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self.sync()
                self._kick_pending()
            except Exception:  # never let the sandbox's helper thread die
                log.exception("sandbox imap: users sync failed")

    def _kick_pending(self) -> None:
        with self._lock:
            logins, self._kick = self._kick, set()
            work = self.work
        doveadm = find_doveadm()
        if not logins or work is None or doveadm is None:
            return
        for login in sorted(logins):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    [doveadm, "-c", str(work / "dovecot.conf"), "kick", login],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                    check=False,
                )

"""Private state files and the files a user names: one place for every file the client touches.

- State (``MAILAGENTS_HOME``, the state folder, sessions, ledger, locks): folders the client
  creates are 0700 (every level it creates, whatever the umask), files 0600 from their first
  byte, written atomically; a state folder or file owned by another user is refused, and a
  state file or lock that is a symbolic link is never followed (``O_NOFOLLOW``).
- Files a user names (``parse FILE``, ``--text-file``, a keystore, ``config.toml``): read with
  a size cap, special files (``/dev/zero``, FIFOs, folders) refused, so a read always ends.

Every refusal is a :class:`FileRefused` whose message names the file and says why.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tui.jsontypes import JsonValue

MAX_NAMED_FILE = 25 * 1024 * 1024
"""Cap of a file the user names (a .eml to parse, a mail body): 25 MiB."""
MAX_SMALL_FILE = 1024 * 1024
"""Cap of a config or keystore file: 1 MiB."""
MAX_STATE_FILE = 64 * 1024 * 1024
"""Cap of a JSON state file (the ledger, sessions): 64 MiB."""


O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
"""Never follow a symbolic link (POSIX; Windows has no such flag and rarely such links)."""
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
"""Opening a FIFO must not wait for a writer (POSIX)."""
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class FileRefused(Exception):
    """A file or folder that cannot be used safely; the message names it and says why."""


def _owned_by_us(info: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)  # POSIX only: Windows keeps owners in ACLs
    return getuid is None or info.st_uid == getuid()


def create_private_dirs(path: Path) -> Path:
    """Create ``path`` and any missing parents, each 0700 whatever the umask.

    Folders that exist are left as they are: for a file the user names (``wallet new --out``,
    ``--log-file``), whose folder is the user's business. State folders use
    :func:`ensure_private_dir`.
    """
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise FileRefused(f"cannot create the folder {folder}: {_why(exc)}") from exc
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)  # the umask may have taken bits away: set them exactly
    return path


def ensure_private_dir(path: Path) -> Path:
    """A state folder: created like :func:`create_private_dirs`; refused when it belongs to
    another user (who could read or plant the state kept in it); tightened to 0700."""
    create_private_dirs(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise FileRefused(f"cannot use the folder {path}: {_why(exc)}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise FileRefused(f"{path} is not a folder")
    if not _owned_by_us(info):
        raise FileRefused(
            f"the folder {path} belongs to another user (uid {info.st_uid}): refusing to keep "
            "state there; choose another MAILAGENTS_HOME"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Atomically replace ``path`` with ``data``, mode 0600 from the first byte.

    The new file is written beside it and renamed over it: a symbolic link at ``path`` is
    replaced, never followed. ``sync=False`` skips the fsync (a cache file, cheap to lose).
    """
    ensure_private_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise FileRefused(f"cannot write {path}: {_why(exc)}") from exc
    try:
        if hasattr(os, "fchmod"):  # (mkstemp's file is already private on Windows)
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_state(path: Path, limit: int = MAX_STATE_FILE) -> bytes | None:
    """A state file's bytes, or None when it does not exist.

    Never follows a symbolic link, refuses a file owned by another user or larger than
    ``limit`` (:class:`FileRefused`).
    """
    try:
        return read_bounded(path, limit, follow_symlinks=False, own=True, what="state file")
    except FileNotFoundError:
        return None


def read_json(path: Path, default: JsonValue) -> JsonValue:
    """Read JSON from a state file; ``default`` when it is missing or not JSON.

    A symbolic link, a file of another user or an oversized file is refused
    (:class:`FileRefused`), never read.
    """
    try:
        raw = read_state(path)
    except OSError:
        return default
    if raw is None:
        return default
    from tui import limits  # depth-checked: never a stack overflow, whatever the file holds

    try:
        return limits.loads(raw)
    except ValueError:
        return default


def write_json(path: Path, data: object) -> None:
    """Write JSON privately and atomically."""
    write_private(path, json.dumps(data, indent=2, sort_keys=True).encode())


def open_private(path: Path, flags: int = os.O_RDWR) -> int:
    """Open (creating it 0600) a private file without following a symbolic link; an fd."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, flags | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefused(
                f"{path} is a symbolic link: refusing to follow it (remove it and retry)"
            ) from exc
        raise FileRefused(f"cannot open {path}: {_why(exc)}") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or not _owned_by_us(info):
        os.close(fd)
        raise FileRefused(f"{path} is not a regular file of yours: refusing to use it")
    if stat.S_IMODE(info.st_mode) != 0o600 and hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)
    return fd


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<path>.lock`` (between processes too).

    The lock file is created 0600 and never followed when it is a symbolic link. ``fcntl``
    on POSIX, ``msvcrt`` on Windows, imported here so the client imports anywhere.
    """
    fd = open_private(path.with_name(path.name + ".lock"))
    try:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after 10 s: keep waiting, as flock does
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- files the user names ----------------------------------------------------------------------


def read_bounded(
    path: Path | str,
    limit: int = MAX_NAMED_FILE,
    *,
    what: str = "file",
    follow_symlinks: bool = True,
    own: bool = False,
) -> bytes:
    """Read a regular file of at most ``limit`` bytes.

    Raises :class:`FileRefused` for a special file (device, FIFO, socket, folder), a file
    over the cap, or (``own=True``) a file of another user; ``FileNotFoundError`` when it
    does not exist; other ``OSError`` as :class:`FileRefused` naming the file.
    """
    flags = os.O_RDONLY | O_NONBLOCK | O_CLOEXEC | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise FileRefused(
                f"{what} {path} is a symbolic link: refusing to follow it (remove it and retry)"
            ) from exc
        raise FileRefused(f"cannot read {what} {path}: {_why(exc)}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise FileRefused(f"{what} {path} is {kind}: refusing to read it")
        if own and not _owned_by_us(info):
            raise FileRefused(
                f"{what} {path} belongs to another user (uid {info.st_uid}): refusing to use it"
            )
        if own and info.st_mode & 0o077 and hasattr(os, "fchmod"):
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o600)  # an older or hand-made state file: private from now on
        if info.st_size > limit:
            raise FileRefused(f"{what} {path} is larger than {_size(limit)}: refusing to read it")
        if O_NONBLOCK:
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = _read_capped(fh, limit)
    except OSError as exc:
        raise FileRefused(f"cannot read {what} {path}: {_why(exc)}") from exc
    finally:
        os.close(fd)
    if data is None:
        raise FileRefused(f"{what} {path} is larger than {_size(limit)}: refusing to read it")
    return data


def read_stream_bounded(stream: BinaryIO, limit: int = MAX_NAMED_FILE, *, what: str) -> bytes:
    """Read a byte stream (standard input) up to ``limit`` bytes, else :class:`FileRefused`."""
    data = _read_capped(stream, limit)
    if data is None:
        raise FileRefused(f"{what} is larger than {_size(limit)}: refusing to read it")
    return data


def read_text_bounded(path: Path | str, limit: int = MAX_NAMED_FILE, *, what: str = "file") -> str:
    """:func:`read_bounded`, decoded as UTF-8 (else :class:`FileRefused`)."""
    try:
        raw = read_bounded(path, limit, what=what)
    except FileNotFoundError as exc:
        raise FileRefused(f"{what} {path} does not exist") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            f"{what} {path} is not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})"
        ) from exc


def _read_capped(stream: BinaryIO, limit: int) -> bytes | None:
    """Up to ``limit`` bytes; None when there are more (the reader stops at limit + 1)."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return None if total > limit else b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__

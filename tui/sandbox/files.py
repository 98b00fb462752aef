"""Private files for the sandbox: every folder it creates is 0700, every file 0600.

Also inside a folder that already exists (``--data-dir`` of the user's choosing): modes are
set explicitly rather than left to the umask, and SQLite's database (which holds webmail
passwords) is created 0600 before SQLite would create it 0644; SQLite then gives its
``-wal``, ``-shm`` and ``-journal`` files the database's mode.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and its missing parents, each 0700; an existing folder is left as is."""
    folder = Path(path)
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to change
        os.chmod(item, DIR_MODE)  # the umask may have taken bits away (or left too many)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    return folder


def write_private(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600 (a temporary file, then a rename)."""
    target = Path(path)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # a stale one from a crash: never reuse its mode or owner
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def open_private(path: str | os.PathLike[str]) -> int:
    """A new or truncated file at ``path``, mode 0600, opened for writing (a descriptor)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def tighten(path: str | os.PathLike[str]) -> None:
    """Make an existing regular file of ours 0600 (no error when absent or not ours)."""
    with contextlib.suppress(OSError):
        info = os.stat(path)
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            os.chmod(path, FILE_MODE)


def prepare_database(path: str) -> None:
    """Before SQLite opens ``path``: create it 0600 (in a 0700 folder when the folder is new)
    and tighten an existing database and its ``-wal``/``-shm``/``-journal`` files."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    db = Path(path)
    make_private_dir(db.parent)
    os.close(os.open(db, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        tighten(f"{db}{suffix}")

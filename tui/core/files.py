"""Private state files: atomic 0600 writes, 0700 directories, a lock for read-modify-write."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; the leaf is made 0700."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Atomically replace ``path`` with ``data``, mode 0600 from the first byte.

    ``sync=False`` skips the fsync (a cache file, cheap to lose in a crash).
    """
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
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


def read_json(path: Path, default: Any) -> Any:
    """Read JSON from ``path``; ``default`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError, OSError):
        return default


def write_json(path: Path, data: Any) -> None:
    """Write JSON privately and atomically."""
    write_private(path, json.dumps(data, indent=2, sort_keys=True).encode())


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<path>.lock`` (between processes too).

    ``fcntl`` on POSIX, ``msvcrt`` on Windows, imported here so the client imports anywhere.
    """
    ensure_private_dir(path.parent)
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
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

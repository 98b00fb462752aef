"""Saving an attachment: a safe file name from a stranger's, a folder the user chose, and never
an existing file overwritten."""

from __future__ import annotations

import mimetypes
import os
import re
import unicodedata
from pathlib import Path

MAX_NAME = 120
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|\u200b-\u200f\u202a-\u202e\u2066-\u2069]+')


class SaveError(Exception):
    """The attachment could not be saved; the message says why."""


def safe_filename(name: str | None, index: int, content_type: str = "") -> str:
    """A file name that stays in the chosen folder and shows as what it is.

    The sender's name loses any folder part, control and bidi characters (an RLO can make
    ``gpj.exe`` read as ``exe.jpg``), characters that are unsafe on common file systems, and
    leading dots (no hidden files); it is capped at :data:`MAX_NAME` characters keeping the
    extension. Nothing usable left: ``attachment-<index>`` with an extension for the type.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(_UNSAFE.sub(" ", text).split()).lstrip(". ")
    if not text or text in {".", ".."}:
        extension = mimetypes.guess_extension(content_type.lower()) if content_type else None
        text = f"attachment-{index}{extension or ''}"
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:MAX_NAME]
    return text


def default_folder(configured: Path | None = None) -> Path:
    """The folder first offered: the configured one, ``~/Downloads`` if it exists, else home."""
    if configured is not None:
        return configured.expanduser()
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.home()


def tilde(path: Path) -> str:
    """``path`` with the home folder written ``~`` (shorter, and what users type)."""
    home = str(Path.home())
    text = str(path)
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


def save_attachment(folder: str | Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name`` (mode 0600), never replacing a file: ``name (1).ext``
    and so on when the name is taken. Returns the path written."""
    raw = str(folder).strip()
    if not raw:
        raise SaveError("no folder given")
    target = Path(raw).expanduser()
    if not target.is_dir():
        raise SaveError(f"{target} is not a folder")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for n in range(1000):
        candidate = name if n == 0 else f"{stem} ({n}){'.' + ext if ext else ''}"
        path = target / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise SaveError(f"cannot write in {target}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise SaveError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return path
    raise SaveError(f"too many files named {name} in {target}")

"""This app's copy of what it sent: the service stores a sent mail's body but never returns it
(``GET /v2/send-attempts`` has no text), so compose keeps one, privately, by attempt id."""

from __future__ import annotations

import re
from pathlib import Path

from tui.files import read_json, write_json
from tui.jsontypes import JsonObject

MAX_BODY = 1_000_000
"""Characters of a body kept (the service's own limit is 1 MiB)."""
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class SentCopies:
    """``<state>/sent/<send_attempt_id>.json`` (folder 0700, files 0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        """Where the copies live."""

    def _path(self, attempt_id: str) -> Path | None:
        if not _ID.match(attempt_id) or attempt_id.startswith("."):
            return None  # an id from the server never becomes a path outside the folder
        return self.folder / f"{attempt_id}.json"

    def save(self, attempt_id: str, sender: str, to: list[str], subject: str, body: str) -> None:
        """Keep what was sent under its attempt id."""
        path = self._path(attempt_id)
        if path is None:
            return
        write_json(
            path, {"from": sender, "to": list(to), "subject": subject, "text": body[:MAX_BODY]}
        )

    def load(self, attempt_id: str) -> JsonObject | None:
        """The copy, or None (sent elsewhere, or before copies were kept)."""
        path = self._path(attempt_id)
        if path is None:
            return None
        data = read_json(path, None)
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return None
        return data

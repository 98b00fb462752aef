"""``--debug`` / ``--log-file``: what the client did (requests, statuses, timings, request ids),
never a secret.

The API client logs each request's method, path, status, time and ``x-request-id`` at DEBUG;
headers and bodies (tokens, payment proofs, passwords) are never logged. As a second line of
defence, every record passes :class:`Redactor`, which masks anything shaped like a bearer token,
a JWT, a private key or a payment proof.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

LOGGER = "tui"
"""The project's root logger: ``tui.api.client``, ``tui.core...``, ``tui.mcpserver``."""

SECRETS = [
    (re.compile(r"(?i)\bbearer\s+[^\s,;]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), "[redacted jwt]"),
    (re.compile(r"\b(0x)?[0-9a-fA-F]{64}\b"), "[redacted 32-byte hex]"),
    (re.compile(r"\bv1=[0-9a-fA-F]{16,}"), "v1=[redacted]"),
    (
        re.compile(r"(?i)(password|secret|token|proof)(['\"]?\s*[:=]\s*['\"]?)[^\s,'\"}]+"),
        r"\1\2[redacted]",
    ),
]
"""(pattern, replacement) of what must never reach a log."""


def redact(text: str) -> str:
    """``text`` with every secret-shaped part masked."""
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """Masks secrets in a record's final message (its arguments merged first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message; never drops a record."""
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def start_logging(*, debug: bool, log_file: Path | None) -> Callable[[], None]:
    """Log the project's DEBUG records to ``log_file`` (0600) or, with ``debug`` alone, to
    stderr; returns a function that removes what it installed."""
    if log_file is None and not debug:
        return lambda: None
    if log_file is not None:
        from tui.files import create_private_dirs

        log_file = log_file.expanduser()
        create_private_dirs(log_file.parent)  # the user's folder: created 0700, else as is
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        if hasattr(os, "chmod"):
            os.chmod(log_file, 0o600)
        handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redactor())
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger(LOGGER)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)

    def stop() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()

    return stop

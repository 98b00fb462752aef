"""A local, contract-faithful mailagents v2 service (Starlette + uvicorn, aiosmtpd, SQLite).

Public API (imported lazily so that ``import tui.sandbox`` stays cheap)::

    from tui.sandbox import SandboxConfig, SandboxServer, create_app, serve_forever
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

# A library logger: never fall back to Python's stderr "last resort" handler (which would
# scribble over a TUI running the sandbox in the background).
logging.getLogger("tui.sandbox").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.http.app import create_app
    from tui.sandbox.runner import SandboxServer, serve_forever

__all__ = ["SandboxConfig", "SandboxServer", "create_app", "serve_forever"]

_WHERE = {
    "SandboxConfig": "tui.sandbox.config",
    "SandboxServer": "tui.sandbox.runner",
    "serve_forever": "tui.sandbox.runner",
    "create_app": "tui.sandbox.http.app",
}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)

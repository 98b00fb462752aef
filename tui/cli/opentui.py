"""Open the TUI, on the configured service or on a sandbox started in this process (no click:
the entry point's fast path and the click root without a command both call it)."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.exits import friendly_errors

if TYPE_CHECKING:  # the sandbox and the wallet load only when asked for
    from tui.cli.options import Context
    from tui.core.wallets import WalletSource
    from tui.sandbox.embedded import DeferredSandbox


@friendly_errors
def launch_tui(options: Context, *, sandbox: bool) -> None:
    """Open the TUI, optionally on a sandbox started in the background of this process.

    The cyclic garbage collector is off until the first frame: the start allocates ~45,000
    objects (Textual, the app) that live as long as the app, and scanning them again and again
    took ~20 ms of the start's CPU (a bare Textual app pays it too). The app turns it back on
    after that frame, with those objects frozen (``MailagentsApp.resume_collector``); on any
    way out, it is on again here.
    """
    gc.disable()
    server = None
    try:
        if sandbox:
            server, wallet_source = start_embedded_sandbox(options)
        else:
            wallet_source = None
        from tui.app import run_app

        run_app(options.settings(), wallet_source=wallet_source, sandbox=server)
    finally:
        gc.enable()
        if server is not None:
            server.stop()


def start_embedded_sandbox(options: Context) -> tuple[DeferredSandbox, WalletSource]:
    """Bind the sandbox to a free loopback port and pick a throwaway wallet (the server itself
    starts after the TUI's first frame: ``MailagentsApp.open_first_screen``).

    Files go to ``$MAILAGENTS_HOME`` (a new temporary directory unless one is given); the
    sandbox keeps its database in ``$MAILAGENTS_HOME/sandbox`` and logs to a file there,
    never to the terminal the TUI draws on. The first lease receives sample mails.
    """
    import logging
    import tempfile

    from tui.core.wallets import ENV_KEY, resolve_wallet_source, throwaway_wallet_source
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.embedded import DeferredSandbox

    os.umask(0o077)  # the sandbox's database and log hold credentials: keep them private
    if not os.environ.get("MAILAGENTS_HOME"):
        os.environ["MAILAGENTS_HOME"] = tempfile.mkdtemp(prefix="mailagents-sandbox-")
    data_dir = Path(os.environ["MAILAGENTS_HOME"]) / "sandbox"
    config = SandboxConfig.for_data_dir(
        data_dir, host="127.0.0.1", port=0, smtp_port=0, imap_port=0, demo_on_allocate=True
    )
    handler = logging.FileHandler(data_dir / "sandbox.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The port now (the API base), the server after the TUI's first frame (the app starts it).
    server = DeferredSandbox(config)
    options.api_base = server.base_url
    if os.environ.get(ENV_KEY) or options.keystore:
        source = resolve_wallet_source(options.settings())
    else:
        source = throwaway_wallet_source()
    return server, source

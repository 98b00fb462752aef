"""Open a link in the user's browser and say what really happened (issue 13).

Over SSH or on a headless machine there is no browser: the toast says so and how to copy
the link instead, rather than "Opened" for something that never opened.
"""

from __future__ import annotations

import asyncio

from textual.app import App

from tui.core import links
from tui.core.links import LinkInfo
from tui.core.sanitize import clean


async def open_and_report(app: App, info: LinkInfo, *, what: str, copy_hint: str) -> bool:
    """Open ``info.url``; a toast names ``what`` was opened, or why not and ``copy_hint``.

    Served in a browser (textual-serve), the user's own browser is asked to open it.
    Returns True when a browser took the link.
    """
    host = clean(info.host or "?", 200)
    if app.is_web:
        app.open_url(info.url)
        app.notify(f"Asked your browser to open {what} at {host}", markup=False)
        return True
    why = await asyncio.to_thread(links.open_in_browser, info.url)
    if why is None:
        app.notify(f"Opened {what} at {host} in the web browser", markup=False)
        return True
    app.notify(
        f"Not opened: {why}. {copy_hint}",
        severity="warning",
        timeout=10,
        markup=False,
    )
    return False
